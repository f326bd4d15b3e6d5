// y = W·x through an F32, F16 or BF16 matrix, on 256-bit registers: eight weights of a row at a
// time converted to float (`vcvtph2ps` for f16; bf16 is the top half of a float32, so a widening
// and a shift), then one multiply-add per vector. Several vectors go in tiles of two rows and four
// vectors, sharing each conversion between four vectors and each load of x between two rows (the
// plain loops converted a row's weights again for every vector); one vector runs two chains of
// multiply-adds so that consecutive ones overlap. A tail of fewer than eight (sixteen) columns is
// summed one element at a time.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for F32, F16 or BF16 rows, any number of vectors.
func multiplyFloatRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    // one specialisation per type (a generic one: a type passed as a value was not inlined, and
    // tested in the inner loop)
    switch matrix.type {
    case .f32: multiplyFloatRows(matrix, x, n, y, outputStride, rows, Float32Weights.self)
    case .f16: multiplyFloatRows(matrix, x, n, y, outputStride, rows, Float16Weights.self)
    default: multiplyFloatRows(matrix, x, n, y, outputStride, rows, BFloat16Weights.self)
    }
}

/// How the weights of a float type are read.
private protocol FloatWeights {
    /// Bytes of one weight.
    static var size: Int { get }
    /// Eight weights from element `i` of row `w`, as floats.
    static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256
    /// Element i of row `w`, as a float.
    static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float
}

private enum Float32Weights: FloatWeights {
    static var size: Int { 4 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 { w.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self) }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float { w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
}

private enum Float16Weights: FloatWeights {
    static var size: Int { 2 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_cvtph_ps(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self))
    }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromHalf(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// bfloat16 is the top half of a float32: widened and shifted.
private enum BFloat16Weights: FloatWeights {
    static var size: Int { 2 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self)), 16))
    }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromBFloat16(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

private func multiplyFloatRows<Weights: FloatWeights>(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                                      _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                                      _ type: Weights.Type) {
    let columns = matrix.columns
    if n == 1 {
        for r in rows { y[r] = floatRowDot(matrix.rowBytes(r), x, columns: columns, Weights.self) }
        return
    }
    // two rows (the second repeating the first at an odd end) and four vectors a tile
    var r = rows.lowerBound
    while r < rows.upperBound {
        let second = min(r + 1, rows.upperBound - 1)
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
            let sums = floatRowPairTile(matrix.rowBytes(r), matrix.rowBytes(second), x + s0 * columns, x + s1 * columns,
                                        x + s2 * columns, x + s3 * columns, columns: columns, Weights.self)
            for k in 0..<count {  // (sums: row r's four vectors, the second row's)
                y[(v + k) * outputStride + r] = sums.0[k]
                if second > r { y[(v + k) * outputStride + second] = sums.1[k] }
            }
            v += count
        }
        r += 2
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

/// Σ w·x of two rows with four vectors: each converted weight serves four vectors and each x
/// two rows, eight multiply-adds to two conversions and four loads of x.
@inline(__always)
private func floatRowPairTile<Weights: FloatWeights>(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x0: UnsafePointer<Float>,
                                                     _ x1: UnsafePointer<Float>, _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>,
                                                     columns: Int, _: Weights.Type) -> (SIMD4<Float>, SIMD4<Float>) {
    var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0  // row 0 with vectors 0...3
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0                   // row 1
    var i = 0
    while i + 8 <= columns {
        let first = Weights.floats(w0, i), second = Weights.floats(w1, i)
        @inline(__always) func add(_ x: UnsafePointer<Float>, _ a: inout __m256, _ b: inout __m256) {
            let xi = _mm256_loadu_ps(x + i)
            a = _mm256_fmadd_ps(first, xi, a)
            b = _mm256_fmadd_ps(second, xi, b)
        }
        add(x0, &a0, &b0); add(x1, &a1, &b1); add(x2, &a2, &b2); add(x3, &a3, &b3)
        i += 8
    }
    @inline(__always) func total(_ acc: __m256, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>) -> Float {
        let lanes: SIMD8<Float> = acc
        var sum = lanes.sum()
        for j in i..<columns { sum += Weights.float(w, j) * x[j] }
        return sum
    }
    let row0 = SIMD4<Float>(total(a0, w0, x0), total(a1, w0, x1), total(a2, w0, x2), total(a3, w0, x3))
    let row1 = SIMD4<Float>(total(b0, w1, x0), total(b1, w1, x1), total(b2, w1, x2), total(b3, w1, x3))
    return (row0, row1)
}
#endif
