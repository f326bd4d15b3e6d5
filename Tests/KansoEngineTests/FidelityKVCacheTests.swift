// The fidelity fixtures with the engine's KV cache in f16 and in q8_0, against llama.cpp with its
// cache in the same type (Fixtures/models/NAME.kv.json, made by scripts/make_fixtures.py kv):
// every prompt position and the 100-token prompt's positions, one pass and passes of 4 tokens
// (rings of the window plus 4 on gemma3's sliding layers). q8_0 only where llama.cpp made it
// (heads of whole 32-value blocks). Bounds: FidelityTolerance.swift.

import Foundation
import KansoGGUF
import Testing
@testable import KansoEngine

/// llama.cpp's logits with its KV cache in f16 and q8_0 for one fixture.
struct KVCacheGolden: Decodable {
    struct Logits: Decodable {
        let flashAttention: Bool
        let logits: [[Float]]
        let longLogits: [[Float]]
    }
    let fixture: String
    let f16: Logits
    let q8_0: Logits?

    static func load(_ name: String) throws -> KVCacheGolden {
        let data = try Data(contentsOf: FidelityFixtures.directory.appendingPathComponent("\(name).kv.json"))
        return try JSONDecoder().decode(KVCacheGolden.self, from: data)
    }
}

@Suite struct FidelityKVCacheTests {
    static let cases: [(String, KVCacheType)] = FidelityFixtures.names.flatMap { name -> [(String, KVCacheType)] in
        let golden = try? KVCacheGolden.load(name)
        return [(name, .f16)] + (golden?.q8_0 == nil ? [] : [(name, .q8_0)])
    }

    @Test("logits with the cache in f16 and q8_0 match llama.cpp's with the same cache", arguments: cases)
    func sameCacheType(_ name: String, _ type: KVCacheType) throws {
        let golden = try FidelityFixtures.golden(name)
        let expected = try #require(type == .f16 ? KVCacheGolden.load(name).f16 : KVCacheGolden.load(name).q8_0)
        let allowance = type == .f16 ? FidelityTolerance.halfPrecisionCache : FidelityTolerance.blockQuantizedCache
        for batchCapacity in [Model.defaultBatchCapacity, 4] {
            let model = try Model(path: FidelityFixtures.modelPath(name), threads: 1, contextLength: 128,
                                  batchCapacity: batchCapacity, cacheType: type)
            let rows = try model.evaluate(golden.prompt, in: try model.makeCache(), allLogits: true)
            FidelityTests().compare(rows, expected: expected.logits, golden: golden, allowance: allowance,
                                    what: "prompt, \(type.rawValue) cache, passes of \(batchCapacity)")
            let long = try model.evaluate(golden.longPrompt, in: try model.makeCache(), allLogits: true)
            FidelityTests().compare(golden.longLogitPositions.map { long[$0] }, expected: expected.longLogits, golden: golden,
                                    allowance: allowance, what: "100-token prompt, \(type.rawValue) cache, passes of \(batchCapacity)")
        }
    }

    @Test("every fixture has its KV cache goldens", arguments: FidelityFixtures.names)
    func goldensPresent(_ name: String) throws {
        let golden = try KVCacheGolden.load(name)
        #expect(golden.fixture == "\(name).gguf")
        #expect(!golden.f16.flashAttention && golden.q8_0?.flashAttention != false)
        let headDimension = try Model(path: FidelityFixtures.modelPath(name), threads: 1).configuration.headDimension
        #expect((golden.q8_0 != nil) == (headDimension % 32 == 0), "q8_0 goldens exactly where heads hold whole blocks")
    }
}
