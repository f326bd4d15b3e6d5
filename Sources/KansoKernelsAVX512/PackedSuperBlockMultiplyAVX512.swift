// Prompt batches (several activation vectors) through a Q4_K or Q5_K matrix packed in groups of
// eight interleaved rows (PackedRowGroups.swift), with AVX-512 BW and VNNI, straight from the packed
// nibbles (Q5_K's fifth bits or'ed in as 16): the arithmetic of the one-vector kernel (PackedSuperBlockMultiplyAVX2.swift) sixteen
// rows wide, groups g and g + 1 side by side (g in the low 256 bits, g + 1 in the high), four
// vectors per tile. The rows are not copied back, unpacked and interleaved first, as the
// super-block batch kernel (BatchedSuperBlockMultiplyAVX512.swift) needs: that filling measured
// as long as the multiplying. Per super-block s, chunk c (sub-blocks 2c and 2c + 1) and vector v:
//   low/high = Σ_8 steps vpdpbusd(nibbles, 4 bytes of x broadcast)      int32, ≤ 60,960
//   main    += low · scale_2c + high · scale_2c+1 (vpmulld)                int32 lane j = row j
//   mins     = Σ_t vpdpwssd([m_t] ×2, [Σx of the two 16s of sub-block t])
//   acc     += float(main) · d_j·d_x − float(mins) · dmin_j·d_x
// Summing each chunk in int32 with `vpdpbusd` and scaling it with `vpmulld` takes half the
// instructions of int16 `vpmaddubsw` sums, their adds and `vpdpwssd`, and measured faster on
// prompt batches (figures in bench/README.md, "Figures behind choices in the code").
// In the AVX-512 module (KansoKernelsAVX512: F, BW, VL, DQ and VNNI), chosen on CPUs that have them.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// The MatrixKernel for two or more vectors through a packed Q4_K, Q5_K or Q6_K matrix: one
/// function per type, each specialised.
func packedSuperBlockWideKernel(_ type: GGMLType) -> MatrixKernel {
    if type == .q6_K { return multiplyPackedQ6_KWide }  // (PackedQ6KMultiplyAVX512.swift)
    if type == .q5_K { return { multiplyPackedSuperBlocksWide($0, $1, $2, $3, $4, $5, fiveBits: true) } }
    return { multiplyPackedSuperBlocksWide($0, $1, $2, $3, $4, $5, fiveBits: false) }
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` (two or more), through
/// the packed matrix.
@inline(__always)
private func multiplyPackedSuperBlocksWide(_ matrix: MatrixOperand, _ input: UnsafePointer<Float>, _ n: Int,
                                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                           fiveBits: Bool) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let x = SuperBlockActivationBatch(memory: memory, quantizing: input, count: n, columns: matrix.columns)
    multiplyGroupPairTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { a, b, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return count <= 2 ? packedQ4_KWideTile(w, a, b, x[s0], x[s1], x[s2], x[s3], fiveBits: fiveBits, vectors: 2, prefetching: v == 0)
            : packedQ4_KWideTile(w, a, b, x[s0], x[s1], x[s2], x[s3], fiveBits: fiveBits, vectors: 4, prefetching: v == 0)
    }
}

/// The `vpshufb` control that puts byte `t` of each 32-bit lane into both of its int16 words
/// (`bothWords`: [b, 0, b, 0], for `vpdpwssd`), or makes it the lane's value ([b, 0, 0, 0]).
@inline(__always)
private func laneByteControl(_ t: Int, bothWords: Bool) -> __m512i {
    // lane L of each 128-bit quarter (0x80 selects zero)
    @inline(__always) func lane(_ l: Int) -> Int64 {
        Int64(4 * l + t) | 0x80 << 8 | (bothWords ? Int64(4 * l + t) : 0x80) << 16 | 0x80 << 24
    }
    let low = lane(0) | lane(1) << 32, high = lane(2) | lane(3) << 32
    return _mm512_set_epi64(high, low, high, low, high, low, high, low)
}

/// The four controls of bytes 0...3 of each lane, made once per tile.
private typealias LaneByteControls = (__m512i, __m512i, __m512i, __m512i)

@inline(__always)
private func laneByteControls(bothWords: Bool) -> LaneByteControls {
    (laneByteControl(0, bothWords: bothWords), laneByteControl(1, bothWords: bothWords),
     laneByteControl(2, bothWords: bothWords), laneByteControl(3, bothWords: bothWords))
}

/// The control of byte t & 3.
@inline(__always)
private func pick(_ t: Int, _ controls: LaneByteControls) -> __m512i {
    switch t & 3 {
    case 0: return controls.0
    case 1: return controls.1
    case 2: return controls.2
    default: return controls.3
    }
}

/// Groups a (rows 0-7 of the tile) and b (8-15) of a packed Q4_K or Q5_K matrix with four vectors,
/// or the first two (`vectors`: 2 or 4; the others' lanes are left zero): a pass of two sequences
/// does not pay for four.
@inline(__always)
private func packedQ4_KWideTile(_ w: PackedRowGroups, _ a: Int, _ b: Int,
                                _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                                _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, fiveBits: Bool, vectors: Int,
                                prefetching: Bool) -> WideRowGroupTile {
    let low4 = _mm512_set1_epi8(0x0F), low6 = _mm512_set1_epi8(0x3F), bits45 = _mm512_set1_epi8(0x30)
    let one = _mm512_set1_epi8(1)
    let wordControls = laneByteControls(bothWords: true), laneControls = laneByteControls(bothWords: false)
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let pa = w.groupBlock(a, s), pb = w.groupBlock(b, s)
        if prefetching { prefetchGroupBlocks(pa, pb, bytes: w.groupBlockBytes) }
        // the 6-bit scales and mins of sixteen rows (layout: PackedRowGroups), four per 32-bit lane
        let w0 = sideBySide(pa, pb, at: 32), w1 = sideBySide(pa, pb, at: 64), w2 = sideBySide(pa, pb, at: 96)
        let scales0to3 = _mm512_and_si512(w0, low6)
        let scales4to7 = _mm512_or_si512(_mm512_and_si512(w2, low4), _mm512_and_si512(_mm512_srli_epi32(w0, 2), bits45))
        let mins0to3 = _mm512_and_si512(w1, low6)
        let mins4to7 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), low4),
                                       _mm512_and_si512(_mm512_srli_epi32(w1, 2), bits45))
        var main0 = _mm512_setzero_si512(), main1 = main0, main2 = main0, main3 = main0
        for c in 0..<4 {
            var low0 = _mm512_setzero_si512(), low1 = low0, low2 = low0, low3 = low0
            var high0 = low0, high1 = low0, high2 = low0, high3 = low0
            for k in 0..<8 {
                let packed = sideBySide(pa, pb, at: w.quantsOffset + 256 * c + 32 * k)
                var lowNibbles = _mm512_and_si512(packed, low4)
                var highNibbles = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low4)
                if fiveBits {  // bits 2c and 2c + 1 of each qh byte, to bit 4
                    let bits = sideBySide(pa, pb, at: w.masksOffset + 32 * k)
                    lowNibbles = _mm512_or_si512(lowNibbles, _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(bits, UInt32(2 * c)), one), 4))
                    highNibbles = _mm512_or_si512(highNibbles, _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(bits, UInt32(2 * c + 1)), one), 4))
                }
                let offset = 256 * s + 64 * c + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ low: inout __m512i, _ high: inout __m512i) {
                    let xLow = _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    let xHigh = _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset + 32, as: Int32.self))
                    low = _mm512_dpbusd_epi32(low, lowNibbles, xLow)
                    high = _mm512_dpbusd_epi32(high, highNibbles, xHigh)
                }
                step(q0, &low0, &high0); step(q1, &low1, &high1)
                if vectors > 2 { step(q2, &low2, &high2); step(q3, &low3, &high3) }
            }
            let scaleWords = c < 2 ? scales0to3 : scales4to7
            let lowScale = _mm512_shuffle_epi8(scaleWords, pick(2 * c, laneControls))
            let highScale = _mm512_shuffle_epi8(scaleWords, pick(2 * c + 1, laneControls))
            @inline(__always) func scaled(_ main: inout __m512i, _ low: __m512i, _ high: __m512i) {
                main = _mm512_add_epi32(main, _mm512_add_epi32(_mm512_mullo_epi32(low, lowScale), _mm512_mullo_epi32(high, highScale)))
            }
            scaled(&main0, low0, high0); scaled(&main1, low1, high1)
            if vectors > 2 { scaled(&main2, low2, high2); scaled(&main3, low3, high3) }
        }
        let d = _mm512_cvtph_ps(__m256i(lowHalf: pa.load(as: __m128i.self), highHalf: pb.load(as: __m128i.self)))
        let dmin = _mm512_cvtph_ps(__m256i(lowHalf: pa.load(fromByteOffset: 16, as: __m128i.self),
                                           highHalf: pb.load(fromByteOffset: 16, as: __m128i.self)))
        @inline(__always) func finish(_ acc: inout __m512, _ main: __m512i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var mins = _mm512_setzero_si512()
            for t in 0..<8 {
                // [m_t, m_t] · [Σx of the first 16 of sub-block t, Σx of the second 16]
                let sums = _mm512_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * t, as: Int32.self))
                mins = _mm512_dpwssd_epi32(mins, _mm512_shuffle_epi8(t < 4 ? mins0to3 : mins4to7, pick(t, wordControls)), sums)
            }
            let dx = _mm512_set1_ps(x.scales[s])
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(main), _mm512_mul_ps(d, dx), acc)
            acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dmin, dx), acc)
        }
        finish(&acc0, main0, x0); finish(&acc1, main1, x1)
        if vectors > 2 { finish(&acc2, main2, x2); finish(&acc3, main3, x3) }
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
