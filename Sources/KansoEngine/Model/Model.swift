// A loaded model: configuration, weights over the mapped file, tokenizer, a thread pool and the
// scratch state of the forward pass. One pass runs at a time (it uses all threads); several
// sequences advance together through `decode(batch:)`, and evaluations called from several threads
// at once share passes (SharedPasses.swift: continuous batching).
//
// Use:
//   let model = try Model(path: "qwen2.5-0.5b-instruct-q8_0.gguf", threads: 2, contextLength: 2048)
//   let prompt = try model.makeCache()                   // one per sequence
//   let logits = try model.evaluate(model.tokenizer.encode(text), in: prompt)[0]
//   LogProbabilities.top(5, of: logits)                   // next-word candidates (Predict)
//   try model.score(continuations: labels, after: prompt) // label log-probabilities (Classify)
//   var generator = Generator(model: model, sampler: SamplerChain(settings: settings), maximumTokens: 64)
//   let reply = try prompt.fork(capacity: 2048)           // continues the prompt without a copy
//   try generator.generate(prompt: tokens, in: reply) { token in ...; return true }

import KansoConcurrency
import KansoGGUF
import CKernelSupport
import Dispatch
import Glibc

public final class Model: @unchecked Sendable {  // mutable scratch state is used only under `lock`
    public let configuration: ModelConfiguration
    public let tokenizer: Tokenizer
    public let file: GGUFFile
    /// Tokens one forward pass holds; longer prompts are evaluated in chunks of this size.
    public let batchCapacity: Int
    /// How `makeCache` stores keys and values unless told otherwise.
    public let cacheType: KVCacheType
    public var threadCount: Int { pool.threadCount }
    /// The instruction set of the kernels that multiply the weights (Kernels/KernelDispatch.swift).
    public let kernelVariant: KernelVariant

    private let pool: ThreadPool
    let transformer: Transformer
    /// Held while a pass runs (one at a time: a pass uses every thread of the pool).
    let lock = Lock()
    /// Evaluations of several threads waiting to share passes (SharedPasses.swift).
    let shared = SharedPasses()

    /// Tokens of one forward pass unless a caller says otherwise: 64 lets the batched kernel reuse
    /// each unpacked weight row for 64 vectors (larger batches gain little: bench/README.md,
    /// "Figures behind choices in the code"), while scratch stays small enough for the memory
    /// goal (file + KV cache + 64 MiB).
    public static let defaultBatchCapacity = 64

    /// Where the packed matrices came from; `waitForPackedCache` waits for a cache file being written.
    public var packedWeights: PackedWeightsOrigin {
        originLock.lock(); defer { originLock.unlock() }
        return origin
    }
    private var origin: PackedWeightsOrigin
    private let originLock = Lock()
    /// Cache files being written: the packed matrices, the tokenizer tables.
    private let cacheWrite: DispatchGroup

    /// Where the tokenizer's tables came from; `waitForPackedCache` waits for a cache file being written.
    public var tokenizerTables: TokenizerTablesOrigin { tokenizerTablesOrigin.current }
    private let tokenizerTablesOrigin: Locked<TokenizerTablesOrigin>

