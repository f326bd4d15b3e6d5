// The engine's sampler chain keeps the same tokens with the same probabilities as llama.cpp's
// samplers (repetition penalty → top-k → top-p → min-p → temperature, before the random draw), on
// golden logit rows and settings stored in Fixtures/models/sampling.json by scripts/make_fixtures.py.
// The draw itself uses a different random generator, so only what it draws from is compared.

import Foundation
import Testing
@testable import KansoEngine

struct SamplingGolden: Decodable {
    struct Settings: Decodable {
        let temperature: Float
        let topK: Int
        let topP: Float
        let minP: Float
        let repetitionPenalty: Float
        let repetitionWindow: Int
    }

    struct Case: Decodable {
        let fixture: String
        let logits: [Float]
        let history: [Int32]
        let settings: Settings
        /// The tokens llama.cpp kept, most likely first, and their probabilities.
        let tokens: [Int32]
        let probabilities: [Double]
    }

    let llamaCppPythonVersion: String
    let cases: [Case]

    static func load() throws -> SamplingGolden {
        let url = FidelityFixtures.directory.appendingPathComponent("sampling.json")
        return try JSONDecoder().decode(SamplingGolden.self, from: Data(contentsOf: url))
    }
}

@Suite struct FidelitySamplingTests {
    static let caseCount = 24  // as written by the script: 2 fixtures × 2 rows × 6 settings

    @Test("sampler candidates match llama.cpp's", arguments: 0..<caseCount)
    func candidates(_ index: Int) throws {
        let golden = try SamplingGolden.load()
        try #require(golden.cases.count == Self.caseCount)
        let item = golden.cases[index]
        let s = item.settings
        let chain = SamplerChain(settings: SamplingSettings(
            temperature: s.temperature, topK: s.topK, topP: s.topP, minP: s.minP,
            repetitionPenalty: s.repetitionPenalty, repetitionWindow: s.repetitionWindow))
        let kept = chain.candidates(logits: item.logits, history: item.history)
        let probabilities = kept.probabilities()
        var engine: [Int32: Double] = [:]
        for (token, probability) in zip(kept.tokens, probabilities) { engine[token] = probability }
        let label = "case \(index) (\(item.fixture), T \(s.temperature), k \(s.topK), p \(s.topP), min-p \(s.minP), penalty \(s.repetitionPenalty))"
        #expect(Set(engine.keys) == Set(item.tokens), "\(label): engine kept \(kept.tokens), llama.cpp \(item.tokens)")
        for (token, expected) in zip(item.tokens, item.probabilities) {
            guard let probability = engine[token] else { continue }
            #expect(abs(probability - expected) <= 1e-5, "\(label): token \(token) has \(probability), llama.cpp \(expected)")
        }
    }
}
