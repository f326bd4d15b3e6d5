import Foundation
import KansoConcurrency
import KansoGGUF
import Testing
import KansoTestSupport
@testable import KansoEngine

/// Continuous batching in the engine (SharedPasses.swift): evaluations called from several
/// threads at once share passes, and each gets the numbers it gets alone.
@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct ModelSharedPassesTests {
    func load(batchCapacity: Int = 16) throws -> Model {
        let url = try #require(SharedData.stories260K)
        return try Model(path: url.path, threads: 1, contextLength: 512, batchCapacity: batchCapacity, cacheType: .f32)
    }

    /// Greedy decoding of `steps` tokens after `prompt`, one evaluation per token, in a cache made
    /// batch-invariant or not: the tokens and the logits after each.
    static func decode(_ model: Model, prompt: [Int32], steps: Int, invariant: Bool = false) throws -> (tokens: [Int32], logits: [[Float]]) {
        let cache = try model.makeCache()
        cache.batchInvariant = invariant
        var logits = try model.evaluate(prompt, in: cache)[0]
        var tokens: [Int32] = [], rows: [[Float]] = [logits]
        for _ in 0..<steps {
            let next = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
            tokens.append(next)
            logits = try model.evaluate([next], in: cache)[0]
            rows.append(logits)
        }
        return (tokens, rows)
    }

    /// A prompt of `count` tokens after BOS, spread over stories260K's 512-token vocabulary.
    static func spread(_ count: Int, step: Int, offset: Int) -> [Int32] {
        var tokens: [Int32] = [1]
        for i in 1..<count { tokens.append(Int32((i * step + offset) % 509 + 3)) }
        return tokens
    }

    static let prompts: [[Int32]] = [
        [1, 403, 407, 261],
        [1, 261, 378, 29, 275, 350],
        [1, 350],
        spread(60, step: 13, offset: 5),  // a long prompt: several passes of 16
    ]

    /// Runs `body(i)` on `count` threads at once, while the model's pass lock is held until all
    /// of them wait in its queue, so that their first evaluations certainly share a pass.
    static func concurrently(_ count: Int, model: Model, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        model.lock.lock()
        for index in 0..<count {
            done.enter()
            Thread.detachNewThread { body(index); done.leave() }
        }
        while true {
            model.shared.condition.lock()
            let waiting = model.shared.pending.count
            model.shared.condition.unlock()
            if waiting == count { break }
            usleep(1000)
        }
        model.lock.unlock()
        done.wait()
    }

    @Test func concurrentDecodingSharesPassesAndGivesTheNumbersOfEachAlone() throws {
        let model = try load()
        let alone = try Self.prompts.map { try Self.decode(model, prompt: $0, steps: 24) }
        let before = model.passStatistics
        #expect(before.largestRound == 1, "alone, every pass served one caller")

        let results = Locked<[Int: (tokens: [Int32], logits: [[Float]])]>([:])
        let failures = Locked<[String]>([])
        Self.concurrently(Self.prompts.count, model: model) { index in
            do {
                let result = try Self.decode(model, prompt: Self.prompts[index], steps: 24)
                results.update { $0[index] = result }
            } catch {
                failures.update { $0.append("\(index): \(error)") }
            }
        }
        #expect(failures.current.isEmpty, "\(failures.current)")
        let after = model.passStatistics
        #expect(after.largestRound >= Self.prompts.count, "the first pass served every caller: \(after)")
        let passes = after.passes - before.passes
        let evaluations = Self.prompts.count * 25
        #expect(passes < evaluations, "shared passes: \(passes) passes for \(evaluations) evaluations")
        for (index, expected) in alone.enumerated() {
            let got = try #require(results.current[index])
            #expect(got.tokens == expected.tokens, "sequence \(index): the same tokens as alone")
            for (step, (a, b)) in zip(got.logits, expected.logits).enumerated() {
                let difference = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
                #expect(difference <= 1e-4, "sequence \(index) step \(step): max difference \(difference)")
            }
        }
    }

    @Test func aLongPromptIsEvaluatedAPassAtATimeBesideDecodingSequences() throws {
        let model = try load(batchCapacity: 16)
        let long = Self.spread(480, step: 7, offset: 11)
        let expectedLong = try model.evaluate(long, in: try model.makeCache())[0]
        let short = Self.prompts[0]
        let expectedShort = try Self.decode(model, prompt: short, steps: 8)

        // The long prompt needs 30 passes of 16 alone; the decoding sequence's 9 evaluations go
        // into the first passes beside its chunks, not after all of them.
        let order = Locked<[String]>([])
        let longResult = Locked<[Float]>([])
        let shortResult = Locked<[Int32]>([])
        Self.concurrently(2, model: model) { index in
            if index == 0 {
                let logits = (try? model.evaluate(long, in: try model.makeCache())[0]) ?? []
                longResult.set(logits)
                order.update { $0.append("long") }
            } else {
                shortResult.set((try? Self.decode(model, prompt: short, steps: 8).tokens) ?? [])
                order.update { $0.append("short") }
            }
        }
        #expect(order.current == ["short", "long"], "the decoding sequence finished first: \(order.current)")
        #expect(shortResult.current == expectedShort.tokens)
        let difference = zip(longResult.current, expectedLong).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-4, "the long prompt's last logits: max difference \(difference)")
    }
}

