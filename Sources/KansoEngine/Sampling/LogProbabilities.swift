// Probabilities from logits; the softmax normalizers sum in Double (ExponentialSum.swift), so long
// vocabularies keep their precision.

import Glibc

public enum LogProbabilities {
    /// log softmax(logits): logits - max - log Σ exp(logits - max).
    public static func logSoftmax(_ logits: [Float]) -> [Float] {
        guard let maximum = logits.max() else { return [] }
        let sum = logits.withUnsafeBufferPointer { ExponentialSum.sum($0, shift: maximum) }
        let shift = Double(maximum) + log(sum)
        return logits.map { Float(Double($0) - shift) }
    }

    /// ln softmax(logits)[token], without building the whole distribution.
    public static func logProbability(of token: Int32, logits: [Float]) -> Float {
        logits.withUnsafeBufferPointer { logProbability(of: token, logits: $0) }
    }

    /// ln softmax(logits)[token] of a row in place.
    public static func logProbability(of token: Int32, logits: UnsafeBufferPointer<Float>) -> Float {
        guard token >= 0, Int(token) < logits.count else { return -.infinity }
        let maximum = ExponentialSum.maximum(logits)
        let sum = ExponentialSum.sum(logits, shift: maximum)
        return Float(Double(logits[Int(token)] - maximum) - log(sum))
    }

    /// The most likely token of a row (the first on ties) and its probability.
    public static func mostLikely(_ logits: UnsafeBufferPointer<Float>) -> (token: Int32, probability: Float) {
        guard !logits.isEmpty else { return (-1, 0) }
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return (Int32(best), Float(1 / ExponentialSum.sum(logits, shift: logits[best])))
    }

    /// The `count` most likely tokens with their probabilities, most likely first (ties by id):
    /// next-word candidates.
    public static func top(_ count: Int, of logits: [Float]) -> [(token: Int32, probability: Float)] {
        guard count > 0, !logits.isEmpty else { return [] }
        var candidates = TokenCandidates(logits: logits)
        candidates.keepHighest(count)
        let maximum = candidates.logits[0]
        let sum = logits.withUnsafeBufferPointer { ExponentialSum.sum($0, shift: maximum) }
        return zip(candidates.tokens, candidates.logits).map { ($0, Float(exp(Double($1 - maximum)) / sum)) }
    }

    /// softmax(logits).
    public static func softmax(_ logits: [Float]) -> [Float] {
        logSoftmax(logits).map { expf($0) }
    }
}
