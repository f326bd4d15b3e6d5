// The fidelity checks of FidelityTests on a real trained model: stories260K from ../shared/models
// (F32, llama architecture, its own SentencePiece vocabulary), against llama.cpp's outputs stored
// in Fixtures/models/stories260K.json by scripts/make_fixtures.py. Skipped when shared/ is absent.

import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct FidelitySharedModelTests {
    let name = FidelityFixtures.sharedModel

    @Test func goldenIsComplete() throws { try FidelityTests().fixturePresent(name) }
    @Test func configuration() throws { try FidelityTests().configuration(name) }
    @Test func promptLogits() throws { try FidelityTests().promptLogits(name) }
    @Test func chunkedPromptLogits() throws { try FidelityTests().chunkedPromptLogits(name) }
    @Test func longPromptLogits() throws { try FidelityTests().longPromptLogits(name) }
    @Test func reusedPrefix() throws { try FidelityTests().reusedPrefix(name) }
    @Test func halfPrecisionCache() throws { try FidelityTests().halfPrecisionCache(name) }
    @Test func greedyDecoding() throws { try FidelityTests().greedyDecoding(name) }
    @Test func batchedDecoding() throws { try FidelityTests().batchedDecoding(name) }
    @Test func sampleText() throws { try FidelityTokenizerTests().sampleText(name) }
    @Test func weightRows() throws { try FidelityWeightRowsTests().weightRows(name) }

    @Test("greedy continuation reads as llama.cpp's text")
    func greedyText() throws {
        let golden = try FidelityFixtures.golden(name)
        let expected = try #require(golden.greedyText)
        let model = try Model(path: FidelityFixtures.modelPath(name), threads: 1, contextLength: 128, cacheType: .f32)
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy),
                                  maximumTokens: golden.greedy.count, stopAtEndOfGeneration: false)
        let result = try generator.generate(prompt: golden.prompt, in: try model.makeCache())
        #expect(result.tokens == golden.greedy)
        #expect(result.text == expected)
        // The prompt as text gives llama.cpp's prompt tokens (BOS included).
        #expect(model.tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: false) == golden.prompt)
    }
}
