// Y = X·Wᵀ through a Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL matrix packed in groups of eight
// interleaved rows (PackedRowGroups.swift), for one activation vector (generation) or several (prompts), with AVX2:
//
//   step k of block b:   [w_0[4k…4k+3] | w_1[4k…4k+3] | … | w_7[4k…4k+3]] · [x[4k…4k+3] × 8]
//   after `vpmaddwd` with ones, int32 lane j = row j: no horizontal sum, and the block's float
//   work (one convert, the scales of eight rows in one `vcvtph2ps`, one multiply-add) is shared
//   by eight rows instead of done per row as the per-row dots (LegacyQuantDotSIMD.swift) do.
//
// Q8_0 multiplies |w| by x with w's sign moved onto it (`vpsignb`; |w| ≤ 128, |x| ≤ 127 keep each
// int16 pair sum within 32,512) and widens every step. The 4- and 5-bit types' values are unsigned
// (the nibble, plus 16 where the fifth bit's mask says so: `addWhereBitsSet`), so a whole block
// of eight `vpmaddubsw` sums in int16 for 4 bits (8 · 2 · 15 · 127 = 30,480) and half a block for
// 5 bits (4 · 2 · 31 · 127 = 31,496) before it is widened; with VNNI (the AVX-512 module) each step
// is one `vpdpbusd` into int32. The zero point of Q4_0 and Q5_0 adds −8 or −16 · d_w · d_x · Σ q_x
// per block, the min of Q4_1 and Q5_1 m_w · d_x · Σ q_x. IQ4_NL's nibbles index its table of
// values with `vpshufb` (NibbleType.zeroPoint says how they meet x). Several vectors go four at a
// time, the weight registers unpacked once for the four.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// The MatrixKernels of a packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL matrix: one vector at a time
/// (generation) and four vectors a tile (prompts), x quantized in blocks of 32. One function per
/// type and kind, each specialised for it: one function over all types grew past what the
/// optimizer inlines into and called `loadUnaligned` out of line in its inner loop.
func packedGroupKernels(_ type: GGMLType) -> (vector: MatrixKernel, batch: MatrixKernel) {
    switch type {
    case .q8_0: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .q8_0) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .q8_0) })
    case .q4_0: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .q4_0) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .q4_0) })
    case .q4_1: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .q4_1) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .q4_1) })
    case .q5_0: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .q5_0) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .q5_0) })
    case .q5_1: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .q5_1) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .q5_1) })
    default: return ({ multiplyPackedVectors($0, $1, $2, $3, $4, $5, .iq4_nl) }, { multiplyPackedTiles($0, $1, $2, $3, $4, $5, .iq4_nl) })
    }
}

