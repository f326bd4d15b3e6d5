// Runs sampler stages in order and draws the next token from what is left, with a seeded
// generator so the same seed gives the same tokens.

public struct SamplingSettings: Sendable, Equatable, Codable {
    /// 0 picks the most likely token every time (greedy).
    public var temperature: Float = 0.8
    /// ≤ 0 disables.
    public var topK: Int = 40
    /// ≥ 1 disables.
    public var topP: Float = 0.95
    /// ≤ 0 disables.
    public var minP: Float = 0.05
    /// 1 disables.
    public var repetitionPenalty: Float = 1
    /// Tokens of history the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    public var seed: UInt64 = 0

    public init(temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Always the most likely token.
    public static let greedy = SamplingSettings(temperature: 0, topK: 0, topP: 1, minP: 0)

    private enum CodingKeys: String, CodingKey {
        case temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, seed
    }

    /// Missing keys take the defaults above, so a configuration names only what it changes.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SamplingSettings()
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? defaults.temperature
        topK = try container.decodeIfPresent(Int.self, forKey: .topK) ?? defaults.topK
        topP = try container.decodeIfPresent(Float.self, forKey: .topP) ?? defaults.topP
        minP = try container.decodeIfPresent(Float.self, forKey: .minP) ?? defaults.minP
        repetitionPenalty = try container.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? defaults.repetitionPenalty
        repetitionWindow = try container.decodeIfPresent(Int.self, forKey: .repetitionWindow) ?? defaults.repetitionWindow
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
    }
}

public struct SamplerChain: Sendable {
    public var stages: [any SamplerStage]
    private var generator: SeededRandomGenerator

    public init(stages: [any SamplerStage], seed: UInt64 = 0) {
        self.stages = stages
        generator = SeededRandomGenerator(seed: seed)
    }

    /// The usual chain, in llama.cpp's default order: repetition penalty → top-k → top-p → min-p →
    /// temperature → draw. Temperature 0 ends the chain with the most likely token.
    public init(settings: SamplingSettings) {
        var stages: [any SamplerStage] = []
        if settings.repetitionPenalty != 1 {
            stages.append(RepetitionPenaltyStage(penalty: settings.repetitionPenalty, window: settings.repetitionWindow))
        }
        if settings.temperature <= 0 {
            stages.append(GreedyStage())
        } else {
            stages.append(TopKStage(settings.topK))
            stages.append(TopPStage(settings.topP))
            stages.append(MinPStage(settings.minP))
            stages.append(TemperatureStage(settings.temperature))
        }
        self.init(stages: stages, seed: settings.seed)
    }

    /// The candidates left after every stage, before the draw.
    public func candidates(logits: [Float], history: [Int32] = []) -> TokenCandidates {
        var candidates = TokenCandidates(logits: logits)
        for stage in stages { stage.apply(to: &candidates, history: history) }
        return candidates
    }

    /// Runs the stages over `logits` ([vocabularySize]) and draws a token from the softmax of what
    /// remains. Returns nil only when the logits are empty or every stage together removed all.
    /// Every stage is told the chosen token (`accept`).
    public mutating func sample(logits: [Float], history: [Int32] = []) -> Int32? {
        if stages.count == 1, stages[0] is GreedyStage, let token = Self.mostLikely(logits) { return token }
        let remaining = candidates(logits: logits, history: history)
        guard remaining.count > 0 else { return nil }
        let token = draw(from: remaining)
        for index in stages.indices { stages[index].accept(token) }
        return token
    }

    /// The lowest id with the highest logit, as GreedyStage picks it, without building the
    /// vocabulary's candidates (a copy of every logit and id per token); nil if no logit is a number.
    private static func mostLikely(_ logits: [Float]) -> Int32? {
        logits.withUnsafeBufferPointer { row in
            let maximum = ExponentialSum.maximum(row)
            return row.firstIndex(of: maximum).map { Int32($0) }
        }
    }

    private mutating func draw(from remaining: TokenCandidates) -> Int32 {
        if remaining.count == 1 { return remaining.tokens[0] }
        let probabilities = remaining.probabilities()
        let draw = generator.nextUnit()
        var cumulative = 0.0
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if draw < cumulative { return remaining.tokens[i] }
        }
        return remaining.tokens[remaining.count - 1]
    }
}
