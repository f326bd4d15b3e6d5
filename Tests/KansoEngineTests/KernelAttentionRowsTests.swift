import KansoGGUF
import KansoKernelsPortable
import Testing
@testable import KansoEngine

/// The attention kernels (AttentionKernels: scores of the query heads sharing a key head, and the
/// weighted sums of value rows) under every variant this CPU runs and every KV cache type: against
/// a Double reference, and bit for bit the same whether heads go together or one by one and
/// whatever runs the rows are split into (what keeps a reproducible agent batch-invariant).
@Suite struct KernelAttentionRowsTests {
    static let cases: [(KernelVariant, KVCacheType)] = KernelVariant.runnable.flatMap { variant in
        KVCacheType.allCases.map { (variant, $0) }
    }

    /// A cache run: `count` rows of `kvHeads` heads of `dimension` values in `type`, `stride` bytes
    /// apart, and the same values as Double (after the type's rounding), [count][kvHeads · dimension].
    struct Rows {
        let bytes: UnsafeMutableRawPointer
        let stride: Int
        let exact: [[Double]]

        /// The values a row of `type` holds.
        static func decode(_ row: UnsafeRawPointer, count: Int, type: KVCacheType) -> [Double] {
            (0..<count).map { i in
                switch type {
                case .f32: Double(row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self))
                case .f16: Double(row.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self))
                case .q8_0:
                    Double(row.loadUnaligned(fromByteOffset: i / 32 * 34, as: Float16.self))
                        * Double(row.loadUnaligned(fromByteOffset: i / 32 * 34 + 2 + i % 32, as: Int8.self))
                }
            }
        }

        init(count: Int, kvHeads: Int, dimension: Int, type: KVCacheType, seed: UInt64) {
            let rowLength = kvHeads * dimension
            stride = type.byteCount(values: rowLength)
            bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * stride), alignment: 64)
            var generator = Seeded(seed)
            var exact: [[Double]] = []
            for t in 0..<count {
                let row = (0..<rowLength).map { _ in Float(generator.unit() * 2 - 1) }
                KVRowEncoding.encode(row, into: bytes + t * stride, count: rowLength, type: type)
                exact.append(Self.decode(bytes + t * stride, count: rowLength, type: type))
            }
            self.exact = exact
        }
    }

    /// A small xorshift generator: the same values on every run.
    struct Seeded {
        var state: UInt64
        init(_ seed: UInt64) { state = seed | 1 }
        mutating func unit() -> Double {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    @Test(arguments: cases)
    func groupedAndSplitRunsAgreeBitForBit(_ variant: KernelVariant, _ type: KVCacheType) {
        let kernels = AttentionKernels.of(variant)
        // three query heads a key head, two key heads; 64 values a head (the q8_0 blocks whole),
        // 37 rows (not a multiple of the four-row steps), and 80 values with a tail of 16 for f16/f32
        for dimension in type == .q8_0 ? [64] : [64, 80] {
            let kvHeads = 2, heads = 3, count = 37
            let keys = Rows(count: count, kvHeads: kvHeads, dimension: dimension, type: type, seed: 7)
            let values = Rows(count: count, kvHeads: kvHeads, dimension: dimension, type: type, seed: 11)
            defer { keys.bytes.deallocate(); values.bytes.deallocate() }
            var generator = Seeded(3)
            let queries = (0..<heads * dimension).map { _ in Float(generator.unit() * 2 - 1) }
            let headOffset = type.byteCount(values: dimension)  // the second key head
            let scale: Float = 0.125

            // together, one run
            var together = [Float](repeating: 0, count: heads * count)
            kernels.scores(queries, heads, keys.bytes + headOffset, values.bytes + headOffset, keys.stride, count, dimension, type,
                           scale, &together, count)
            // one head at a time, in runs of 5, 13 and 19 rows
            var split = [Float](repeating: 0, count: heads * count)
            for g in 0..<heads {
                var start = 0
                for run in [5, 13, 19] {
                    queries.withUnsafeBufferPointer { q in
                        split.withUnsafeMutableBufferPointer { s in
                            kernels.scores(q.baseAddress! + g * dimension, 1, keys.bytes + headOffset + start * keys.stride,
                                           values.bytes + headOffset + start * values.stride, keys.stride, run, dimension, type,
                                           scale, s.baseAddress! + g * count + start, count)
                        }
                    }
                    start += run
                }
            }
            #expect(together == split, "\(variant) \(type) \(dimension): scores")
            for g in 0..<heads {
                for t in 0..<count {
                    var exact = 0.0
                    for d in 0..<dimension { exact += Double(queries[g * dimension + d]) * keys.exact[t][dimension + d] }
                    exact *= Double(scale)
                    #expect(abs(Double(together[g * count + t]) - exact) < 1e-5 * Double(dimension), "\(variant) \(type) score \(g) \(t)")
                }
            }

            // weighted sums: together in one run, against head by head in runs
            let weights = (0..<heads * count).map { _ in Float(generator.unit()) }
            var sums = [Float](repeating: 0, count: heads * dimension)
            kernels.accumulate(values.bytes + headOffset, values.stride, weights, count, heads, count, dimension, type, &sums)
            var headByHead = [Float](repeating: 0, count: heads * dimension)
            for g in 0..<heads {
                var start = 0
                for run in [5, 13, 19] {
                    weights.withUnsafeBufferPointer { w in
                        headByHead.withUnsafeMutableBufferPointer { o in
                            kernels.accumulate(values.bytes + headOffset + start * values.stride, values.stride,
                                               w.baseAddress! + g * count + start, count, 1, run, dimension, type,
                                               o.baseAddress! + g * dimension)
                        }
                    }
                    start += run
                }
            }
            #expect(sums == headByHead, "\(variant) \(type) \(dimension): weighted sums")
            for g in 0..<heads {
                for d in 0..<dimension {
                    var exact = 0.0
                    for t in 0..<count { exact += Double(weights[g * count + t]) * values.exact[t][dimension + d] }
                    #expect(abs(Double(sums[g * dimension + d]) - exact) < 1e-5 * Double(count), "\(variant) \(type) sum \(g) \(d)")
                }
            }
        }
    }
}
