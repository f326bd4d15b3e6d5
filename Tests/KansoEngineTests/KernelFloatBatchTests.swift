import KansoGGUF
import KansoKernelCore
import Testing
@testable import KansoEngine

/// The prompt-batch kernels of the float types (F32, F16, BF16) under every variant this CPU
/// runs: a matrix whose rows fill a whole chunk of the batch kernels and part of another (45
/// rows: 32 + 13, or 16 + 16 + 13), of a column count that is not a multiple of four, against a
/// float64 dot of the stored values; and the same bits for a vector whatever else is in its batch
/// (KVCache.batchInvariant: a reproducible agent's single vectors go through the batch kernel too).
@Suite struct KernelFloatBatchTests {
    static let typesAndVariants = [GGMLType.f32, .f16, .bf16].flatMap { type in KernelVariant.runnable.map { (type, $0) } }

    /// A rows × columns matrix of `type` from deterministic values, and the values as stored.
    static func matrix(_ type: GGMLType, rows: Int, columns: Int, kernels variant: KernelVariant) throws -> (WeightMatrix, [Float]) {
        let values = KernelMultiplyTests.activation(rows * columns, seed: 23)
        let bytes: [UInt8] = values.withUnsafeBytes { raw in
            switch type {
            case .f32: return Array(raw)
            case .f16: return values.flatMap { withUnsafeBytes(of: halfFromFloat($0).littleEndian, Array.init) }
            default: return values.flatMap { withUnsafeBytes(of: UInt16($0.bitPattern >> 16).littleEndian, Array.init) }
            }
        }
        let matrix = try WeightMatrix(type: type, rows: rows, columns: columns, bytes: bytes, kernels: variant)
        var stored = [Float](repeating: 0, count: rows * columns), row = [Float](repeating: 0, count: columns)
        for r in 0..<rows {
            matrix.row(r, into: &row)
            stored.replaceSubrange((r * columns)..<((r + 1) * columns), with: row)
        }
        return (matrix, stored)
    }

    /// y for vectors `vectors` of x through the batch kernel, [vectors.count, matrix.rows] (NaN where not computed).
    static func batch(_ matrix: WeightMatrix, _ x: [Float], vectors: Range<Int>, rows: Range<Int>) -> [Float] {
        var y = [Float](repeating: .nan, count: vectors.count * matrix.rows)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                matrix.multiply(batch: xb.baseAddress! + vectors.lowerBound * matrix.columns, count: vectors.count,
                                into: yb.baseAddress!, rows: rows, batchKernel: true)
            }
        }
        return y
    }

    /// Within the rounding of a chain of `columns` multiply-adds (columns · 2^-24 of Σ|w·x|), and
    /// of x to bfloat16 where the kernel rounds it.
    @Test(arguments: typesAndVariants)
    func batchMatchesFloat64Dot(_ type: GGMLType, _ variant: KernelVariant) throws {
        let rows = 45, columns = 1_539, n = 13
        let (matrix, stored) = try Self.matrix(type, rows: rows, columns: columns, kernels: variant)
        let x = KernelMultiplyTests.activation(n * columns, seed: 29)
        let bfloat16 = matrix.kernel(vectors: 2).bfloat16Activation
        for range in [0..<rows, 3..<41] {
            let y = Self.batch(matrix, x, vectors: 0..<n, rows: range)
            for v in 0..<n {
                for r in 0..<rows {
                    let got = y[v * rows + r]
                    guard range.contains(r) else {
                        #expect(got.isNaN, "\(type) \(variant) row \(r) outside \(range) was written")
                        continue
                    }
                    let products = (0..<columns).map { Double(stored[r * columns + $0]) * Double(x[v * columns + $0]) }
                    let exact = products.reduce(0, +), magnitude = products.map(abs).reduce(0, +)
                    let bound = Double(columns) * 0x1p-24 * magnitude + (bfloat16 ? magnitude / 256 : 0) + 1e-6
                    #expect(abs(Double(got) - exact) <= bound, "\(type) \(variant) vector \(v) row \(r): \(got) vs \(exact)")
                }
            }
        }
    }

    /// A vector alone, in a batch of two, seven and thirteen (every tile width and a remainder),
    /// and for a row range that cuts the chunks elsewhere: the same bits.
    @Test(arguments: typesAndVariants)
    func vectorGetsTheSameBitsInAnyBatch(_ type: GGMLType, _ variant: KernelVariant) throws {
        let rows = 45, columns = 579, n = 13
        let (matrix, _) = try Self.matrix(type, rows: rows, columns: columns, kernels: variant)
        let x = KernelMultiplyTests.activation(n * columns, seed: 31)
        let all = Self.batch(matrix, x, vectors: 0..<n, rows: 0..<rows)
        func expected(_ v: Int, _ range: Range<Int>) -> [Float] { Array(all[(v * rows + range.lowerBound)..<(v * rows + range.upperBound)]) }
        for v in 0..<n {
            let alone = Self.batch(matrix, x, vectors: v..<(v + 1), rows: 0..<rows)
            #expect(alone.map(\.bitPattern) == expected(v, 0..<rows).map(\.bitPattern), "\(type) \(variant) vector \(v) alone")
            for size in [2, 7] {
                let first = max(0, min(v - size / 2, n - size))
                let y = Self.batch(matrix, x, vectors: first..<(first + size), rows: 0..<rows)
                let mine = Array(y[((v - first) * rows)..<((v - first + 1) * rows)])
                #expect(mine.map(\.bitPattern) == expected(v, 0..<rows).map(\.bitPattern), "\(type) \(variant) vector \(v) in \(first)..<\(first + size)")
            }
            let cut = 5..<37
            let y = Self.batch(matrix, x, vectors: v..<(v + 1), rows: cut)
            #expect(Array(y[cut]).map(\.bitPattern) == expected(v, cut).map(\.bitPattern), "\(type) \(variant) vector \(v), rows \(cut)")
        }
    }
}
