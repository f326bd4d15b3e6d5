// Y = X·Wᵀ through an IQ4_XS matrix packed in groups of eight interleaved rows (PackedRowGroups.swift),
// for one activation vector (generation) or four at a time (prompts), against the activation
// quantized per super-block of 256 (SuperBlockActivation.swift) as llama.cpp's Q8_K. Per
// super-block s and sub-block ib of 32, in int32 lane j = row j:
//   S      = Σ_4 steps  value(low nibbles) · x + value(high nibbles) · x     (`vpshufb` of the table)
//   total += (ls_ib − 32) · S                                                  (`vpmulld`)
//   acc   += float(total) · d_j · d_x                                          once per super-block
// The six-bit scales of eight rows are decoded from their scales_l (a 32-bit lane each) and
// scales_h (a 16-bit word each, widened to a lane) with two shifts, masks and an or per sub-block.
// |total| ≤ 8 · 32 · 127 · 127 · 32 < 2^31. With VNNI each step is one `vpdpbusd` of the values
// + 128 (unsigned), the sub-block's 128 · Σx taken back out; with AVX2 `vpmaddubsw` of |v| against
// x with v's sign (as Q8_0), widened every step.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for a packed IQ4_XS matrix, one vector at a time.
func multiplyPackedIQ4XSVectors(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: matrix.columns))
    let activation = SuperBlockActivation(memory: memory, columns: matrix.columns)
    for v in 0..<n {
        quantizeSuperBlocks(activation, x + v * matrix.columns)
        forEachPackedGroup(rows) { g, store in
            store(packedIQ4XSTile(w, g, activation, activation, activation, activation, vectors: 1).0, y + v * outputStride)
        }
    }
}

/// A MatrixKernel for several vectors through a packed IQ4_XS matrix, each group of eight rows
/// with four vectors at a time.
func multiplyPackedIQ4XSBatch(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                              _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let activation = SuperBlockActivationBatch(memory: memory, quantizing: x, count: n, columns: matrix.columns)
    multiplyPackedGroupTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { g, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return packedIQ4XSTile(w, g, activation[s0], activation[s1], activation[s2], activation[s3], vectors: 4)
    }
}

/// Group g of a packed IQ4_XS matrix with up to four vectors (`vectors` 1 or 4: with 1, only the
/// first result is computed): lane j of result k = row 8g + j with vector k.
@inline(__always)
private func packedIQ4XSTile(_ w: PackedRowGroups, _ g: Int, _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                             _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, vectors: Int) -> RowGroupTile {
    let lowNibbles = _mm256_set1_epi8(0x0F), table = iq4ValueTable()
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let p = w.groupBlock(g, s)
        prefetchWeights(p, lines: 1)  // the scales; each sub-block's two lines below
        let high = _mm256_cvtepu16_epi32(p.loadUnaligned(fromByteOffset: 16, as: __m128i.self))  // scales_h, a lane a row
        let low = p.loadUnaligned(fromByteOffset: 32, as: __m256i.self)                           // scales_l, a lane a row
        var total0 = _mm256_setzero_si256(), total1 = total0, total2 = total0, total3 = total0
        for ib in 0..<8 {
            let nibbles = p + w.quantsOffset + 128 * ib
            prefetchWeights(nibbles, lines: 2)
            var s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0
            for k in 0..<4 {
                let packed = nibbles.loadUnaligned(fromByteOffset: 32 * k, as: __m256i.self)
                let lowValues = _mm256_shuffle_epi8(table, _mm256_and_si256(packed, lowNibbles))
                let highValues = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles))
                let offset = 256 * s + 32 * ib + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m256i) {
                    let xLow = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    let xHigh = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self))
                    #if KANSO_AVX512_VNNI
                    sums = addByteDots(addByteDots(sums, lowValues, xLow), highValues, xHigh)
                    #else
                    sums = addByteDots(sums, _mm256_abs_epi8(lowValues), _mm256_sign_epi8(xLow, lowValues))
                    sums = addByteDots(sums, _mm256_abs_epi8(highValues), _mm256_sign_epi8(xHigh, highValues))
                    #endif
                }
                step(q0, &s0)
                if vectors > 1 { step(q1, &s1); step(q2, &s2); step(q3, &s3) }
            }
            // the eight rows' scale of sub-block ib: (low 4 bits | high 2 bits << 4) − 32
            let shiftedLow = _mm256_srli_epi32(low, Int32(4 * ib)), shiftedHigh = _mm256_srli_epi32(high, Int32(2 * ib))
            let scale = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(shiftedLow, _mm256_set1_epi32(0x0F)),
                                                         _mm256_slli_epi32(_mm256_and_si256(shiftedHigh, _mm256_set1_epi32(3)), 4)),
                                         _mm256_set1_epi32(32))
            @inline(__always) func scaled(_ total: inout __m256i, _ sums: __m256i, _ x: SuperBlockActivation) {
                #if KANSO_AVX512_VNNI
                // the values were + 128: less 128 · Σx of the sub-block (its two groups of 16)
                let groupSums = x.groupSums + 16 * s + 2 * ib
                let exact = _mm256_sub_epi32(sums, _mm256_set1_epi32(128 &* (Int32(groupSums[0]) &+ Int32(groupSums[1]))))
                #else
                let exact = sums
                #endif
                total = _mm256_add_epi32(total, _mm256_mullo_epi32(exact, scale))
            }
            scaled(&total0, s0, x0)
            if vectors > 1 { scaled(&total1, s1, x1); scaled(&total2, s2, x2); scaled(&total3, s3, x3) }
        }
        let d = _mm256_cvtph_ps(p.loadUnaligned(as: __m128i.self))
        @inline(__always) func finish(_ acc: inout __m256, _ total: __m256i, _ x: SuperBlockActivation) {
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(x.scales[s])), acc)
        }
        finish(&acc0, total0, x0)
        if vectors > 1 { finish(&acc1, total1, x1); finish(&acc2, total2, x2); finish(&acc3, total3, x3) }
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
