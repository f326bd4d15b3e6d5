import KansoConcurrency
import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

/// Matrices repacked at load into groups of eight interleaved rows (PackedRowGroups.swift: Q8_0,
/// Q4_0, Q4_K on machines with AVX2 and no AVX-512 VNNI): the multiplies read only the packed
/// copy (Q4_K prompt batches its rows read back in the file's form), so they
/// must give the exact dot within the activation rounding bound for one vector and for several,
/// for row ranges that cut a group, and write no row outside the range; a row lookup (tied
/// embeddings) must dequantize as the file's row does. Packing must hand every source byte to
/// `release` once per piece and then the whole matrix, so the loader can drop the file's pages.
@Suite(.enabled(if: WeightMatrix.packedFormsAreBuilt, "this build has no packed kernels (they are built where the building CPU has AVX2)"))
struct KernelPackedRowsTests {
    /// 21 rows (two whole groups and one of five) of 2,048 columns (eight super-blocks, as the
    /// 1B shape's rows), each made of the golden file's 512-column rows of `type` side by side in
    /// varying orders, with their reference floats.
    static func matrix(_ type: GGMLType) throws -> (WeightMatrix, [Float]) {
        let file = try GGUFFile(path: quantGoldensPath)
        let (weights, reference) = try QuantGoldenTests.golden(type, in: file)
        let source = try WeightMatrix(file: file, tensor: weights)
        let rows = 21, pieces = 4
        var bytes: [UInt8] = [], floats: [Float] = []
        for r in 0..<rows {
            for piece in 0..<pieces {
                let from = (r * 3 + r / 4 + piece * 5) % source.rows
                bytes += UnsafeRawBufferPointer(start: source.rowBytes(from), count: source.rowByteCount)
                floats += reference[(from * source.columns)..<((from + 1) * source.columns)]
            }
        }
        return (try WeightMatrix(name: "\(type).packed", type: type, rows: rows, columns: pieces * source.columns, bytes: bytes), floats)
    }

    @Test(arguments: [GGMLType.q8_0, .q4_0, .q4_K])
    func packedMultiplyMatchesExactDot(_ type: GGMLType) throws {
        let (plain, reference) = try Self.matrix(type)
        try #require(plain.hasPackedForm, "\(type) has no packed form in this build (x86 with AVX2 only)")
        let pool = ThreadPool(threads: 2)
        let released = Lock()
        var releasedRanges: [Range<Int>] = []
        let start = plain.rowBytes(0)
        let packed = plain.packedForKernels(pool: pool) { pointer, count in
            let offset = start.distance(to: pointer)
            released.lock(); releasedRanges.append(offset..<(offset + count)); released.unlock()
        }
        // every source byte released once as its piece is copied, then the whole matrix once more
        let whole = 0..<(plain.rows * plain.rowByteCount)
        #expect(releasedRanges.last == whole)
        let sorted = releasedRanges.dropLast().sorted { $0.lowerBound < $1.lowerBound }
        #expect(sorted.first?.lowerBound == 0 && sorted.last?.upperBound == whole.upperBound)
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.upperBound == b.lowerBound, "\(a) then \(b)") }

        var fromFile = [Float](repeating: 0, count: plain.columns), fromPacked = fromFile
        for r in 0..<plain.rows {
            plain.row(r, into: &fromFile)
            packed.row(r, into: &fromPacked)
            #expect(fromFile == fromPacked, "\(type) row \(r) looked up in the packed copy")
        }

        let columns = plain.columns, n = 7
        let x = KernelMultiplyTests.activation(n * columns, seed: 5)
        for rows in [0..<21, 3..<19, 9..<10, 16..<21] {
            for count in [1, n] {
                var y = [Float](repeating: .nan, count: count * plain.rows)
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        packed.multiply(batch: xb.baseAddress!, count: count, into: yb.baseAddress!, rows: rows)
                    }
                }
                KernelMultiplyTests.expectExactProducts(
                    y, of: type, reference: reference, columns: columns, x: x, vectors: count, rows: rows,
                    blockSize: count == 1 ? singleVectorActivationBlockSize(type) : batchActivationBlockSize(type))
            }
        }
    }

    /// One vector through the packed copy and through the file's rows: the same activation
    /// quantization and the same integer sums, so they differ only by float rounding.
    @Test(arguments: [GGMLType.q8_0, .q4_0, .q4_K])
    func packedAgreesWithRowDots(_ type: GGMLType) throws {
        let (plain, _) = try Self.matrix(type)
        try #require(plain.hasPackedForm, "\(type) has no packed form in this build (x86 with AVX2 only)")
        let packed = plain.packedForKernels(pool: ThreadPool(threads: 1)) { _, _ in }
        let x = KernelMultiplyTests.activation(plain.columns, seed: 9)
        var fromRows = [Float](repeating: .nan, count: plain.rows), fromPacked = fromRows
        plain.multiply(x, into: &fromRows, rows: 0..<plain.rows)
        packed.multiply(x, into: &fromPacked, rows: 0..<plain.rows)
        let scale = Double(fromRows.map(abs).max() ?? 1)
        for r in 0..<plain.rows {
            #expect(abs(Double(fromPacked[r] - fromRows[r])) <= 1e-5 * scale, "\(type) row \(r): packed \(fromPacked[r]) vs rows \(fromRows[r])")
        }
    }

    /// Types without a packed form are left as they are.
    @Test func otherTypesStayUnpacked() throws {
        let (plain, _) = try Self.matrix(.q5_1)
        #expect(!plain.hasPackedForm)
    }
}
