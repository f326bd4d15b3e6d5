// A chunk of rows of an F32, F16 or BF16 matrix converted to float once and transposed, for the
// prompt batches' multiply-adds (FloatBatchMultiply.swift, FloatBatchMultiplyAVX512.swift, and
// BFloat16BatchMultiplyAVX512.swift for pairs of bfloat16): they load the weights of all the
// chunk's rows at one column with one load per eight (sixteen) rows, and broadcast x, so that no
// sum runs across the lanes of a register and no weight is converted again for another vector. Eight rows at a time: four columns of rows i and i + 4 side by side
// in one register (FloatWeights.quads), then a 4 × 4 transposition within each 128-bit half.

#if arch(x86_64)
import CKernelSupport
import KansoKernelCore
import _Builtin_intrinsics.intel

/// chunk[k · width + i] = W[first + i, k] as a float, for k < columns and i < width ([columns,
/// width] floats, 32-byte aligned): rows past `last` repeat row `last` (whose results the caller
/// does not store). `width` is a multiple of eight. `columns` is the matrix's, or fewer (the BF16
/// pairs take each row's first columns / 2 words as if they were floats, bits unchanged).
@inline(__always)
func transposeFloatRows<Weights: FloatWeights>(_ matrix: MatrixOperand, columns: Int, first: Int, last: Int, width: Int,
                                               into chunk: UnsafeMutablePointer<Float>, _: Weights.Type) {
    let wholeQuads = columns / 4 * 4
    var block = 0
    while block < width {
        @inline(__always) func row(_ i: Int) -> UnsafeRawPointer { matrix.rowBytes(min(first + block + i, last)) }
        let w0 = row(0), w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        var k = 0
        while k < wholeQuads {
            // lanes: (row 0, 1, 2, 3 in the low half; row 4, 5, 6, 7 in the high half) × columns k ..< k + 4
            let q0 = Weights.quads(w0, w4, k), q1 = Weights.quads(w1, w5, k)
            let q2 = Weights.quads(w2, w6, k), q3 = Weights.quads(w3, w7, k)
            let t0 = _mm256_castps_pd(_mm256_unpacklo_ps(q0, q1)), t1 = _mm256_castps_pd(_mm256_unpackhi_ps(q0, q1))
            let t2 = _mm256_castps_pd(_mm256_unpacklo_ps(q2, q3)), t3 = _mm256_castps_pd(_mm256_unpackhi_ps(q2, q3))
            let out = UnsafeMutableRawPointer(chunk + k * width + block), stride = 4 * width
            out.storeBytes(of: _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2)), as: __m256.self)  // column k, rows 0-7
            out.storeBytes(of: _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2)), toByteOffset: stride, as: __m256.self)
            out.storeBytes(of: _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3)), toByteOffset: 2 * stride, as: __m256.self)
            out.storeBytes(of: _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3)), toByteOffset: 3 * stride, as: __m256.self)
            k += 4
        }
        for k in wholeQuads..<columns {
            for i in 0..<8 { chunk[k * width + block + i] = Weights.float(row(i), k) }
        }
        block += 8
    }
}
#endif