    /// Loads the model in `file`. `contextLength` clamps the trained context (and so every cache);
    /// `batchCapacity` bounds the tokens of one pass (scratch memory grows with it); `cacheType`
    /// is how caches store keys and values unless `makeCache` is told otherwise.
    /// `packWeights`: copy the matrices that have a packed form in this build into it at load
    /// (PackedRowGroups.swift: faster generation, a longer load); false keeps every matrix in the file.
    /// `packedCache`: map the packed form from this cache when an earlier load wrote it for this
    /// file, else pack and write it there in the background (PackedWeightCache.swift).
    /// `kernels`: the instruction set of the kernels (nil: the best this CPU runs, or KANSO_KERNELS;
    /// a variant the CPU cannot run is refused with KernelSelectionError).
    public init(file: GGUFFile, threads: Int, contextLength: Int? = nil, batchCapacity: Int = Model.defaultBatchCapacity,
                cacheType: KVCacheType = .f16, packWeights: Bool = true,
                packedCache: PackedWeightCache? = nil, kernels: KernelVariant? = nil) throws {
        guard batchCapacity > 0 else {
            throw ModelError.invalidArgument("batch capacity \(batchCapacity) must be positive")
        }
        let configuration = try ModelConfiguration(metadata: file.metadata, contextLength: contextLength)
        try Self.check(cacheType, configuration: configuration)
        let variant = try kernels ?? KernelVariant.selected()
        var weights = try ModelWeights(file: file, configuration: configuration, kernels: variant)
        // Reading the vectors (copied into arrays by ModelWeights) maps the whole large folio of
        // the page cache around each, reaching into the matrices: 81 MiB of the 135M Q8_0 file,
        // which would stay resident beside its mapped cache file (a peak of 250-270 MiB against a
        // budget of 213). The matrices that read a packed form let go of them at once.
        if packWeights { weights.releaseFilePagesOfPacked(file, evenBeforePacking: true) }
        self.configuration = configuration
        kernelVariant = variant
        self.file = file
        self.batchCapacity = batchCapacity
        self.cacheType = cacheType
        pool = ThreadPool(threads: threads)
        let packable = packWeights ? weights.packableTensorNames : []
        let entries = packable.isEmpty ? [] : weights.packableMatrices.map(\.packedCacheEntry)
        let cachePath = packable.isEmpty ? nil : packedCache?.filePath(forModelAt: file.path)
        let reused = cachePath.flatMap { PackedCacheFile(path: $0, source: file.identity, entries: entries) }
        if let reused { weights.usePacked(reused) }
        let packsNow = !packable.isEmpty && reused == nil
        // A file page read (by the populate below or by a kernel) could otherwise map a whole 2 MiB
        // folio of the page cache, reaching into a packed neighbour whose pages were released;
        // MADV_DONTNEED of part of such a mapping drops all of it, and the next read maps it again.
        if packsNow || reused != nil { file.advise(.noHugePages) }
        // The page tables of the matrices that stay in the file (and of a reused cache file) are
        // filled on another core while this one builds the tokenizer (the two take about as long);
        // otherwise the first forward pass takes the faults. Vectors were read into arrays
        // already, and an untied token embedding is skipped: only the rows of prompt tokens are
        // ever read. Then the matrices with a packed form are copied into it on the pool's
        // threads and their file pages released. In this order because one read can map a whole
        // large folio of the page cache, up to 2 MiB around it: populating after packing would
        // map released pages back.
        let writes = DispatchGroup()
        cacheWrite = writes
        let untiedEmbedding = file.tensor(named: "output.weight") == nil ? nil : "token_embd.weight"
        let populated = DispatchGroup()
        DispatchQueue.global(qos: .userInitiated).async(group: populated) {
            file.populate(file.tensors.filter { $0.shape.count >= 2 && $0.name != untiedEmbedding && !packable.contains($0.name) })
            reused?.populate()
        }
        do {
            defer { populated.wait() }
            let tablesOrigin = Locked(TokenizerTablesOrigin.built)
            tokenizer = try Tokenizer.load(gguf: file, cache: packedCache, writing: writes, origin: tablesOrigin)
            tokenizerTablesOrigin = tablesOrigin
        }
        if packsNow { weights.packForKernels(pool: pool, file: file) }
        if reused != nil { weights.releaseFilePagesOfPacked(file) }
        transformer = try Transformer(configuration: configuration, weights: weights, pool: pool, batchCapacity: batchCapacity,
                                      kernels: variant)
        let packed = weights.packableMatrices
        switch (reused, cachePath) {
        case (let reused?, _): origin = .cacheReused(path: reused.path)
        case (nil, let path?) where packsNow && packed.allSatisfy({ $0.packedBytes != nil }):
            origin = .cacheWriting(path: path)
            writeCache(packedCache!, path: path, entries: entries, matrices: packed)
        default: origin = packsNow ? .memory : .none
        }
        // The load's freed temporaries go back to the kernel: otherwise they stay in the worker's
        // resident set, which the budget charges (a cheap call: bench/README.md).
        kanso_release_free_heap()
    }

    /// Writes the packed `matrices` to the cache on a background thread (the closure keeps their
    /// packed copies alive until written), then records how it went.
    private func writeCache(_ cache: PackedWeightCache, path: String, entries: [PackedCacheEntry], matrices: [WeightMatrix]) {
        let header = PackedCacheFile.header(sourcePath: file.path, identity: file.identity, entries: entries)
        DispatchQueue.global(qos: .utility).async(group: cacheWrite) { [self] in
            let outcome: PackedWeightsOrigin
            do {
                try cache.write(path: path, header: header.bytes, offsets: header.offsets, fileBytes: header.fileBytes,
                                matrices: matrices.compactMap(\.packedBytes))
                outcome = .cacheWritten(path: path)
            } catch let error as PackedCacheError {
                outcome = .cacheFailed(error)
            } catch {
                outcome = .cacheFailed(PackedCacheError(path: path, operation: "write", errno: EIO))
            }
            originLock.lock(); origin = outcome; originLock.unlock()
        }
    }

