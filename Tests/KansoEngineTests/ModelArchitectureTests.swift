import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine
import KansoGGUF

/// Every architecture on a synthetic model: the configuration it reads, agreement with the naive
/// reference (ModelReference), and agreement between single steps, whole prompts and batches.
@Suite struct ModelArchitectureTests {
    static let specs: [SyntheticModel] = {
        var llama = SyntheticModel(architecture: "llama")
        llama.ropeFrequencyFactors = true
        var qwen2 = SyntheticModel(architecture: "qwen2")
        qwen2.tiedOutput = true
        qwen2.ropeBase = 1_000_000
        var qwen3 = SyntheticModel(architecture: "qwen3")
        qwen3.headDimension = 16          // heads × headDimension (64) ≠ embedding (32), as in Qwen3
        var gemma3 = SyntheticModel(architecture: "gemma3")
        gemma3.layers = 7                 // layers 0-4 and 6 slide, layer 5 is global
        gemma3.slidingWindow = 3
        gemma3.ropeBase = 1_000_000
        gemma3.ropeScalingFactor = 8
        gemma3.tiedOutput = true
        gemma3.feedForward = 40
        return [llama, qwen2, qwen3, gemma3]
    }()

    static let tokens: [Int32] = [1, 5, 17, 30, 8, 39, 12, 3, 25]

    func load(_ spec: SyntheticModel, threads: Int = 1, batchCapacity: Int = 32,
              cacheType: KVCacheType = .f32) throws -> (Model, ModelFixtureWriter) {
        let fixture = spec.fixture()
        let path = try fixture.write(name: spec.architecture)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return (try Model(path: path, threads: threads, batchCapacity: batchCapacity, cacheType: cacheType), fixture)
    }

    func maximumDifference(_ a: [Float], _ b: [Double]) -> Double {
        zip(a, b).map { abs(Double($0) - $1) }.max() ?? .infinity
    }

    @Test(arguments: specs)
    func matchesTheReference(spec: SyntheticModel) throws {
        let (model, fixture) = try load(spec)
        let expected = ModelReference(spec: spec, fixture: fixture).logits(Self.tokens)
        let rows = try model.evaluate(Self.tokens, in: try model.makeCache(), allLogits: true)
        for i in rows.indices {
            let difference = maximumDifference(rows[i], expected[i])
            #expect(difference < 2e-4, "\(spec.architecture) position \(i): \(difference)")
        }
    }

    @Test(arguments: specs, [KVCacheType.f32, .f16])
    func pathsAgree(spec: SyntheticModel, type: KVCacheType) throws {
        let (model, _) = try load(spec, threads: 2, batchCapacity: 4, cacheType: type)
        let whole = try model.evaluate(Self.tokens, in: try model.makeCache(), allLogits: true)
        let cache = try model.makeCache()
        let single = try Self.tokens.map { try model.evaluate([$0], in: cache)[0] }
        let other = try model.makeCache()
        _ = try model.evaluate([1, 9, 9], in: other)
        let fork = try model.makeCache()
        try fork.copyPrefix(from: cache, length: 4)
        var batched: [[Float]] = []
        // An f16 cache rounds each key and value once (a relative 2^-11, about 5e-4); paths that
        // sum the same rounded values in another order (whole prompt, single steps, batches under
        // the SIMD kernels) may differ by a fraction of that, f32 caches by float rounding alone.
        let tolerance: Float = type == .f16 ? 5e-4 : 1e-4
        for token in Self.tokens.suffix(from: 4) {
            let rows = try model.decode(batch: [(other, token), (fork, token)])
            batched.append(rows[1])
        }
        for i in Self.tokens.indices {
            let difference = zip(whole[i], single[i]).map { abs($0 - $1) }.max()!
            #expect(difference < tolerance, "\(spec.architecture) single step \(i): \(difference)")
            if i >= 4 {
                let batchDifference = zip(whole[i], batched[i - 4]).map { abs($0 - $1) }.max()!
                #expect(batchDifference < tolerance, "\(spec.architecture) batched \(i): \(batchDifference)")
            }
        }
    }

