import KansoGGUF
import KansoKernelCore
import Foundation
import Testing
@testable import KansoEngine

/// Dequantization against gguf-py's reference values (gguf.quants.dequantize, which follows
/// ggml-quants.c), compared bit for bit. Fixture: scripts/make_quant_goldens.py.
@Suite struct QuantGoldenTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
                                    .iq4_nl, .iq4_xs]

    /// The weights tensor of `type` and its reference floats from the golden file.
    static func golden(_ type: GGMLType, in file: GGUFFile) throws -> (GGUFTensorInfo, [Float]) {
        let name = type.name.lowercased()
        let weights = try #require(file.tensor(named: "\(name).weights"))
        let reference = try #require(file.tensor(named: "\(name).reference"))
        #expect(weights.type == type)
        #expect(weights.shape == reference.shape)
        return (weights, Array(file.bytes(of: reference).bindMemory(to: Float.self)))
    }

    @Test(arguments: types)
    func dequantizeMatchesReferenceBitForBit(_ type: GGMLType) throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let (weights, reference) = try Self.golden(type, in: file)
        var output = [Float](repeating: .nan, count: weights.elementCount)
        output.withUnsafeMutableBufferPointer { buffer in
            dequantize(type, from: file.bytes(of: weights).baseAddress!, into: buffer.baseAddress!, count: weights.elementCount)
        }
        var mismatches = 0
        for i in 0..<output.count where output[i].bitPattern != reference[i].bitPattern {
            if mismatches < 5 { Issue.record("\(type) element \(i): got \(output[i]), reference \(reference[i])") }
            mismatches += 1
        }
        #expect(mismatches == 0, "\(type): \(mismatches) of \(output.count) elements differ")
    }

    @Test(arguments: types)
    func rowLookupMatchesReference(_ type: GGMLType) throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let (weights, reference) = try Self.golden(type, in: file)
        let matrix = try WeightMatrix(file: file, tensor: weights)
        #expect(matrix.rows == weights.shape[1] && matrix.columns == weights.shape[0])
        var row = [Float](repeating: 0, count: matrix.columns)
        for r in 0..<matrix.rows {
            row.withUnsafeMutableBufferPointer { matrix.row(r, into: $0.baseAddress!) }
            let expected = reference[(r * matrix.columns)..<((r + 1) * matrix.columns)]
            #expect(row.map(\.bitPattern) == expected.map(\.bitPattern), "\(type) row \(r)")
        }
    }

    @Test func halfConversionsAreExact() {
        // Every finite half converts to a float that converts back to the same bits.
        for bits in UInt16.min...UInt16.max {
            let value = floatFromHalf(bits)
            guard value.isFinite else { continue }
            #expect(halfFromFloat(value) == bits || (value == 0 && bits & 0x7FFF == 0))
        }
        #expect(floatFromHalf(0x3C00) == 1)
        #expect(floatFromHalf(0xC000) == -2)
        #expect(floatFromHalf(0x0001) == Float(bitPattern: 0x3380_0000))  // smallest subnormal, 2^-24
        #expect(floatFromBFloat16(0x3F80) == 1)
        #expect(floatFromBFloat16(0xC040) == -3)
    }

    @Test func unsupportedTypesAreRefusedByWeightMatrix() {
        #expect(throws: GGUFError.self) {
            try WeightMatrix(type: .iq2_xxs, rows: 1, columns: 256, bytes: [UInt8](repeating: 0, count: 66))
        }
        #expect(throws: GGUFError.self) {
            try WeightMatrix(type: .q8_0, rows: 1, columns: 33, bytes: [UInt8](repeating: 0, count: 68))
        }
        #expect(throws: GGUFError.self) {  // too few bytes for the shape
            try WeightMatrix(type: .q8_0, rows: 2, columns: 32, bytes: [UInt8](repeating: 0, count: 34))
        }
    }

    @Test func blockGeometryMatchesGGML() {
        #expect(GGMLType.q4_K.bytesPerBlock == 144 && GGMLType.q4_K.blockSize == 256)
        #expect(GGMLType.q6_K.bytesPerBlock == 210)
        #expect(GGMLType.q8_0.bytesPerBlock == 34 && GGMLType.q8_0.blockSize == 32)
        #expect(GGMLType.bf16.rawValue == 30 && GGMLType.q6_K.rawValue == 14)
        #expect(GGMLType.q5_K.name == "Q5_K" && GGMLType.bf16.name == "BF16")
        #expect(GGMLType.q4_0.byteCount(elements: 64) == 36)
        #expect(GGMLType.q4_0.byteCount(elements: 63) == nil)
    }
}
