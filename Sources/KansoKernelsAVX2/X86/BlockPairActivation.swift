// One activation vector in blocks of 32 (as QuantizedActivation) laid out in the order of Q4_0's
// nibbles two blocks at a time, for the x86 generation dots of Q4_0 and Q5_0 (dotQ4_0PairsSIMD,
// dotQ5_0PairsSIMD in LegacyQuantDotSIMD.swift; Q5_0 keeps its nibbles in the same order):
// a Q4_0 block keeps elements 0-15 in the low nibbles and 16-31 in the high ones, so with the
// 16 packed bytes of blocks b and b + 1 in one 256-bit register, `& 0x0F` meets
// [x_b 0-15 | x_b+1 0-15] and `>> 4` meets [x_b 16-31 | x_b+1 16-31]: one load and three
// instructions unpack two blocks, and int32 lanes 0-3 are block b, lanes 4-7 block b + 1, so one
// convert and one multiply-add scale both. The zero point z of w = q − z (8 for Q4_0, 16 for
// Q5_0) is precomputed per pair as the lanes' starting value −z·Σx, since it depends on x only.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

/// Views into scratch memory for one activation vector of `columns` elements (a multiple of 64).
struct BlockPairActivation {
    /// [columns] int8 quants, per 64: x_b 0-15, x_b+1 0-15, x_b 16-31, x_b+1 16-31
    let quants: UnsafeMutablePointer<Int8>
    /// [columns / 64, 8] per pair: d_b four times, d_b+1 four times (x ≈ d · q)
    let laneScales: UnsafeMutablePointer<Float>
    /// [columns / 64, 8] per pair: −z · Σ of the quants that meet each int32 lane
    let laneOffsets: UnsafeMutablePointer<Int32>
    let columns: Int
    /// Where the blocks are quantized in element order before they are reordered.
    private let staging: UnsafeMutableRawPointer

    var pairs: Int { columns / 64 }

    static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(columns) + 2 * ThreadScratch.aligned(4 * 8 * (columns / 64))
            + QuantizedActivation.byteCount(columns: columns, vectors: 1)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        let pairs = columns / 64
        let scalesOffset = ThreadScratch.aligned(columns)
        let offsetsOffset = scalesOffset + ThreadScratch.aligned(4 * 8 * pairs)
        quants = memory.bindMemory(to: Int8.self, capacity: columns)
        laneScales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: 8 * pairs)
        laneOffsets = (memory + offsetsOffset).bindMemory(to: Int32.self, capacity: 8 * pairs)
        staging = memory + offsetsOffset + ThreadScratch.aligned(4 * 8 * pairs)
        self.columns = columns
    }

    /// Quantizes `x` (`columns` floats) per block of 32 as QuantizedActivation does, then
    /// reorders; `zeroPoint` is the z of the weights' w = q − z.
    func quantize(_ x: UnsafePointer<Float>, zeroPoint: Int32) {
        let blocks = QuantizedActivation(memory: staging, columns: columns, vectors: 1)
        quantizeActivation(blocks, x, vector: 0)
        for pair in 0..<pairs {
            for side in 0..<2 {  // block 2·pair + side
                let source = blocks.quants + 64 * pair + 32 * side
                let destination = quants + 64 * pair + 16 * side
                destination.update(from: source, count: 16)
                (destination + 32).update(from: source + 16, count: 16)
                for lane in 0..<4 {
                    var sum: Int32 = 0
                    for k in 0..<4 { sum += Int32(source[4 * lane + k]) + Int32(source[16 + 4 * lane + k]) }
                    laneOffsets[8 * pair + 4 * side + lane] = -zeroPoint * sum
                    laneScales[8 * pair + 4 * side + lane] = blocks.scales[2 * pair + side]
                }
            }
        }
    }
}
#endif
