// What `kansoctl model inspect` prints about a GGUF file, and the memory estimate the pool's
// budget admits a model with before it has measured the real figure: mapped tensor bytes, a
// float32 KV cache for the context, and the activation scratch of one batch.
// Hyper-parameter keys follow llama.cpp's names: "<architecture>.context_length" etc.

public struct GGUFSummary: Sendable, CustomStringConvertible {
    public struct TypeCount: Sendable, Equatable {
        public let type: GGMLType
        public let tensors: Int
        public let bytes: Int
    }

    public struct MemoryEstimate: Sendable, Equatable {
        public let contextLength: Int
        public let sequences: Int
        /// Tensor data mapped from the file (all of it is touched during a forward pass).
        public let tensorBytes: Int
        /// K and V for every layer, `contextLength` positions per sequence, float32.
        public let kvCacheBytes: Int
        /// Activation buffers for a batch of `batchSize` tokens plus logits and attention scores.
        public let scratchBytes: Int
        public var totalBytes: Int { tensorBytes + kvCacheBytes + scratchBytes }
    }

    public let path: String
    public let version: UInt32
    public let fileSize: Int
    public let architecture: String?
    public let name: String?
    public let parameterCount: Int
    public let tensorCount: Int
    /// Tensors grouped by type, most bytes first.
    public let types: [TypeCount]
    public let contextLength: Int?
    public let embeddingLength: Int?
    public let layerCount: Int?
    public let headCount: Int?
    public let keyValueHeadCount: Int?
    public let feedForwardLength: Int?
    public let keyLength: Int?
    public let valueLength: Int?
    public let tokenizerModel: String?
    public let vocabularySize: Int?
    /// Tensor types the engine cannot compute with (the model would not load).
    public let unsupportedTypes: [GGMLType]
    public let memory: MemoryEstimate

    /// `contextLength` defaults to the model's own; `batchSize` is the prompt batch the scratch holds.
    public init(file: GGUFFile, contextLength requestedContext: Int? = nil, sequences: Int = 1, batchSize: Int = 32) {
        let metadata = file.metadata
        path = file.path
        version = file.version
        fileSize = file.fileSize
        let architecture = metadata.string("general.architecture")
        self.architecture = architecture
        name = metadata.string("general.name")
        parameterCount = file.tensors.reduce(0) { $0.addingReportingOverflow($1.elementCount).overflow ? Int.max : $0 + $1.elementCount }
        tensorCount = file.tensors.count

        var counts: [GGMLType: (tensors: Int, bytes: Int)] = [:]
        for tensor in file.tensors {
            let previous = counts[tensor.type] ?? (0, 0)
            counts[tensor.type] = (previous.tensors + 1, previous.bytes &+ tensor.byteCount)
        }
        types = counts.map { TypeCount(type: $0.key, tensors: $0.value.tensors, bytes: $0.value.bytes) }
            .sorted { ($0.bytes, $0.type.rawValue) > ($1.bytes, $1.type.rawValue) }
        unsupportedTypes = types.map(\.type).filter { !$0.isSupported }

        // Per-architecture keys; a per-layer array (some architectures vary heads by layer) counts its maximum.
        func hyper(_ suffix: String) -> Int? {
            guard let architecture else { return nil }
            let key = "\(architecture).\(suffix)"
            return metadata.int(key) ?? metadata.ints(key)?.max()
        }
        contextLength = hyper("context_length")
        let embedding = hyper("embedding_length")
        embeddingLength = embedding
        layerCount = hyper("block_count")
        let heads = hyper("attention.head_count")
        headCount = heads
        keyValueHeadCount = hyper("attention.head_count_kv") ?? heads
        feedForwardLength = hyper("feed_forward_length")
        var headSize: Int?
        if let heads, let embedding, heads > 0 { headSize = embedding / heads }
        keyLength = hyper("attention.key_length") ?? headSize
        valueLength = hyper("attention.value_length") ?? headSize
        tokenizerModel = metadata.string("tokenizer.ggml.model")
        vocabularySize = metadata.array("tokenizer.ggml.tokens")?.count ?? hyper("vocab_size")

        // Estimate in Double, clamped: absurd metadata must give a huge figure, not a trap.
        let context = max(0, requestedContext ?? contextLength ?? 0)
        func value(_ v: Int?) -> Double { Double(max(0, v ?? 0)) }
        let kvHeads = value(keyValueHeadCount)
        let kvCache = value(layerCount) * Double(context) * kvHeads * (value(keyLength) + value(valueLength))
            * Double(max(1, sequences)) * 4
        let queryWidth = value(headCount) * value(keyLength)
        let kvWidth = kvHeads * max(value(keyLength), value(valueLength))
        // Per token: residual, normed input, attention output, q/k/v, two feed-forward
        // activations (gate and up), the logits row, and one token's attention scores.
        let perToken = 3 * value(embeddingLength) + queryWidth + 2 * kvWidth + 2 * value(feedForwardLength)
            + value(vocabularySize) + value(headCount) * Double(context)
        let scratch = Double(max(1, batchSize)) * perToken * 4
        func clamped(_ v: Double) -> Int { v >= Double(Int.max / 4) ? Int.max / 4 : Int(v) }
        memory = MemoryEstimate(contextLength: context, sequences: max(1, sequences), tensorBytes: file.tensorByteCount,
                                kvCacheBytes: clamped(kvCache), scratchBytes: clamped(scratch))
    }

