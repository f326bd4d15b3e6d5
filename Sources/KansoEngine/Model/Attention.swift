// Attention of each entry of a pass over its own cache, causal and (on sliding-window layers)
// windowed: for every query head, scores against the key rows it may see, softmax, and the
// weighted sum of the value rows. A cache's rows lie in a few runs (AttentionSegment): a fork's
// parent's positions, then its own, and a ring split where it wraps; the softmax spans them all.
// Split across the thread pool over (entry, head) pairs, or (entry, key head) pairs with the query
// heads that share the key head (grouped-query attention) when there are enough of those.
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

        // The query heads that share a key head go together where there are enough items for
        // the threads (each value row then widened once for all of them), one by one otherwise
        // (a single sequence of a model with few key heads).
        let headsTogether = count * c.kvHeadCount >= 2 * pool.threadCount ? groupSize : 1
        let itemsPerEntry = c.headCount / headsTogether
        parallel(count * itemsPerEntry, work: count * queryLength * 2 * longest) { items in
            for item in items {
                let i = item / itemsPerEntry
                let firstHead = item % itemsPerEntry * headsTogether
                let cache = s.caches[i].unsafelyUnwrapped
                let type = cache.type
                let stride = cache.layout.rowBytes
                // The heads' key/value head within a row: whole q8_0 blocks, as each head is.
                let headOffset = type.byteCount(values: (firstHead / groupSize) * headDim)
                let segments = s.segments + i * maximumSegments
                let segmentCount = s.segmentCounts[i]
                var span = 0
                for k in 0..<segmentCount { span += segments[k].count }
                // Attention weights [headsTogether, span] in this thread's scratch (reused by the kernels later).
                let scores = ThreadScratch.reserve(headsTogether * span * MemoryLayout<Float>.stride)
                    .bindMemory(to: Float.self, capacity: headsTogether * span)
                let queries = UnsafePointer(s.query + i * queryLength + firstHead * headDim)
                var offset = 0
                for k in 0..<segmentCount {
                    attentionKernels.scores(queries, headsTogether, segments[k].keys + headOffset, segments[k].values + headOffset, stride, segments[k].count, headDim,
                                            type, c.attentionScale, scores + offset, span)
                    offset += segments[k].count
                }
                for g in 0..<headsTogether { TransformerMath.softmax(scores + g * span, count: span) }
                let out = s.attention + i * queryLength + firstHead * headDim
                out.update(repeating: 0, count: headsTogether * headDim)
                offset = 0
                for k in 0..<segmentCount {
                    attentionKernels.accumulate(segments[k].values + headOffset, stride, scores + offset, span, headsTogether,
                                                segments[k].count, headDim, type, out)
                    offset += segments[k].count
                }
            }
        }
    }
}
