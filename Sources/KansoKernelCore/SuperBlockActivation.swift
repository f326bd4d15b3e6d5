// One activation vector quantized to int8 with one float scale per super-block of 256 and the sums
// of the quants per 16, the form llama.cpp multiplies K-quant weights with (its Q8_K, reference:
// ggml-quants.c quantize_row_q8_K). With one activation scale for a whole weight super-block,
// the integer sums of its sub-blocks can be weighted by their integer scales and converted to
// float once per super-block; the per-16 sums give the min (Q4_K) and offset (Q6_K) terms.
// Used by the x86 generation dots of the K-quants (KQuantDotSIMD.swift, the packed Q4_K groups)
// and by the batched K-quant kernels (BatchedSuperBlockMultiply*.swift). `quantize` is the
// element-by-element form; the x86 modules quantize with vector instructions to the same bits.

/// Views into scratch memory for one activation vector of `columns` elements (a multiple of 256).
public struct SuperBlockActivation {
    /// [columns] int8 quants
    public let quants: UnsafeMutablePointer<Int8>
    /// [columns / 256] scale d of each super-block: x ≈ d · q
    public let scales: UnsafeMutablePointer<Float>
    /// [columns / 16] Σ q of each group of 16 (at most 16 · 127 in magnitude)
    public let groupSums: UnsafeMutablePointer<Int16>
    public let columns: Int

    @inlinable
    public static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(columns) + ThreadScratch.aligned(4 * (columns / superBlockSize))
            + ThreadScratch.aligned(2 * (columns / 16))
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    @inlinable
    public init(memory: UnsafeMutableRawPointer, columns: Int) {
        let scalesOffset = ThreadScratch.aligned(columns)
        let sumsOffset = scalesOffset + ThreadScratch.aligned(4 * (columns / superBlockSize))
        quants = memory.bindMemory(to: Int8.self, capacity: columns)
        scales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: columns / superBlockSize)
        groupSums = (memory + sumsOffset).bindMemory(to: Int16.self, capacity: columns / 16)
        self.columns = columns
    }

    /// Quantizes `x` (`columns` floats): per super-block d = max|x| / 127, q = round(x / d).
    public func quantize(_ x: UnsafePointer<Float>) {
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
    }
}

/// Several activation vectors in super-block form, one after another in scratch memory: what the
/// batched K-quant kernels (BatchedSuperBlockMultiplyAVX2.swift, …AVX512.swift) read.
public struct SuperBlockActivationBatch {
    public let memory: UnsafeMutableRawPointer
    public let columns: Int
    @usableFromInline let vectorBytes: Int

    public static func byteCount(columns: Int, vectors: Int) -> Int {
        vectors * ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
    }

    /// Room for vectors of `columns` elements at `memory` (byteCount bytes, 64-aligned); each
    /// vector is quantized through `self[v]`.
    public init(memory: UnsafeMutableRawPointer, columns: Int) {
        self.memory = memory
        self.columns = columns
        vectorBytes = ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
    }

    /// Vector v.
    @inlinable @inline(__always)
    public subscript(v: Int) -> SuperBlockActivation {
        SuperBlockActivation(memory: memory + v * vectorBytes, columns: columns)
    }
}
