// One weight row of a legacy-quant type (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) or IQ4_NL unpacked into
// one form: 8-bit values, a float scale and a float min per block of 32, so that
// w = scale · value + min:
//   Q8_0 value = q (signed), Q4_0 q − 8, Q5_0 q − 16 (or unsigned q, the zero point moved into
//   the min as −8·d, −16·d),  Q4_1, Q5_1 value = q (min m),  IQ4_NL the table value of q (signed).
// Layouts as in Dequantize.swift (ggml-common.h). InterleavedRows.swift unpacks eight rows this
// way and interleaves them for the batch kernels; one pass over each row, reused for every vector.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

/// Views into scratch memory for one unpacked row of `columns` elements.
struct UnpackedRow {
    /// [columns] values (signed for Q8_0 and without keepingZeroPoint, else unsigned 0...31)
    let values: UnsafeMutablePointer<Int8>
    /// [columns / 32] the scale d of each block
    let blockScales: UnsafeMutablePointer<Float>
    /// [columns / 32] the min of each block (zero where the type has none)
    let blockMins: UnsafeMutablePointer<Float>
    let columns: Int

    static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(columns) + 2 * ThreadScratch.aligned(columns / 8)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        values = memory.bindMemory(to: Int8.self, capacity: columns)
        let scalesOffset = ThreadScratch.aligned(columns)
        blockScales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: columns / 32)
        blockMins = (memory + scalesOffset + ThreadScratch.aligned(columns / 8)).bindMemory(to: Float.self, capacity: columns / 32)
        self.columns = columns
    }

    /// Unpacks `row` (blocks of `type`, `columns` elements); InterleavedRows.serves(type).
    /// `keepingZeroPoint`: Q4_0 and Q5_0 keep their unsigned q (0...15, 0...31) as values and
    /// move the zero point into the block's min (−8·d, −16·d), for kernels that multiply
    /// unsigned values as they are.
    func unpack(_ type: GGMLType, row: UnsafeRawPointer, keepingZeroPoint: Bool = false) {
        switch type {
        case .q8_0: unpackLegacy(row, blockBytes: 34, minOffset: nil, quantsOffset: 2, highBitsOffset: nil, center: 0)
        case .q4_0: unpackLegacy(row, blockBytes: 18, minOffset: nil, quantsOffset: 2, highBitsOffset: nil, center: 8,
                                 keepingZeroPoint: keepingZeroPoint)
        case .q4_1: unpackLegacy(row, blockBytes: 20, minOffset: 2, quantsOffset: 4, highBitsOffset: nil, center: 0)
        case .q5_0: unpackLegacy(row, blockBytes: 22, minOffset: nil, quantsOffset: 6, highBitsOffset: 2, center: 16,
                                 keepingZeroPoint: keepingZeroPoint)
        case .q5_1: unpackLegacy(row, blockBytes: 24, minOffset: 2, quantsOffset: 8, highBitsOffset: 4, center: 0)
        case .iq4_nl: unpackNonLinear(row)
        default: preconditionFailure("UnpackedRow: \(type) is not a legacy-quant type")
        }
    }

    /// IQ4_NL: blocks of 32 as Q4_0's, each nibble standing for its table value (iq4Values).
    private func unpackNonLinear(_ row: UnsafeRawPointer) {
        let table = iq4Values
        for b in 0..<(columns / 32) {
            let block = row + b * 18
            blockScales[b] = block.loadHalf(at: 0)
            blockMins[b] = 0
            let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                values[32 * b + j] = table[Int(qs[j] & 15)]
                values[32 * b + j + 16] = table[Int(qs[j] >> 4)]
            }
        }
    }

    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: blocks of 32 with an f16 scale at 0 (and an f16 min at
    /// `minOffset`); 8-bit quants, or nibbles (j low, j + 16 high) with a fifth bit from a u32.
    @inline(__always)
    private func unpackLegacy(_ row: UnsafeRawPointer, blockBytes: Int, minOffset: Int?, quantsOffset: Int,
                              highBitsOffset: Int?, center zeroPoint: Int32, keepingZeroPoint: Bool = false) {
        let center = keepingZeroPoint ? 0 : zeroPoint
        for b in 0..<(columns / 32) {
            let block = row + b * blockBytes
            let d = block.loadHalf(at: 0)
            blockScales[b] = d
            blockMins[b] = minOffset.map { block.loadHalf(at: $0) } ?? (keepingZeroPoint ? -Float(zeroPoint) * d : 0)
            let out = values + 32 * b
            if blockBytes == 34 {
                UnsafeMutableRawPointer(out).copyMemory(from: block + quantsOffset, byteCount: 32)
                continue
            }
            let qs = (block + quantsOffset).assumingMemoryBound(to: UInt8.self)
            let qh = highBitsOffset.map { UInt32(littleEndian: block.loadUnaligned(fromByteOffset: $0, as: UInt32.self)) } ?? 0
            for j in 0..<16 {
                let low = Int32(qs[j] & 15) | Int32((qh >> UInt32(j)) & 1) << 4
                let high = Int32(qs[j] >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = Int8(truncatingIfNeeded: low - center)
                out[j + 16] = Int8(truncatingIfNeeded: high - center)
            }
        }
    }
}
#endif
