// Attention of each entry of a pass over its own cache, causal and (on sliding-window layers)
// windowed: for every query head, scores against the key rows it may see, softmax, and the
// weighted sum of the value rows. A cache's rows lie in a few runs (AttentionSegment): a fork's
// parent's positions, then its own, and a ring split where it wraps; the softmax spans them all.
// Split over (entry, head) pairs across the thread pool.
// Reference: llama.cpp's build_attn_mha (kq = k·q × scale, softmax, kqv = v·kq), per head.

import KansoKernelCore

extension Transformer {
    /// Attention of the first `count` entries at `layer`: reads `state.query` and the caches
    /// (whose keys and values for these positions are stored already), writes `state.attention`.
    func attend(count: Int, layer: Int, sliding: Bool) {
        let c = configuration
        let s = state
        let headDim = c.headDimension
        let queryLength = c.queryLength
        let groupSize = c.headCount / c.kvHeadCount
        let window = sliding ? c.slidingWindow : 0
        let maximumSegments = KVCache.maximumSegments
        let attentionKernels = self.attentionKernels

        // Where each entry's visible keys and values lie, once for all its heads.
        var longest = 0
        for i in 0..<count {
            let position = s.positions[i]
            let first = window > 0 ? max(0, position - window + 1) : 0
            var segments = 0
            s.caches[i].unsafelyUnwrapped.appendSegments(layer: layer, from: first, through: position,
                                                         into: s.segments + i * maximumSegments, count: &segments)
            s.segmentCounts[i] = segments
            longest = max(longest, position - first + 1)
        }

        parallel(count * c.headCount, work: count * queryLength * 2 * longest) { items in
            for item in items {
                let i = item / c.headCount
                let h = item % c.headCount
                let cache = s.caches[i].unsafelyUnwrapped
                let type = cache.type
                let stride = cache.layout.rowBytes
                // This head's key/value head within a row: whole q8_0 blocks, as each head is.
                let headOffset = type.byteCount(values: (h / groupSize) * headDim)
                let segments = s.segments + i * maximumSegments
                let segmentCount = s.segmentCounts[i]
                var span = 0
                for k in 0..<segmentCount { span += segments[k].count }
                // Attention weights [span] in this thread's scratch (reused by the kernels later).
                let scores = ThreadScratch.reserve(span * MemoryLayout<Float>.stride)
                    .bindMemory(to: Float.self, capacity: span)
                let query = UnsafePointer(s.query + i * queryLength + h * headDim)
                var offset = 0
                for k in 0..<segmentCount {
                    attentionKernels.scores(query, segments[k].keys + headOffset, stride, segments[k].count, headDim, type,
                                            c.attentionScale, scores + offset)
                    offset += segments[k].count
                }
                TransformerMath.softmax(scores, count: span)
                let out = s.attention + i * queryLength + h * headDim
                out.update(repeating: 0, count: headDim)
                offset = 0
                for k in 0..<segmentCount {
                    attentionKernels.accumulate(segments[k].values + headOffset, stride, scores + offset, segments[k].count,
                                                headDim, type, out)
                    offset += segments[k].count
                }
            }
        }
    }
}
