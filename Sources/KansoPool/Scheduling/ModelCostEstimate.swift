/// The resident bytes a model is expected to take before it has ever been loaded (DESIGN.md,
/// Scheduling: "first estimated from the GGUF (tensor bytes + KV cache for its context and
/// parallel sequences + scratch), then replaced by what the worker actually uses").
///
///     tensorBytes  = fileSize − headerBytes                    the mapped tensor data; every page
///                                                              is touched by a forward pass
///     kvCacheBytes = layers × context × kvHeads
///                    × (keyLength + valueLength)              = 2 × layers × context × kvHeads
///                    × bytesPerElement × sequences              × headDim × 4 × sequences for F32
///     scratchBytes = scratchVectors × (embedding + feedForward + vocabulary) × 4
///                                                              activations, the feed-forward
///                                                              hidden state and the logits, float32,
///                                                              for `scratchVectors` tokens at once
///     runtimeBytes = 16 MiB                                    the worker process itself: Swift
///                                                              runtime, Foundation, stacks, heap
///
/// The scratch and runtime figures are guesses (default 4 vectors; 16 MiB was about the RSS of an
/// idle Swift process here). They only matter until the worker's real RSS is measured
/// (`MeasuredCosts`), which replaces the whole estimate.
public struct ModelCostEstimate: Sendable, Equatable, CustomStringConvertible {
    /// The hyper-parameters the estimate needs, as the GGUF metadata gives them
    /// (`<arch>.block_count`, `.context_length` or the agent's, `.attention.head_count_kv`,
    /// `.attention.key_length`/`.value_length` or embedding ÷ heads, `.embedding_length`,
    /// `.feed_forward_length`, the tokenizer's vocabulary size).
    public struct Shape: Sendable, Equatable {
        public var layers: Int
        /// Positions of KV cache kept per sequence.
        public var contextLength: Int
        public var keyValueHeads: Int
        /// Elements per head of K.
        public var headDimension: Int
        /// Elements per head of V (usually the same as K).
        public var valueHeadDimension: Int
        public var embeddingLength: Int
        public var feedForwardLength: Int
        public var vocabularySize: Int

        public init(layers: Int, contextLength: Int, keyValueHeads: Int, headDimension: Int, valueHeadDimension: Int? = nil,
                    embeddingLength: Int, feedForwardLength: Int, vocabularySize: Int) {
            self.layers = layers
            self.contextLength = contextLength
            self.keyValueHeads = keyValueHeads
            self.headDimension = headDimension
            self.valueHeadDimension = valueHeadDimension ?? headDimension
            self.embeddingLength = embeddingLength
            self.feedForwardLength = feedForwardLength
            self.vocabularySize = vocabularySize
        }
    }

    /// The worker process's own footprint: 16 MiB.
    public static let defaultRuntimeBytes = 16 * 1_048_576
    /// Tokens of activations the scratch guess allows for.
    public static let defaultScratchVectors = 4

    public let tensorBytes: Int
    public let kvCacheBytes: Int
    public let scratchBytes: Int
    public let runtimeBytes: Int
    public var totalBytes: Int { tensorBytes + kvCacheBytes + scratchBytes + runtimeBytes }

    /// - Parameters:
    ///   - fileSize: bytes of the GGUF file.
    ///   - headerBytes: where the tensor data starts (header, metadata, tensor infos, padding).
    ///   - parallelSequences: sequences the worker keeps a KV cache for at once.
    ///   - kvBytesPerElement: 4 for an F32 cache, 2 for F16.
    public init(fileSize: Int, headerBytes: Int, shape: Shape, parallelSequences: Int = 1, kvBytesPerElement: Int = 4,
                scratchVectors: Int = defaultScratchVectors, runtimeBytes: Int = defaultRuntimeBytes) throws(ModelCostEstimateError) {
        let checked: [(String, Int)] = [
            ("fileSize", fileSize), ("headerBytes", headerBytes), ("layers", shape.layers), ("contextLength", shape.contextLength),
            ("keyValueHeads", shape.keyValueHeads), ("headDimension", shape.headDimension),
            ("valueHeadDimension", shape.valueHeadDimension), ("embeddingLength", shape.embeddingLength),
            ("feedForwardLength", shape.feedForwardLength), ("vocabularySize", shape.vocabularySize),
            ("parallelSequences", parallelSequences), ("kvBytesPerElement", kvBytesPerElement),
            ("scratchVectors", scratchVectors), ("runtimeBytes", runtimeBytes),
        ]
        for (field, value) in checked where value < 0 { throw .negative(field: field, value: value) }
        guard headerBytes <= fileSize else { throw .headerBeyondFile(headerBytes: headerBytes, fileSize: fileSize) }

        tensorBytes = fileSize - headerBytes
        kvCacheBytes = try Self.product("kvCacheBytes", [shape.layers, shape.contextLength, shape.keyValueHeads,
                                                         try Self.sum("kvCacheBytes", [shape.headDimension, shape.valueHeadDimension]),
                                                         kvBytesPerElement, parallelSequences])
        let perVector = try Self.sum("scratchBytes", [shape.embeddingLength, shape.feedForwardLength, shape.vocabularySize])
        scratchBytes = try Self.product("scratchBytes", [scratchVectors, perVector, MemoryLayout<Float>.size])
        self.runtimeBytes = runtimeBytes
        _ = try Self.sum("totalBytes", [tensorBytes, kvCacheBytes, scratchBytes, runtimeBytes])
    }

    /// A guess at the load time before one is measured: `processStart` for spawning the worker
    /// plus reading the tensor data once at `readBytesPerSecond` (default 2 GB/s, a warm page
    /// cache; a cold read from flash is slower and the measured figure replaces this).
    public func expectedLoadDuration(readBytesPerSecond: Double = 2e9, processStart: Duration = .milliseconds(50)) -> Duration {
        guard readBytesPerSecond.isFinite, readBytesPerSecond > 0 else { return processStart }
        return processStart + .seconds(Double(tensorBytes) / readBytesPerSecond)
    }

    public var description: String {
        let mebibyte = 1_048_576.0
        func mib(_ bytes: Int) -> String { String(Int((Double(bytes) / mebibyte).rounded())) + " MiB" }
        return "\(mib(totalBytes)) (tensors \(mib(tensorBytes)), KV cache \(mib(kvCacheBytes)), "
            + "scratch \(mib(scratchBytes)), runtime \(mib(runtimeBytes)))"
    }

    private static func product(_ field: String, _ factors: [Int]) throws(ModelCostEstimateError) -> Int {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { throw .overflow(field: field) }
            result = value
        }
        return result
    }

    private static func sum(_ field: String, _ terms: [Int]) throws(ModelCostEstimateError) -> Int {
        var result = 0
        for term in terms {
            let (value, overflow) = result.addingReportingOverflow(term)
            if overflow { throw .overflow(field: field) }
            result = value
        }
        return result
    }
}

/// Figures a cost estimate cannot be made from.
public enum ModelCostEstimateError: Error, Equatable, CustomStringConvertible {
    case negative(field: String, value: Int)
    case headerBeyondFile(headerBytes: Int, fileSize: Int)
    case overflow(field: String)

    public var description: String {
        switch self {
        case .negative(let field, let value):
            return "model cost estimate: \(field) is \(value), expected a count ≥ 0"
        case .headerBeyondFile(let header, let size):
            return "model cost estimate: tensor data would start at byte \(header), past the end of the \(size)-byte file"
        case .overflow(let field):
            return "model cost estimate: \(field) overflows a 64-bit byte count (the shape is not plausible)"
        }
    }
}
