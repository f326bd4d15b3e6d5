// Eight weight rows of a K-quant matrix (Q4_K, Q5_K, Q6_K) unpacked (UnpackedSuperBlockRow.swift)
// and interleaved four bytes at a time, the form BatchedSuperBlockMultiplyAVX2.swift reads; as
// InterleavedRows.swift does for the legacy types. Per super-block s:
//   values        [64 steps, 8 rows, 4 bytes]   bytes 4k…4k+3 of each row's super-block at step k
//   groupScales   [16 groups, 8 rows, 2] int16  row j's scale of group g (16 elements) in words 2j, 2j+1
//   offsetWeights [8 pairs, 8 rows, 2] int16    row j's offset weights of groups 2p, 2p+1
//   d, e          [8 rows] float
// A group of fewer than eight rows is padded with zero rows.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

struct InterleavedSuperBlockRows {
    let values: UnsafeMutablePointer<UInt8>
    let groupScales: UnsafeMutablePointer<Int16>
    let offsetWeights: UnsafeMutablePointer<Int16>
    let d: UnsafeMutablePointer<Float>
    let e: UnsafeMutablePointer<Float>
    let columns: Int
    /// The eight rows unpacked in element order on the way, `rowStride` bytes apart.
    private let rowMemory: UnsafeMutableRawPointer
    private let rowStride: Int

    var superBlocks: Int { columns / superBlockSize }

    static func byteCount(columns: Int) -> Int {
        let superBlocks = columns / superBlockSize
        return ThreadScratch.aligned(8 * columns) + ThreadScratch.aligned(512 * superBlocks) + ThreadScratch.aligned(256 * superBlocks)
            + 2 * ThreadScratch.aligned(32 * superBlocks) + 8 * UnpackedSuperBlockRow.byteCount(columns: columns)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        let superBlocks = columns / superBlockSize
        var offset = 0
        func take(_ bytes: Int) -> UnsafeMutableRawPointer {
            defer { offset += ThreadScratch.aligned(bytes) }
            return memory + offset
        }
        values = take(8 * columns).bindMemory(to: UInt8.self, capacity: 8 * columns)
        groupScales = take(512 * superBlocks).bindMemory(to: Int16.self, capacity: 256 * superBlocks)
        offsetWeights = take(256 * superBlocks).bindMemory(to: Int16.self, capacity: 128 * superBlocks)
        d = take(32 * superBlocks).bindMemory(to: Float.self, capacity: 8 * superBlocks)
        e = take(32 * superBlocks).bindMemory(to: Float.self, capacity: 8 * superBlocks)
        rowStride = UnpackedSuperBlockRow.byteCount(columns: columns)
        rowMemory = take(8 * rowStride)
        self.columns = columns
    }

    /// Fills the group with `rows` of `matrix` (one to eight rows; Q4_K, Q5_K or Q6_K, read from
    /// the file: a packed Q4_K matrix's batches read its groups, PackedSuperBlockMultiply*.swift).
    func fill(_ matrix: MatrixOperand, rows: Range<Int>) {
        precondition(matrix.packed == nil, "a packed matrix's file pages are released: its batches read the packed groups")
        for j in 0..<8 {
            let present = j < rows.count
            let row = UnpackedSuperBlockRow(memory: rowMemory + j * rowStride, columns: columns)
            if present { row.unpack(matrix.type, row: matrix.rowBytes(rows.lowerBound + j)) }
            for s in 0..<superBlocks {
                for g in 0..<16 {
                    // group g's scale: words 0-7 of chunk g/2 for the first group of 16, 8-15 for the second
                    let scale = present ? row.chunkScales[16 * (8 * s + g / 2) + 8 * (g % 2)] : 0
                    groupScales[256 * s + 16 * g + 2 * j] = scale
                    groupScales[256 * s + 16 * g + 2 * j + 1] = scale
                    offsetWeights[128 * s + 16 * (g / 2) + 2 * j + g % 2] = present ? row.offsetWeights[16 * s + g] : 0
                }
                d[8 * s + j] = present ? row.d[s] : 0
                e[8 * s + j] = present ? row.e[s] : 0
            }
        }
        // (UnpackedSuperBlockRow keeps its values first, so row j's values are at rowMemory + j · rowStride)
        interleaveFourByteSteps(rowMemory, rowStride: rowStride, count: rows.count, chunks: columns / 32, into: values)
    }
}
#endif
