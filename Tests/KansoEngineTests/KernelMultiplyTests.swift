import KansoGGUF
import KansoKernelCore
import Foundation
import KansoTestSupport
import Testing
@testable import KansoEngine

/// Matrix-vector products of every supported type, under every kernel variant this CPU runs,
/// against a float64 dot of the dequantized weights. Float types (and Q2_K/Q3_K, multiplied by
/// dequantizing) must agree to float rounding. Quantized types quantize x to int8 per block of 32
/// (or per super-block of 256 in the kernels that say so, as llama.cpp's Q8_K: Kernel.activationBlock)
/// with scale d = max|x|/127, so each x element is off by at most d/2: the product is off by at
/// most Σc |W[r,c]|·d(c)/2, which is the tolerance (plus float rounding).
@Suite struct KernelMultiplyTests {
    /// Every type of the golden file under every variant this CPU runs.
    static let typesAndVariants = QuantGoldenTests.types.flatMap { type in KernelVariant.runnable.map { (type, $0) } }

    static let quantizedActivationTypes: Set<GGMLType> = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs]

    /// A deterministic activation vector with varied magnitudes.
    static func activation(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let unit = Float(generator.next() % 2_000_001) / 1_000_000 - 1
            return unit * (generator.next() % 8 == 0 ? 4 : 1)
        }
    }

    /// Bound on |y − exact| for row `r` with weights `w` and activation `x`, which the kernel
    /// quantized in blocks of `blockSize` (the quantized types) or rounded to bfloat16 (a relative
    /// error of at most 2^-8 per element).
    static func tolerance(_ type: GGMLType, row w: ArraySlice<Float>, x: [Float],
                          blockSize: Int = activationBlockSize, bfloat16: Bool = false) -> Double {
        var bound = 0.0
        var magnitude = 0.0
        for (c, weight) in zip(0..<x.count, w) {
            magnitude += Double(abs(weight) * abs(x[c]))
        }
        if quantizedActivationTypes.contains(type) {
            for block in 0..<(x.count / blockSize) {
                let d = Double(x[(block * blockSize)..<(block * blockSize + blockSize)].map(abs).max()!) / 127
                for c in (block * blockSize)..<(block * blockSize + blockSize) {
                    bound += Double(abs(w[w.startIndex + c])) * d / 2
                }
            }
        }
        if bfloat16 { bound += magnitude / 256 }
        return bound * 1.001 + magnitude * 1e-5 + 1e-6
    }

    @Test(arguments: typesAndVariants)
    func multiplyMatchesDequantizedDot(_ type: GGMLType, _ variant: KernelVariant) throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let (weights, reference) = try QuantGoldenTests.golden(type, in: file)
        let matrix = try WeightMatrix(file: file, tensor: weights, kernels: variant)
        let x = Self.activation(matrix.columns, seed: 7)
        var y = [Float](repeating: .nan, count: matrix.rows)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                matrix.multiply(xb.baseAddress!, into: yb.baseAddress!, rows: 0..<matrix.rows)
            }
        }
        for r in 0..<matrix.rows {
            let w = reference[(r * matrix.columns)..<((r + 1) * matrix.columns)]
            let exact = zip(w, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let tolerance = Self.tolerance(type, row: w, x: x, blockSize: matrix.kernel(vectors: 1).activationBlock)
            #expect(abs(Double(y[r]) - exact) <= tolerance, "\(type) \(variant) row \(r): \(y[r]) vs \(exact), tolerance \(tolerance)")
        }
    }

    /// Several vectors at once (the prompt path: under the x86 variants a different kernel, tiled
    /// eight or sixteen rows by four vectors) give the single-vector results up to float summation
    /// order: the integer block sums are exact, so the bound is a few float roundings of the row's
    /// magnitude. Where the two quantize the activation in different blocks (one vector of Q5_K
    /// takes blocks of 32, several super-blocks of 256), they differ by up to both activation
    /// rounding bounds; each result is also checked against the exact dot with its own bound.
    @Test(arguments: typesAndVariants)
    func batchMatchesSingleVector(_ type: GGMLType, _ variant: KernelVariant) throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let (weights, reference) = try QuantGoldenTests.golden(type, in: file)
        let matrix = try WeightMatrix(file: file, tensor: weights, kernels: variant)
        let singleBlocks = matrix.kernel(vectors: 1).activationBlock, batchBlocks = matrix.kernel(vectors: 2).activationBlock
        let batchBFloat16 = matrix.kernel(vectors: 2).bfloat16Activation
        let n = 7  // one tile of four vectors and a remainder of three
        let x = Self.activation(n * matrix.columns, seed: 11)
        for rows in [0..<matrix.rows, 1..<matrix.rows] {  // an even and an odd number of rows
            var batch = [Float](repeating: .nan, count: n * matrix.rows)
            x.withUnsafeBufferPointer { xb in
                batch.withUnsafeMutableBufferPointer { yb in
                    matrix.multiply(batch: xb.baseAddress!, count: n, into: yb.baseAddress!, rows: rows)
                }
            }
            for vector in 0..<n {
                var single = [Float](repeating: .nan, count: matrix.rows)
                x.withUnsafeBufferPointer { xb in
                    single.withUnsafeMutableBufferPointer { yb in
                        matrix.multiply(xb.baseAddress! + vector * matrix.columns, into: yb.baseAddress!, rows: rows)
                    }
                }
                let scale = single[rows].map(abs).max() ?? 0
                let xv = Array(x[(vector * matrix.columns)..<((vector + 1) * matrix.columns)])
                for r in rows {
                    let got = batch[vector * matrix.rows + r]
                    var bound = 1e-5 * Double(max(scale, 1))
                    if singleBlocks != batchBlocks || batchBFloat16 {
                        let w = reference[(r * matrix.columns)..<((r + 1) * matrix.columns)]
                        bound += Self.tolerance(type, row: w, x: xv, blockSize: batchBlocks, bfloat16: batchBFloat16)
                            + Self.tolerance(type, row: w, x: xv, blockSize: singleBlocks)
                    }
                    #expect(Double(abs(got - single[r])) <= bound, "\(type) \(variant) vector \(vector) row \(r): \(got) vs \(single[r])")
                    // and against the exact dot, within the batch's own activation rounding
                    let w = reference[(r * matrix.columns)..<((r + 1) * matrix.columns)]
                    let exact = zip(w, xv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    let exactBound = Self.tolerance(type, row: w, x: xv, blockSize: batchBlocks, bfloat16: batchBFloat16)
                    #expect(abs(Double(got) - exact) <= exactBound, "\(type) \(variant) vector \(vector) row \(r): \(got) vs exact \(exact)")
                }
                if rows.lowerBound > 0 { #expect(batch[vector * matrix.rows].isNaN, "\(type): row 0 was not asked for") }
            }
        }
    }

    /// Prompt batches through a matrix read from the file take sixteen rows at a time (two
    /// interleaved groups of eight with AVX-512 VNNI, one with AVX2): a matrix of 21 rows (a
    /// whole sixteen and five), with row ranges that cut the groups, gives the exact dot for every
    /// vector within the activation rounding bound and writes no row outside the range.
    @Test(arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs].flatMap { type in
        KernelVariant.runnable.map { (type, $0) }
    })
    func batchOfManyRowsMatchesExactDot(_ type: GGMLType, _ variant: KernelVariant) throws {
        let (matrix, reference) = try KernelPackedRowsTests.matrix(type, kernels: variant)  // (read from its rows, not packed)
        let columns = matrix.columns, n = 6
        let x = Self.activation(n * columns, seed: 13)
        for rows in [0..<21, 3..<19, 9..<10, 16..<21] {
            var y = [Float](repeating: .nan, count: n * matrix.rows)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    matrix.multiply(batch: xb.baseAddress!, count: n, into: yb.baseAddress!, rows: rows)
                }
            }
            Self.expectExactProducts(y, of: type, reference: reference, columns: columns, x: x, vectors: n, rows: rows,
                                     blockSize: matrix.kernel(vectors: n).activationBlock)
        }
    }

    /// y ([vectors, reference rows]) holds, for each vector of x and each row in `rows`, the exact
    /// dot of the row's reference floats with the vector, within the rounding bound of an
    /// activation quantized in blocks of `blockSize`, and NaN (unwritten) for every other row.
    static func expectExactProducts(_ y: [Float], of type: GGMLType, reference: [Float], columns: Int, x: [Float],
                                    vectors: Int, rows: Range<Int>, blockSize: Int) {
        let rowCount = reference.count / columns
        for vector in 0..<vectors {
            let xv = Array(x[(vector * columns)..<((vector + 1) * columns)])
            for r in 0..<rowCount {
                let got = y[vector * rowCount + r]
                guard rows.contains(r) else {
                    #expect(got.isNaN, "\(type) row \(r) is outside \(rows) but was written")
                    continue
                }
                let w = reference[(r * columns)..<((r + 1) * columns)]
                let exact = zip(w, xv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let bound = tolerance(type, row: w, x: xv, blockSize: blockSize)
                #expect(abs(Double(got) - exact) <= bound,
                        "\(type) \(vectors) vectors, rows \(rows), vector \(vector) row \(r): \(got) vs exact \(exact), bound \(bound)")
            }
        }
    }

    /// Float rows of a length that is no multiple of the kernels' steps (a tail summed one element
    /// at a time), with one vector and with five (a tile of four and one more): the exact dot of
    /// the values as stored, to float rounding (and the rounding of x to bfloat16 in the kernels
    /// that do it).
    @Test(arguments: [GGMLType.f32, .f16, .bf16].flatMap { type in KernelVariant.runnable.map { (type, $0) } })
    func floatRowsOfAnyLength(_ type: GGMLType, _ variant: KernelVariant) throws {
        let rows = 3, columns = 53, n = 5
        let values = Self.activation(rows * columns, seed: 17)
        let bytes: [UInt8] = values.withUnsafeBytes { raw in
            switch type {
            case .f32: return Array(raw)
            case .f16: return values.flatMap { withUnsafeBytes(of: halfFromFloat($0).littleEndian, Array.init) }
            default: return values.flatMap { withUnsafeBytes(of: UInt16($0.bitPattern >> 16).littleEndian, Array.init) }
            }
        }
        let matrix = try WeightMatrix(type: type, rows: rows, columns: columns, bytes: bytes, kernels: variant)
        var stored = [Float](repeating: 0, count: columns)
        let x = Self.activation(n * columns, seed: 19)
        for count in [1, n] {
            var y = [Float](repeating: .nan, count: count * rows)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { matrix.multiply(batch: xb.baseAddress!, count: count, into: $0.baseAddress!, rows: 0..<rows) }
            }
            for r in 0..<rows {
                matrix.row(r, into: &stored)
                for v in 0..<count {
                    let products = (0..<columns).map { Double(stored[$0]) * Double(x[v * columns + $0]) }
                    let exact = products.reduce(0, +), magnitude = products.map(abs).reduce(0, +)
                    let rounding = matrix.kernel(vectors: count).bfloat16Activation ? magnitude / 256 : 0
                    #expect(abs(Double(y[v * rows + r]) - exact) <= 1e-5 * magnitude + rounding + 1e-6,
                            "\(type) \(variant) \(count) vectors, row \(r) vector \(v): \(y[v * rows + r]) vs \(exact)")
                }
            }
        }
    }

    @Test func onlyRequestedRowsAreWritten() throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let matrix = try WeightMatrix(file: file, tensor: try #require(file.tensor(named: "q8_0.weights")))
        let x = Self.activation(matrix.columns, seed: 3)
        var y = [Float](repeating: -42, count: matrix.rows)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                matrix.multiply(xb.baseAddress!, into: yb.baseAddress!, rows: 1..<3)
                // Rows past the end are ignored rather than written.
                matrix.multiply(xb.baseAddress!, into: yb.baseAddress!, rows: 4..<9)
            }
        }
        #expect(y[0] == -42 && y[3] == -42)
        #expect(y[1] != -42 && y[2] != -42)
    }

    @Test func zeroAndSparseActivations() throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let matrix = try WeightMatrix(file: file, tensor: try #require(file.tensor(named: "q4_k.weights")))
        var x = [Float](repeating: 0, count: matrix.columns)
        var y = [Float](repeating: .nan, count: matrix.rows)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { matrix.multiply(xb.baseAddress!, into: $0.baseAddress!, rows: 0..<matrix.rows) }
        }
        #expect(y == [Float](repeating: 0, count: matrix.rows))
        x[300] = 1  // picks one column exactly: x quantizes to q = 127, d = 1/127
        var column = [Float](repeating: 0, count: matrix.columns)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { matrix.multiply(xb.baseAddress!, into: $0.baseAddress!, rows: 0..<matrix.rows) }
        }
        for r in 0..<matrix.rows {
            column.withUnsafeMutableBufferPointer { matrix.row(r, into: $0.baseAddress!) }
            #expect(abs(y[r] - column[300]) <= abs(column[300]) * 1e-5 + 1e-6)
        }
    }

    @Test func rowOutOfRangeWritesNaN() throws {
        let matrix = try WeightMatrix(type: .f32, rows: 2, columns: 4, bytes: [UInt8](repeating: 0, count: 32))
        var row = [Float](repeating: 1, count: 4)
        row.withUnsafeMutableBufferPointer { matrix.row(2, into: $0.baseAddress!) }
        #expect(row.allSatisfy { $0.isNaN })
        row.withUnsafeMutableBufferPointer { matrix.row(1, into: $0.baseAddress!) }
        #expect(row == [0, 0, 0, 0])
    }
}
