import Foundation
import Testing
@testable import KansoEngine

/// The element-wise steps that run sixteen lanes at a time with ExponentialSum's exponential
/// (attention's softmax, the gated feed-forward's SiLU and tanh GELU), against Double references.
@Suite struct TransformerMathTests {
    /// 203 values from −60 to 60, denser near 0 (not a multiple of sixteen: the tail runs too).
    static let values: [Float] = (0..<203).map { i in
        let t = Double(i - 101) / 101
        return Float(60 * t * t * t + 0.37 * t)
    }

    @Test(arguments: [FeedForwardActivation.silu, .geluTanh])
    func gatedActivationMatchesReference(_ activation: FeedForwardActivation) {
        var gate = Self.values
        let up = Self.values.indices.map { Float(1 + Double($0 % 7) / 10) }
        TransformerMath.gatedActivation(activation, gate: &gate, up: up, count: gate.count)
        for (i, g) in Self.values.enumerated() {
            let x = Double(g)
            let activated = activation == .silu
                ? x / (1 + Foundation.exp(-x))
                : 0.5 * x * (1 + Foundation.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
            let exact = activated * Double(up[i])
            #expect(abs(Double(gate[i]) - exact) <= 1e-6 * max(1, abs(exact)), "\(activation) at \(g): \(gate[i]) vs \(exact)")
        }
    }

    @Test func softmaxMatchesReference() {
        for count in [1, 5, 16, 37, 203] {
            var x = Array(Self.values.prefix(count).map { $0 / 4 })
            let maximum = Double(x.max()!)
            let exps = x.map { Foundation.exp(Double($0) - maximum) }
            let total = exps.reduce(0, +)
            TransformerMath.softmax(&x, count: count)
            for i in 0..<count {
                #expect(abs(Double(x[i]) - exps[i] / total) <= 1e-6 * exps[i] / total + 1e-12, "\(count) values, \(i)")
            }
        }
    }
}
