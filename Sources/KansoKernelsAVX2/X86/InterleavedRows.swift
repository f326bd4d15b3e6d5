// Eight weight rows of a legacy-quant matrix (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) unpacked and
// interleaved four bytes at a time, the form BatchedInterleavedMultiplyAVX2.swift (and, two
// groups side by side, BatchedInterleavedMultiplyAVX512.swift) reads:
//   values  [blocks, 8 steps, 8 rows, 4 bytes]  bytes 4k…4k+3 of each row's block b at step k
//           (Q8_0 and IQ4_NL signed; the others unsigned q, their zero point moved into the min)
//   scales  [blocks, 8 rows]  each row's block scale d
//   mins    [blocks, 8 rows]  each row's block min (Q4_1, Q5_1), or −8·d / −16·d (Q4_0, Q5_0)
// A group of fewer than eight rows is padded with zero rows.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

struct InterleavedRows {
    /// Whether rows of `type` can be interleaved (and the batch kernels that read them serve it).
    static func serves(_ type: GGMLType) -> Bool {
        switch type {
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: return true
        default: return false
        }
    }

    let values: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float>
    let mins: UnsafeMutablePointer<Float>
    let columns: Int
    /// The eight rows unpacked in element order on the way, `rowStride` bytes apart.
    private let rowMemory: UnsafeMutableRawPointer
    private let rowStride: Int

    static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(8 * columns) + 2 * ThreadScratch.aligned(4 * 8 * (columns / 32)) + 8 * UnpackedRow.byteCount(columns: columns)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        let blocks = columns / 32
        let scalesOffset = ThreadScratch.aligned(8 * columns)
        let minsOffset = scalesOffset + ThreadScratch.aligned(4 * 8 * blocks)
        values = memory.bindMemory(to: UInt8.self, capacity: 8 * columns)
        scales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: 8 * blocks)
        mins = (memory + minsOffset).bindMemory(to: Float.self, capacity: 8 * blocks)
        rowMemory = memory + minsOffset + ThreadScratch.aligned(4 * 8 * blocks)
        rowStride = UnpackedRow.byteCount(columns: columns)
        self.columns = columns
    }

    /// Fills the group with `rows` of `matrix` (one to eight rows).
    func fill(_ matrix: MatrixOperand, rows: Range<Int>) {
        let blocks = columns / 32
        for j in 0..<8 {
            guard j < rows.count else {
                for b in 0..<blocks {
                    scales[8 * b + j] = 0
                    mins[8 * b + j] = 0
                }
                continue
            }
            let row = UnpackedRow(memory: rowMemory + j * rowStride, columns: columns)
            row.unpack(matrix.type, row: matrix.rowBytes(rows.lowerBound + j), keepingZeroPoint: true)
            for b in 0..<blocks {
                scales[8 * b + j] = row.blockScales[b]
                mins[8 * b + j] = row.blockMins[b]
            }
        }
        // (UnpackedRow keeps its values first, so row j's values are at rowMemory + j · rowStride)
        interleaveFourByteSteps(rowMemory, rowStride: rowStride, count: rows.count, chunks: blocks, into: values)
    }
}
#endif
