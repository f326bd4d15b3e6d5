import KansoConcurrency
import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

/// Matrices repacked at load into groups of eight interleaved rows (PackedRowGroups.swift: Q8_0,
/// Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS under the x86 kernel variants), under every variant this CPU runs that packs: the
/// multiplies read only the packed copy, so they must give the exact dot within the activation
/// rounding bound for one vector and for several, for row ranges that cut a group, and write no
/// row outside the range; a row lookup (tied embeddings) must dequantize as the file's row does.
/// Packing must hand every source byte to `release` once per piece and then the whole matrix, so
/// the loader can drop the file's pages.
@Suite struct KernelPackedRowsTests {
    /// The variants this CPU runs whose kernels pack `type`.
    static func packingVariants(_ types: [GGMLType]) -> [(GGMLType, KernelVariant)] {
        types.flatMap { type in
            KernelVariant.runnable.filter { MatrixKernels.of(type, columns: 2048, on: $0).packed != nil }.map { (type, $0) }
        }
    }

    /// 21 rows (two whole groups and one of five) of 2,048 columns (eight super-blocks, as the
    /// 1B shape's rows), each made of the golden file's 512-column rows of `type` side by side in
    /// varying orders, with their reference floats.
    static func matrix(_ type: GGMLType, kernels variant: KernelVariant? = nil) throws -> (WeightMatrix, [Float]) {
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
        return (try WeightMatrix(name: "\(type).packed", type: type, rows: rows, columns: pieces * source.columns, bytes: bytes,
                                 kernels: variant), floats)
    }