/// On a real quantized model, the vector kernel of a one-token pass and the batch kernels sum in
/// different orders, and SmolLM2's large activations carry the last-bit differences into its
/// tokens; a cache that asks for batch invariance gets the batch kernels in every pass, whose
/// result for a vector does not depend on the others, so its numbers are exactly the same alone
/// and in company.
@Suite(.enabled(if: RealModel.smolLM2.url != nil, Comment(rawValue: RealModel.smolLM2.missingMessage)))
struct ModelBatchInvarianceTests {
    static let texts = ["Once upon a time, a little fox", "The weather today is", "My favourite recipe starts with"]

    /// ModelSharedPassesTests.decode of `text` in a batch-invariant cache.
    static func decode(_ model: Model, _ text: String, steps: Int) throws -> (tokens: [Int32], logits: [[Float]]) {
        try ModelSharedPassesTests.decode(model, prompt: model.tokenizer.encode(text, addSpecial: true, parseSpecial: false),
                                          steps: steps, invariant: true)
    }

    @Test func batchInvariantSequencesGetTheSameNumbersAloneAndTogether() throws {
        let url = try #require(RealModel.smolLM2.url)
        let model = try Model(path: url.path, threads: 2, contextLength: 256)
        let alone = try Self.texts.map { try Self.decode(model, $0, steps: 16) }
        let results = Locked<[Int: (tokens: [Int32], logits: [[Float]])]>([:])
        ModelSharedPassesTests.concurrently(Self.texts.count, model: model) { index in
            if let result = try? Self.decode(model, Self.texts[index], steps: 16) {
                results.update { $0[index] = result }
            }
        }
        #expect(model.passStatistics.largestRound >= Self.texts.count)
        for (index, expected) in alone.enumerated() {
            let got = try #require(results.current[index])
            #expect(got.tokens == expected.tokens, "\(Self.texts[index]): the same tokens")
            #expect(got.logits == expected.logits, "\(Self.texts[index]): bit for bit the same logits")
        }
    }

    @Test func aOneTokenPassOfAnInvariantCacheEqualsItsRowInABatch() throws {
        let url = try #require(RealModel.smolLM2.url)
        let model = try Model(path: url.path, threads: 1, contextLength: 256)
        let prompt = model.tokenizer.encode(Self.texts[0], addSpecial: true, parseSpecial: false)
        func logits(invariant: Bool, split: Bool) throws -> [Float] {
            let cache = try model.makeCache()
            cache.batchInvariant = invariant
            if split {
                _ = try model.evaluate(Array(prompt.dropLast()), in: cache)
                return try model.evaluate([prompt.last!], in: cache)[0]   // a pass of one token
            }
            return try model.evaluate(prompt, in: cache)[0]               // its row in a pass of many
        }
        #expect(try logits(invariant: true, split: true) == logits(invariant: true, split: false))
    }
}
