// One stretch of an activation vector quantized to int8 with one scale, eight floats a register:
// what QuantizedActivation.quantize (blocks of 32) and SuperBlockActivation.quantize (super-blocks
// of 256) compute element by element, with the same results bit for bit: d = max|x| / 127 (NaN
// ignored), q = round-to-nearest-even(x / d) clamped to ±127, NaN to 0, and the sum of the quants
// of every 16. Each prompt pass quantizes its vectors once per matrix and thread (1B Q4_K_M at
// 2 threads: 4% of the run element by element, beside 14% for the multiplying itself).
// Below, the quantizers of the x86 kernel modules built on it (the portable module quantizes
// element by element, KansoKernelCore's QuantizedActivation and SuperBlockActivation).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// Quantizes `count` floats of `source` (a multiple of 32) into `destination` and returns d;
/// `groupSum(i, Σ)` receives the sum of quants i·16 ..< i·16 + 16.
@inline(__always)
func quantizeStretchAVX2(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Int8>,
                         groupSum: (Int, Int32) -> Void) -> Float {
    let magnitudeBits = _mm256_set1_epi32(0x7FFF_FFFF)
    var maximum = _mm256_setzero_ps()
    var i = 0
    while i < count {
        let magnitude = _mm256_and_ps(_mm256_loadu_ps(source + i), _mm256_castsi256_ps(magnitudeBits))
        maximum = _mm256_max_ps(magnitude, maximum)  // (the second operand when the first is NaN)
        i += 8
    }
    var folded = _mm_max_ps(maximum.lowHalf, maximum.highHalf)
    folded = _mm_max_ps(folded, _mm_movehl_ps(folded, folded))
    folded = _mm_max_ss(folded, _mm_movehdup_ps(folded))
    let d = _mm_cvtss_f32(folded) / 127
    let inverse: Float = d != 0 ? 1 / d : 0

    let scale = _mm256_set1_ps(inverse), lowest = _mm256_set1_ps(-127), highest = _mm256_set1_ps(127)
    let infinityBits = _mm256_set1_epi32(0x7F80_0000)
    let byteOrder = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)
    @inline(__always) func quantized(_ offset: Int) -> __m256i {
        let scaled = _mm256_mul_ps(_mm256_loadu_ps(source + offset), scale)
        // NaN (magnitude bits above infinity's) becomes 0; the bounds are integers, so clamping
        // before rounding gives what rounding before clamping does
        let isNaN = _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_castps_si256(scaled), magnitudeBits), infinityBits)
        let finite = _mm256_andnot_ps(_mm256_castsi256_ps(isNaN), scaled)
        return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(finite, lowest), highest))
    }
    @inline(__always) func sum(_ a: __m256i, _ b: __m256i) -> Int32 {
        let eight = _mm256_add_epi32(a, b)
        var four = _mm_add_epi32(eight.lowHalf, eight.highHalf)
        four = _mm_hadd_epi32(four, four)
        return _mm_cvtsi128_si32(_mm_hadd_epi32(four, four))
    }
    i = 0
    while i < count {
        let a = quantized(i), b = quantized(i + 8), c = quantized(i + 16), e = quantized(i + 24)
        // int32 → int8 with saturation (exact: all within ±127); the packs interleave the 128-bit
        // halves, the permutation puts the four-byte pieces back in element order
        let bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e))
        UnsafeMutableRawPointer(destination + i).storeBytes(of: _mm256_permutevar8x32_epi32(bytes, byteOrder), as: __m256i.self)
        groupSum(i / 16, sum(a, b))
        groupSum(i / 16 + 1, sum(c, e))
        i += 32
    }
    return d
}

/// QuantizedActivation.quantize(x, vector:) to the same bits, eight floats a register: what the
/// plain row dots (Plain/PlainRowMultiply.swift) and the x86 kernels of this module quantize with.
func quantizeActivation(_ activation: QuantizedActivation, _ x: UnsafePointer<Float>, vector: Int) {
    let blocks = activation.blocksPerVector
    for block in 0..<blocks {
        let first = vector * blocks + block
        var sum: Int32 = 0
        activation.scales[first] = quantizeStretchAVX2(x + block * activationBlockSize, count: activationBlockSize,
                                                       into: activation.quants + first * activationBlockSize) { sum &+= $1 }
        activation.sums[first] = sum
    }
}

/// The `n` vectors of `x` ([n, columns]) quantized in blocks of 32 into the calling thread's scratch.
func quantizedActivation(_ x: UnsafePointer<Float>, count n: Int, columns: Int) -> QuantizedActivation {
    let memory = ThreadScratch.reserve(QuantizedActivation.byteCount(columns: columns, vectors: n))
    let activation = QuantizedActivation(memory: memory, columns: columns, vectors: n)
    for vector in 0..<n { quantizeActivation(activation, x + vector * columns, vector: vector) }
    return activation
}

/// SuperBlockActivation.quantize(x) to the same bits, eight floats a register.
func quantizeSuperBlocks(_ activation: SuperBlockActivation, _ x: UnsafePointer<Float>) {
    for s in 0..<(activation.columns / superBlockSize) {
        let sums = activation.groupSums + s * (superBlockSize / 16)
        activation.scales[s] = quantizeStretchAVX2(x + s * superBlockSize, count: superBlockSize,
                                                   into: activation.quants + s * superBlockSize) {
            sums[$0] = Int16(truncatingIfNeeded: $1)
        }
    }
}

extension SuperBlockActivationBatch {
    /// The `n` vectors of `x` ([n, columns]) quantized into `memory` (byteCount bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, quantizing x: UnsafePointer<Float>, count n: Int, columns: Int) {
        self.init(memory: memory, columns: columns)
        for v in 0..<n { quantizeSuperBlocks(self[v], x + v * columns) }
    }
}
#endif
