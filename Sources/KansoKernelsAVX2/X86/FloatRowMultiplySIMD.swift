// y = W·x through an F32, F16 or BF16 matrix, on 256-bit registers: eight weights of a row at a
// time converted to float (`vcvtph2ps` for f16; bf16 is the top half of a float32, so a widening
// and a shift), then one multiply-add per vector. Several vectors go four at a time, sharing each
// conversion (the plain loops converted a row's weights again for every vector); one vector runs
// two chains of multiply-adds so that consecutive ones overlap. A tail of fewer than sixteen
// columns is summed one element at a time.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for F32, F16 or BF16 rows, any number of vectors.
func multiplyFloatRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    // one specialisation per type, so the conversion's branches are constants
    switch matrix.type {
    case .f32: multiplyFloatRows(matrix, x, n, y, outputStride, rows, .f32)
    case .f16: multiplyFloatRows(matrix, x, n, y, outputStride, rows, .f16)
    default: multiplyFloatRows(matrix, x, n, y, outputStride, rows, .bf16)
    }
}

@inline(__always)
private func multiplyFloatRows(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                               _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                               _ type: GGMLType) {
    let columns = matrix.columns
    for r in rows {
        let w = matrix.rowBytes(r)
        if n == 1 {
            y[r] = floatRowTile(w, x, x, x, x, columns: columns, type, vectors: 1).0
            continue
        }
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
            let sums = floatRowTile(w, x + s0 * columns, x + s1 * columns, x + s2 * columns, x + s3 * columns,
                                    columns: columns, type, vectors: 4)
            y[v * outputStride + r] = sums.0
            y[(v + 1) * outputStride + r] = sums.1
            if count > 2 { y[(v + 2) * outputStride + r] = sums.2 }
            if count > 3 { y[(v + 3) * outputStride + r] = sums.3 }
            v += count
        }
    }
}

/// Eight weights from element `i` of a row of `type`, as floats.
@inline(__always)
private func floats(_ w: UnsafeRawPointer, _ i: Int, _ type: GGMLType) -> __m256 {
    switch type {
    case .f32: return w.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self)
    case .f16: return _mm256_cvtph_ps(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self))
    default: return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self)), 16))
    }
}

/// Element i of a row of `type`, as a float.
@inline(__always)
private func float(_ w: UnsafeRawPointer, _ i: Int, _ type: GGMLType) -> Float {
    switch type {
    case .f32: return w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    case .f16: return floatFromHalf(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    default: return floatFromBFloat16(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// Σ w·x of one row with up to four vectors (`vectors` 1 or 4: with 1, only the first is summed).
@inline(__always)
private func floatRowTile(_ w: UnsafeRawPointer, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                          _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>, columns: Int, _ type: GGMLType,
                          vectors: Int) -> (Float, Float, Float, Float) {
    var a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0
    var i = 0
    while i + 16 <= columns {
        prefetchWeights(w + (type == .f32 ? 4 : 2) * i)
        let low = floats(w, i, type), high = floats(w, i + 8, type)
        @inline(__always) func add(_ x: UnsafePointer<Float>, _ a: inout __m256, _ b: inout __m256) {
            a = _mm256_fmadd_ps(low, _mm256_loadu_ps(x + i), a)
            b = _mm256_fmadd_ps(high, _mm256_loadu_ps(x + i + 8), b)
        }
        add(x0, &a0, &b0)
        if vectors > 1 { add(x1, &a1, &b1); add(x2, &a2, &b2); add(x3, &a3, &b3) }
        i += 16
    }
    @inline(__always) func total(_ a: __m256, _ b: __m256, _ x: UnsafePointer<Float>) -> Float {
        let lanes: SIMD8<Float> = _mm256_add_ps(a, b)
        var sum = lanes.sum()
        for j in i..<columns { sum += float(w, j, type) * x[j] }
        return sum
    }
    let first = total(a0, b0, x0)
    guard vectors > 1 else { return (first, 0, 0, 0) }
    return (first, total(a1, b1, x1), total(a2, b2, x2), total(a3, b3, x3))
}
#endif
