// Prompt batches (several activation vectors) through an IQ4_XS matrix packed in groups of eight
// interleaved rows (PackedRowGroups.swift), with AVX-512 BW and VNNI: the arithmetic of the 256-bit
// kernel (X86/PackedIQ4XSMultiply.swift, which says it) sixteen rows wide, groups g and g + 1 side
// by side (g in the low 256 bits, g + 1 in the high), four vectors per tile. In the AVX-512 module.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a packed IQ4_XS matrix.
func multiplyPackedIQ4XSWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                             _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let activation = SuperBlockActivationBatch(memory: memory, quantizing: x, count: n, columns: matrix.columns)
    multiplyGroupPairTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { a, b, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return packedIQ4XSWideTile(w, a, b, activation[s0], activation[s1], activation[s2], activation[s3])
    }
}

/// Groups a (rows 0-7 of the tile) and b (8-15) of a packed IQ4_XS matrix with four vectors.
@inline(__always)
private func packedIQ4XSWideTile(_ w: PackedRowGroups, _ a: Int, _ b: Int,
                                 _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                                 _ x2: SuperBlockActivation, _ x3: SuperBlockActivation) -> WideRowGroupTile {
    let lowNibbles = _mm512_set1_epi8(0x0F)
    let table = __m512i(lowHalf: iq4ValueTable(), highHalf: iq4ValueTable())  // the values + 128
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let pa = w.groupBlock(a, s), pb = w.groupBlock(b, s)
        // scales_h (a 16-bit word a row) and scales_l (a lane a row) of the sixteen rows
        let high = _mm512_cvtepu16_epi32(__m256i(lowHalf: pa.loadUnaligned(fromByteOffset: 16, as: __m128i.self),
                                                 highHalf: pb.loadUnaligned(fromByteOffset: 16, as: __m128i.self)))
        let low = sideBySide(pa, pb, at: 32)
        var total0 = _mm512_setzero_si512(), total1 = total0, total2 = total0, total3 = total0
        for ib in 0..<8 {
            var s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0
            for k in 0..<4 {
                let packed = sideBySide(pa, pb, at: w.quantsOffset + 128 * ib + 32 * k)
                let lowValues = _mm512_shuffle_epi8(table, _mm512_and_si512(packed, lowNibbles))
                let highValues = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(packed, 4), lowNibbles))
                let offset = 256 * s + 32 * ib + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m512i) {
                    let xLow = _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    let xHigh = _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self))
                    sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sums, lowValues, xLow), highValues, xHigh)
                }
                step(q0, &s0); step(q1, &s1); step(q2, &s2); step(q3, &s3)
            }
            let scale = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(low, UInt32(4 * ib)), _mm512_set1_epi32(0x0F)),
                                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(high, UInt32(2 * ib)),
                                                                                            _mm512_set1_epi32(3)), 4)),
                                         _mm512_set1_epi32(32))
            @inline(__always) func scaled(_ total: inout __m512i, _ sums: __m512i, _ x: SuperBlockActivation) {
                let groupSums = x.groupSums + 16 * s + 2 * ib  // the values were + 128: less 128 · Σx
                let exact = _mm512_sub_epi32(sums, _mm512_set1_epi32(128 &* (Int32(groupSums[0]) &+ Int32(groupSums[1]))))
                total = _mm512_add_epi32(total, _mm512_mullo_epi32(exact, scale))
            }
            scaled(&total0, s0, x0); scaled(&total1, s1, x1); scaled(&total2, s2, x2); scaled(&total3, s3, x3)
        }
        let d = halvesSideBySide(pa, pb, at: 0)
        @inline(__always) func finish(_ acc: inout __m512, _ total: __m512i, _ x: SuperBlockActivation) {
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(x.scales[s])), acc)
        }
        finish(&acc0, total0, x0); finish(&acc1, total1, x1); finish(&acc2, total2, x2); finish(&acc3, total3, x3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
