import Foundation
@testable import KansoPool
import Testing

@Suite("Scheduling: model cost estimate and measured costs")
struct SchedulingModelCostTests {
    static let mebibyte = 1_048_576

    /// Qwen2.5-0.5B's hyper-parameters with a 4096-token context.
    static let qwenShape = ModelCostEstimate.Shape(layers: 24, contextLength: 4096, keyValueHeads: 2, headDimension: 64,
                                                   embeddingLength: 896, feedForwardLength: 4864, vocabularySize: 151_936)

    @Test("the arithmetic: tensors, F32 KV cache, scratch guess, runtime")
    func arithmetic() throws {
        let estimate = try ModelCostEstimate(fileSize: 531_068_032, headerBytes: 5_963_456, shape: Self.qwenShape)
        #expect(estimate.tensorBytes == 525_104_576)
        // 2 × 24 layers × 4096 positions × 2 heads × 64 × 4 bytes = 96 MiB.
        #expect(estimate.kvCacheBytes == 2 * 24 * 4096 * 2 * 64 * 4)
        #expect(estimate.kvCacheBytes == 96 * Self.mebibyte)
        // 4 × (896 + 4864 + 151936) × 4 bytes.
        #expect(estimate.scratchBytes == 2_523_136)
        #expect(estimate.runtimeBytes == 16 * Self.mebibyte)
        #expect(estimate.totalBytes == 525_104_576 + 100_663_296 + 2_523_136 + 16_777_216)
        #expect(estimate.description == "615 MiB (tensors 501 MiB, KV cache 96 MiB, scratch 2 MiB, runtime 16 MiB)")
    }

    @Test("parallel sequences, an F16 cache, unequal K and V heads, other guesses")
    func variations() throws {
        let four = try ModelCostEstimate(fileSize: 1000, headerBytes: 100, shape: Self.qwenShape, parallelSequences: 4)
        #expect(four.kvCacheBytes == 4 * 96 * Self.mebibyte)
        let half = try ModelCostEstimate(fileSize: 1000, headerBytes: 100, shape: Self.qwenShape, kvBytesPerElement: 2)
        #expect(half.kvCacheBytes == 48 * Self.mebibyte)
        var shape = Self.qwenShape
        shape.valueHeadDimension = 128
        let wideV = try ModelCostEstimate(fileSize: 1000, headerBytes: 100, shape: shape)
        #expect(wideV.kvCacheBytes == 24 * 4096 * 2 * (64 + 128) * 4)
        let custom = try ModelCostEstimate(fileSize: 1000, headerBytes: 0, shape: Self.qwenShape, scratchVectors: 32, runtimeBytes: 0)
        #expect(custom.scratchBytes == 32 * (896 + 4864 + 151_936) * 4)
        #expect(custom.totalBytes == 1000 + custom.kvCacheBytes + custom.scratchBytes)
        let none = try ModelCostEstimate(fileSize: 1000, headerBytes: 1000, shape: Self.qwenShape, parallelSequences: 0)
        #expect(none.tensorBytes == 0 && none.kvCacheBytes == 0)
    }

    @Test("impossible figures are errors that say what is wrong")
    func errors() {
        #expect(throws: ModelCostEstimateError.headerBeyondFile(headerBytes: 2000, fileSize: 1000)) {
            try ModelCostEstimate(fileSize: 1000, headerBytes: 2000, shape: Self.qwenShape)
        }
        var negative = Self.qwenShape
        negative.keyValueHeads = -2
        #expect(throws: ModelCostEstimateError.negative(field: "keyValueHeads", value: -2)) {
            try ModelCostEstimate(fileSize: 1000, headerBytes: 0, shape: negative)
        }
        var huge = Self.qwenShape
        huge.contextLength = Int.max / 2
        #expect(throws: ModelCostEstimateError.overflow(field: "kvCacheBytes")) {
            try ModelCostEstimate(fileSize: 1000, headerBytes: 0, shape: huge)
        }
        #expect(ModelCostEstimateError.negative(field: "layers", value: -1).description.contains("layers is -1"))
        #expect(ModelCostEstimateError.headerBeyondFile(headerBytes: 9, fileSize: 4).description.contains("byte 9"))
    }

    @Test("the load-time guess scales with the tensor bytes")
    func loadGuess() throws {
        let estimate = try ModelCostEstimate(fileSize: 2_000_000_100, headerBytes: 100, shape: Self.qwenShape)
        #expect(estimate.expectedLoadDuration() == .milliseconds(1050))
        #expect(estimate.expectedLoadDuration(readBytesPerSecond: 0) == .milliseconds(50))
    }

    @Test("measured costs: the peak RSS and the last load time replace the estimates once known")
    func measured() throws {
        let estimate = try ModelCostEstimate(fileSize: 531_068_032, headerBytes: 5_963_456, shape: Self.qwenShape)
        var costs = MeasuredCosts()
        let path = "/models/qwen.gguf"
        #expect(costs.bytes(for: path, estimate: estimate) == estimate.totalBytes)
        #expect(costs.loadDuration(for: path, estimated: .milliseconds(300)) == .milliseconds(300))

        costs.recordResidentBytes(540_000_000, for: path)
        #expect(costs.bytes(for: path, estimate: estimate) == 540_000_000)
        costs.recordResidentBytes(600_000_000, for: path)
        costs.recordResidentBytes(550_000_000, for: path)
        #expect(costs.measurement(for: path) == .init(lastResidentBytes: 550_000_000, peakResidentBytes: 600_000_000))
        #expect(costs.bytes(for: path, estimatedBytes: 1) == 600_000_000)
        costs.recordResidentBytes(-1, for: path)
        #expect(costs.measurement(for: path)?.lastResidentBytes == 550_000_000)

        costs.recordLoadDuration(.milliseconds(80), for: path)
        costs.recordLoadDuration(.milliseconds(60), for: path)
        costs.recordLoadDuration(.milliseconds(-5), for: path)
        #expect(costs.loadDuration(for: path, estimated: .seconds(1)) == .milliseconds(60))
        #expect(costs.bytes(for: "/models/other.gguf", estimatedBytes: 123) == 123)
        #expect(costs.paths == [path])

        let data = try JSONEncoder().encode(costs)
        #expect(try JSONDecoder().decode(MeasuredCosts.self, from: data) == costs)

        costs.forget(path)
        #expect(costs.measurement(for: path) == nil)
        #expect(costs.bytes(for: path, estimate: estimate) == estimate.totalBytes)
    }
}