/// y[v · outputStride + r] for the rows in `rows`, each vector of `x` on its own. Each step
/// broadcasts its four bytes of x from the vector (`vpbroadcastd` from memory). An x widened
/// eightfold once per matrix and loaded ready at each step measured slightly faster on an AVX2
/// CPU, and much slower on CPUs with 32 KiB of L1d, where it reads 64 bytes per 32 of weights
/// from up to 64 KiB (n_ff = 8192); figures in bench/README.md, "Figures behind choices in the
/// code".
@inline(__always)
private func multiplyPackedVectors(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                   _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                   _ type: GGMLType) {
    let w = matrix.packed!
    let activation = quantizedActivation(x, count: n, columns: matrix.columns)
    for v in 0..<n {
        let quants = UnsafeRawPointer(activation.quants + v * activation.columns)
        @inline(__always) func quantsAt(_ offset: Int) -> __m256i { broadcastQuants(quants, offset) }
        forEachPackedGroup(rows) { g, store in
            let lanes = switch type {
            case .q8_0: packedQ8_0Group(w, g, activation, vector: v, quantsAt)
            case .q4_0: packedNibbleGroup(w, g, activation, vector: v, .q4_0, quantsAt)
            case .q4_1: packedNibbleGroup(w, g, activation, vector: v, .q4_1, quantsAt)
            case .q5_0: packedNibbleGroup(w, g, activation, vector: v, .q5_0, quantsAt)
            case .q5_1: packedNibbleGroup(w, g, activation, vector: v, .q5_1, quantsAt)
            default: packedNibbleGroup(w, g, activation, vector: v, .iq4_nl, quantsAt)
            }
            store(lanes, y + v * outputStride)
        }
    }
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x`, each group of eight
/// rows with four vectors at a time (AVX-512's sixteen-row batches: PackedGroupMultiplyAVX512.swift).
@inline(__always)
private func multiplyPackedTiles(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                 _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                 _ type: GGMLType) {
    let w = matrix.packed!
    let activation = quantizedActivation(x, count: n, columns: matrix.columns)
    multiplyPackedGroupTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { g, v, count in
        // the group's first tile reads it from memory, the others from cache
        let first = v == 0
        return switch type {
        case .q8_0: packedQ8_0Tile(w, g, activation, firstVector: v, count: count, prefetching: first)
        case .q4_0: packedNibbleTile(w, g, activation, firstVector: v, count: count, .q4_0, prefetching: first)
        case .q4_1: packedNibbleTile(w, g, activation, firstVector: v, count: count, .q4_1, prefetching: first)
        case .q5_0: packedNibbleTile(w, g, activation, firstVector: v, count: count, .q5_0, prefetching: first)
        case .q5_1: packedNibbleTile(w, g, activation, firstVector: v, count: count, .q5_1, prefetching: first)
        default: packedNibbleTile(w, g, activation, firstVector: v, count: count, .iq4_nl, prefetching: first)
        }
    }
}

/// Y for the rows in `rows` and `n` vectors through a packed matrix, each group of eight rows
/// with up to four vectors a tile: `tile(g, v, count)` multiplies group g with vectors
/// v ..< v + count (1...4), and those vectors' results are stored at y[vector · outputStride + row].
@inline(__always)
func multiplyPackedGroupTiles(rows: Range<Int>, vectors n: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int,
                              tile: (_ g: Int, _ firstVector: Int, _ count: Int) -> RowGroupTile) {
    forEachPackedGroup(rows) { g, store in
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let results = tile(g, v, count)
            let output = y + v * outputStride
            store(results.0, output)
            if count > 1 { store(results.1, output + outputStride) }
            if count > 2 { store(results.2, output + 2 * outputStride) }
            if count > 3 { store(results.3, output + 3 * outputStride) }
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

/// The eight rows' f16 values at `block` (their scales d at the group-block's start), as floats.
@inline(__always)
func groupScales(_ block: UnsafeRawPointer) -> __m256 {
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

/// The packed 4- and 5-bit types, as the kernels' specialisations see them.
enum NibbleType {
    case q4_0, q4_1, q5_0, q5_1, iq4_nl

    /// A fifth bit per value (in the group-block's masks).
    var hasFifthBit: Bool { self == .q5_0 || self == .q5_1 }
    /// w = d · q + m (Q4_1, Q5_1), else w = d · (q − zeroPoint).
    var hasMin: Bool { self == .q4_1 || self == .q5_1 }
    /// The value the kernels' unsigned values are offset by: the nibbles of Q4_0 and Q5_0 stand
    /// for q − 8 and q − 16; IQ4_NL's table values v are looked up as v + 128 with VNNI (unsigned
    /// for `vpdpbusd`), as v with AVX2 (whose `vpmaddubsw` would saturate on v + 128).
    var zeroPoint: Float {
        switch self {
        case .q5_0, .q5_1: return 16
        case .iq4_nl:
            #if KANSO_AVX512_VNNI
            return 128
            #else
            return 0
            #endif
        default: return 8
        }
    }
}

/// IQ4_NL's sixteen values (iq4Values) in both 128-bit halves, for `vpshufb` by nibble: + 128 with
/// VNNI (NibbleType.zeroPoint).
@inline(__always)
func iq4ValueTable() -> __m256i {
    let values = unsafeBitCast(iq4Values, to: __m128i.self)
    #if KANSO_AVX512_VNNI
    let table = _mm_xor_si128(values, _mm_set1_epi8(-128))  // v + 128 as an unsigned byte
    #else
    let table = values
    #endif
    return __m256i(lowHalf: table, highHalf: table)
}

/// Σ q · x over block b of group-block `p` for the eight rows, lane j = row j: the nibbles (with
/// their fifth bits) against `quantsAt(offset)`, four bytes of x at `offset` of the vector
/// broadcast to the eight rows' lanes.
@inline(__always)
func nibbleBlockSums(_ w: PackedRowGroups, _ p: UnsafeRawPointer, _ type: NibbleType, block b: Int,
                     _ quantsAt: (Int) -> __m256i) -> __m256i {
    let lowNibbles = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16)
    let table = iq4ValueTable()
    var lanes = _mm256_setzero_si256(), highLanes = lanes  // (two chains: VNNI)
    var sums = _mm256_setzero_si256()  // int16 pair sums not yet widened (AVX2)
    for k in 0..<4 {
        let packed = p.loadUnaligned(fromByteOffset: w.quantsOffset + 32 * k, as: __m256i.self)
        var low = _mm256_and_si256(packed, lowNibbles)
        var high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
        if type.hasFifthBit {
            low = addWhereBitsSet(low, p.load(fromByteOffset: w.masksOffset + 8 * k, as: UInt32.self), sixteen)
            high = addWhereBitsSet(high, p.load(fromByteOffset: w.masksOffset + 8 * k + 4, as: UInt32.self), sixteen)
        }
        if type == .iq4_nl {
            low = _mm256_shuffle_epi8(table, low)
            high = _mm256_shuffle_epi8(table, high)
        }
        #if KANSO_AVX512_VNNI
        lanes = addByteDots(lanes, low, quantsAt(32 * b + 4 * k))
        highLanes = addByteDots(highLanes, high, quantsAt(32 * b + 16 + 4 * k))
        #else
        if type == .iq4_nl {  // signed values: |v| against x with v's sign, each step widened
            lanes = addByteDots(lanes, _mm256_abs_epi8(low), _mm256_sign_epi8(quantsAt(32 * b + 4 * k), low))
            highLanes = addByteDots(highLanes, _mm256_abs_epi8(high), _mm256_sign_epi8(quantsAt(32 * b + 16 + 4 * k), high))
            continue
        }
        sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(low, quantsAt(32 * b + 4 * k)))
        sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(high, quantsAt(32 * b + 16 + 4 * k)))
        if type.hasFifthBit ? k % 2 == 1 : k == 3 {
            lanes = _mm256_add_epi32(lanes, _mm256_madd_epi16(sums, _mm256_set1_epi16(1)))
            sums = _mm256_setzero_si256()
        }
        #endif
    }
    return _mm256_add_epi32(lanes, highLanes)
}


/// acc + the eight rows' products of one block from their integer sums `lanes`: d_w · d_x · Σq·x
/// and the zero point's −z · d_w · d_x · Σx or the min's m_w · d_x · Σx (`xd` = d_x, `xs` = Σx).
@inline(__always)
func nibbleBlockFinish(_ acc: __m256, _ w: PackedRowGroups, _ p: UnsafeRawPointer, _ type: NibbleType,
                       _ lanes: __m256i, xd: Float, xs: Int32) -> __m256 {
    if type.hasMin {
        let scaled = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_mul_ps(groupScales(p), _mm256_set1_ps(xd)), acc)
        return _mm256_fmadd_ps(groupScales(p + w.minsOffset), _mm256_set1_ps(xd * Float(xs)), scaled)
    }
    let perRow = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_set1_ps(xd), _mm256_set1_ps(-type.zeroPoint * xd * Float(xs)))
    return _mm256_fmadd_ps(perRow, groupScales(p), acc)
}

/// Group g of a 4- or 5-bit matrix with vector v: lane j = row 8g + j (`quantsAt` as for Q8_0).
@inline(__always)
private func packedNibbleGroup(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, vector v: Int, _ type: NibbleType,
                               _ quantsAt: (Int) -> __m256i) -> __m256 {
    let blocks = w.blocks
    let xd = x.scales + v * blocks, xs = x.sums + v * blocks
    @inline(__always) func block(_ b: Int, _ acc: inout __m256) {
        let p = w.groupBlock(g, b)
        prefetchWeights(p, lines: 3)  // (144 to 192 bytes)
        acc = nibbleBlockFinish(acc, w, p, type, nibbleBlockSums(w, p, type, block: b, quantsAt), xd: xd[b], xs: xs[b])
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

/// Group g of a 4- or 5-bit matrix with vectors v ..< v + count (2...4; missing slots repeat the last).
@inline(__always)
private func packedNibbleTile(_ w: PackedRowGroups, _ g: Int, _ x: QuantizedActivation, firstVector v: Int, count: Int,
                              _ type: NibbleType, prefetching: Bool) -> RowGroupTile {
    let blocks = w.blocks
    let quants = UnsafeRawPointer(x.quants)
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * x.columns, q1 = quants + slot1 * x.columns
    let q2 = quants + slot2 * x.columns, q3 = quants + slot3 * x.columns
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for b in 0..<blocks {
        let p = w.groupBlock(g, b)
        if prefetching { prefetchWeights(p, lines: 3) }  // (144 to 192 bytes)
        // (the four vectors unpack the same nibbles: the compiler shares the loads and masks)
        let lanes0 = nibbleBlockSums(w, p, type, block: b) { broadcastQuants(q0, $0) }
        let lanes1 = nibbleBlockSums(w, p, type, block: b) { broadcastQuants(q1, $0) }
        let lanes2 = nibbleBlockSums(w, p, type, block: b) { broadcastQuants(q2, $0) }
        let lanes3 = nibbleBlockSums(w, p, type, block: b) { broadcastQuants(q3, $0) }
        @inline(__always) func finish(_ acc: inout __m256, _ lanes: __m256i, _ slot: Int) {
            acc = nibbleBlockFinish(acc, w, p, type, lanes, xd: x.scales[slot * blocks + b], xs: x.sums[slot * blocks + b])
        }
        finish(&acc0, lanes0, slot0); finish(&acc1, lanes1, slot1); finish(&acc2, lanes2, slot2); finish(&acc3, lanes3, slot3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
