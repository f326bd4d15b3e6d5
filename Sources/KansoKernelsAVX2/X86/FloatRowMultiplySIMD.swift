// y = W·x through an F32, F16 or BF16 matrix for one vector (generation), on 256-bit registers:
// eight weights of a row at a time converted to float (`vcvtph2ps` for f16; bf16 is the top half
// of a float32, so a widening and a shift, FloatWeights.swift), then multiply-adds in two chains
// so that consecutive ones overlap; the rows are read once, which bounds the speed. A tail of
// fewer than sixteen columns is summed one element at a time. Batches of vectors take the small
// matrix multiply of FloatBatchMultiply.swift instead.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for F32, F16 or BF16 rows, one vector (or several, one after another).
func multiplyFloatRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    // one specialisation per type (FloatWeights)
    switch matrix.type {
    case .f32: multiplyFloatRows(matrix, x, n, y, outputStride, rows, Float32Weights.self)
    case .f16: multiplyFloatRows(matrix, x, n, y, outputStride, rows, Float16Weights.self)
    default: multiplyFloatRows(matrix, x, n, y, outputStride, rows, BFloat16Weights.self)
    }
}

private func multiplyFloatRows<Weights: FloatWeights>(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                                      _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                                      _ type: Weights.Type) {
    for v in 0..<n {
        for r in rows { y[v * outputStride + r] = floatRowDot(matrix.rowBytes(r), x + v * matrix.columns, columns: matrix.columns, Weights.self) }
    }
}

/// Σ w·x of one row with one vector, two chains of multiply-adds.
@inline(__always)
private func floatRowDot<Weights: FloatWeights>(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int,
                                                _: Weights.Type) -> Float {
    var a = _mm256_setzero_ps(), b = a
    var i = 0
    while i + 16 <= columns {
        if (Weights.size * i) % 64 == 0 { prefetchWeights(w + Weights.size * i) }  // (a line at a time)
        a = _mm256_fmadd_ps(Weights.floats(w, i), _mm256_loadu_ps(x + i), a)
        b = _mm256_fmadd_ps(Weights.floats(w, i + 8), _mm256_loadu_ps(x + i + 8), b)
        i += 16
    }
    let lanes: SIMD8<Float> = _mm256_add_ps(a, b)
    var sum = lanes.sum()
    for j in i..<columns { sum += Weights.float(w, j) * x[j] }
    return sum
}
#endif
