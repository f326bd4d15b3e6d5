import Foundation
import Testing
@testable import KansoEngine

/// The vectorized softmax normalizer against the sum of libm's exp in Double: rows of every length
/// around the sixteen-lane step, logits spread over a realistic range and beyond the underflow
/// point, and the largest value found wherever it sits.
@Suite struct ExponentialSumTests {
    @Test func matchesDoubleExponentials() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 15, 16, 17, 33, 1000, 49_152] {
            let logits = (0..<count).map { _ in Float.random(in: -40...25, using: &generator) }
            logits.withUnsafeBufferPointer { row in
                let maximum = ExponentialSum.maximum(row)
                #expect(maximum == (logits.max() ?? -.infinity), "maximum of \(count)")
                let expected = logits.reduce(0.0) { $0 + exp(Double($1 - maximum)) }
                let sum = ExponentialSum.sum(row, shift: maximum)
                #expect(abs(sum - expected) <= 1e-6 * max(expected, 1e-30), "sum of \(count): \(sum) against \(expected)")
            }
        }
    }

    @Test func termsOfEveryMagnitude() {
        // e^x from 0 down past the underflow point, one lane each
        let xs: [Float] = (0..<200).map { -Float($0) * 0.5 } + [-.infinity, -1e30]
        xs.withUnsafeBufferPointer { row in
            for (i, x) in xs.enumerated() {
                let one = UnsafeBufferPointer(rebasing: row[i..<(i + 1)])
                let term = ExponentialSum.sum(one, shift: 0)
                let expected = x < -87 ? 0 : exp(Double(x))
                #expect(abs(term - expected) <= 2e-7 * expected + 1e-38, "e^\(x): \(term) against \(expected)")
            }
        }
    }
}
