// The row-by-row multiply every kernel module has: each row of the file's form against each
// vector with the plain dots of this folder (LegacyQuantDot.swift, KQuantDot.swift,
// NonLinearQuantDot.swift, FloatDot.swift),
// which LLVM vectorizes for the module's instruction set. The portable module's only kernel; in
// the x86 modules the fallback for what their own kernels do not serve (the dispatch table,
// KansoEngine/Kernels/KernelDispatch.swift, says which).
// Quantized types quantize x to int8 blocks of 32 (`quantizeActivation`, each module's own);
// F32, F16 and BF16 take float dots, Q2_K and Q3_K a float dot of the dequantized blocks.
import KansoGGUF
import KansoKernelCore

/// A MatrixKernel for every supported type, one row and one vector at a time.
func multiplyPlainRows(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                       _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ range: Range<Int>) {
    let columns = matrix.columns
    switch matrix.type {
    case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs:
        let memory = ThreadScratch.reserve(QuantizedActivation.byteCount(columns: columns, vectors: n))
        let activation = QuantizedActivation(memory: memory, columns: columns, vectors: n)
        for vector in 0..<n {
            quantizeActivation(activation, x + vector * columns, vector: vector)
        }
        multiplyQuantizedRows(matrix, activation, y, outputStride, range)
    default:
        let temporary = ThreadScratch.reserve(floatChunkSize * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: floatChunkSize)
        for r in range {
            let w = matrix.rowBytes(r)
            for vector in 0..<n {
                let xv = x + vector * columns
                let value: Float
                switch matrix.type {
                case .f32: value = dotF32(w.assumingMemoryBound(to: Float.self), xv, count: columns)
                case .f16: value = dotF16(w, xv, count: columns)
                case .bf16: value = dotBF16(w, xv, count: columns, temporary: temporary)
                default: value = dotDequantizing(matrix.type, w, xv, count: columns, temporary: temporary)
                }
                y[vector * outputStride + r] = value
            }
        }
    }
}

/// The integer path: one specialised loop per type so each inner dot is inlined.
private func multiplyQuantizedRows(_ matrix: MatrixOperand, _ activation: QuantizedActivation,
                                   _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ range: Range<Int>) {
    let blocks = matrix.columns / activationBlockSize
    let superBlocks = matrix.columns / superBlockSize
    let n = activation.vectors
    @inline(__always)
    func apply(_ dot: (UnsafeRawPointer, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Int32>) -> Float) {
        for r in range {
            let w = matrix.rowBytes(r)
            for vector in 0..<n {
                let first = vector * blocks
                y[vector * outputStride + r] = dot(w, activation.quants + first * activationBlockSize,
                                                   activation.scales + first, activation.sums + first)
            }
        }
    }
    switch matrix.type {
    case .q8_0: apply { dotQ8_0($0, $1, $2, $3, blocks: blocks) }
    case .q4_0: apply { dotQ4_0($0, $1, $2, $3, blocks: blocks) }
    case .q4_1: apply { dotQ4_1($0, $1, $2, $3, blocks: blocks) }
    case .q5_0: apply { dotQ5_0($0, $1, $2, $3, blocks: blocks) }
    case .q5_1: apply { dotQ5_1($0, $1, $2, $3, blocks: blocks) }
    case .q4_K: apply { dotQ4_K($0, $1, $2, $3, superBlocks: superBlocks) }
    case .q5_K: apply { dotQ5_K($0, $1, $2, $3, superBlocks: superBlocks) }
    case .q6_K: apply { dotQ6_K($0, $1, $2, $3, superBlocks: superBlocks) }
    case .iq4_nl: apply { dotIQ4_NL($0, $1, $2, $3, blocks: blocks) }
    case .iq4_xs: apply { dotIQ4_XS($0, $1, $2, $3, superBlocks: superBlocks) }
    default: preconditionFailure("multiplyQuantizedRows: \(matrix.type) is not an integer-dot type")
    }
}
