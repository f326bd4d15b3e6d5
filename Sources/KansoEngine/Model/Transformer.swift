// The forward pass shared by every architecture: a batch of entries (token, position, cache) goes
// through embedding → blocks → final norm → output matrix. Entries may be many positions of one
// sequence (prompt processing) or one position of several sequences (batched decoding); each entry
// attends to its own cache up to its own position. Matrix rows are split across the thread pool,
// attention is split over (entry, head) pairs.
// References: llama2.c run.c `forward` (data flow), llama.cpp src/models/{llama,qwen2,qwen3,gemma3}.cpp.

import Glibc
import KansoKernelCore

final class Transformer {
    let configuration: ModelConfiguration
    let weights: ModelWeights
    let pool: ThreadPool
    let state: ForwardState
    /// Attention over the caches, from the kernel variant's module (KernelDispatch.swift).
    let attentionKernels: AttentionKernels
    /// RoPE frequencies per pair: scale · base^(-2i/d) / factor[i], for global and sliding layers.
    private let globalFrequencies: [Float]          // [ropeDimensionCount / 2]
    private let slidingFrequencies: [Float]         // [ropeDimensionCount / 2]

    init(configuration: ModelConfiguration, weights: ModelWeights, pool: ThreadPool, batchCapacity: Int,
         kernels: KernelVariant) throws {
        self.configuration = configuration
        attentionKernels = AttentionKernels.of(kernels)
        self.weights = weights
        self.pool = pool
        state = try ForwardState(configuration: configuration, batchCapacity: batchCapacity)
        let c = configuration
        func frequencies(base: Float, scale: Float) -> [Float] {
            (0..<c.ropeDimensionCount / 2).map { i in
                let exponent = -2 * Double(i) / Double(c.ropeDimensionCount)
                let factor = Double(weights.ropeFrequencyFactors?[i] ?? 1)
                return Float(Double(scale) * pow(Double(base), exponent) / factor)
            }
        }
        globalFrequencies = frequencies(base: c.ropeFrequencyBase, scale: c.ropeFrequencyScale)
        // llama.cpp applies rope_freqs to every layer that uses the model's factors; gemma3 has none.
        slidingFrequencies = frequencies(base: c.slidingRopeFrequencyBase, scale: c.slidingRopeFrequencyScale)
    }

