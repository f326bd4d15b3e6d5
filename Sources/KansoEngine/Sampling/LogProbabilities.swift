// Probabilities from logits, computed in Double so long vocabularies keep their precision.

import Foundation

public enum LogProbabilities {
    /// log softmax(logits): logits - max - log Σ exp(logits - max).
    public static func logSoftmax(_ logits: [Float]) -> [Float] {
        guard let maximum = logits.max() else { return [] }
        var sum = 0.0
        for value in logits { sum += exp(Double(value - maximum)) }
        let shift = Double(maximum) + log(sum)
        return logits.map { Float(Double($0) - shift) }
    }

    /// softmax(logits).
    public static func softmax(_ logits: [Float]) -> [Float] {
        logSoftmax(logits).map { expf($0) }
    }
}
