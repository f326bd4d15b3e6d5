// Sampling as small stages behind one protocol, each narrowing or reshaping the candidates;
// a SamplerChain runs them in order and draws the token.
// Reference: llama.cpp src/llama-sampling.cpp (the samplers' definitions; our own code).

import Glibc

public protocol SamplerStage: Sendable {
    /// Narrows or reshapes `candidates`. `history` is the sequence so far (prompt and output).
    func apply(to candidates: inout TokenCandidates, history: [Int32])
    /// Told the token the chain chose, for stages that keep state (a grammar's position).
    mutating func accept(_ token: Int32)
}

extension SamplerStage {
    public mutating func accept(_ token: Int32) {}
}

/// Keeps only the most likely token.
public struct GreedyStage: SamplerStage {
    public init() {}
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard let best = candidates.bestIndex else { return }
        candidates = TokenCandidates(tokens: [candidates.tokens[best]], logits: [candidates.logits[best]], isSorted: true)
    }
}

/// Divides logits by the temperature; a temperature of 0 (or less) keeps only the best token.
public struct TemperatureStage: SamplerStage {
    public let temperature: Float
    public init(_ temperature: Float) { self.temperature = temperature }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        if temperature <= 0 {
            GreedyStage().apply(to: &candidates, history: history)
            return
        }
        guard temperature != 1 else { return }
        let inverse = 1 / temperature
        for i in candidates.logits.indices { candidates.logits[i] *= inverse }
        // Dividing by a positive number keeps the order.
    }
}

/// Keeps the `k` most likely tokens; k ≤ 0 keeps all.
public struct TopKStage: SamplerStage {
    public let k: Int
    public init(_ k: Int) { self.k = k }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard k > 0, k < candidates.count else { return }
        candidates.keepHighest(k)
    }
}

/// Nucleus sampling: keeps the smallest set of most likely tokens whose probabilities add up to at
/// least `p` (and at least `minimumKeep` tokens); p ≥ 1 keeps all.
public struct TopPStage: SamplerStage {
    public let p: Float
    public let minimumKeep: Int
    public init(_ p: Float, minimumKeep: Int = 1) {
        self.p = p
        self.minimumKeep = max(1, minimumKeep)
    }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard p < 1, candidates.count > 1 else { return }
        if !candidates.isSorted && candidates.count > 1024, let nucleus = smallNucleus(of: candidates) {
            candidates = nucleus
            return
        }
        candidates.sort()
        let probabilities = candidates.probabilities()
        var cumulative = 0.0
        var keep = candidates.count
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if cumulative >= Double(p) && i + 1 >= minimumKeep {
                keep = i + 1
                break
            }
        }
        candidates.keepFirst(keep)
    }
}

extension TopPStage {
    /// The nucleus is usually a few tokens: look for it among the best 256 before sorting a whole
    /// vocabulary. Nil when those 256 do not reach `p` (the caller sorts everything then).
    func smallNucleus(of candidates: TokenCandidates) -> TokenCandidates? {
        guard let maximum = candidates.logits.max() else { return nil }
        let total = candidates.logits.withUnsafeBufferPointer { ExponentialSum.sum($0, shift: maximum) }
        var best = candidates
        best.keepHighest(256)
        var cumulative = 0.0
        for i in 0..<best.count {
            cumulative += Double(expf(best.logits[i] - maximum)) / total
            if cumulative >= Double(p) && i + 1 >= minimumKeep {
                best.keepFirst(i + 1)
                return best
            }
        }
        return nil
    }
}

/// Keeps the tokens at least `p` times as likely as the most likely one (and at least `minimumKeep`);
/// p ≤ 0 keeps all.
public struct MinPStage: SamplerStage {
    public let p: Float
    public let minimumKeep: Int
    public init(_ p: Float, minimumKeep: Int = 1) {
        self.p = p
        self.minimumKeep = max(1, minimumKeep)
    }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard p > 0, candidates.count > 1, let maximum = candidates.logits.max() else { return }
        // prob_i ≥ p · prob_max  ⇔  logit_i ≥ logit_max + ln p
        let threshold = maximum + logf(p)
        let kept = candidates.logits.reduce(0) { $0 + ($1 >= threshold ? 1 : 0) }
        // Selecting the kept ones first avoids sorting a whole vocabulary for a handful.
        candidates.keepHighest(max(kept, minimumKeep))
    }
}

/// Penalizes tokens seen in the last `window` tokens of the history: a positive logit is divided by
/// `penalty`, a negative one multiplied (CTRL's repetition penalty, once per distinct token); then
/// `frequency` · occurrences + `presence` is subtracted (OpenAI-style penalties). window ≤ 0 means all.
public struct RepetitionPenaltyStage: SamplerStage {
    public let penalty: Float
    public let window: Int
    public let frequency: Float
    public let presence: Float
    public init(penalty: Float, window: Int = 64, frequency: Float = 0, presence: Float = 0) {
        self.penalty = penalty
        self.window = window
        self.frequency = frequency
        self.presence = presence
    }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard penalty != 1 || frequency != 0 || presence != 0, !history.isEmpty else { return }
        let recent = window > 0 ? history.suffix(window) : history[...]
        var occurrences: [Int32: Int] = [:]
        for token in recent { occurrences[token, default: 0] += 1 }
        func penalized(_ logit: Float, count: Int) -> Float {
            var logit = logit
            if penalty > 0 && penalty != 1 {
                logit = logit > 0 ? logit / penalty : logit * penalty
            }
            return logit - (Float(count) * frequency + presence)
        }
        if candidates.isVocabularyOrder {
            // Index by token id: a few lookups instead of one per vocabulary entry.
            for (token, count) in occurrences where token >= 0 && Int(token) < candidates.count {
                candidates.logits[Int(token)] = penalized(candidates.logits[Int(token)], count: count)
            }
        } else {
            for i in candidates.tokens.indices {
                guard let count = occurrences[candidates.tokens[i]] else { continue }
                candidates.logits[i] = penalized(candidates.logits[i], count: count)
            }
        }
        candidates.logitsChanged()
    }
}

/// Adds a fixed bias to given tokens' logits; -infinity bans a token (an end-of-generation token
/// before a minimum length, a token a format forbids). Reference: llama.cpp's logit-bias sampler.
public struct LogitBiasStage: SamplerStage {
    public let biases: [Int32: Float]
    public init(_ biases: [Int32: Float]) { self.biases = biases }
    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        guard !biases.isEmpty else { return }
        if candidates.isVocabularyOrder {
            for (token, bias) in biases where token >= 0 && Int(token) < candidates.count {
                candidates.logits[Int(token)] += bias
            }
        } else {
            for i in candidates.tokens.indices {
                if let bias = biases[candidates.tokens[i]] { candidates.logits[i] += bias }
            }
        }
        candidates.logitsChanged()
        // Banned tokens leave the candidates, so no later stage or draw can pick them.
        if biases.values.contains(-.infinity) {
            let logits = candidates.logits
            candidates.filter { logits[$0] > -.infinity }
        }
    }
}