    /// Runs the first `count` entries of `state` (tokens, positions, caches, all validated by the
    /// caller) through the model: writes their keys and values into their caches, and hands the
    /// logits of each of `state.logitEntries` to `onLogits` with its index there ([vocabularySize]
    /// floats, valid during the call: rows are computed `logitRowCapacity` at a time).
    /// `blockLimit` runs only the first that many blocks (no logits then: the later layers' keys and
    /// values of these positions stay unwritten); `afterBlock(i)` sees `state.residual` after block i.
    func forward(count: Int, blockLimit: Int? = nil, afterBlock: ((Int) -> Void)? = nil,
                 onLogits: (_ row: Int, _ logits: UnsafeBufferPointer<Float>) -> Void = { _, _ in }) {
        let c = configuration
        let s = state
        let embd = c.embeddingLength
        let headDim = c.headDimension
        let kvLength = c.kvLength
        let queryLength = c.queryLength
        let pairCount = c.ropeDimensionCount / 2

        // Embeddings: x[i] = E[token_i] · embeddingScale.
        for i in 0..<count {
            let row = s.residual + i * embd
            weights.tokenEmbedding.row(Int(s.tokens[i]), into: row)
            if c.embeddingScale != 1 {
                for j in 0..<embd { row[j] *= c.embeddingScale }
            }
        }
        fillRopeTables(count: count)
        // A cache that asks for the same numbers alone as in company has every matrix of the pass
        // multiplied by the batch kernels, one vector included (KVCache.batchInvariant).
        let batchKernels = (0..<count).contains { s.caches[$0]?.batchInvariant == true }

        let blocks = min(blockLimit ?? weights.layers.count, weights.layers.count)
        for (layer, w) in weights.layers.prefix(blocks).enumerated() {
            let sliding = c.slidingWindowLayers[layer]
            let ropeTable = sliding ? 1 : 0

            // Attention: normed = rms(x) · w; q, k, v = W·normed (+ bias).
            normalize(count: count, from: s.residual, weight: w.attentionNorm, into: s.normed)
            multiply(count: count, batchKernels: batchKernels, input: s.normed,
                     (w.query, s.query), (w.key, s.key), (w.value, s.value))
            if let bias = w.queryBias { addBias(bias, to: s.query, count: count, length: queryLength) }
            if let bias = w.keyBias { addBias(bias, to: s.key, count: count, length: kvLength) }
            if let bias = w.valueBias { addBias(bias, to: s.value, count: count, length: kvLength) }

            // Per-head Q/K norms, RoPE, then keys and values into each entry's cache.
            parallel(count, work: count * (queryLength + kvLength) * 4) { entries in
                for i in entries {
                    let cosines = s.ropeCosines + (ropeTable * s.batchCapacity + i) * pairCount
                    let sines = s.ropeSines + (ropeTable * s.batchCapacity + i) * pairCount
                    for h in 0..<c.headCount {
                        let head = s.query + i * queryLength + h * headDim
                        if let norm = w.queryNorm {
                            TransformerMath.rmsNorm(head, weight: norm, into: head, count: headDim, epsilon: c.normEpsilon)
                        }
                        TransformerMath.rotate(head, style: c.ropeStyle, cosines: cosines, sines: sines, pairCount: pairCount)
                    }
                    for h in 0..<c.kvHeadCount {
                        let head = s.key + i * kvLength + h * headDim
                        if let norm = w.keyNorm {
                            TransformerMath.rmsNorm(head, weight: norm, into: head, count: headDim, epsilon: c.normEpsilon)
                        }
                        TransformerMath.rotate(head, style: c.ropeStyle, cosines: cosines, sines: sines, pairCount: pairCount)
                    }
                    let cache = s.caches[i].unsafelyUnwrapped
                    let position = s.positions[i]
                    cache.store(key: s.key + i * kvLength, value: s.value + i * kvLength, layer: layer, position: position,
                                encode: attentionKernels.encode)
                }
            }

            // Attention of each (entry, head) over its cache, causal and windowed (Attention.swift).
            attend(count: count, layer: layer, sliding: sliding)

            // x += post_norm(Wo · attention + bias)
            multiply(count: count, batchKernels: batchKernels, input: s.attention, (w.attentionOutput, s.projection))
            if let bias = w.outputBias { addBias(bias, to: s.projection, count: count, length: embd) }
            if let norm = w.postAttentionNorm { normalize(count: count, from: s.projection, weight: norm, into: s.projection) }
            for i in 0..<count { TransformerMath.add(s.projection + i * embd, into: s.residual + i * embd, count: embd) }

            // x += post_norm(Wdown · (act(Wgate · rms(x)) * Wup · rms(x)))
            normalize(count: count, from: s.residual, weight: w.feedForwardNorm, into: s.normed)
            multiply(count: count, batchKernels: batchKernels, input: s.normed, (w.gate, s.gate), (w.up, s.up))
            let ffn = c.feedForwardLength
            parallel(count, work: count * ffn * 16) { entries in
                for i in entries {
                    TransformerMath.gatedActivation(c.activation, gate: s.gate + i * ffn, up: s.up + i * ffn, count: ffn)
                }
            }
            multiply(count: count, batchKernels: batchKernels, input: s.gate, (w.down, s.projection))
            if let norm = w.postFeedForwardNorm { normalize(count: count, from: s.projection, weight: norm, into: s.projection) }
            for i in 0..<count { TransformerMath.add(s.projection + i * embd, into: s.residual + i * embd, count: embd) }
            afterBlock?(layer)
        }
        guard blocks == weights.layers.count else { return }

        // Logits of the entries asked for: W_out · rms(x) · w_out, gathered into consecutive rows.
        let rows = s.logitEntries.count
        guard rows > 0 else { return }
        for (row, entry) in s.logitEntries.enumerated() {
            weights.outputNorm.withUnsafeBufferPointer { norm in
                TransformerMath.rmsNorm(s.residual + entry * embd, weight: norm.baseAddress!, into: s.normed + row * embd,
                                        count: embd, epsilon: c.normEpsilon)
            }
        }
        let vocabulary = c.vocabularySize
        var first = 0
        while first < rows {
            let chunk = min(s.logitRowCapacity, rows - first)
            multiply(count: chunk, batchKernels: batchKernels, input: s.normed + first * embd, (weights.output, s.logits))
            if c.finalLogitSoftcapping > 0 {
                let cap = c.finalLogitSoftcapping
                for j in 0..<(chunk * vocabulary) { s.logits[j] = cap * tanhf(s.logits[j] / cap) }
            }
            for row in 0..<chunk {
                onLogits(first + row, UnsafeBufferPointer(start: s.logits + row * vocabulary, count: vocabulary))
            }
            first += chunk
        }
    }

