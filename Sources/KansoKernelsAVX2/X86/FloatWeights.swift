// How the x86 float kernels read F32, F16 and BF16 weights as floats: one type per weight type,
// so that each kernel is specialised for it (a type passed as a value was not inlined, and was
// tested in the inner loop). Used by the row dots (FloatRowMultiplySIMD.swift) and by the
// transposition of the prompt batches (FloatRowTransposition.swift).

#if arch(x86_64)
import KansoKernelCore
import _Builtin_intrinsics.intel

/// How the weights of a float type are read.
protocol FloatWeights {
    /// Bytes of one weight.
    static var size: Int { get }
    /// Eight weights from element `i` of row `w`, as floats.
    static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256
    /// Four weights from element `i` of row `low` (lanes 0-3), and of row `high` (lanes 4-7).
    static func quads(_ low: UnsafeRawPointer, _ high: UnsafeRawPointer, _ i: Int) -> __m256
    /// Element i of row `w`, as a float.
    static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float
}

enum Float32Weights: FloatWeights {
    static var size: Int { 4 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 { w.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self) }
    @inline(__always) static func quads(_ low: UnsafeRawPointer, _ high: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_set_m128(high.loadUnaligned(fromByteOffset: 4 * i, as: __m128.self), low.loadUnaligned(fromByteOffset: 4 * i, as: __m128.self))
    }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float { w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
}

enum Float16Weights: FloatWeights {
    static var size: Int { 2 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_cvtph_ps(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self))
    }
    @inline(__always) static func quads(_ low: UnsafeRawPointer, _ high: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_cvtph_ps(halfQuads(low, high, i))
    }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromHalf(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// bfloat16 is the top half of a float32: widened and shifted.
enum BFloat16Weights: FloatWeights {
    static var size: Int { 2 }
    @inline(__always) static func floats(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(w.loadUnaligned(fromByteOffset: 2 * i, as: __m128i.self)), 16))
    }
    @inline(__always) static func quads(_ low: UnsafeRawPointer, _ high: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halfQuads(low, high, i)), 16))
    }
    @inline(__always) static func float(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromBFloat16(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// Four two-byte weights from element `i` of row `low` (bytes 0-7), then four of row `high`.
@inline(__always)
private func halfQuads(_ low: UnsafeRawPointer, _ high: UnsafeRawPointer, _ i: Int) -> __m128i {
    _mm_set_epi64x(high.loadUnaligned(fromByteOffset: 2 * i, as: Int64.self), low.loadUnaligned(fromByteOffset: 2 * i, as: Int64.self))
}
#endif
