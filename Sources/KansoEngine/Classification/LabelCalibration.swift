// Label likelihoods made comparable and calibrated. A label's score is made from the
// log-probabilities of its tokens after the prompt (ContinuationScore) in one of three forms;
// contextual calibration then divides out the prior the prompt itself gives each label,
// measured on content-free inputs ("", "N/A", "[MASK]" in place of the text), as in Zhao et al.,
// "Calibrate Before Use" (2021): p(label | text) ∝ p̂(label | text) / p̂(label | content-free).
// With calibration the form matters less: a label's length penalty is in its prior too.

import Glibc

/// How a label's token log-probabilities make its score.
public enum LabelScoreForm: String, Sendable, CaseIterable {
    /// ln p(label | prompt): the sum over its tokens. Favours short labels.
    case sum
    /// The sum over the label's token count: a length-neutral average.
    case mean
    /// The first token's log-probability alone (labels with distinct first tokens).
    case first

    public func score(_ continuation: ContinuationScore) -> Double {
        let values = continuation.tokenLogProbabilities
        guard let head = values.first else { return -.infinity }
        switch self {
        case .sum: return Double(continuation.total)
        case .mean: return Double(continuation.mean)
        case .first: return Double(head)
        }
    }
}

public enum LabelProbabilities {
    /// exp(xᵢ − max) / Σ: probabilities over labels from scores (log-space, any offset).
    public static func softmax(_ scores: [Double]) -> [Double] {
        guard let top = scores.max(), top.isFinite else {
            return scores.map { _ in 1 / Double(max(scores.count, 1)) }
        }
        let exponentials = scores.map { exp($0 - top) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }

    /// A log-linear blend: p ∝ p_a^w · p_b^(1−w), renormalized; w = 1 is `a` alone.
    public static func blend(_ a: [Double], _ b: [Double], weight: Double) -> [Double] {
        softmax(zip(a, b).map { weight * log(max($0, 1e-300)) + (1 - weight) * log(max($1, 1e-300)) })
    }
}

/// The label prior of a prompt, and the calibrated probabilities it gives.
public struct ContextualCalibration: Sendable, Equatable {
    /// The content-free inputs put in place of the text to measure the prior.
    public static let contentFreeInputs = ["", "N/A", "[MASK]"]

    /// ln of the prior of each label: the mean, over the content-free inputs, of the softmax of
    /// their label scores. [K]
    public let logPrior: [Double]

    /// `contentFreeScores` [inputs][K]: the label scores (one form) of each content-free input.
    public init(contentFreeScores: [[Double]]) {
        let k = contentFreeScores.first?.count ?? 0
        var prior = [Double](repeating: 0, count: k)
        for scores in contentFreeScores {
            for (index, p) in LabelProbabilities.softmax(scores).enumerated() { prior[index] += p }
        }
        let count = Double(max(contentFreeScores.count, 1))
        logPrior = prior.map { log(max($0 / count, 1e-300)) }
    }

    /// softmax(score − ln prior): the scores [K] of a real text, calibrated.
    public func probabilities(scores: [Double]) -> [Double] {
        LabelProbabilities.softmax(zip(scores, logPrior).map { $0 - $1 })
    }
}