    /// Below this many multiply-adds a section runs on the calling thread: waking the pool costs
    /// more than it saves (stories260K's 64-wide matrices).
    static let parallelWorkThreshold = 32_768

    /// `pool.parallelFor`, or the whole range inline when the work is small.
    @inline(__always)
    func parallel(_ count: Int, work: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if work < Self.parallelWorkThreshold {
            body(0..<count)
        } else {
            pool.parallelFor(count, grain: grain, body)
        }
    }

    /// cos and sin of position · frequency for each entry, for global (table 0) and sliding (table 1) layers.
    private func fillRopeTables(count: Int) {
        let s = state
        let pairCount = configuration.ropeDimensionCount / 2
        let tables = configuration.slidingWindow > 0 ? 2 : 1
        for table in 0..<tables {
            let frequencies = table == 0 ? globalFrequencies : slidingFrequencies
            for i in 0..<count {
                let position = Double(s.positions[i])
                let offset = (table * s.batchCapacity + i) * pairCount
                for j in 0..<pairCount {
                    let angle = position * Double(frequencies[j])
                    s.ropeCosines[offset + j] = Float(cos(angle))
                    s.ropeSines[offset + j] = Float(sin(angle))
                }
            }
        }
    }

    /// out[i] = rms(x[i]) · weight for each entry; `out` may be `x`.
    private func normalize(count: Int, from x: UnsafeMutablePointer<Float>, weight: [Float], into out: UnsafeMutablePointer<Float>) {
        let length = configuration.embeddingLength
        let epsilon = configuration.normEpsilon
        weight.withUnsafeBufferPointer { w in
            for i in 0..<count {
                TransformerMath.rmsNorm(x + i * length, weight: w.baseAddress!, into: out + i * length, count: length, epsilon: epsilon)
            }
        }
    }

    private func addBias(_ bias: [Float], to rows: UnsafeMutablePointer<Float>, count: Int, length: Int) {
        bias.withUnsafeBufferPointer { b in
            for i in 0..<count { TransformerMath.add(b.baseAddress!, into: rows + i * length, count: length) }
        }
    }

    /// out_m[i] = W_m · input[i] for every entry i and each given matrix m, all rows of all matrices
    /// split across the pool in one parallel section. Output rows have the matrix's row count.
    /// One vector takes the vector kernel unless `batchKernels` (KVCache.batchInvariant).
    private func multiply(count: Int, batchKernels: Bool, input: UnsafeMutablePointer<Float>,
                          _ a: (WeightMatrix, UnsafeMutablePointer<Float>),
                          _ b: (WeightMatrix, UnsafeMutablePointer<Float>)? = nil,
                          _ c: (WeightMatrix, UnsafeMutablePointer<Float>)? = nil) {
        let rowsA = a.0.rows
        let rowsB = b?.0.rows ?? 0
        let rowsC = c?.0.rows ?? 0
        let x = UnsafePointer(input)
        let vectorKernel = count == 1 && !batchKernels
        @inline(__always) func run(_ job: (WeightMatrix, UnsafeMutablePointer<Float>), _ rows: Range<Int>) {
            guard !rows.isEmpty else { return }
            if vectorKernel {
                job.0.multiply(x, into: job.1, rows: rows)
            } else {
                job.0.multiply(batch: x, count: count, into: job.1, rows: rows, batchKernel: batchKernels)
            }
        }
        let work = (rowsA + rowsB + rowsC) * a.0.columns * count
        // pieces on whole row groups of the packed kernels (8 rows), so no group is computed twice
        parallel(rowsA + rowsB + rowsC, work: work, grain: 8) { range in
            run(a, range.clamped(to: 0..<rowsA))
            if let b {
                let r = range.clamped(to: rowsA..<(rowsA + rowsB))
                run(b, (r.lowerBound - rowsA)..<(r.upperBound - rowsA))
            }
            if let c {
                let r = range.clamped(to: (rowsA + rowsB)..<(rowsA + rowsB + rowsC))
                run(c, (r.lowerBound - rowsA - rowsB)..<(r.upperBound - rowsA - rowsB))
            }
        }
    }
}
