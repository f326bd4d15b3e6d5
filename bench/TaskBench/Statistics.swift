// Figures of a run: accuracy, log-loss, calibration by confidence bucket, latency percentiles.

import Foundation

struct Prediction {
    /// Probability of each label.
    let probabilities: [Double]
    let truth: Int

    var predicted: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] }! }
    var confidence: Double { probabilities[predicted] }
    var isRight: Bool { predicted == truth }
}

enum Statistics {
    static func accuracy(_ predictions: [Prediction]) -> Double {
        predictions.isEmpty ? 0 : Double(predictions.filter(\.isRight).count) / Double(predictions.count)
    }

    /// Mean −ln p(truth).
    static func logLoss(_ predictions: [Prediction]) -> Double {
        predictions.reduce(0) { $0 - log(max($1.probabilities[$1.truth], 1e-12)) } / Double(max(predictions.count, 1))
    }

    static let bucketEdges: [Double] = [0, 0.5, 0.7, 0.85, 0.95, 1.0001]

    /// Per confidence bucket: (range, count, accuracy, mean confidence).
    static func buckets(_ predictions: [Prediction]) -> [(range: String, count: Int, accuracy: Double, confidence: Double)] {
        (0..<(bucketEdges.count - 1)).map { index in
            let low = bucketEdges[index], high = bucketEdges[index + 1]
            let members = predictions.filter { $0.confidence >= low && $0.confidence < high }
            let confidence = members.reduce(0) { $0 + $1.confidence } / Double(max(members.count, 1))
            return (String(format: "%.2f-%.2f", low, min(high, 1)), members.count, accuracy(members), confidence)
        }
    }

    /// Expected calibration error: Σ over buckets of |accuracy − confidence| weighted by share.
    static func calibrationError(_ predictions: [Prediction]) -> Double {
        buckets(predictions).reduce(0) { $0 + Double($1.count) * abs($1.accuracy - $1.confidence) } / Double(max(predictions.count, 1))
    }

    /// The q-quantile (nearest rank) of `values`.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    static func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
}

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
