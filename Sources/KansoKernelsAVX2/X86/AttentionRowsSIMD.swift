// Attention's two loops over f16 and f32 cached rows on 256-bit registers, for the query heads
// that share one key and value head (q8_0 caches take the plain loops, Plain/AttentionRows.swift).
// - Scores: four key rows a step, each with its own chain of multiply-adds over the head's
//   dimensions (one load of the query for four rows), and one horizontal sum for the four
//   (two `vhaddps` and an add) instead of a sequential one per row. Each head of a group takes
//   the step's rows in turn, from the first-level cache after the first head: the loop waits on
//   the rows' loads from beyond the second-level cache, not on widening them (`vcvtph2ps`; once
//   for all heads, on the stack, measured no faster), hence the rows asked for ahead.
// - Weighted sums: each value row, widened once, serves every head of the group (up to four at a
//   time, sixteen dimensions a pass).
// A key's score and a head's sums are the same bits whatever the row's place in its step, the
// heads beside it or the run the row lies in: a row repeated to fill the last step is computed
// like the others, and every head keeps its own chain in row order. So a reproducible agent's
// attention does not depend on the batch it runs in (KVCache.batchInvariant).

#if arch(x86_64)
import CKernelSupport
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

public enum AttentionRowsSIMD {
    /// AttentionScoresKernel.
    public static func scores(queries: UnsafePointer<Float>, heads: Int, keys: UnsafeRawPointer, values: UnsafeRawPointer,
                              stride: Int, count: Int,
                              dimension: Int, type: KVCacheType, scale: Float, into scores: UnsafeMutablePointer<Float>,
                              scoresStride: Int) {
        switch type {
        case .f16: scoreRows(queries, heads, keys, values, stride, count, dimension, scale, scores, scoresStride, HalfRows.self)
        case .f32: scoreRows(queries, heads, keys, values, stride, count, dimension, scale, scores, scoresStride, SingleRows.self)
        case .q8_0:
            AttentionRows.scores(queries: queries, heads: heads, keys: keys, values: values, stride: stride, count: count, dimension: dimension,
                                 type: type, scale: scale, into: scores, scoresStride: scoresStride)
        }
    }

    /// AttentionAccumulateKernel.
    public static func accumulate(values: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, weightsStride: Int,
                                  heads: Int, count: Int, dimension: Int, type: KVCacheType, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f16: accumulateRows(values, stride, weights, weightsStride, heads, count, dimension, out, HalfRows.self)
        case .f32: accumulateRows(values, stride, weights, weightsStride, heads, count, dimension, out, SingleRows.self)
        case .q8_0:
            AttentionRows.accumulate(values: values, stride: stride, weights: weights, weightsStride: weightsStride, heads: heads,
                                     count: count, dimension: dimension, type: type, into: out)
        }
    }
}

/// How the elements of a cached row are read.
private protocol CachedRows {
    /// Bytes of one element.
    static var size: Int { get }
    /// Eight elements from element `i` of `row`, as floats.
    static func floats(_ row: UnsafeRawPointer, _ i: Int) -> __m256
    /// Element `i` of `row`.
    static func float(_ row: UnsafeRawPointer, _ i: Int) -> Float
}

