// The memory a worker's model needs at most, from its GGUF header and what its agents ask of it
// (DESIGN.md, Scheduling: "a true bound and close to what is measured"). Two parts:
// - fixed: what a worker holds once its load is done: the mapped file (tensors populated at load,
//   a packed copy replacing the file's pages; the header the tokenizer is read from) and the
//   tokenizer's tables. A measurement right after a load replaces this part (MeasuredCosts).
// - variable: what requests add and the worker gives back when idle: the KV caches (the working
//   cache of the configured context, each agent's stored prompt prefix, the forks of label
//   scoring and next-word candidates), the forward pass's scratch (its buffers, the logit rows it
//   computes and a request keeps, the threads' attention weights and kernel scratch) and the
//   token masker of constrained decoding. Computed from the same layout the engine allocates by (KVCacheLayout),
//   never measured away.

/// What the agents of one model ask of its worker (set by the supervisor from their manifests).
public struct MemoryDemand: Sendable, Hashable {
    /// Positions of one working cache; nil: the model's trained context.
    public var contextLength: Int?
    public var kvCache: KVCacheType
    /// Working caches alive at once (a worker runs one job at a time).
    public var sequences: Int
    /// Positions of each stored prompt prefix (one per agent with a fixed prompt before its text).
    public var prefixPositions: [Int]
    /// Positions forks add at once beyond the working cache: every label's tokens of a
    /// classification, every next-word candidate's.
    public var forkPositions: Int
    /// Tokens of one forward pass.
    public var batchSize: Int
    public var threads: Int
    /// An extract agent decodes under a grammar: the worker builds a token masker.
    public var constrainedDecoding: Bool

    public init(contextLength: Int? = nil, kvCache: KVCacheType = .f16, sequences: Int = 1, prefixPositions: [Int] = [],
                forkPositions: Int = 0, batchSize: Int = 64, threads: Int = 1,
                constrainedDecoding: Bool = false) {
        self.contextLength = contextLength
        self.kvCache = kvCache
        self.sequences = sequences
        self.prefixPositions = prefixPositions
        self.forkPositions = forkPositions
        self.batchSize = batchSize
        self.threads = threads
        self.constrainedDecoding = constrainedDecoding
    }
}

public struct MemoryEstimate: Sendable, Equatable {
    /// Positions of the working cache (the demand's, at most the trained context).
    public let contextLength: Int
    public let kvCacheType: KVCacheType
    public let sequences: Int
    /// The mapped file: tensor data (all of it is touched during a forward pass) and the header.
    public let fileBytes: Int
    /// The tokenizer's tables for the vocabulary and its merges.
    public let tokenizerBytes: Int
    /// Keys and values: working caches, stored prefixes and forks.
    public let kvCacheBytes: Int
    /// The forward pass's buffers, logit rows, attention weights and kernel scratch.
    public let scratchBytes: Int
    /// The token masker of constrained decoding, when an agent needs one.
    public let maskerBytes: Int
    /// What one more request run at once adds (continuous batching): a working cache of the
    /// context, its forks, and the logit rows a request keeps.
    public let sequenceBytes: Int

    /// What a worker holds once loaded; a measurement after a load replaces it.
    public var fixedBytes: Int { fileBytes + tokenizerBytes }
    /// What requests add on top, at most.
    public var variableBytes: Int { kvCacheBytes + scratchBytes + maskerBytes }
    public var totalBytes: Int { fixedBytes + variableBytes }

    /// Tokenizer tables per vocabulary entry (pieces, lookup tables) and per BPE merge: a loaded
    /// worker measured 107 bytes per entry on Gemma 3's 262,144 (no merges), and SmolLM2's 49,152
    /// entries with 48,900 merges 190 bytes per merge beside them.
    static let tokenizerBytesPerToken = 128.0
    static let tokenizerBytesPerMerge = 224.0
    /// The token masker per vocabulary entry (its trie and piece classes; 19.5 MB for 128k).
    static let maskerBytesPerToken = 170.0
    /// Logit rows a pass computes at once (the engine's ForwardState.logitRows), and rows a
    /// request keeps besides (the last logits, their log-softmax, the sampler's candidates).
    static let logitRowsPerPass = 16.0
    static let logitRowsHeld = 4.0
    /// Heap the worker's allocator keeps beyond what is live (arenas, fragmentation).
    static let heapSlackBytes = 4.0 * 1024 * 1024

