// Measured, not timed: how long a token mask takes over qwen2's 151k vocabulary at the states a
// constrained extraction passes through (each computed afresh, and again from the cache), next to
// one stories260K decoding step. Printed for the record; what is asserted is correctness only,
// so a slow shared machine cannot fail it. Run release (`swift test -c release`) for real figures.

import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

@Suite(.enabled(if: GrammarVocabularies.available && SharedData.stories260K != nil,
                Comment(rawValue: SharedData.missingMessage("vocab/ggml-vocab-qwen2.gguf"))))
struct GrammarMaskPerformanceTests {
    static let schema = #"""
        {"type":"object","properties":{
          "customer":{"type":"string","maxLength":40},
          "category":{"enum":["billing","bug","feature request","account"]},
          "priority":{"type":"integer","minimum":1,"maximum":5},
          "amount":{"type":"number","minimum":0},
          "tags":{"type":"array","items":{"type":"string","maxLength":16},"maxItems":4},
          "summary":{"type":"string","maxLength":120},
          "urgent":{"type":"boolean"}},
         "required":["customer","category","priority","summary","urgent"]}
        """#

    private static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) * 1e-12
    }

    @Test func maskCostAgainstADecodingStep() throws {
        let url = try #require(SharedData.file("vocab/ggml-vocab-qwen2.gguf"))
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: url.path))
        let clock = ContinuousClock()
        var built: TokenMasker?
        let buildTime = clock.measure { built = TokenMasker(tokenizer: tokenizer, cacheLimit: 1) }
        let masker = try #require(built)
        let grammar = try SchemaGrammar(schemaText: Self.schema)

        // The states of random walks (what a model that picks any allowed token goes through).
        var random = SeededRandomGenerator(seed: 11)
        var states: [GrammarState] = []
        for _ in 0..<4 {
            var state = grammar.initialState
            while !state.isFinished && states.count < 2000 {
                states.append(state)
                let allowed = masker.allowedTokens(state).tokens.filter { !tokenizer.isEndOfGeneration($0) }
                if allowed.isEmpty { break }
                state = try #require(state.advanced(by: tokenizer.pieceBytes(allowed[Int.random(in: 0..<allowed.count, using: &random)])))
            }
        }
        // Warm the lazily built string classes, then time each state's mask with no cache.
        for state in states { _ = masker.allowedTokens(state) }
        var stringTimes: [Double] = [], otherTimes: [Double] = []
        var allowedTotal = 0
        for state in states {
            var mask: TokenMask?
            let time = Self.microseconds(clock.measure { mask = masker.allowedTokens(state) }) // cacheLimit 1: the last state only
            allowedTotal += mask?.count ?? 0
            #expect(mask?.isEmpty == false)
            if case .string = grammar.rules[Int(state.top.rule)], state.top.phase == StringPhase.content {
                stringTimes.append(time)
            } else {
                otherTimes.append(time)
            }
        }
        let cached = TokenMasker(tokenizer: tokenizer)
        for state in states { _ = cached.allowedTokens(state) }
        let cachedTime = Self.microseconds(clock.measure { for state in states { _ = cached.allowedTokens(state) } }) / Double(states.count)
        var logits = [Float](repeating: 0.5, count: tokenizer.vocabularySize)
        let sample = masker.allowedTokens(states[states.count / 2])
        let applyTime = Self.microseconds(clock.measure { for _ in 0..<20 { sample.apply(to: &logits) } }) / 20

        // One decoding step of stories260K (single thread), for scale.
        let model = try Model(path: try #require(SharedData.stories260K).path, threads: 1, contextLength: 512)
        let cache = try model.makeCache()
        _ = try model.evaluate([1, 403, 407, 261, 378], in: cache)
        let steps = 50
        let stepTime = Self.microseconds(try clock.measure { for _ in 0..<steps { _ = try model.evaluate([261], in: cache) } }) / Double(steps)

        func summary(_ times: [Double]) -> String {
            guard !times.isEmpty else { return "none" }
            let sorted = times.sorted()
            return String(format: "%d states, mean %.1f µs, p50 %.1f µs, p99 %.1f µs, max %.1f µs",
                          sorted.count, sorted.reduce(0, +) / Double(sorted.count), sorted[sorted.count / 2],
                          sorted[min(sorted.count - 1, sorted.count * 99 / 100)], sorted.last!)
        }
        let all = stringTimes + otherTimes
        let mean = all.reduce(0, +) / Double(all.count)
        print(String(format: "grammar mask, qwen2 (%d tokens): masker built in %.0f ms", tokenizer.vocabularySize,
                     Self.microseconds(buildTime) / 1000))
        let closing = masker.stringClassesForMeasurement(subState: 0)
        print("grammar mask, qwen2, inside strings (\(closing.inside.count) tokens stay inside, \(closing.closing.count) close it): \(summary(stringTimes))")
        print("grammar mask, qwen2, elsewhere: \(summary(otherTimes))")
        print(String(format: "grammar mask, qwen2: mean %.1f µs uncached, %.2f µs cached, %.1f µs to apply to logits; mean %d allowed",
                     mean, cachedTime, applyTime, allowedTotal / max(all.count, 1)))
        print(String(format: "stories260K step: %.1f µs; a 0.5B Q8_0 step (~500 MB of weights at ~10–20 GB/s) ≈ 25–50 ms, so the mask is ≈ %.2f–%.2f %% of it",
                     stepTime, (mean + applyTime) / 500, (mean + applyTime) / 250))
        #expect(states.count > 100)
    }
}
