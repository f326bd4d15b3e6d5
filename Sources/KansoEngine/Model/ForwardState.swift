// Every scratch buffer of the forward pass, reserved once when the model loads so that a pass
// never allocates (as llama2.c's RunState). Sized for `batchCapacity` tokens evaluated together;
// longer prompts go through in chunks of that many. The buffers share one reservation whose pages
// are committed as passes write them (a one-token pass touches one row of each), and handed back
// when the model idles (`release`): every pass writes what it reads.

final class ForwardState {
    /// Tokens one pass can hold.
    let batchCapacity: Int

    let residual: UnsafeMutablePointer<Float>       // [batch, embeddingLength] the residual stream x
    let normed: UnsafeMutablePointer<Float>         // [batch, embeddingLength] a norm of x, input of a projection
    let projection: UnsafeMutablePointer<Float>     // [batch, embeddingLength] output of Wo or Wdown
    let query: UnsafeMutablePointer<Float>          // [batch, headCount, headDimension]
    let key: UnsafeMutablePointer<Float>            // [batch, kvHeadCount, headDimension]
    let value: UnsafeMutablePointer<Float>          // [batch, kvHeadCount, headDimension]
    let attention: UnsafeMutablePointer<Float>      // [batch, headCount, headDimension] attention output
    let gate: UnsafeMutablePointer<Float>           // [batch, feedForwardLength]
    let up: UnsafeMutablePointer<Float>             // [batch, feedForwardLength]
    let ropeCosines: UnsafeMutablePointer<Float>    // [2 (global, sliding), batch, ropeDimensionCount / 2]
    let ropeSines: UnsafeMutablePointer<Float>      // [2 (global, sliding), batch, ropeDimensionCount / 2]
    let logits: UnsafeMutablePointer<Float>         // [logitRowCapacity, vocabularySize]
    /// Logit rows computed at once: a pass asking for more gets them in turns (a 262k vocabulary
    /// makes each row 1 MiB).
    let logitRowCapacity: Int
    /// Runs of cached rows each entry attends to at the current layer (Attention.swift).
    let segments: UnsafeMutablePointer<AttentionSegment>  // [batch, KVCache.maximumSegments]
    var segmentCounts: [Int]                        // [batch]

    /// The entries of the current pass: token, position and the cache it belongs to.
    var tokens: [Int32]                             // [batch]
    var positions: [Int]                            // [batch]
    var caches: [KVCache?]                          // [batch]
    /// Entries whose logits the pass computes, in the order of `logits` rows.
    var logitEntries: [Int]                         // [≤ batch]

    private let memory: ReservedMemory

    /// Floats of each buffer, in the order they are laid out.
    private static func floatCounts(_ c: ModelConfiguration, batch b: Int) -> [Int] {
        [b * c.embeddingLength, b * max(c.embeddingLength, c.queryLength), b * c.embeddingLength,
         b * c.queryLength, b * c.kvLength, b * c.kvLength, b * c.queryLength,
         b * c.feedForwardLength, b * c.feedForwardLength,
         2 * b * c.ropeDimensionCount / 2, 2 * b * c.ropeDimensionCount / 2, logitRows(batch: b) * c.vocabularySize]
    }

    /// Logit rows computed at once, for a batch of `b`.
    static func logitRows(batch b: Int) -> Int { min(b, 16) }

    /// Buffers start on 64-byte boundaries.
    private static func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }

    init(configuration c: ModelConfiguration, batchCapacity: Int) throws {
        self.batchCapacity = batchCapacity
        logitRowCapacity = Self.logitRows(batch: batchCapacity)
        let b = batchCapacity
        let counts = Self.floatCounts(c, batch: b)
        let segmentBytes = b * KVCache.maximumSegments * MemoryLayout<AttentionSegment>.stride
        let memory = try ReservedMemory(byteCount: counts.reduce(0) { $0 + Self.aligned(4 * $1) } + segmentBytes)
        self.memory = memory
        var offset = 0
        var pointers: [UnsafeMutablePointer<Float>] = []
        for count in counts {
            pointers.append((memory.base + offset).bindMemory(to: Float.self, capacity: count))
            offset += Self.aligned(4 * count)
        }
        (residual, normed, projection, query, key, value) = (pointers[0], pointers[1], pointers[2], pointers[3], pointers[4], pointers[5])
        (attention, gate, up, ropeCosines, ropeSines, logits) = (pointers[6], pointers[7], pointers[8], pointers[9], pointers[10], pointers[11])
        segments = (memory.base + offset).bindMemory(to: AttentionSegment.self, capacity: b * KVCache.maximumSegments)
        segmentCounts = Array(repeating: 0, count: b)
        tokens = Array(repeating: 0, count: b)
        positions = Array(repeating: 0, count: b)
        caches = Array(repeating: nil, count: b)
        logitEntries = []
        logitEntries.reserveCapacity(b)
    }

    /// Hands every page back to the kernel (between passes only).
    func release() { memory.releaseAll() }

    /// Bytes of the buffers resident now.
    var residentByteCount: Int { memory.residentByteCount }

    /// Bytes of scratch memory: the buffers, and the attention weights in per-thread scratch
    /// (one row of the context per thread).
    static func byteCount(configuration c: ModelConfiguration, batchCapacity b: Int, threads: Int) -> Int {
        let buffers = floatCounts(c, batch: b).reduce(0) { $0 + aligned(4 * $1) }
        let segments = b * KVCache.maximumSegments * MemoryLayout<AttentionSegment>.stride
        return buffers + segments + threads * c.contextLength * MemoryLayout<Float>.stride
    }
}