    /// Memory of a model of the given shape under `demand`. Computed in Double and clamped:
    /// absurd metadata must give a huge figure, not a trap.
    init(shape: GGUFSummary.Shape, metadata: GGUFMetadata, fileBytes: Int, demand: MemoryDemand) {
        func value(_ v: Int?) -> Double { Double(max(0, v ?? 0)) }
        func clamped(_ v: Double) -> Int { v >= Double(Int.max / 4) ? Int.max / 4 : Int(v) }
        let context = max(0, min(demand.contextLength ?? shape.contextLength ?? 0, shape.contextLength ?? Int.max))
        let batch = Double(max(1, demand.batchSize))
        let threads = Double(max(1, demand.threads))
        let vocabulary = value(shape.vocabularySize)

        // KV: the layout the engine allocates by, with a guard on absurd layer counts.
        var kv = 0.0, sequenceKV = 0.0
        let layers = shape.layerCount ?? 0
        if layers > 0 && layers <= 1 << 16 {
            let windows = KVCacheLayout.slidingLayers(architecture: shape.architecture ?? "", metadata: metadata, layerCount: layers)
            let rowLength = max(0, shape.keyValueHeadCount ?? 0) * max(shape.keyLength ?? 0, shape.valueLength ?? 0)
            let layout = KVCacheLayout(layerCount: layers, rowLength: min(rowLength, 1 << 24), type: demand.kvCache,
                                       slidingWindow: windows.window, slidingLayers: windows.layers,
                                       batchCapacity: max(1, demand.batchSize))
            func bytes(_ positions: Int) -> Double { Double(layout.byteCount(positions: min(positions, 1 << 26))) }
            sequenceKV = bytes(context) + Double(max(0, demand.forkPositions)) * bytes(1)
            kv = Double(max(1, demand.sequences)) * bytes(context)
                + demand.prefixPositions.reduce(0.0) { $0 + bytes(min($1, context)) }
                // Forks are short: each holds its few positions on every layer, window or not.
                + Double(max(0, demand.forkPositions)) * bytes(1)
        }

        // Scratch: the pass's buffers (ForwardState), the logit rows it writes and the copies a
        // request keeps, each thread's attention weights and kernel scratch.
        let embedding = value(shape.embeddingLength), feedForward = value(shape.feedForwardLength)
        let queryWidth = value(shape.headCount) * value(shape.keyLength)
        let kvWidth = value(shape.keyValueHeadCount) * max(value(shape.keyLength), value(shape.valueLength))
        // residual, projection, normed; query, attention; key, value; gate, up; RoPE cos and sin tables
        let buffers = batch * (2 * embedding + max(embedding, queryWidth) + 2 * queryWidth + 2 * kvWidth
                               + 2 * feedForward + 2 * value(shape.keyLength)) * 4
        let logits = (min(batch, Self.logitRowsPerPass) + Self.logitRowsHeld) * vocabulary * 4
        let perThread = (Double(context) + batch * max(embedding, feedForward)) * 4 + 32 * max(embedding, feedForward) * 4
        let scratch = buffers + logits + threads * perThread + Self.heapSlackBytes

        contextLength = context
        kvCacheType = demand.kvCache
        sequences = max(1, demand.sequences)
        self.fileBytes = fileBytes
        tokenizerBytes = clamped(vocabulary * Self.tokenizerBytesPerToken + value(shape.mergeCount) * Self.tokenizerBytesPerMerge)
        kvCacheBytes = clamped(kv)
        scratchBytes = clamped(scratch)
        maskerBytes = demand.constrainedDecoding ? clamped(vocabulary * Self.maskerBytesPerToken) : 0
        sequenceBytes = clamped(sequenceKV + Self.logitRowsHeld * vocabulary * 4)
    }
}
