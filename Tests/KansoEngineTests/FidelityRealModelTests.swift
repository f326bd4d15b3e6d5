// The two real models (scripts/install-models.sh) against llama.cpp, teacher-forced over a
// 700-token prompt: Gemma 3's sliding-window layers (window 512) and its global ones both
// matter, and the engine's rings (window + one pass) wrap. Goldens: Fixtures/real/*.json, made by
// scripts/make_real_model_goldens.py (some rows, each its top logits and a seeded sample, with a
// float64 reference's logits for the same tokens). Skipped where a model is not installed.

import Foundation
import KansoGGUF
import KansoTestSupport
import Testing
@testable import KansoEngine

struct RealModelGolden: Decodable {
    struct Row: Decodable {
        let position: Int
        let top: [[Float]]       // [token, logit]
        let sample: [[Float]]    // [token, logit]
        let exact: [Float]       // float64 reference, for top then sample tokens
        let minimum: Float
        let maximum: Float
        var tokens: [Int] { (top + sample).map { Int($0[0]) } }
        var logits: [Float] { (top + sample).map { $0[1] } }
    }
    let model: String
    let modelBytes: Int
    let architecture: String
    let weights: String
    let vocabularySize: Int
    let prompt: [Int32]
    let rows: [Row]
    let exactMaxAbsDifference: Float

    static func load(_ name: String) throws -> RealModelGolden {
        let url = FidelityFixtures.directory.deletingLastPathComponent().appendingPathComponent("real/\(name).json")
        return try JSONDecoder().decode(RealModelGolden.self, from: Data(contentsOf: url))
    }
}

@Suite struct FidelityRealModelTests {
    // One evaluation per model, with the F32 cache llama.cpp used: 700 tokens through a 270M
    // model are slow in a debug build, and the other cache types are held to llama.cpp on every
    // fixture (FidelityKVCacheTests).
    @Test("SmolLM2-135M Q4_1: logits along a 700-token prompt match llama.cpp's and a float64 reference",
          .enabled(if: RealModel.smolLM2.url != nil, Comment(rawValue: RealModel.smolLM2.missingMessage)))
    func smolLM2() throws { try teacherForced("smollm2", .smolLM2, .f32) }

    @Test("Gemma 3 270M Q4_K_M: logits along a 700-token prompt (sliding window 512) match llama.cpp's and a float64 reference",
          .enabled(if: RealModel.gemma3.url != nil, Comment(rawValue: RealModel.gemma3.missingMessage)))
    func gemma3() throws { try teacherForced("gemma3", .gemma3, .f32) }

    /// The engine's logits at the golden's rows for the golden's tokens: the prompt teacher-forced
    /// in pieces that each end at a kept position (the output matrix runs for those rows alone, a
    /// 262k vocabulary makes each row 1 MiB), in passes of up to 64 tokens.
    static func engineLogits(_ golden: RealModelGolden, path: String, type: KVCacheType) throws -> [Int: [Float]] {
        let model = try Model(path: path, threads: 2, contextLength: 1024, cacheType: type)
        #expect(model.configuration.vocabularySize == golden.vocabularySize)
        let cache = try model.makeCache()
        var found: [Int: [Float]] = [:]
        for row in golden.rows.sorted(by: { $0.position < $1.position }) {
            let piece = Array(golden.prompt[cache.length...row.position])
            try model.evaluate(batch: [(cache: cache, tokens: piece)], allLogits: false) { _, _, logits in
                found[row.position] = row.tokens.map { logits[$0] }
            }
        }
        return found
    }

    func teacherForced(_ name: String, _ real: RealModel, _ type: KVCacheType) throws {
        let url = try #require(real.url)
        let golden = try RealModelGolden.load(name)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        try #require(size == golden.modelBytes, "\(url.path) is not the file the golden was made from")
        let allowance = type == .f16 ? FidelityTolerance.halfPrecisionCache : 0
        let bound = FidelityTolerance.relativeMaximum(weights: golden.weights, architecture: golden.architecture) + allowance
        let rows = try Self.engineLogits(golden, path: url.path, type: type)
        var worst: (share: Float, position: Int) = (0, -1), worstExact: Float = 0
        var squares: Double = 0, count = 0
        var disagreements: [Int] = []
        for row in golden.rows {
            let engine = try #require(rows[row.position], "no logits for position \(row.position)")
            let range = row.maximum - row.minimum
            for (e, g) in zip(engine, row.logits) {
                let share = abs(e - g) / range
                if share > worst.share || share.isNaN { worst = (share, row.position) }
                squares += Double(share * share)
                count += 1
            }
            for (e, x) in zip(engine, row.exact) { worstExact = max(worstExact, abs(e - x) / range) }
            // The engine's most likely token is llama.cpp's wherever llama.cpp's margin exceeds the bound.
            let margin = row.top[0][1] - row.top[1][1]
            if margin > bound * range, engine[0] < engine.max()! { disagreements.append(row.position) }
        }
        #expect(worst.share <= bound, "\(name) \(type.rawValue): max |Δ| / range \(worst.share) at position \(worst.position), bound \(bound)")
        #expect(Float((squares / Double(count)).squareRoot()) <= bound / 3, "\(name) \(type.rawValue): rms |Δ| / range over \(bound / 3)")
        #expect(worstExact <= bound, "\(name) \(type.rawValue): against float64, max |Δ| / range \(worstExact) (llama.cpp's own: \(golden.exactMaxAbsDifference))")
        #expect(disagreements.isEmpty, "\(name) \(type.rawValue): another most likely token at \(disagreements)")
    }
}