    /// Waits until the cache files being written (packed weights, tokenizer tables) are complete
    /// (or failed) and returns the packed weights' outcome; `tokenizerTables` has the other.
    @discardableResult
    public func waitForPackedCache() -> PackedWeightsOrigin {
        cacheWrite.wait()
        return packedWeights
    }

    /// Opens and loads the GGUF file at `path`.
    public convenience init(path: String, threads: Int, contextLength: Int? = nil, batchCapacity: Int = Model.defaultBatchCapacity,
                            cacheType: KVCacheType = .f16, packedCache: PackedWeightCache? = nil,
                            kernels: KernelVariant? = nil) throws {
        try self.init(file: try GGUFFile(path: path), threads: threads, contextLength: contextLength,
                      batchCapacity: batchCapacity, cacheType: cacheType, packedCache: packedCache, kernels: kernels)
    }

    /// An empty cache for one sequence, holding `capacity` positions (default: the context length),
    /// stored as `type` (default: the model's `cacheType`). Its memory is committed as it fills.
    public func makeCache(capacity: Int? = nil, type: KVCacheType? = nil) throws -> KVCache {
        let chosen = type ?? cacheType
        try Self.check(chosen, configuration: configuration)
        let positions = min(max(capacity ?? configuration.contextLength, 1), configuration.contextLength)
        return try KVCache(layout: cacheLayout(type: chosen), capacity: positions)
    }

    /// How this model's caches of `type` are laid out (KansoGGUF's KVCacheLayout, which the
    /// supervisor's memory estimate counts by).
    public func cacheLayout(type: KVCacheType) -> KVCacheLayout {
        KVCacheLayout(layerCount: configuration.layerCount, rowLength: configuration.kvLength, type: type,
                      slidingWindow: configuration.slidingWindow, slidingLayers: configuration.slidingWindowLayers,
                      batchCapacity: batchCapacity)
    }

    /// Bytes of one cache of `positions` positions (default: the context) when full.
    public func cacheByteCount(positions: Int? = nil, type: KVCacheType? = nil) -> Int {
        cacheLayout(type: type ?? cacheType).byteCount(positions: positions ?? configuration.contextLength)
    }

    /// Bytes of the forward pass's scratch: its buffers and the attention weights of every thread.
    public var scratchByteCount: Int {
        ForwardState.byteCount(configuration: configuration, batchCapacity: batchCapacity, threads: pool.threadCount)
    }

    /// Hands the forward pass's scratch pages and the heap's free memory back to the kernel, for
    /// an idle worker after long requests: the next pass faults in what it touches again.
    public func releaseIdleMemory() {
        lock.lock()
        defer { lock.unlock() }
        transformer.state.release()
        kanso_release_free_heap()
    }

    /// Bytes of the forward pass's buffers resident now.
    var scratchResidentByteCount: Int { transformer.state.residentByteCount }

    private static func check(_ type: KVCacheType, configuration: ModelConfiguration) throws {
        guard type.stores(headDimension: configuration.headDimension) else {
            throw ModelError.invalidArgument("a \(type.rawValue) KV cache needs heads of a multiple of \(KVCacheType.blockLength) values; this model's have \(configuration.headDimension)")
        }
    }

    /// Appends `tokens` to the sequence in `cache` and returns logits: one row of [vocabularySize]
    /// for the last token, or with `allLogits` one row per token ([tokens.count][vocabularySize]).
    public func evaluate(_ tokens: [Int32], in cache: KVCache, allLogits: Bool = false) throws -> [[Float]] {
        guard !tokens.isEmpty else { throw ModelError.invalidArgument("evaluate needs at least one token") }
        return try evaluate(batch: [(cache: cache, tokens: tokens)], allLogits: allLogits)[0]
    }

    /// One decoding step for several sequences at once: appends each token to its own cache and
    /// returns each sequence's next-token logits, in the order given. A cache may appear only once.
    public func decode(batch: [(cache: KVCache, token: Int32)]) throws -> [[Float]] {
        try evaluate(batch: batch.map { (cache: $0.cache, tokens: [$0.token]) })
    }

    /// As `decode(batch:)`, keeping of each sequence's next-token distribution only its most
    /// likely token and that token's probability: no logit row is copied.
    public func decodeMostLikely(batch: [(cache: KVCache, token: Int32)]) throws -> [(token: Int32, probability: Float)] {
        var result = [(token: Int32, probability: Float)](repeating: (0, 0), count: batch.count)
        try evaluate(batch: batch.map { (cache: $0.cache, tokens: [$0.token]) }, allLogits: false) { entry, _, logits in
            result[entry] = LogProbabilities.mostLikely(logits)
        }
        return result
    }

