import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

/// Batching, chunking, prefix reuse and threads must not change the numbers: each path is compared
/// with evaluating one token at a time on stories260K.
@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct ModelEvaluationTests {
    static let prompt: [Int32] = [1, 403, 407, 261, 378, 29, 275, 350, 301, 283, 400]

    func load(threads: Int = 1, batchCapacity: Int = 32) throws -> Model {
        let url = try #require(SharedData.stories260K)
        return try Model(path: url.path, threads: threads, contextLength: 512, batchCapacity: batchCapacity, cacheType: .f32)
    }

    /// Logits after each token, evaluating one token per call.
    func oneByOne(_ model: Model, _ tokens: [Int32]) throws -> [[Float]] {
        let cache = try model.makeCache()
        return try tokens.map { try model.evaluate([$0], in: cache)[0] }
    }

    func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, _ what: String) {
        #expect(a.count == b.count)
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= tolerance, "\(what): max difference \(difference)")
    }

    @Test func manyTokensAtOnceEqualSingleSteps() throws {
        let model = try load()
        let expected = try oneByOne(model, Self.prompt)
        let cache = try model.makeCache()
        let all = try model.evaluate(Self.prompt, in: cache, allLogits: true)
        #expect(all.count == Self.prompt.count)
        for i in expected.indices { expectClose(all[i], expected[i], "position \(i)") }
        #expect(cache.tokens == Self.prompt)

        let last = try model.evaluate(Self.prompt, in: try model.makeCache())
        #expect(last.count == 1)
        expectClose(last[0], expected[expected.count - 1], "last")
    }

    @Test func chunkedPromptEqualsSingleSteps() throws {
        let small = try load(batchCapacity: 4)   // the prompt goes through in chunks of 4
        let expected = try oneByOne(small, Self.prompt)
        let all = try small.evaluate(Self.prompt, in: try small.makeCache(), allLogits: true)
        for i in expected.indices { expectClose(all[i], expected[i], "position \(i)") }
    }

    @Test func batchedDecodingEqualsOneByOne() throws {
        let model = try load()
        let prompts: [[Int32]] = [[1, 403, 407], [1, 261, 378, 29, 275], [1, 350]]
        let next: [[Int32]] = [[301, 283, 400], [283, 29, 403], [407, 261, 378]]
        // Reference: each sequence alone.
        var expected: [[[Float]]] = []
        for (prompt, continuation) in zip(prompts, next) {
            expected.append(Array(try oneByOne(model, prompt + continuation).suffix(continuation.count)))
        }
        // Batched: prompts evaluated separately, then three decoding steps of all three together.
        let caches = try prompts.map { _ in try model.makeCache() }
        for (cache, prompt) in zip(caches, prompts) { _ = try model.evaluate(prompt, in: cache) }
        for step in 0..<3 {
            let rows = try model.decode(batch: caches.indices.map { (caches[$0], next[$0][step]) })
            for s in caches.indices { expectClose(rows[s], expected[s][step], "sequence \(s) step \(step)") }
        }
        for s in caches.indices { #expect(caches[s].tokens == prompts[s] + next[s]) }
    }

    @Test func mixedBatchOfPromptsAndStepsEqualsSeparateEvaluation() throws {
        let model = try load(batchCapacity: 16)   // 1 + 7 + 40 tokens: three passes, split inside sequences
        let starts: [[Int32]] = [[1, 403], [1, 261, 378, 29], []]
        let inputs: [[Int32]] = [[407], Array(Self.prompt.prefix(7)), (0..<40).map { Int32(($0 * 13 + 5) % 509 + 3) }]
        var expected: [[Float]] = []
        for (start, input) in zip(starts, inputs) {
            let cache = try model.makeCache()
            if !start.isEmpty { _ = try model.evaluate(start, in: cache) }
            expected.append(try model.evaluate(input, in: cache)[0])
        }
        let caches = try starts.map { _ in try model.makeCache() }
        for (cache, start) in zip(caches, starts) where !start.isEmpty { _ = try model.evaluate(start, in: cache) }
        let rows = try model.evaluate(batch: caches.indices.map { (caches[$0], inputs[$0]) })
        #expect(rows.count == 3)
        for s in rows.indices {
            expectClose(rows[s], expected[s], "sequence \(s)")
            #expect(caches[s].tokens == starts[s] + inputs[s])
        }
        #expect(throws: ModelError.self) { try model.evaluate(batch: [(caches[0], [])]) }
    }

    @Test func prefixReuseEqualsRecomputing() throws {
        let model = try load()
        let shared = Array(Self.prompt.prefix(6))
        let tail = Array(Self.prompt.suffix(from: 6))
        let expected = try model.evaluate(Self.prompt, in: try model.makeCache(), allLogits: true)

        let base = try model.makeCache()
        _ = try model.evaluate(shared + [999 % 512], in: base)   // one extra token the copy leaves behind
        let fork = try model.makeCache()
        try fork.copyPrefix(from: base, length: shared.count)
        #expect(fork.tokens == shared)
        let reused = try model.evaluate(tail, in: fork, allLogits: true)
        for i in tail.indices { expectClose(reused[i], expected[shared.count + i], "tail \(i)") }

        // Truncating in place works the same way.
        try base.truncate(to: shared.count)
        let again = try model.evaluate(tail, in: base, allLogits: true)
        for i in tail.indices { expectClose(again[i], expected[shared.count + i], "truncated tail \(i)") }
    }

    @Test func cacheGrowsWithoutLosingPositions() throws {
        // 150 positions: the cache starts with room for 64 and grows twice on the way.
        let model = try load(batchCapacity: 16)
        let tokens: [Int32] = (0..<150).map { Int32(($0 * 37 + 11) % 500 + 3) }
        let cache = try model.makeCache()
        let whole = try model.evaluate(tokens, in: cache, allLogits: true)
        let stepped = try model.makeCache()
        var last: [Float] = []
        for token in tokens { last = try model.evaluate([token], in: stepped)[0] }
        expectClose(whole[149], last, "position 149")
        #expect(cache.byteCount < cache.capacityByteCount)
        // A copy into a fresh (small) cache grows it too.
        let copy = try model.makeCache()
        try copy.copyPrefix(from: cache, length: 140)
        let tail = try model.evaluate(Array(tokens[140...]), in: copy, allLogits: true)
        for i in tail.indices { expectClose(tail[i], whole[140 + i], "copied tail \(i)") }
    }

    @Test func halfPrecisionCacheStaysCloseToSinglePrecision() throws {
        let model = try load()
        let single = try model.evaluate(Self.prompt, in: try model.makeCache(type: .f32), allLogits: true)
        let half = try model.evaluate(Self.prompt, in: try model.makeCache(type: .f16), allLogits: true)
        for i in single.indices {
            let range = single[i].max()! - single[i].min()!
            expectClose(half[i], single[i], tolerance: 2e-3 * range, "position \(i)")
        }
        // Copies keep their precision; mixing precisions is an error.
        let mixed = try model.makeCache(type: .f32)
        let source = try model.makeCache(type: .f16)
        _ = try model.evaluate([1, 403], in: source)
        #expect(throws: ModelError.self) { try mixed.copyPrefix(from: source, length: 1) }
        #expect(try model.makeCache().type == .f32)
    }

    @Test func threadsDoNotChangeTheResult() throws {
        let one = try evaluateAll(try load(threads: 1))
        let two = try evaluateAll(try load(threads: 2))
        for i in one.indices { expectClose(one[i], two[i], tolerance: 1e-5, "position \(i)") }
    }

    func evaluateAll(_ model: Model) throws -> [[Float]] {
        try model.evaluate(Self.prompt, in: try model.makeCache(), allLogits: true)
    }

    @Test func logProbabilitiesOfGivenTokens() throws {
        let model = try load()
        let prefix = Array(Self.prompt.prefix(5))
        let label = Array(Self.prompt.suffix(from: 5))
        let rows = try model.evaluate(Self.prompt, in: try model.makeCache(), allLogits: true)
        let cache = try model.makeCache()
        _ = try model.evaluate(prefix, in: cache)
        let scores = try model.logProbabilities(of: label, after: cache)
        #expect(scores.count == label.count)
        for (i, token) in label.enumerated() {
            let distribution = LogProbabilities.logSoftmax(rows[prefix.count - 1 + i])
            #expect(abs(scores[i] - distribution[Int(token)]) < 1e-4)
            let total = distribution.reduce(0.0) { $0 + exp(Double($1)) }
            #expect(abs(total - 1) < 1e-5)
        }
        #expect(cache.tokens == Self.prompt)
    }

    @Test func scoringContinuationsLeavesTheCacheAsItWas() throws {
        let model = try load()
        let prefix = Array(Self.prompt.prefix(5))
        let labels: [[Int32]] = [Array(Self.prompt.suffix(from: 5)), [29], [400, 283], []]
        let cache = try model.makeCache()
        _ = try model.evaluate(prefix, in: cache)
        let scores = try model.score(continuations: labels, after: cache)
        #expect(cache.tokens == prefix)
        #expect(scores.count == labels.count)
        for (label, score) in zip(labels, scores) where !label.isEmpty {
            // Reference: the whole sequence evaluated at once.
            let rows = try model.evaluate(prefix + label, in: try model.makeCache(), allLogits: true)
            #expect(score.tokenLogProbabilities.count == label.count)
            for (i, token) in label.enumerated() {
                let expected = LogProbabilities.logSoftmax(rows[prefix.count - 1 + i])[Int(token)]
                #expect(abs(score.tokenLogProbabilities[i] - expected) < 1e-4)
            }
        }
        #expect(scores[3].tokenLogProbabilities.isEmpty)
        // Probabilities of single-token continuations over the whole vocabulary sum to 1.
        let all = try model.score(continuations: (0..<512).map { [Int32($0)] }, after: cache)
        let total = all.reduce(0.0) { $0 + exp(Double($1.total)) }
        #expect(abs(total - 1) < 1e-4)
    }

    @Test func badInputIsAnError() throws {
        let model = try load()
        let cache = try model.makeCache(capacity: 4)
        #expect(throws: ModelError.tokenOutOfRange(token: 512, vocabularySize: 512)) {
            try model.evaluate([1, 512], in: cache)
        }
        #expect(throws: ModelError.tokenOutOfRange(token: -1, vocabularySize: 512)) {
            try model.evaluate([-1], in: cache)
        }
        #expect(throws: ModelError.self) { try model.evaluate([], in: cache) }
        #expect(cache.length == 0)
        _ = try model.evaluate([1, 2, 3], in: cache)
        #expect(throws: ModelError.contextFull(position: 4, capacity: 4)) {
            try model.evaluate([4, 5], in: cache)
        }
        _ = try model.evaluate([4], in: cache)
        #expect(throws: ModelError.contextFull(position: 4, capacity: 4)) {
            try model.decode(batch: [(cache, 5)])
        }
        let other = try model.makeCache()
        #expect(throws: ModelError.self) { try model.decode(batch: [(other, 1), (other, 2)]) }
        #expect(throws: ModelError.self) { try cache.truncate(to: 9) }
        #expect(throws: ModelError.self) { try model.logProbabilities(of: [1], after: try model.makeCache()) }
    }
}