    @Test func configurationOfEachArchitecture() throws {
        let llama = try load(Self.specs[0]).0.configuration
        #expect(llama.ropeStyle == .adjacentPairs && llama.activation == .silu && !llama.hasQueryKeyNorms)
        let qwen2 = try load(Self.specs[1]).0.configuration
        #expect(qwen2.ropeStyle == .neoxHalves && qwen2.ropeFrequencyBase == 1_000_000)
        let qwen3 = try load(Self.specs[2]).0.configuration
        #expect(qwen3.hasQueryKeyNorms && qwen3.headDimension == 16 && qwen3.queryLength == 64)
        let gemma = try load(Self.specs[3]).0.configuration
        #expect(gemma.activation == .geluTanh && gemma.hasPostNorms && gemma.hasQueryKeyNorms)
        #expect(gemma.embeddingScale == Float(32).squareRoot())
        #expect(gemma.slidingWindow == 3)
        #expect(gemma.slidingWindowLayers == [true, true, true, true, true, false, true])
        #expect(gemma.ropeFrequencyScale == 1.0 / 8 && gemma.slidingRopeFrequencyScale == 1)
        #expect(gemma.slidingRopeFrequencyBase == 10000 && gemma.ropeFrequencyBase == 1_000_000)
    }

    @Test func missingTensorsAndBadMetadataAreErrors() throws {
        var fixture = SyntheticModel(architecture: "qwen2").fixture()
        fixture.tensors.removeAll { $0.name == "blk.1.attn_k.bias" }
        let path = try fixture.write(name: "broken")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.missingTensor(name: "blk.1.attn_k.bias")) {
            try Model(path: path, threads: 1)
        }

        var unknown = SyntheticModel(architecture: "llama").fixture()
        unknown.metadata[0] = ("general.architecture", .string("mamba"))
        let unknownPath = try unknown.write(name: "unknown")
        defer { try? FileManager.default.removeItem(atPath: unknownPath) }
        #expect(throws: ModelError.unsupportedArchitecture("mamba")) { try Model(path: unknownPath, threads: 1) }

        var yarn = SyntheticModel(architecture: "llama").fixture()
        yarn.set("llama.rope.scaling.type", .string("yarn"))
        let yarnPath = try yarn.write(name: "yarn")
        defer { try? FileManager.default.removeItem(atPath: yarnPath) }
        #expect(throws: ModelError.self) { try Model(path: yarnPath, threads: 1) }

        var huge = SyntheticModel(architecture: "llama").fixture()
        huge.metadata.removeAll { $0.0 == "llama.context_length" }
        huge.set("llama.context_length", .uint32(UInt32.max))
        let hugePath = try huge.write(name: "huge")
        defer { try? FileManager.default.removeItem(atPath: hugePath) }
        #expect(throws: ModelError.self) { try Model(path: hugePath, threads: 1) }
        // A caller's clamp brings it back into range.
        #expect(try Model(path: hugePath, threads: 1, contextLength: 64).configuration.contextLength == 64)

        var shape = SyntheticModel(architecture: "llama")
        shape.feedForward = 50
        var mismatched = shape.fixture()
        mismatched.metadata.removeAll { $0.0 == "llama.feed_forward_length" }
        mismatched.set("llama.feed_forward_length", .uint32(48))
        let shapePath = try mismatched.write(name: "shape")
        defer { try? FileManager.default.removeItem(atPath: shapePath) }
        #expect(throws: ModelError.tensorShapeMismatch(name: "blk.0.ffn_gate.weight", shape: [32, 50], expected: [32, 48])) {
            try Model(path: shapePath, threads: 1)
        }
    }
}

extension SyntheticModel: CustomTestStringConvertible {
    var testDescription: String { architecture }
}

@Suite("Supported models")
struct SupportedModelsTests {
    /// kansoctl checks downloads against the GGUF leaf's list; the engine loads from its own.
    @Test("the GGUF leaf's list of architectures is the engine's")
    func architecturesAgree() {
        #expect(SupportedModels.architectures.sorted() == ModelArchitecture.allCases.map(\.rawValue).sorted())
    }
}