    @Test(arguments: packingVariants([.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs]))
    func packedMultiplyMatchesExactDot(_ type: GGMLType, _ variant: KernelVariant) throws {
        let (plain, reference) = try Self.matrix(type, kernels: variant)
        try #require(plain.hasPackedForm, "\(type) has no packed form under \(variant)")
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
            for count in [1, 2, 6, n] {  // (two and six: the two-vector tiles)
                var y = [Float](repeating: .nan, count: count * plain.rows)
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        packed.multiply(batch: xb.baseAddress!, count: count, into: yb.baseAddress!, rows: rows)
                    }
                }
                KernelMultiplyTests.expectExactProducts(
                    y, of: type, reference: reference, columns: columns, x: x, vectors: count, rows: rows,
                    blockSize: packed.kernel(vectors: count).activationBlock)
            }
        }
    }

    /// One vector through the packed copy and through the file's rows: where both quantize the
    /// activation alike, the integer sums are the same and they differ only by float rounding;
    /// where not (IQ4_XS: blocks of 32 row by row, super-blocks of 256 packed), by up to both
    /// activation rounding bounds.
    @Test(arguments: packingVariants([.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs]))
    func packedAgreesWithRowDots(_ type: GGMLType, _ variant: KernelVariant) throws {
        let (plain, reference) = try Self.matrix(type, kernels: variant)
        try #require(plain.hasPackedForm, "\(type) has no packed form under \(variant)")
        let packed = plain.packedForKernels(pool: ThreadPool(threads: 1)) { _, _ in }
        let x = KernelMultiplyTests.activation(plain.columns, seed: 9)
        var fromRows = [Float](repeating: .nan, count: plain.rows), fromPacked = fromRows
        plain.multiply(x, into: &fromRows, rows: 0..<plain.rows)
        packed.multiply(x, into: &fromPacked, rows: 0..<plain.rows)
        let scale = Double(fromRows.map(abs).max() ?? 1)
        let rowBlock = plain.kernel(vectors: 1).activationBlock, packedBlock = packed.kernel(vectors: 1).activationBlock
        for r in 0..<plain.rows {
            var bound = 1e-5 * scale
            if rowBlock != packedBlock {
                let w = reference[(r * plain.columns)..<((r + 1) * plain.columns)]
                bound += KernelMultiplyTests.tolerance(type, row: w, x: x, blockSize: rowBlock)
                    + KernelMultiplyTests.tolerance(type, row: w, x: x, blockSize: packedBlock)
            }
            #expect(abs(Double(fromPacked[r] - fromRows[r])) <= bound, "\(type) row \(r): packed \(fromPacked[r]) vs rows \(fromRows[r])")
        }
    }

    /// A batch kernel writes only its rows of its vectors: a guard vector after y and the rows
    /// outside the range keep their values, for counts whose last tile has one, two or three
    /// vectors (the tile loops once stored a second vector's rows past y's end).
    @Test(arguments: packingVariants([.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs]))
    func batchKernelsWriteOnlyTheirOutputs(_ type: GGMLType, _ variant: KernelVariant) throws {
        let (plain, _) = try Self.matrix(type, kernels: variant)
        let packed = plain.packedForKernels(pool: ThreadPool(threads: 1)) { _, _ in }
        let columns = plain.columns, rows = plain.rows, guardValue: Float = -12_345
        let x = KernelMultiplyTests.activation(10 * columns, seed: 13)
        for matrix in [plain, packed] {
            for count in [2, 3, 5, 6, 9] {
                for range in [0..<rows, 3..<19] {
                    var y = [Float](repeating: guardValue, count: (count + 1) * rows)  // (the last vector: the guard)
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            matrix.multiply(batch: xb.baseAddress!, count: count, into: yb.baseAddress!, rows: range, batchKernel: true)
                        }
                    }
                    for v in 0...count {
                        for r in 0..<rows where v == count || !range.contains(r) {
                            #expect(y[v * rows + r] == guardValue, "\(type) \(count) vectors, rows \(range): vector \(v) row \(r) written")
                        }
                    }
                }
            }
        }
    }

    /// Every Q6_K kernel gives a vector the same bits, whatever else is in its batch: the packed
    /// kernels for one vector and for several, and the batch kernel of the file's rows (the
    /// integer sums are exact and the float steps the same), so that a reproducible agent's
    /// tokens do not depend on the batch its passes share (KVCache.batchInvariant).
    @Test(arguments: packingVariants([.q6_K]))
    func q6KKernelsAgreeBitForBit(_ type: GGMLType, _ variant: KernelVariant) throws {
        let (plain, _) = try Self.matrix(type, kernels: variant)
        let packed = plain.packedForKernels(pool: ThreadPool(threads: 1)) { _, _ in }
        let columns = plain.columns, rows = plain.rows, n = 7
        let x = KernelMultiplyTests.activation(n * columns, seed: 11)
        func multiply(_ matrix: WeightMatrix, vectors: Range<Int>, batchKernel: Bool = false) -> [Float] {
            var y = [Float](repeating: .nan, count: vectors.count * rows)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    matrix.multiply(batch: xb.baseAddress! + vectors.lowerBound * columns, count: vectors.count, into: yb.baseAddress!,
                                    rows: 0..<rows, batchKernel: batchKernel)
                }
            }
            return y
        }
        let fromRows = multiply(plain, vectors: 0..<n, batchKernel: true)
        #expect(multiply(packed, vectors: 0..<n) == fromRows, "the packed batch kernel against the file rows' batch kernel")
        for v in 0..<n {
            let expected = Array(fromRows[(v * rows)..<((v + 1) * rows)])
            #expect(multiply(packed, vectors: v..<(v + 1)) == expected, "vector \(v) alone")
            #expect(multiply(packed, vectors: v..<(v + 1), batchKernel: true) == expected, "vector \(v) alone, batch kernel")
        }
        #expect(multiply(packed, vectors: 2..<5) == Array(fromRows[(2 * rows)..<(5 * rows)]), "three vectors")
    }

    /// Types without a packed form, and every type under the portable kernels, are left as they are.
    @Test func otherTypesStayUnpacked() throws {
        for variant in KernelVariant.runnable {
            let (plain, _) = try Self.matrix(.q3_K, kernels: variant)
            #expect(!plain.hasPackedForm, "Q3_K under \(variant)")
        }
        let (portable, _) = try Self.matrix(.q8_0, kernels: .portable)
        #expect(!portable.hasPackedForm)
        let packed = portable.packedForKernels(pool: ThreadPool(threads: 1)) { _, _ in Issue.record("nothing to release") }
        #expect(packed.packedBytes == nil)
    }
}
