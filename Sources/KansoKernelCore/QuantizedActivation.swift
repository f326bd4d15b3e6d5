// Activation vectors quantized to int8 in blocks of 32, so quantized weights are multiplied with
// integer dot products per block, as llama.cpp does with its Q8_0/Q8_1/Q8_K forms of x
// (reference: ggml-quants.c quantize_row_q8_0/q8_1). One form serves every quantized type: a
// float scale and the sum of the quants per 32 elements (the sum carries the "min" terms of
// Q4_1/Q5_1/Q4_K/Q5_K). The scale stays float32, where ggml rounds it to f16: a little more exact.
// `quantize` is the element-by-element form; the x86 kernel modules quantize with their own
// vector instructions to the same bits (ActivationQuantizationAVX2.swift).

/// Elements per scale of QuantizedActivation; inlined into each kernel module.
@inlinable public var activationBlockSize: Int { 32 }

/// Views into scratch memory for `vectors` activation vectors of `columns` elements each.
public struct QuantizedActivation {
    /// [vectors, columns] int8 quants
    public let quants: UnsafeMutablePointer<Int8>
    /// [vectors, columns / 32] scale d of each block: x ≈ d · q
    public let scales: UnsafeMutablePointer<Float>
    /// [vectors, columns / 32] Σ q of each block
    public let sums: UnsafeMutablePointer<Int32>
    public let columns: Int
    public let vectors: Int

    @inlinable public var blocksPerVector: Int { columns / activationBlockSize }

    public static func byteCount(columns: Int, vectors: Int) -> Int {
        let blocks = vectors * (columns / activationBlockSize)
        return ThreadScratch.aligned(vectors * columns) + ThreadScratch.aligned(4 * blocks) + ThreadScratch.aligned(4 * blocks)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:vectors:)` bytes, 64-aligned).
    public init(memory: UnsafeMutableRawPointer, columns: Int, vectors: Int) {
        let blocks = vectors * (columns / activationBlockSize)
        let scalesOffset = ThreadScratch.aligned(vectors * columns)
        let sumsOffset = scalesOffset + ThreadScratch.aligned(4 * blocks)
        quants = memory.bindMemory(to: Int8.self, capacity: vectors * columns)
        scales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: blocks)
        sums = (memory + sumsOffset).bindMemory(to: Int32.self, capacity: blocks)
        self.columns = columns
        self.vectors = vectors
    }

    /// Quantizes vector `vector` from `x` (`columns` floats): per block d = max|x| / 127,
    /// q = round(x / d). The error of each element is at most d / 2.
    public func quantize(_ x: UnsafePointer<Float>, vector: Int) {
        let blocks = blocksPerVector
        for block in 0..<blocks {
            let source = x + block * activationBlockSize
            let first = vector * blocks + block
            let destination = quants + first * activationBlockSize
            var maximum: Float = 0
            for j in 0..<activationBlockSize {
                maximum = Swift.max(maximum, abs(source[j]))
            }
            let d = maximum / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            var sum: Int32 = 0
            for j in 0..<activationBlockSize {
                var value = (source[j] * inverse).rounded(.toNearestOrEven)
                // Only non-finite input reaches outside ±127; keep the conversion defined.
                value = value.isNaN ? 0 : Swift.min(Swift.max(value, -127), 127)
                let q = Int8(value)
                destination[j] = q
                sum &+= Int32(q)
            }
            scales[first] = d
            sums[first] = sum
        }
    }
}
