// One activation vector quantized to int8 with one float scale per super-block of 256 and the sums
// of the quants per 16, the form llama.cpp multiplies K-quant weights with (its Q8_K, reference:
// ggml-quants.c quantize_row_q8_K). With one activation scale for a whole weight super-block,
// the integer sums of its sub-blocks can be weighted by their integer scales and converted to
// float once per super-block; the per-16 sums give the min (Q4_K) and offset (Q6_K) terms.
// Used by the x86 generation dots of Q4_K and Q6_K (KQuantDotSIMD.swift) and by the batched
// K-quant kernels (BatchedSuperBlockMultiplyAVX2.swift, BatchedSuperBlockMultiplyAVX512.swift).
import KansoGGUF

/// Views into scratch memory for one activation vector of `columns` elements (a multiple of 256).
struct SuperBlockActivation {
    /// [columns] int8 quants
    let quants: UnsafeMutablePointer<Int8>
    /// [columns / 256] scale d of each super-block: x ≈ d · q
    let scales: UnsafeMutablePointer<Float>
    /// [columns / 16] Σ q of each group of 16 (at most 16 · 127 in magnitude)
    let groupSums: UnsafeMutablePointer<Int16>
    let columns: Int

    static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(columns) + ThreadScratch.aligned(4 * (columns / superBlockSize))
            + ThreadScratch.aligned(2 * (columns / 16))
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        let scalesOffset = ThreadScratch.aligned(columns)
        let sumsOffset = scalesOffset + ThreadScratch.aligned(4 * (columns / superBlockSize))
        quants = memory.bindMemory(to: Int8.self, capacity: columns)
        scales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: columns / superBlockSize)
        groupSums = (memory + sumsOffset).bindMemory(to: Int16.self, capacity: columns / 16)
        self.columns = columns
    }

    /// Quantizes `x` (`columns` floats): per super-block d = max|x| / 127, q = round(x / d).
    func quantize(_ x: UnsafePointer<Float>) {
        #if KANSO_X86_SIMD
        for s in 0..<(columns / superBlockSize) {
            let sums = groupSums + s * (superBlockSize / 16)
            scales[s] = quantizeStretchAVX2(x + s * superBlockSize, count: superBlockSize, into: quants + s * superBlockSize) {
                sums[$0] = Int16(truncatingIfNeeded: $1)
            }
        }
        #else
        for s in 0..<(columns / superBlockSize) {
            let source = x + s * superBlockSize
            let destination = quants + s * superBlockSize
            var maximum: Float = 0
            for j in 0..<superBlockSize {
                maximum = Swift.max(maximum, abs(source[j]))
            }
            let d = maximum / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            for j in 0..<superBlockSize {
                var value = (source[j] * inverse).rounded(.toNearestOrEven)
                // Only non-finite input reaches outside ±127; keep the conversion defined.
                value = value.isNaN ? 0 : Swift.min(Swift.max(value, -127), 127)
                destination[j] = Int8(value)
            }
            for group in 0..<(superBlockSize / 16) {
                var sum: Int16 = 0
                for j in 0..<16 { sum &+= Int16(destination[16 * group + j]) }
                groupSums[s * (superBlockSize / 16) + group] = sum
            }
            scales[s] = d
        }
        #endif
    }
}

/// Several activation vectors in super-block form, one after another in scratch memory: what the
/// batched K-quant kernels (BatchedSuperBlockMultiplyAVX2.swift, …AVX512.swift) read.
struct SuperBlockActivationBatch {
    let memory: UnsafeMutableRawPointer
    let columns: Int
    private let vectorBytes: Int

    static func byteCount(columns: Int, vectors: Int) -> Int {
        vectors * ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
    }

    /// Quantizes the `n` vectors of `x` ([n, columns]) into `memory` (byteCount bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, quantizing x: UnsafePointer<Float>, count n: Int, columns: Int) {
        self.memory = memory
        self.columns = columns
        vectorBytes = ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
        for v in 0..<n { self[v].quantize(x + v * columns) }
    }

    /// Vector v.
    @inline(__always)
    subscript(v: Int) -> SuperBlockActivation {
        SuperBlockActivation(memory: memory + v * vectorBytes, columns: columns)
    }
}

/// Elements per activation scale when one vector is multiplied by a matrix of `type` (the
/// portable kernels always use blocks of 32): for tests' error bounds.
func singleVectorActivationBlockSize(_ type: GGMLType) -> Int {
    #if KANSO_X86_SIMD
    if type == .q4_K || type == .q6_K { return superBlockSize }
    #endif
    return activationBlockSize
}

/// Elements per activation scale when several vectors are multiplied by a matrix of `type`: for
/// tests' error bounds.
func batchActivationBlockSize(_ type: GGMLType) -> Int {
    #if KANSO_X86_SIMD
    if UnpackedSuperBlockRow.serves(type) { return superBlockSize }
    #endif
    return activationBlockSize
}
