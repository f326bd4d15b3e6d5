// What `kansoctl model inspect` prints about a GGUF file, and the memory estimate the pool's
// budget admits a model with (MemoryEstimate.swift): tensors and tokenizer, KV caches for the
// agents' contexts in their KV type (windowed layers kept to their window), and scratch.
// Hyper-parameter keys follow llama.cpp's names: "<architecture>.context_length" etc.

public struct GGUFSummary: Sendable, CustomStringConvertible {
    public struct TypeCount: Sendable, Equatable {
        public let type: GGMLType
        public let tensors: Int
        public let bytes: Int
    }

    /// The hyper-parameters the memory estimate reads (nil where the file does not say).
    struct Shape {
        var architecture: String?
        var contextLength: Int?
        var embeddingLength: Int?
        var layerCount: Int?
        var headCount: Int?
        var keyValueHeadCount: Int?
        var feedForwardLength: Int?
        var keyLength: Int?
        var valueLength: Int?
        var vocabularySize: Int?
        var mergeCount: Int?
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
    public init(file: GGUFFile, contextLength requestedContext: Int? = nil, sequences: Int = 1, batchSize: Int = 64,
                kvCache: KVCacheType = .f16) {
        self.init(file: file, demand: MemoryDemand(contextLength: requestedContext, kvCache: kvCache, sequences: sequences,
                                                   batchSize: batchSize))
    }

    /// The summary, with the memory estimate for what the model's agents ask (`demand`).
    public init(file: GGUFFile, demand: MemoryDemand) {
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

        let shape = Shape(architecture: architecture, contextLength: contextLength, embeddingLength: embedding,
                          layerCount: layerCount, headCount: heads, keyValueHeadCount: keyValueHeadCount,
                          feedForwardLength: feedForwardLength, keyLength: keyLength, valueLength: valueLength,
                          vocabularySize: vocabularySize, mergeCount: metadata.array("tokenizer.ggml.merges")?.count)
        memory = MemoryEstimate(shape: shape, metadata: metadata, fileBytes: file.fileSize, demand: demand)
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
             + ": file \(Self.bytes(memory.fileBytes)) + tokenizer \(Self.bytes(memory.tokenizerBytes))"
             + " + KV cache (\(memory.kvCacheType.rawValue)) \(Self.bytes(memory.kvCacheBytes))"
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
