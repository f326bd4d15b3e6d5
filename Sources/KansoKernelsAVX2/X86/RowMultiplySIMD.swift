// The x86 kernels that read a matrix row by row in the file's form, with the 256-bit dots of
// LegacyQuantDotSIMD.swift and KQuantDotSIMD.swift: generation through matrices that are not
// packed (Q4_0/Q5_0 block pairs, Q4_K/Q5_K/Q6_K super-blocks; Q8_0 and Q4_0 with packing off) and
// the Q8_0/Q4_0 rows whose columns the batch kernels do not take. Each is a MatrixKernel that
// quantizes x in the form its dot reads, then one dot per row and vector.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

/// Q8_0 or Q4_0 rows, x in blocks of 32 (dotQ8_0SIMD, dotQ4_0SIMD).
func multiplyLegacyRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                            _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let activation = quantizedActivation(x, count: n, columns: matrix.columns)
    let blocks = activation.blocksPerVector
    @inline(__always) func apply(_ dot: (UnsafeRawPointer, UnsafePointer<Int8>, UnsafePointer<Float>) -> Float) {
        for r in rows {
            let w = matrix.rowBytes(r)
            for v in 0..<n {
                y[v * outputStride + r] = dot(w, activation.quants + v * matrix.columns, activation.scales + v * blocks)
            }
        }
    }
    switch matrix.type {
    case .q8_0: apply { dotQ8_0SIMD($0, $1, $2, blocks: blocks) }
    case .q4_0: apply { dotQ4_0SIMD($0, $1, $2, blocks: blocks) }
    default: preconditionFailure("multiplyLegacyRowsSIMD takes Q8_0 and Q4_0, not \(matrix.type)")
    }
}

/// Q4_K, Q5_K or Q6_K rows, each vector quantized per super-block of 256 (SuperBlockActivation.swift)
/// for the dots of KQuantDotSIMD.swift.
func multiplySuperBlockRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: matrix.columns))
    let activation = SuperBlockActivation(memory: memory, columns: matrix.columns)
    let superBlocks = matrix.columns / superBlockSize
    for v in 0..<n {
        quantizeSuperBlocks(activation, x + v * matrix.columns)
        let output = y + v * outputStride
        switch matrix.type {
        case .q4_K: for r in rows { output[r] = dotQ4_KSIMD(matrix.rowBytes(r), activation, superBlocks: superBlocks) }
        case .q5_K: for r in rows { output[r] = dotQ4_KSIMD(matrix.rowBytes(r), activation, superBlocks: superBlocks, fiveBits: true) }
        case .q6_K: for r in rows { output[r] = dotQ6_KSIMD(matrix.rowBytes(r), activation, superBlocks: superBlocks) }
        default: preconditionFailure("multiplySuperBlockRowsSIMD takes Q4_K, Q5_K and Q6_K, not \(matrix.type)")
        }
    }
}

/// Q4_0 or Q5_0 rows of a multiple of 64 columns, each vector in block-pair order
/// (BlockPairActivation.swift) for dotQ4_0PairsSIMD and dotQ5_0PairsSIMD.
func multiplyBlockPairRowsSIMD(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                               _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let memory = ThreadScratch.reserve(BlockPairActivation.byteCount(columns: matrix.columns))
    let activation = BlockPairActivation(memory: memory, columns: matrix.columns)
    for v in 0..<n {
        let output = y + v * outputStride
        switch matrix.type {
        case .q4_0:
            activation.quantize(x + v * matrix.columns, zeroPoint: 8)
            for r in rows { output[r] = dotQ4_0PairsSIMD(matrix.rowBytes(r), activation) }
        case .q5_0:
            activation.quantize(x + v * matrix.columns, zeroPoint: 16)
            for r in rows { output[r] = dotQ5_0PairsSIMD(matrix.rowBytes(r), activation) }
        default: preconditionFailure("multiplyBlockPairRowsSIMD takes Q4_0 and Q5_0, not \(matrix.type)")
        }
    }
}
#endif
