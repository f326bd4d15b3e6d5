// The engine decodes the fixtures' stored weight blocks (every type: F32, F16, BF16, Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) to the same values as gguf-py, the ggml project's Python
// reader, which the fixture script used (golden `dequantizedRows`). Both compute in float32 in the
// order ggml-quants.c does, so the bound is a few float32 ulps of the row's largest value.

import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

@Suite struct FidelityWeightRowsTests {
    @Test("weight rows dequantize as gguf-py decodes them", arguments: FidelityFixtures.names)
    func weightRows(_ name: String) throws {
        let golden = try FidelityFixtures.golden(name)
        let file = try GGUFFile(path: FidelityFixtures.modelPath(name))
        try #require(!golden.dequantizedRows.isEmpty)
        for sample in golden.dequantizedRows {
            let info = try #require(file.tensor(named: sample.tensor), "\(golden.fixture): no tensor \(sample.tensor)")
            let matrix = try WeightMatrix(file: file, tensor: info)
            try #require(matrix.columns == sample.values.count)
            var row = [Float](repeating: .nan, count: matrix.columns)
            row.withUnsafeMutableBufferPointer { matrix.row(sample.row, into: $0.baseAddress!) }
            let largest = sample.values.map(abs).max() ?? 0
            let bound = 4 * largest.ulp
            var worst: (index: Int, difference: Float) = (-1, 0)
            for (index, (value, expected)) in zip(row, sample.values).enumerated() {
                let difference = abs(value - expected)
                if !(difference <= worst.difference) { worst = (index, difference) }  // NaN counts as worst
            }
            #expect(worst.difference <= bound,
                    "\(golden.fixture) \(sample.tensor) (\(matrix.type)) row \(sample.row): element \(worst.index) off by \(worst.difference) (engine \(worst.index >= 0 ? row[worst.index] : 0), gguf-py \(worst.index >= 0 ? sample.values[worst.index] : 0))")
        }
    }
}
