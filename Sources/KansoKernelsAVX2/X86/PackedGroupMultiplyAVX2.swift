// Y = X·Wᵀ through a Q8_0 or Q4_0 matrix packed in groups of eight interleaved rows
// (PackedRowGroups.swift), for one activation vector (generation) or several (prompts), with AVX2:
//
//   step k of block b:   [w_0[4k…4k+3] | w_1[4k…4k+3] | … | w_7[4k…4k+3]] · [x[4k…4k+3] × 8]
//   after `vpmaddwd` with ones, int32 lane j = row j: no horizontal sum, and the block's float
//   work (one convert, the scales of eight rows in one `vcvtph2ps`, one multiply-add) is shared
//   by eight rows instead of done per row as the per-row dots (LegacyQuantDotSIMD.swift) do.
//
// Q8_0 multiplies |w| by x with w's sign moved onto it (`vpsignb`; |w| ≤ 128, |x| ≤ 127 keep each
// int16 pair sum within 32,512) and widens every step. Q4_0's nibbles are unsigned (q ≤ 15), so
// a whole block of eight steps sums in int16 (8 · 2 · 15 · 127 = 30,480) and is widened once;
// its zero point adds −8 · d_w · d_x · Σ q_x per block. Several vectors go four at a time, the
// weight registers unpacked once for the four.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for a packed Q8_0 or Q4_0 matrix: x quantized in blocks of 32, then
/// `multiplyPackedRowGroups`.
func multiplyPackedGroups(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                          _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let activation = quantizedActivation(x, count: n, columns: matrix.columns)
    multiplyPackedRowGroups(matrix.packed!, activation, into: y, outputStride: outputStride, rows: rows)
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x`. Each step of a vector
/// broadcasts its four bytes of x from the vector (`vpbroadcastd` from memory). An x widened
/// eightfold once per matrix and loaded ready at each step measured 2-5% faster (1B Q4_K_M) on
/// the AVX2 machine it was written on, and much slower on an AVX-512 Zen 4 with 32 KiB of L1d,
/// where it reads 64 bytes per 32 of weights from up to 64 KiB (n_ff = 8192): 1B generation,
/// alternated runs, 1 thread Q8_0 13.1-13.5 -> 18.3-20.4 t/s, Q4_0 21.3-22.0 -> 30.7-31.7;
/// 2 threads Q8_0 20.9-25.9 -> 24.9-38.6, Q4_0 40.1-40.4 -> 56.6-56.7.
/// Several vectors go four a tile, eight rows a register (AVX-512's sixteen-row batches:
/// PackedGroupMultiplyAVX512.swift).
func multiplyPackedRowGroups(_ w: PackedRowGroups, _ x: QuantizedActivation,
                             into y: UnsafeMutablePointer<Float>, outputStride: Int, rows: Range<Int>) {
    let n = x.vectors
    forEachPackedGroup(rows) { g, store in
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let output = y + v * outputStride
            if count == 1 {
                let quants = UnsafeRawPointer(x.quants + v * x.columns)
                @inline(__always) func quantsAt(_ offset: Int) -> __m256i { broadcastQuants(quants, offset) }
                store(w.type == .q8_0 ? packedQ8_0Group(w, g, x, vector: v, quantsAt)
                                      : packedQ4_0Group(w, g, x, vector: v, quantsAt), output)
            } else {
                // the group's first tile reads it from memory, the others from cache
                let tile = w.type == .q8_0 ? packedQ8_0Tile(w, g, x, firstVector: v, count: count, prefetching: v == 0)
                                           : packedQ4_0Tile(w, g, x, firstVector: v, count: count, prefetching: v == 0)
                store(tile.0, output)
                store(tile.1, output + outputStride)
                if count > 2 { store(tile.2, output + 2 * outputStride) }
                if count > 3 { store(tile.3, output + 3 * outputStride) }
            }
            v += count
        }
    }
}

/// Runs `body(g, store)` for each group of eight rows that `rows` touches; `store(lanes, y)`
/// writes lane j to y[8g + j] for the group's rows that are in `rows` (a range split between
/// threads may cut a group, whose other rows are another thread's).
@inline(__always)
func forEachPackedGroup(_ rows: Range<Int>, _ body: (Int, (__m256, UnsafeMutablePointer<Float>) -> Void) -> Void) {
    guard !rows.isEmpty else { return }
    for g in (rows.lowerBound / 8)...((rows.upperBound - 1) / 8) {
        let first = max(rows.lowerBound, 8 * g), end = min(rows.upperBound, 8 * g + 8)
        body(g) { lanes, y in
            withUnsafeBytes(of: lanes) { raw in
                let values = raw.bindMemory(to: Float.self)
                for r in first..<end { y[r] = values[r - 8 * g] }
            }
        }
    }
}

/// The eight rows' f16 block scales of group-block `block`, as floats.
@inline(__always)
private func groupScales(_ block: UnsafeRawPointer) -> __m256 {
    _mm256_cvtph_ps(block.loadUnaligned(as: __m128i.self))
}

/// Four bytes of vector quants at `offset`, broadcast to the eight rows' lanes.
@inline(__always)
private func broadcastQuants(_ quants: UnsafeRawPointer, _ offset: Int) -> __m256i {
    _mm256_set1_epi32(quants.loadUnaligned(fromByteOffset: offset, as: Int32.self))
}

/// Group g of a Q8_0 matrix with vector v: lane j = row 8g + j. `quantsAt(i)`: the vector's
/// quants i … i+3 broadcast to the eight rows' lanes.
@inline(__always)
private func packedQ8_0Group(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, vector v: Int,
                             _ quantsAt: (Int) -> __m256i) -> __m256 {
    let blocks = w.blocks
    let xd = x.scales + v * blocks
    let zero = _mm256_setzero_si256()
    @inline(__always) func block(_ b: Int, _ acc: inout __m256) {
        let p = w.groupBlock(g, b)
        prefetchWeights(p, lines: 5, into: .first)  // (272 bytes)
        var even = zero, odd = zero  // two chains of int32 lanes
        for k in stride(from: 0, to: 8, by: 2) {
            let w0 = p.loadUnaligned(fromByteOffset: 16 + 32 * k, as: __m256i.self)
            let w1 = p.loadUnaligned(fromByteOffset: 48 + 32 * k, as: __m256i.self)
            even = addByteDots(even, _mm256_abs_epi8(w0), _mm256_sign_epi8(quantsAt(32 * b + 4 * k), w0))
            odd = addByteDots(odd, _mm256_abs_epi8(w1), _mm256_sign_epi8(quantsAt(32 * b + 4 * k + 4), w1))
        }
        let scales = _mm256_mul_ps(groupScales(p), _mm256_set1_ps(xd[b]))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(even, odd)), scales, acc)
    }
    return addBlockPairs(blocks, block)
}

/// Group g of a Q4_0 matrix with vector v: lane j = row 8g + j (`quantsAt` as for Q8_0).
@inline(__always)
private func packedQ4_0Group(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, vector v: Int,
                             _ quantsAt: (Int) -> __m256i) -> __m256 {
    let blocks = w.blocks
    let xd = x.scales + v * blocks, xs = x.sums + v * blocks
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let ones = _mm256_set1_epi16(1)
    @inline(__always) func block(_ b: Int, _ acc: inout __m256) {
        let p = w.groupBlock(g, b)
        prefetchWeights(p, lines: 3)  // (144 bytes)
        var sums = _mm256_setzero_si256()  // int16 pair sums of the whole block
        for k in 0..<4 {
            let packed = p.loadUnaligned(fromByteOffset: 16 + 32 * k, as: __m256i.self)
            let low = _mm256_and_si256(packed, lowNibbles)
            let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
            sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(low, quantsAt(32 * b + 4 * k)))
            sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(high, quantsAt(32 * b + 16 + 4 * k)))
        }
        // d_w · (d_x · Σ q·x − 8 · d_x · Σ x)
        let perRow = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(sums, ones)), _mm256_set1_ps(xd[b]),
                                     _mm256_set1_ps(-8 * xd[b] * Float(xs[b])))
        acc = _mm256_fmadd_ps(perRow, groupScales(p), acc)
    }
    return addBlockPairs(blocks, block)
}

/// Group g of a Q8_0 matrix with vectors v ..< v + count (2...4; missing slots repeat the last).
@inline(__always)
private func packedQ8_0Tile(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, firstVector v: Int, count: Int,
                            prefetching: Bool) -> RowGroupTile {
    let blocks = w.blocks
    let quants = UnsafeRawPointer(x.quants)
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * x.columns, q1 = quants + slot1 * x.columns
    let q2 = quants + slot2 * x.columns, q3 = quants + slot3 * x.columns
    let d0 = x.scales + slot0 * blocks, d1 = x.scales + slot1 * blocks
    let d2 = x.scales + slot2 * blocks, d3 = x.scales + slot3 * blocks
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for b in 0..<blocks {
        let p = w.groupBlock(g, b)
        if prefetching { prefetchWeights(p, lines: 5, into: .first) }  // (272 bytes)
        var i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0
        for k in 0..<8 {
            let weights = p.loadUnaligned(fromByteOffset: 16 + 32 * k, as: __m256i.self)
            let magnitudes = _mm256_abs_epi8(weights)
            let offset = 32 * b + 4 * k
            i0 = addByteDots(i0, magnitudes, _mm256_sign_epi8(broadcastQuants(q0, offset), weights))
            i1 = addByteDots(i1, magnitudes, _mm256_sign_epi8(broadcastQuants(q1, offset), weights))
            i2 = addByteDots(i2, magnitudes, _mm256_sign_epi8(broadcastQuants(q2, offset), weights))
            i3 = addByteDots(i3, magnitudes, _mm256_sign_epi8(broadcastQuants(q3, offset), weights))
        }
        let scales = groupScales(p)
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_mul_ps(scales, _mm256_set1_ps(d0[b])), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), _mm256_mul_ps(scales, _mm256_set1_ps(d1[b])), acc1)
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i2), _mm256_mul_ps(scales, _mm256_set1_ps(d2[b])), acc2)
        acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i3), _mm256_mul_ps(scales, _mm256_set1_ps(d3[b])), acc3)
    }
    return (acc0, acc1, acc2, acc3)
}

/// Group g of a Q4_0 matrix with vectors v ..< v + count (2...4; missing slots repeat the last).
@inline(__always)
private func packedQ4_0Tile(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, firstVector v: Int, count: Int,
                            prefetching: Bool) -> RowGroupTile {
    let blocks = w.blocks
    let quants = UnsafeRawPointer(x.quants)
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let ones = _mm256_set1_epi16(1)
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * x.columns, q1 = quants + slot1 * x.columns
    let q2 = quants + slot2 * x.columns, q3 = quants + slot3 * x.columns
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for b in 0..<blocks {
        let p = w.groupBlock(g, b)
        if prefetching { prefetchWeights(p, lines: 3) }  // (144 bytes)
        var s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0  // int16 pair sums of the block
        for k in 0..<4 {
            let packed = p.loadUnaligned(fromByteOffset: 16 + 32 * k, as: __m256i.self)
            let low = _mm256_and_si256(packed, lowNibbles)
            let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
            let lowOffset = 32 * b + 4 * k, highOffset = 32 * b + 16 + 4 * k
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(low, broadcastQuants(q0, lowOffset)))
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(low, broadcastQuants(q1, lowOffset)))
            s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(low, broadcastQuants(q2, lowOffset)))
            s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(low, broadcastQuants(q3, lowOffset)))
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(high, broadcastQuants(q0, highOffset)))
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(high, broadcastQuants(q1, highOffset)))
            s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(high, broadcastQuants(q2, highOffset)))
            s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(high, broadcastQuants(q3, highOffset)))
        }
        let scales = groupScales(p)
        @inline(__always) func finish(_ acc: inout __m256, _ sums: __m256i, _ slot: Int) {
            let d = x.scales[slot * blocks + b], total = Float(x.sums[slot * blocks + b])
            let perRow = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(sums, ones)), _mm256_set1_ps(d),
                                         _mm256_set1_ps(-8 * d * total))
            acc = _mm256_fmadd_ps(perRow, scales, acc)
        }
        finish(&acc0, s0, slot0); finish(&acc1, s1, slot1); finish(&acc2, s2, slot2); finish(&acc3, s3, slot3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
