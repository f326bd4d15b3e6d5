// Every scratch buffer of the forward pass, allocated once when the model loads so that a pass
// never allocates (as llama2.c's RunState). Sized for `batchCapacity` tokens evaluated together;
// longer prompts go through in chunks of that many.

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
    let logits: UnsafeMutablePointer<Float>         // [batch, vocabularySize]

    /// The entries of the current pass: token, position and the cache it belongs to.
    var tokens: [Int32]                             // [batch]
    var positions: [Int]                            // [batch]
    var caches: [KVCache?]                          // [batch]
    /// Entries whose logits the pass computes, in the order of `logits` rows.
    var logitEntries: [Int]                         // [≤ batch]

    private var allocations: [UnsafeMutablePointer<Float>] = []

    init(configuration c: ModelConfiguration, batchCapacity: Int) {
        self.batchCapacity = batchCapacity
        let b = batchCapacity
        var allocations: [UnsafeMutablePointer<Float>] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            // Not zero-filled: every pass writes what it reads, and pages never written (the logit
            // rows of entries that need none, the tail of a large batch) stay out of the resident set.
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            allocations.append(pointer)
            return pointer
        }
        residual = buffer(b * c.embeddingLength)
        normed = buffer(b * max(c.embeddingLength, c.queryLength))
        projection = buffer(b * c.embeddingLength)
        query = buffer(b * c.queryLength)
        key = buffer(b * c.kvLength)
        value = buffer(b * c.kvLength)
        attention = buffer(b * c.queryLength)
        gate = buffer(b * c.feedForwardLength)
        up = buffer(b * c.feedForwardLength)
        ropeCosines = buffer(2 * b * c.ropeDimensionCount / 2)
        ropeSines = buffer(2 * b * c.ropeDimensionCount / 2)
        logits = buffer(b * c.vocabularySize)
        self.allocations = allocations
        tokens = Array(repeating: 0, count: b)
        positions = Array(repeating: 0, count: b)
        caches = Array(repeating: nil, count: b)
        logitEntries = []
        logitEntries.reserveCapacity(b)
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Bytes of scratch memory.
    static func byteCount(configuration c: ModelConfiguration, batchCapacity b: Int) -> Int {
        let floats = b * (2 * c.embeddingLength + max(c.embeddingLength, c.queryLength) + 2 * c.queryLength
            + 2 * c.kvLength + 2 * c.feedForwardLength + 2 * c.ropeDimensionCount + c.vocabularySize)
        // Attention weights live in per-thread scratch: one row of the context per thread.
        let attention = c.contextLength * 2
        return (floats + attention) * MemoryLayout<Float>.stride
    }
}
