import Foundation
import Testing
@testable import KansoEngine

@Suite struct SamplingTests {
    // logits chosen so that the probabilities are easy to reason about: token 3 > 1 > 0 > 2 > 4.
    let logits: [Float] = [1.0, 2.0, 0.5, 3.0, -1.0]

    func kept(_ stage: any SamplerStage, _ logits: [Float], history: [Int32] = []) -> Set<Int32> {
        var candidates = TokenCandidates(logits: logits)
        stage.apply(to: &candidates, history: history)
        return Set(candidates.tokens)
    }

    @Test func greedyKeepsTheArgmax() {
        #expect(kept(GreedyStage(), logits) == [3])
        var chain = SamplerChain(settings: .greedy)
        #expect(chain.sample(logits: logits) == 3)
    }

    @Test func temperatureZeroIsGreedy() {
        #expect(kept(TemperatureStage(0), logits) == [3])
        var chain = SamplerChain(settings: SamplingSettings(temperature: 0, seed: 7))
        for _ in 0..<20 { #expect(chain.sample(logits: logits) == 3) }
    }

    @Test func temperatureDividesLogits() {
        var candidates = TokenCandidates(logits: logits)
        TemperatureStage(2).apply(to: &candidates, history: [])
        #expect(candidates.logits == logits.map { $0 / 2 })
    }

    @Test(arguments: [(1, [3]), (2, [3, 1]), (3, [3, 1, 0]), (0, [0, 1, 2, 3, 4]), (9, [0, 1, 2, 3, 4])] as [(Int, Set<Int32>)])
    func topKKeepsTheKMostLikely(k: Int, expected: Set<Int32>) {
        #expect(kept(TopKStage(k), logits) == expected)
    }

    @Test func topPKeepsTheSmallestNucleus() {
        // softmax of the logits, sorted: p3 ≈ 0.6236, p1 ≈ 0.2294, p0 ≈ 0.0844, p2 ≈ 0.0512, p4 ≈ 0.0114
        #expect(kept(TopPStage(0.5), logits) == [3])
        #expect(kept(TopPStage(0.6285), logits) == [3, 1])   // just above p3 alone
        #expect(kept(TopPStage(0.85), logits) == [3, 1])
        #expect(kept(TopPStage(0.87), logits) == [3, 1, 0])
        #expect(kept(TopPStage(1.0), logits) == [0, 1, 2, 3, 4])
        #expect(kept(TopPStage(0.1, minimumKeep: 3), logits) == [3, 1, 0])
    }

    @Test func minPKeepsTokensNearTheBest() {
        // relative to p3: p1/p3 = e^-1 ≈ 0.368, p0/p3 = e^-2 ≈ 0.135, p2/p3 = e^-2.5 ≈ 0.082
        #expect(kept(MinPStage(0.5), logits) == [3])
        #expect(kept(MinPStage(0.3), logits) == [3, 1])
        #expect(kept(MinPStage(0.1), logits) == [3, 1, 0])
        #expect(kept(MinPStage(0.05), logits) == [3, 1, 0, 2])
        #expect(kept(MinPStage(0), logits) == [0, 1, 2, 3, 4])
    }

    @Test func repetitionPenaltyLowersRecentTokens() {
        var candidates = TokenCandidates(logits: logits)
        RepetitionPenaltyStage(penalty: 2, window: 2).apply(to: &candidates, history: [1, 3, 4, 4])
        // window 2 sees [4, 4] only: -1 → -2; others unchanged.
        #expect(candidates.logits == [1.0, 2.0, 0.5, 3.0, -2.0])

        var wide = TokenCandidates(logits: logits)
        RepetitionPenaltyStage(penalty: 2, window: 0).apply(to: &wide, history: [1, 3, 4, 4])
        #expect(wide.logits == [1.0, 1.0, 0.5, 1.5, -2.0])
        // After the penalty the best token changes from 3 to ... 3 still (1.5 > 1.0); a stronger one flips it.
        var strong = TokenCandidates(logits: logits)
        RepetitionPenaltyStage(penalty: 4, window: 0).apply(to: &strong, history: [3])
        GreedyStage().apply(to: &strong, history: [])
        #expect(strong.tokens == [1])
    }

    @Test func logitBiasShiftsAndBans() {
        var candidates = TokenCandidates(logits: logits)
        LogitBiasStage([1: 0.5, 3: -.infinity]).apply(to: &candidates, history: [])
        #expect(Set(candidates.tokens) == [0, 1, 2, 4])
        #expect(candidates.logits[candidates.tokens.firstIndex(of: 1)!] == 2.5)
        var chain = SamplerChain(stages: [LogitBiasStage([3: -.infinity]), GreedyStage()])
        #expect(chain.sample(logits: logits) == 1)
        var narrowed = TokenCandidates(logits: logits)
        narrowed.keepHighest(2)
        LogitBiasStage([1: 5]).apply(to: &narrowed, history: [])
        GreedyStage().apply(to: &narrowed, history: [])
        #expect(narrowed.tokens == [1])
    }

    @Test func frequencyAndPresencePenaltiesSubtract() {
        var candidates = TokenCandidates(logits: logits)
        RepetitionPenaltyStage(penalty: 1, window: 0, frequency: 0.5, presence: 0.25).apply(to: &candidates, history: [0, 0, 2])
        #expect(candidates.logits == [1.0 - 1.0 - 0.25, 2.0, 0.5 - 0.5 - 0.25, 3.0, -1.0])
    }

    @Test func settingsRoundTripThroughJSON() throws {
        let settings = SamplingSettings(temperature: 0.7, topK: 20, topP: 0.9, minP: 0.1, repetitionPenalty: 1.1,
                                        repetitionWindow: 32, seed: 99)
        let decoded = try JSONDecoder().decode(SamplingSettings.self, from: JSONEncoder().encode(settings))
        #expect(decoded == settings)
        let partial = try JSONDecoder().decode(SamplingSettings.self, from: Data(#"{"temperature": 0, "seed": 5}"#.utf8))
        #expect(partial == SamplingSettings(temperature: 0, seed: 5))
    }

    @Test func sameSeedSameTokens() {
        let settings = SamplingSettings(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 42)
        var first = SamplerChain(settings: settings)
        var second = SamplerChain(settings: settings)
        let a = (0..<200).map { _ in first.sample(logits: logits)! }
        let b = (0..<200).map { _ in second.sample(logits: logits)! }
        #expect(a == b)
        var other = SamplerChain(settings: SamplingSettings(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 43))
        let c = (0..<200).map { _ in other.sample(logits: logits)! }
        #expect(a != c)
        #expect(Set(a).count > 2)  // not stuck on one token
    }

    @Test func drawsFollowTheDistribution() {
        var chain = SamplerChain(stages: [], seed: 1)
        let probabilities = LogProbabilities.softmax(logits)
        var counts = [Int](repeating: 0, count: logits.count)
        let draws = 20_000
        for _ in 0..<draws { counts[Int(chain.sample(logits: logits)!)] += 1 }
        for (token, probability) in probabilities.enumerated() {
            let observed = Double(counts[token]) / Double(draws)
            #expect(abs(observed - Double(probability)) < 0.015, "token \(token): \(observed) vs \(probability)")
        }
    }

    @Test func topKThenDrawNeverLeavesTheSet() {
        var chain = SamplerChain(stages: [TopKStage(2)], seed: 3)
        for _ in 0..<500 {
            let token = chain.sample(logits: logits)!
            #expect(token == 3 || token == 1)
        }
    }

    @Test func logSoftmaxSumsToOne() {
        let values: [Float] = (0..<1000).map { Float(($0 * 7919) % 113) / 9 - 5 }
        let logs = LogProbabilities.logSoftmax(values)
        let total = logs.reduce(0.0) { $0 + exp(Double($1)) }
        #expect(abs(total - 1) < 1e-5)
        #expect(logs.allSatisfy { $0 <= 0 })
    }

    @Test func seededGeneratorIsDeterministicAndUniform() {
        var a = SeededRandomGenerator(seed: 5)
        var b = SeededRandomGenerator(seed: 5)
        var sum = 0.0
        for _ in 0..<10_000 {
            let x = a.nextUnit()
            #expect(x == b.nextUnit())
            #expect(x >= 0 && x < 1)
            sum += x
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
    }

    @Test func keepHighestMatchesAFullSort() {
        var random = SeededRandomGenerator(seed: 9)
        // Many ties (values on a coarse grid) to check the tie order too.
        let values: [Float] = (0..<5000).map { _ in Float(Int(random.nextUnit() * 200)) / 10 }
        for k in [1, 7, 40, 4999, 5000, 6000] {
            var selected = TokenCandidates(logits: values)
            selected.keepHighest(k)
            var sorted = TokenCandidates(logits: values)
            sorted.sort()
            sorted.keepFirst(k)
            #expect(selected.tokens == sorted.tokens, "k = \(k)")
            #expect(selected.logits == sorted.logits)
        }
    }

    @Test func largeVocabularyTopPAndMinPMatchTheSortedDefinition() {
        var random = SeededRandomGenerator(seed: 11)
        let values: [Float] = (0..<20_000).map { _ in Float(random.nextUnit() * 12 - 6) }
        let probabilities = LogProbabilities.softmax(values)
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        for p: Float in [0.001, 0.05, 0.5, 0.9] {
            var cumulative: Float = 0
            var expected: Set<Int32> = []
            for index in order {
                expected.insert(Int32(index))
                cumulative += probabilities[index]
                if cumulative >= p { break }
            }
            // Within float rounding of the cumulative sum at the boundary.
            let kept = kept(TopPStage(p), values)
            #expect(abs(kept.count - expected.count) <= 1, "top-p \(p): \(kept.count) vs \(expected.count)")
            #expect(kept.isSubset(of: expected) || expected.isSubset(of: kept))
        }
        let best = values.max()!
        for p: Float in [0.01, 0.2, 0.9] {
            let expected = Set(values.indices.filter { values[$0] >= best + logf(p) }.map { Int32($0) })
            #expect(kept(MinPStage(p), values) == expected)
        }
    }

    @Test func topCandidatesWithProbabilities() {
        let top = LogProbabilities.top(2, of: logits)
        #expect(top.map(\.token) == [3, 1])
        let probabilities = LogProbabilities.softmax(logits)
        #expect(abs(top[0].probability - probabilities[3]) < 1e-6)
        #expect(abs(top[1].probability - probabilities[1]) < 1e-6)
        #expect(abs(LogProbabilities.logProbability(of: 1, logits: logits) - logf(probabilities[1])) < 1e-5)
    }

    @Test func repetitionPenaltyIsTheSameAfterNarrowing() {
        let history: [Int32] = [3, 0, 3]
        var whole = TokenCandidates(logits: logits)
        RepetitionPenaltyStage(penalty: 1.5, window: 0, frequency: 0.1).apply(to: &whole, history: history)
        var narrowed = TokenCandidates(logits: logits)
        narrowed.keepHighest(3)   // tokens 3, 1, 0: no longer in vocabulary order
        RepetitionPenaltyStage(penalty: 1.5, window: 0, frequency: 0.1).apply(to: &narrowed, history: history)
        for (i, token) in narrowed.tokens.enumerated() {
            #expect(narrowed.logits[i] == whole.logits[Int(token)])
        }
        #expect(abs(whole.logits[3] - (3.0 / 1.5 - 0.2)) < 1e-6)
    }

    struct RecordingStage: SamplerStage {
        var accepted: [Int32] = []
        func apply(to candidates: inout TokenCandidates, history: [Int32]) {}
        mutating func accept(_ token: Int32) { accepted.append(token) }
    }

    @Test func stagesAreToldTheChosenToken() throws {
        var chain = SamplerChain(stages: [RecordingStage(), GreedyStage()], seed: 0)
        _ = chain.sample(logits: logits)
        _ = chain.sample(logits: [0, 5, 1])
        let recorder = try #require(chain.stages[0] as? RecordingStage)
        #expect(recorder.accepted == [3, 1])
    }

    @Test func textAssemblerHoldsBackSplitCharacters() {
        var assembler = TextAssembler()
        let bytes = Array("é😀".utf8)   // 2 + 4 bytes
        #expect(assembler.append([bytes[0]]) == "")
        #expect(assembler.append([bytes[1], bytes[2]]) == "é")
        #expect(assembler.append([bytes[3], bytes[4]]) == "")
        #expect(assembler.append([bytes[5]]) == "😀")
        #expect(assembler.append(Array("ab".utf8)) == "ab")
        #expect(assembler.flush() == "")
    }
}