private enum HalfRows: CachedRows {
    static var size: Int { 2 }
    @inline(__always) static func floats(_ row: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_cvtph_ps(row.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self))
    }
    @inline(__always) static func float(_ row: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromHalf(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

private enum SingleRows: CachedRows {
    static var size: Int { 4 }
    @inline(__always) static func floats(_ row: UnsafeRawPointer, _ i: Int) -> __m256 {
        row.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self)
    }
    @inline(__always) static func float(_ row: UnsafeRawPointer, _ i: Int) -> Float {
        row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }
}

/// Rows ahead of the current one whose lines the scores ask for, keys and values: the rows of a
/// long context lie beyond the second-level cache, one row a run of `stride` bytes, and each
/// step's loads would otherwise wait for their lines one row at a time. The first `rowsAhead`
/// rows are asked for at once when a run starts.
private let rowsAhead = 32

/// Asks for the lines of `bytes` bytes of row `t` of the keys and the values, if below `count`.
@inline(__always)
private func prefetchRow(_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ t: Int, count: Int, stride: Int, bytes: Int) {
    guard t < count else { return }
    var offset = 0
    while offset < bytes {
        kanso_prefetch(keys + t * stride + offset)
        kanso_prefetch(values + t * stride + offset)
        offset += 64
    }
}

/// The four sums of the lanes of a0...a3, in that order.
@inline(__always)
private func laneSums(_ a0: __m256, _ a1: __m256, _ a2: __m256, _ a3: __m256) -> SIMD4<Float> {
    let halves: SIMD8<Float> = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3))  // [sums of lanes 0-3 | of lanes 4-7]
    return halves.lowHalf + halves.highHalf
}

private func scoreRows<Rows: CachedRows>(_ queries: UnsafePointer<Float>, _ heads: Int, _ keys: UnsafeRawPointer,
                                         _ values: UnsafeRawPointer, _ stride: Int,
                                         _ count: Int, _ dimension: Int, _ scale: Float, _ scores: UnsafeMutablePointer<Float>,
                                         _ scoresStride: Int, _: Rows.Type) {
    for t in 0..<min(count, rowsAhead) { prefetchRow(keys, values, t, count: count, stride: stride, bytes: dimension * Rows.size) }
    var t = 0
    while t < count {
        // four rows a step; the last row again in the slots a short last step leaves
        @inline(__always) func key(_ j: Int) -> UnsafeRawPointer { keys + min(t + j, count - 1) * stride }
        for j in 0..<4 { prefetchRow(keys, values, t + rowsAhead + j, count: count, stride: stride, bytes: dimension * Rows.size) }
        for g in 0..<heads {
            scoreStep(queries + g * dimension, key(0), key(1), key(2), key(3), t: t, count: count, dimension: dimension,
                      scale: scale, into: scores + g * scoresStride, Rows.self)
        }
        t += 4
    }
}

/// scores[t + j] for the rows k0...k3 at t...t + 3 (those below `count`): one chain of
/// multiply-adds per row, eight dimensions a step, then one horizontal sum for the four.
@inline(__always)
private func scoreStep<Rows: CachedRows>(_ query: UnsafePointer<Float>, _ k0: UnsafeRawPointer, _ k1: UnsafeRawPointer,
                                         _ k2: UnsafeRawPointer, _ k3: UnsafeRawPointer, t: Int, count: Int, dimension: Int,
                                         scale: Float, into scores: UnsafeMutablePointer<Float>, _: Rows.Type) {
    let whole = dimension / 8 * 8
    var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
    var d = 0
    while d < whole {
        let q = _mm256_loadu_ps(query + d)
        a0 = _mm256_fmadd_ps(Rows.floats(k0, d), q, a0)
        a1 = _mm256_fmadd_ps(Rows.floats(k1, d), q, a1)
        a2 = _mm256_fmadd_ps(Rows.floats(k2, d), q, a2)
        a3 = _mm256_fmadd_ps(Rows.floats(k3, d), q, a3)
        d += 8
    }
    let sums = laneSums(a0, a1, a2, a3)
    if count - t >= 4 && whole == dimension {
        UnsafeMutableRawPointer(scores + t).storeBytes(of: sums * scale, as: SIMD4<Float>.self)
        return
    }
    let rows = (k0, k1, k2, k3)
    for j in 0..<min(4, count - t) {
        let row = j == 0 ? rows.0 : j == 1 ? rows.1 : j == 2 ? rows.2 : rows.3
        var sum = sums[j]
        for e in whole..<dimension { sum += query[e] * Rows.float(row, e) }
        scores[t + j] = sum * scale
    }
}

