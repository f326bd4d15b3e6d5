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
    @Test(arguments: KernelVariant.runnable)
    func promptLogits(_ variant: KernelVariant) throws { try FidelityTests().promptLogits(name, variant) }
    @Test(arguments: KernelVariant.runnable)
    func chunkedPromptLogits(_ variant: KernelVariant) throws { try FidelityTests().chunkedPromptLogits(name, variant) }
    @Test(arguments: KernelVariant.runnable)
    func longPromptLogits(_ variant: KernelVariant) throws { try FidelityTests().longPromptLogits(name, variant) }
    @Test func reusedPrefix() throws { try FidelityTests().reusedPrefix(name) }
    @Test func halfPrecisionCache() throws { try FidelityTests().halfPrecisionCache(name) }
    @Test(arguments: KernelVariant.runnable)
    func greedyDecoding(_ variant: KernelVariant) throws { try FidelityTests().greedyDecoding(name, variant) }
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
