// The working set a sampler chain narrows: candidate tokens with their logits, optionally sorted
// by logit (highest first). Stages remove candidates or change logits; the chain then picks one.
// Reference: llama.cpp's llama_token_data_array.

import Glibc

public struct TokenCandidates: Sendable {
    public var tokens: [Int32]
    public var logits: [Float]
    /// True when `logits` is in descending order.
    public private(set) var isSorted: Bool
    /// True while the candidates are the whole vocabulary in id order (tokens[i] == i), so a
    /// token's logit can be found by index.
    public private(set) var isVocabularyOrder: Bool

    /// Every token of the vocabulary, token id = index.
    public init(logits: [Float]) {
        self.logits = logits
        tokens = (0..<Int32(logits.count)).map { $0 }
        isSorted = false
        isVocabularyOrder = true
    }

    public init(tokens: [Int32], logits: [Float], isSorted: Bool = false) {
        self.tokens = tokens
        self.logits = logits
        self.isSorted = isSorted
        isVocabularyOrder = false
    }

    /// Keeps the `k` highest logits, sorted, in one pass over the candidates (O(n·log k) compares):
    /// cheaper than sorting a vocabulary of 150,000 for a top-40.
    public mutating func keepHighest(_ k: Int) {
        guard k < tokens.count else { sort(); return }
        guard k > 0 else { tokens = []; logits = []; isSorted = true; return }
        if isSorted { keepFirst(k); return }
        var bestTokens: [Int32] = [], bestLogits: [Float] = []
        bestTokens.reserveCapacity(k + 1)
        bestLogits.reserveCapacity(k + 1)
        @inline(__always) func ranksAbove(_ logit: Float, _ token: Int32, _ j: Int) -> Bool {
            logit != bestLogits[j] ? logit > bestLogits[j] : token < bestTokens[j]
        }
        for i in tokens.indices {
            let logit = logits[i], token = tokens[i]
            if bestLogits.count == k && !ranksAbove(logit, token, k - 1) { continue }
            // Binary search for the insertion point in the descending list.
            var low = 0, high = bestLogits.count
            while low < high {
                let middle = (low + high) / 2
                if ranksAbove(logit, token, middle) { high = middle } else { low = middle + 1 }
            }
            bestLogits.insert(logit, at: low)
            bestTokens.insert(token, at: low)
            if bestLogits.count > k {
                bestLogits.removeLast()
                bestTokens.removeLast()
            }
        }
        tokens = bestTokens
        logits = bestLogits
        isSorted = true
        isVocabularyOrder = false
    }

    public var count: Int { tokens.count }

    /// Sorts by logit, highest first (ties by token id, for determinism).
    public mutating func sort() {
        guard !isSorted else { return }
        let order = logits.indices.sorted { a, b in
            logits[a] != logits[b] ? logits[a] > logits[b] : tokens[a] < tokens[b]
        }
        tokens = order.map { tokens[$0] }
        logits = order.map { logits[$0] }
        isSorted = true
        isVocabularyOrder = false
    }

    /// Keeps the first `count` candidates (of the sorted order when sorted).
    public mutating func keepFirst(_ count: Int) {
        guard count < tokens.count else { return }
        tokens.removeSubrange(max(count, 0)...)
        logits.removeSubrange(max(count, 0)...)
        isVocabularyOrder = false
    }

    /// Keeps the candidates whose index satisfies `keep`, in order.
    public mutating func filter(_ keep: (Int) -> Bool) {
        var newTokens: [Int32] = [], newLogits: [Float] = []
        for i in tokens.indices where keep(i) {
            newTokens.append(tokens[i])
            newLogits.append(logits[i])
        }
        tokens = newTokens
        logits = newLogits
        isVocabularyOrder = false
    }

    /// Marks the order as unknown after logits changed.
    public mutating func logitsChanged() { isSorted = false }

    /// softmax over the current candidates, in their order.
    public func probabilities() -> [Double] {
        guard let maximum = logits.max() else { return [] }
        let exps = logits.map { exp(Double($0 - maximum)) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// Index of the highest logit (lowest token id among ties).
    public var bestIndex: Int? {
        guard !logits.isEmpty else { return nil }
        if isSorted { return 0 }
        var best = 0
        for i in logits.indices where logits[i] > logits[best] || (logits[i] == logits[best] && tokens[i] < tokens[best]) {
            best = i
        }
        return best
    }
}