/// A number of heads known when the loop is compiled (its accumulators stay in registers).
private protocol HeadCount { static var count: Int { get } }
private enum OneHead: HeadCount { static var count: Int { 1 } }
private enum TwoHeads: HeadCount { static var count: Int { 2 } }
private enum ThreeHeads: HeadCount { static var count: Int { 3 } }
private enum FourHeads: HeadCount { static var count: Int { 4 } }

private func accumulateRows<Rows: CachedRows>(_ values: UnsafeRawPointer, _ stride: Int, _ weights: UnsafePointer<Float>,
                                              _ weightsStride: Int, _ heads: Int, _ count: Int, _ dimension: Int,
                                              _ out: UnsafeMutablePointer<Float>, _: Rows.Type) {
    var g = 0
    while g < heads {
        let w = weights + g * weightsStride, o = out + g * dimension
        switch heads - g {
        case 1: accumulateHeads(values, stride, w, weightsStride, count, dimension, o, Rows.self, OneHead.self)
        case 2: accumulateHeads(values, stride, w, weightsStride, count, dimension, o, Rows.self, TwoHeads.self)
        case 3: accumulateHeads(values, stride, w, weightsStride, count, dimension, o, Rows.self, ThreeHeads.self)
        default: accumulateHeads(values, stride, w, weightsStride, count, dimension, o, Rows.self, FourHeads.self)
        }
        g += min(4, heads - g)
    }
}

/// out[h] += Σt weights[h · weightsStride + t] · value row t for the `Heads.count` heads at `out`.
@inline(__always)
private func accumulateHeads<Rows: CachedRows, Heads: HeadCount>(_ values: UnsafeRawPointer, _ stride: Int,
                                                                 _ weights: UnsafePointer<Float>, _ weightsStride: Int,
                                                                 _ count: Int, _ dimension: Int, _ out: UnsafeMutablePointer<Float>,
                                                                 _: Rows.Type, _: Heads.Type) {
    let heads = Heads.count
    let whole = dimension / 16 * 16
    var d = 0
    while d < whole {
        // sixteen dimensions of each head: (low, high) registers
        @inline(__always) func load(_ h: Int) -> (__m256, __m256) {
            h < heads ? (_mm256_loadu_ps(out + h * dimension + d), _mm256_loadu_ps(out + h * dimension + d + 8))
                : (_mm256_setzero_ps(), _mm256_setzero_ps())
        }
        var (l0, h0) = load(0), (l1, h1) = load(1), (l2, h2) = load(2), (l3, h3) = load(3)
        for t in 0..<count {
            let row = values + t * stride
            let low = Rows.floats(row, d), high = Rows.floats(row, d + 8)
            @inline(__always) func add(_ h: Int, _ l: inout __m256, _ u: inout __m256) {
                let weight = _mm256_set1_ps(weights[h * weightsStride + t])
                l = _mm256_fmadd_ps(weight, low, l)
                u = _mm256_fmadd_ps(weight, high, u)
            }
            add(0, &l0, &h0)
            if heads > 1 { add(1, &l1, &h1) }
            if heads > 2 { add(2, &l2, &h2) }
            if heads > 3 { add(3, &l3, &h3) }
        }
        @inline(__always) func store(_ h: Int, _ l: __m256, _ u: __m256) {
            guard h < heads else { return }
            _mm256_storeu_ps(out + h * dimension + d, l)
            _mm256_storeu_ps(out + h * dimension + d + 8, u)
        }
        store(0, l0, h0); store(1, l1, h1); store(2, l2, h2); store(3, l3, h3)
        d += 16
    }
    for e in whole..<dimension {
        for h in 0..<heads {
            var sum = out[h * dimension + e]
            for t in 0..<count { sum += weights[h * weightsStride + t] * Rows.float(values + t * stride, e) }
            out[h * dimension + e] = sum
        }
    }
}
#endif
