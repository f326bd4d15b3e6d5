// Prompt batches (several activation vectors) through a Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL
// matrix packed in groups of eight interleaved rows (PackedRowGroups.swift), with AVX-512 BW and VNNI, sixteen
// rows wide.
// Groups g and g + 1 are read side by side, g in the low 256 bits of each register and g + 1 in
// the high, so int32 lane j is row 16·(g/2) + j and one `vpdpbusd` (unsigned × signed bytes, four
// products a lane, no saturation) serves sixteen rows; a last odd group is read twice, stored once.
// Q8_0 flips each weight's sign bit, which makes it w + 128 as an unsigned byte, and takes the
// 128 · Σ x of the block back out of each lane in int32: one flip per weight register against the
// sign transfer of the AVX2 tiles (`vpabsb` and a masked negate of x per vector, as AVX-512 has
// no `vpsignb`). The 4- and 5-bit values are unsigned already (a fifth bit adds 16 under a mask
// register, `vpaddb` masked; IQ4_NL's nibbles look up their values + 128), and sum in int32
// straight away. Both measured faster than the sign transfer and the int16 sums of before, on
// prompt batches and on the short prompt of the time to first token (figures in
// bench/README.md, "Figures behind choices in the code").
// In the AVX-512 module (KansoKernelsAVX512: F, BW, VL, DQ and VNNI), chosen on CPUs that have them.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// The MatrixKernel for two or more vectors through a packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL
/// matrix: one function per type, each specialised for it (X86/PackedGroupMultiplyAVX2.swift says why).
func packedGroupBatchWideKernel(_ type: GGMLType) -> MatrixKernel {
    switch type {
    case .q8_0: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .q8_0) }
    case .q4_0: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .q4_0) }
    case .q4_1: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .q4_1) }
    case .q5_0: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .q5_0) }
    case .q5_1: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .q5_1) }
    default: return { multiplyPackedBatchWide($0, $1, $2, $3, $4, $5, .iq4_nl) }
    }
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x` (two or more), through
/// the packed matrix, sixteen rows and four vectors a tile.
@inline(__always)
private func multiplyPackedBatchWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                     _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                     _ type: GGMLType) {
    let w = matrix.packed!
    let activation = quantizedActivation(x, count: n, columns: matrix.columns)
    multiplyGroupPairTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { a, b, v, count in
        let prefetch = v == 0
        @inline(__always) func wideTile(vectors: Int) -> WideRowGroupTile {
            switch type {
            case .q8_0: packedQ8_0WideTile(w, a, b, activation, firstVector: v, count: count, prefetching: prefetch, vectors: vectors)
            case .q4_0: packedNibbleWideTile(w, a, b, activation, firstVector: v, count: count, .q4_0, prefetching: prefetch, vectors: vectors)
            case .q4_1: packedNibbleWideTile(w, a, b, activation, firstVector: v, count: count, .q4_1, prefetching: prefetch, vectors: vectors)
            case .q5_0: packedNibbleWideTile(w, a, b, activation, firstVector: v, count: count, .q5_0, prefetching: prefetch, vectors: vectors)
            case .q5_1: packedNibbleWideTile(w, a, b, activation, firstVector: v, count: count, .q5_1, prefetching: prefetch, vectors: vectors)
            default: packedNibbleWideTile(w, a, b, activation, firstVector: v, count: count, .iq4_nl, prefetching: prefetch, vectors: vectors)
            }
        }
        return count <= 2 ? wideTile(vectors: 2) : wideTile(vectors: 4)  // a pass of two sequences does not pay for four
    }
}

/// Y for the rows in `rows` and `n` vectors through a packed matrix, sixteen rows (groups a and b,
/// forEachGroupPair) and up to four vectors a tile: `tile(a, b, v, count)` multiplies them with
/// vectors v ..< v + count (1...4), and those vectors' lanes are stored at y[vector · outputStride + row].
@inline(__always)
func multiplyGroupPairTiles(rows: Range<Int>, vectors n: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int,
                            tile: (_ a: Int, _ b: Int, _ firstVector: Int, _ count: Int) -> WideRowGroupTile) {
    forEachGroupPair(rows) { a, b, first, end in
        var v = 0
        while v < n {
            let count = min(4, n - v)
            withUnsafeBytes(of: tile(a, b, v, count)) { raw in
                let lanes = raw.bindMemory(to: Float.self)  // [4 vectors, 16 rows]
                for k in 0..<count {
                    let output = y + (v + k) * outputStride
                    for r in first..<end { output[r] = lanes[16 * k + r - 8 * a] }
                }
            }
            v += count
        }
    }
}

/// Runs `body(a, b, first, end)` for each pair of row groups that `rows` touches: groups a and
/// b = a + 1 (a again for a last odd group), whose rows in `rows` are first..<end (lane i of a
/// sixteen-row register is row 8a + i).
@inline(__always)
func forEachGroupPair(_ rows: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
    guard !rows.isEmpty else { return }
    var g = rows.lowerBound / 8
    let lastGroup = (rows.upperBound - 1) / 8
    while g <= lastGroup {
        let second = min(g + 1, lastGroup)
        body(g, second, max(rows.lowerBound, 8 * g), min(rows.upperBound, 8 * g + (second > g ? 16 : 8)))
        g += 2
    }
}

/// Groups a (rows 0-7 of the tile) and b (8-15) of a Q8_0 matrix with vectors v ..< v + count
/// (1...4; missing slots repeat the last), computing `vectors` of them (2 or 4).
@inline(__always)
private func packedQ8_0WideTile(_ w: PackedRowGroups, _ a: Int, _ b: Int, _ x: QuantizedActivation, firstVector v: Int,
                                count: Int, prefetching: Bool, vectors: Int) -> WideRowGroupTile {
    let blocks = w.blocks
    let quants = UnsafeRawPointer(x.quants)
    let zero = _mm512_setzero_si512()
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * x.columns, q1 = quants + slot1 * x.columns
    let q2 = quants + slot2 * x.columns, q3 = quants + slot3 * x.columns
    let d0 = x.scales + slot0 * blocks, d1 = x.scales + slot1 * blocks
    let d2 = x.scales + slot2 * blocks, d3 = x.scales + slot3 * blocks
    let sums0 = x.sums + slot0 * blocks, sums1 = x.sums + slot1 * blocks
    let sums2 = x.sums + slot2 * blocks, sums3 = x.sums + slot3 * blocks
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for block in 0..<blocks {
        let pa = w.groupBlock(a, block), pb = w.groupBlock(b, block)
        if prefetching { prefetchWeights(pa, lines: 5, into: .first); prefetchWeights(pb, lines: 5, into: .first) }  // (272 bytes each)
        var i0 = zero, i1 = zero, i2 = zero, i3 = zero
        for k in 0..<8 {
            let offsetWeights = signFlipped(sideBySide(pa, pb, at: w.quantsOffset + 32 * k))
            let offset = 32 * block + 4 * k
            @inline(__always) func step(_ q: UnsafeRawPointer, _ acc: inout __m512i) {
                acc = _mm512_dpbusd_epi32(acc, offsetWeights, _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            }
            step(q0, &i0); step(q1, &i1)
            if vectors > 2 { step(q2, &i2); step(q3, &i3) }
        }
        let scales = halvesSideBySide(pa, pb, at: 0)
        @inline(__always) func finish(_ acc: inout __m512, _ lanes: __m512i, _ sums: UnsafePointer<Int32>, _ d: UnsafePointer<Float>) {
            let exact = removingSignFlip(lanes, activationSum: sums[block])
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_mul_ps(scales, _mm512_set1_ps(d[block])), acc)
        }
        finish(&acc0, i0, sums0, d0); finish(&acc1, i1, sums1, d1)
        if vectors > 2 { finish(&acc2, i2, sums2, d2); finish(&acc3, i3, sums3, d3) }
    }
    return (acc0, acc1, acc2, acc3)
}

/// Groups a (rows 0-7 of the tile) and b (8-15) of a 4- or 5-bit matrix with vectors v ..< v + count
/// (1...4; missing slots repeat the last), computing `vectors` of them (2 or 4).
@inline(__always)
private func packedNibbleWideTile(_ w: PackedRowGroups, _ a: Int, _ b: Int, _ x: QuantizedActivation, firstVector v: Int,
                                  count: Int, _ type: NibbleType, prefetching: Bool, vectors: Int) -> WideRowGroupTile {
    let blocks = w.blocks
    let quants = UnsafeRawPointer(x.quants)
    let lowNibbles = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16)
    let table = __m512i(lowHalf: iq4ValueTable(), highHalf: iq4ValueTable())  // IQ4_NL's values + 128
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * x.columns, q1 = quants + slot1 * x.columns
    let q2 = quants + slot2 * x.columns, q3 = quants + slot3 * x.columns
    @inline(__always) func broadcast(_ q: UnsafeRawPointer, _ offset: Int) -> __m512i {
        _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for block in 0..<blocks {
        let pa = w.groupBlock(a, block), pb = w.groupBlock(b, block)
        if prefetching { prefetchWeights(pa, lines: 3); prefetchWeights(pb, lines: 3) }  // (144 to 192 bytes each)
        var s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0  // int32 sums of the block
        for k in 0..<4 {
            let packed = sideBySide(pa, pb, at: w.quantsOffset + 32 * k)
            var low = _mm512_and_si512(packed, lowNibbles)
            var high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), lowNibbles)
            if type.hasFifthBit {
                low = _mm512_mask_add_epi8(low, fifthBitMask(pa, pb, at: w.masksOffset + 8 * k), low, sixteen)
                high = _mm512_mask_add_epi8(high, fifthBitMask(pa, pb, at: w.masksOffset + 8 * k + 4), high, sixteen)
            }
            if type == .iq4_nl {
                low = _mm512_shuffle_epi8(table, low)
                high = _mm512_shuffle_epi8(table, high)
            }
            let lowOffset = 32 * block + 4 * k, highOffset = 32 * block + 16 + 4 * k
            s0 = _mm512_dpbusd_epi32(s0, low, broadcast(q0, lowOffset))
            s1 = _mm512_dpbusd_epi32(s1, low, broadcast(q1, lowOffset))
            if vectors > 2 {
                s2 = _mm512_dpbusd_epi32(s2, low, broadcast(q2, lowOffset))
                s3 = _mm512_dpbusd_epi32(s3, low, broadcast(q3, lowOffset))
            }
            s0 = _mm512_dpbusd_epi32(s0, high, broadcast(q0, highOffset))
            s1 = _mm512_dpbusd_epi32(s1, high, broadcast(q1, highOffset))
            if vectors > 2 {
                s2 = _mm512_dpbusd_epi32(s2, high, broadcast(q2, highOffset))
                s3 = _mm512_dpbusd_epi32(s3, high, broadcast(q3, highOffset))
            }
        }
        // the sixteen rows' f16 scales (and mins): eight from each group-block
        let scales = halvesSideBySide(pa, pb, at: 0)
        let mins = type.hasMin ? halvesSideBySide(pa, pb, at: w.minsOffset) : scales
        @inline(__always) func finish(_ acc: inout __m512, _ sums: __m512i, _ slot: Int) {
            let d = x.scales[slot * blocks + block], total = d * Float(x.sums[slot * blocks + block])
            if type.hasMin {
                // d_w · d_x · Σ q·x + m_w · d_x · Σ x
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(scales, _mm512_set1_ps(d)), acc)
                acc = _mm512_fmadd_ps(mins, _mm512_set1_ps(total), acc)
            } else {
                // d_w · (d_x · Σ q·x − z · d_x · Σ x)
                let perRow = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_set1_ps(d), _mm512_set1_ps(-type.zeroPoint * total))
                acc = _mm512_fmadd_ps(perRow, scales, acc)
            }
        }
        finish(&acc0, s0, slot0); finish(&acc1, s1, slot1)
        if vectors > 2 { finish(&acc2, s2, slot2); finish(&acc3, s3, slot3) }
    }
    return (acc0, acc1, acc2, acc3)
}

/// Sixteen f16 values as floats: eight at `offset` of group-block `a`, then eight of `b`.
@inline(__always)
func halvesSideBySide(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, at offset: Int) -> __m512 {
    _mm512_cvtph_ps(__m256i(lowHalf: a.loadUnaligned(fromByteOffset: offset, as: __m128i.self),
                            highHalf: b.loadUnaligned(fromByteOffset: offset, as: __m128i.self)))
}

/// The 64-bit byte mask of a 512-bit step from the 32-bit fifth-bit masks at `offset` of
/// group-blocks `a` (low half) and `b` (high half).
@inline(__always)
func fifthBitMask(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, at offset: Int) -> UInt64 {
    UInt64(a.load(fromByteOffset: offset, as: UInt32.self)) | UInt64(b.load(fromByteOffset: offset, as: UInt32.self)) << 32
}
#endif
