import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

/// The real trained model stories260K (llama2.c's tinyllamas, in ../shared/models) must decode its
/// published greedy continuation.
@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct StoriesTests {
    static let knownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."

    func load(threads: Int = 1) throws -> Model {
        let url = try #require(SharedData.stories260K)
        return try Model(path: url.path, threads: threads, contextLength: 512)
    }

    @Test func configurationFromMetadata() throws {
        let model = try load()
        let c = model.configuration
        #expect(c.architecture == .llama)
        #expect(c.embeddingLength == 64)
        #expect(c.layerCount == 5)
        #expect(c.headCount == 8)
        #expect(c.kvHeadCount == 4)
        #expect(c.headDimension == 8)
        #expect(c.feedForwardLength == 172)
        #expect(c.vocabularySize == 512)
        #expect(c.trainedContextLength == 2048)
        #expect(c.contextLength == 512)
        #expect(c.ropeFrequencyBase == 10000)
        #expect(c.ropeStyle == .adjacentPairs)
        #expect(abs(c.normEpsilon - 1e-5) < 1e-9)
        #expect(c.description == "llama: 5 layers × 64, 8/4 heads × 8, ffn 172, vocab 512, context 512")
    }

    @Test func promptTokens() throws {
        let model = try load()
        let tokens = model.tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: false)
        #expect(tokens == [1, 403, 407, 261, 378])
    }

    @Test(arguments: [1, 2])
    func greedyContinuationIsTheKnownText(threads: Int) throws {
        let model = try load(threads: threads)
        let prompt: [Int32] = [1, 403, 407, 261, 378]
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 40)
        let result = try generator.generate(prompt: prompt, in: try model.makeCache())
        #expect(result.tokens.count == 40)
        // The streamed text (token pieces) and the tokenizer's decoding of the whole sequence.
        let streamed = "Once upon a time" + result.text
        #expect(streamed.hasPrefix(Self.knownText), "\(streamed)")
        let decoded = model.tokenizer.decode(Array(prompt.dropFirst()) + result.tokens)
        #expect(decoded.hasPrefix(Self.knownText), "\(decoded)")
        // The same from the prompt as text.
        var fromText = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 40)
        let textResult = try fromText.generate(prompt: "Once upon a time", in: try model.makeCache())
        #expect(textResult.tokens == result.tokens)
        // Every generated token carries its log-probability under the model; a greedy pick is the
        // most likely token, so its probability is at least 1/512.
        var logProbabilities: [Float] = []
        _ = try fromText.generate(prompt: prompt, in: try model.makeCache()) { token in
            logProbabilities.append(token.logProbability)
            return true
        }
        #expect(logProbabilities.count == 40 && logProbabilities.allSatisfy { $0 <= 0 && $0 >= -logf(512) })
    }

    @Test func streamDeliversTheSameTokens() async throws {
        let model = try load()
        let prompt: [Int32] = [1, 403, 407, 261, 378]
        let generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 20)
        var tokens: [Int32] = []
        var text = ""
        for try await piece in generator.stream(prompt: prompt, in: try model.makeCache()) {
            tokens.append(piece.token)
            text += piece.text
        }
        var direct = generator
        let expected = try direct.generate(prompt: prompt, in: try model.makeCache())
        #expect(tokens == expected.tokens)
        #expect(text == expected.text)
    }

    @Test func streamStopsWhenTheConsumerLeaves() async throws {
        let model = try load()
        let prompt: [Int32] = [1, 403, 407, 261, 378]
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 400)
        generator.stopAtEndOfGeneration = false
        let cache = try model.makeCache()
        var received = 0
        for try await _ in generator.stream(prompt: prompt, in: cache) {
            received += 1
            if received == 3 { break }
        }
        // The generating thread notices at its next token (milliseconds); the cache is read only
        // after it has had ample time to stop, then must not grow any more.
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let length = cache.length
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(cache.length == length)
        #expect(length < prompt.count + 400)
    }

    @Test func generationReusesTheCachedPrompt() throws {
        let model = try load()
        let prompt: [Int32] = [1, 403, 407, 261, 378]
        let cache = try model.makeCache()
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 10)
        let first = try generator.generate(prompt: prompt, in: cache)
        #expect(first.reusedPromptTokens == 0)
        // The cache now holds prompt + output; the same prompt again reuses all but its last token.
        let second = try generator.generate(prompt: prompt, in: cache)
        #expect(second.reusedPromptTokens == prompt.count - 1)
        #expect(first.evaluatedPromptTokens == prompt.count && second.evaluatedPromptTokens == 1)
        #expect(first.promptSeconds > 0 && first.generationSeconds > 0)
        #expect(second.tokens == first.tokens)
    }

    @Test func stopsAtTheTokenLimitAndByCallback() throws {
        let model = try load()
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 5)
        let limited = try generator.generate(prompt: [1, 403], in: try model.makeCache())
        #expect(limited.tokens.count == 5)
        #expect(limited.stopReason == .maximumTokens)
        generator.maximumTokens = 50
        var seen = 0
        let stopped = try generator.generate(prompt: [1, 403], in: try model.makeCache()) { _ in
            seen += 1
            return seen < 3
        }
        #expect(stopped.tokens.count == 3)
        #expect(stopped.stopReason == .stopped)
    }

    /// Not a timed test: prints decoding speed for the record (run in release to measure).
    @Test func decodingSpeed() throws {
        let model = try load()
        var generator = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 200)
        generator.stopAtEndOfGeneration = false
        let start = Date()
        let result = try generator.generate(prompt: [1], in: try model.makeCache())
        let seconds = Date().timeIntervalSince(start)
        print("stories260K: \(result.tokens.count) tokens in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(result.tokens.count) / seconds)) tokens/s at 1 thread")
        #expect(result.tokens.count == 200)
    }
}