    public var description: String {
        var lines: [String] = []
        func line(_ label: String, _ value: String) {
            lines.append(label.padding(toLength: 12) + value)
        }
        line("model", "\(name ?? "(unnamed)") (\(architecture ?? "unknown architecture"))")
        line("file", "\(path), \(Self.bytes(fileSize)), GGUF v\(version)")
        line("parameters", Self.count(parameterCount))
        let typeList = types.map { "\($0.type.name) \($0.tensors) (\(Self.bytes($0.bytes)))" }.joined(separator: ", ")
        line("tensors", "\(tensorCount): \(typeList)")
        if !unsupportedTypes.isEmpty {
            line("unsupported", unsupportedTypes.map(\.name).joined(separator: ", ") + " (cannot be loaded)")
        }
        line("context", contextLength.map { "\($0) tokens" } ?? "unknown")
        var shape: [String] = []
        if let embeddingLength { shape.append("embedding \(embeddingLength)") }
        if let layerCount { shape.append("layers \(layerCount)") }
        if let headCount { shape.append("heads \(headCount) (kv \(keyValueHeadCount ?? headCount))") }
        if let keyLength { shape.append("head size \(keyLength)") }
        if let feedForwardLength { shape.append("feed-forward \(feedForwardLength)") }
        line("shape", shape.isEmpty ? "unknown" : shape.joined(separator: ", "))
        line("tokenizer", "\(tokenizerModel ?? "none"), vocabulary \(vocabularySize.map(String.init) ?? "unknown")")
        line("memory", "\(Self.bytes(memory.totalBytes)) at \(memory.contextLength) context"
             + (memory.sequences > 1 ? " × \(memory.sequences) sequences" : "")
             + ": tensors \(Self.bytes(memory.tensorBytes)) + KV cache (f32) \(Self.bytes(memory.kvCacheBytes))"
             + " + scratch \(Self.bytes(memory.scratchBytes))")
        return lines.joined(separator: "\n")
    }

    /// "1.5 GiB", "12.0 MiB", "512 B" (binary units).
    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = Double(value)
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : "\(oneDecimal(scaled)) \(units[unit])"
    }

    /// "260.1K", "1.24B" style parameter counts.
    static func count(_ value: Int) -> String {
        switch value {
        case ..<1000: return "\(value)"
        case ..<1_000_000: return oneDecimal(Double(value) / 1e3) + "K"
        case ..<1_000_000_000: return oneDecimal(Double(value) / 1e6) + "M"
        default: return oneDecimal(Double(value) / 1e9) + "B"
        }
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