    /// Several sequences advanced in the same passes, each by its own tokens (a new prompt beside
    /// sequences that decode one token): returns each sequence's logits after its last token, in
    /// the order given. Every entry needs at least one token; a cache may appear only once.
    public func evaluate(batch: [(cache: KVCache, tokens: [Int32])]) throws -> [[Float]] {
        try evaluate(batch: batch, allLogits: false).map { $0[$0.count - 1] }
    }

    /// As `evaluate(batch:)`, with `allLogits` the logits after every token of every entry:
    /// [entry][token][vocabularySize]; otherwise one row per entry.
    public func evaluate(batch: [(cache: KVCache, tokens: [Int32])], allLogits: Bool) throws -> [[[Float]]] {
        var result = [[[Float]]](repeating: [], count: batch.count)
        try evaluate(batch: batch, allLogits: allLogits) { entry, _, logits in result[entry].append(Array(logits)) }
        return result
    }

    /// The passes of `evaluate(batch:allLogits:)`, handing each logit row to `visit` (entry,
    /// token index within the entry, [vocabularySize] floats valid during the call) instead of
    /// copying it, in entry and token order.
    public func evaluate(batch: [(cache: KVCache, tokens: [Int32])], allLogits: Bool,
                         visit: (_ entry: Int, _ token: Int, _ logits: UnsafeBufferPointer<Float>) -> Void) throws {
        guard !batch.isEmpty else { return }
        var seen = Set<ObjectIdentifier>()
        for entry in batch {
            guard !entry.tokens.isEmpty else { throw ModelError.invalidArgument("a batch entry has no tokens") }
            try validate(entry.tokens)
            try checkOwnership(entry.cache)
            try checkWritable(entry.cache)
            guard seen.insert(ObjectIdentifier(entry.cache)).inserted else {
                throw ModelError.invalidArgument("a cache appears more than once in one batch")
            }
            guard entry.cache.length + entry.tokens.count <= entry.cache.capacity else {
                throw ModelError.contextFull(position: entry.cache.length + entry.tokens.count - 1,
                                             capacity: entry.cache.capacity)
            }
        }
        // Walked in passes shared with other threads' evaluations (SharedPasses.swift).
        withoutActuallyEscaping(visit) { visit in
            evaluateShared(PendingEvaluation(batch: batch, caches: seen, allLogits: allLogits, visit: visit))
        }
    }

    /// The natural-log probability of each of `tokens` following everything before it: the tokens
    /// already in `cache`, then tokens[0..<i]. `cache` must hold at least one token (a BOS or a
    /// prompt). Its last position is evaluated again to get its logits; on return the cache also
    /// holds `tokens` (truncate it to undo). For scoring labels of a classification prompt.
    public func logProbabilities(of tokens: [Int32], after cache: KVCache) throws -> [Float] {
        guard let last = cache.tokens.last else {
            throw ModelError.invalidArgument("log-probabilities need a cache holding at least one token")
        }
        guard !tokens.isEmpty else { return [] }
        try cache.truncate(to: cache.length - 1)
        let rows = try evaluate([last] + tokens, in: cache, allLogits: true)
        return tokens.indices.map { i in LogProbabilities.logSoftmax(rows[i])[Int(tokens[i])] }
    }

    /// Drops the pass's references to caches so they are freed when their owners let go.
    func clearCacheReferences() {
        let state = transformer.state
        for i in 0..<state.batchCapacity { state.caches[i] = nil }
    }

    func validate(_ tokens: [Int32]) throws {
        for token in tokens where token < 0 || Int(token) >= configuration.vocabularySize {
            throw ModelError.tokenOutOfRange(token: token, vocabularySize: configuration.vocabularySize)
        }
    }

    func checkOwnership(_ cache: KVCache) throws {
        guard cache.layout == cacheLayout(type: cache.type), cache.capacity <= configuration.contextLength else {
            throw ModelError.cacheMismatch("cache of \(cache.layout.layerCount) layers × \(cache.layout.rowLength), capacity \(cache.capacity); model has \(configuration.layerCount) × \(configuration.kvLength), context \(configuration.contextLength)")
        }
    }

    /// A cache that forks read must not change; a cache whose ring lost the window before its
    /// end cannot be continued (truncate and fork refuse to leave one so).
    func checkWritable(_ cache: KVCache) throws {
        try cache.checkUnshared("evaluate into")
        guard cache.canContinue(from: cache.length) else {
            throw ModelError.invalidArgument("the cache cannot be continued from \(cache.length)")
        }
    }
}
