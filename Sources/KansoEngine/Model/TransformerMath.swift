// The element-wise pieces of the forward pass over raw F32 buffers: RMS norm, softmax,
// activations, RoPE, dot products. Matrix products are the kernels' (WeightMatrix).
// Written as plain loops with independent accumulators so the optimizer can vectorize them.

import Foundation

enum TransformerMath {
    /// out[i] = x[i] / sqrt(mean(x²) + epsilon) * weight[i], as ggml_rms_norm followed by a multiply.
    /// `out` may be `x`.
    @inline(__always)
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                        count: Int, epsilon: Float) {
        let sum = dot(x, x, count: count)
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        for i in 0..<count { out[i] = x[i] * scale * weight[i] }
    }

    /// Σ a[i]·b[i] with four partial sums.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= count {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < count { s0 += a[i] * b[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// y[i] += a·x[i]
    @inline(__always)
    static func addScaled(_ x: UnsafePointer<Float>, scale a: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    /// y[i] += x[i]
    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// In-place softmax of x[0..<count], subtracting the maximum first.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for i in 0..<count where x[i] > maximum { maximum = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - maximum)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// gate[i] = act(gate[i]) * up[i]: the gated feed-forward's middle.
    @inline(__always)
    static func gatedActivation(_ activation: FeedForwardActivation, gate: UnsafeMutablePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        switch activation {
        case .silu:
            for i in 0..<count {
                let g = gate[i]
                gate[i] = g / (1 + expf(-g)) * up[i]
            }
        case .geluTanh:
            // ggml_gelu: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))
            let c: Float = 0.7978845608028654
            for i in 0..<count {
                let g = gate[i]
                gate[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
            }
        }
    }

    /// Rotates the first 2·cosines.count dimensions of one head by the angles whose cosines and
    /// sines are given ([ropeDimensionCount / 2] each), pairing dimensions as `style` says.
    @inline(__always)
    static func rotate(_ head: UnsafeMutablePointer<Float>, style: RopeStyle,
                       cosines: UnsafePointer<Float>, sines: UnsafePointer<Float>, pairCount: Int) {
        switch style {
        case .adjacentPairs:
            for i in 0..<pairCount {
                let x0 = head[2 * i], x1 = head[2 * i + 1]
                head[2 * i] = x0 * cosines[i] - x1 * sines[i]
                head[2 * i + 1] = x0 * sines[i] + x1 * cosines[i]
            }
        case .neoxHalves:
            for i in 0..<pairCount {
                let x0 = head[i], x1 = head[i + pairCount]
                head[i] = x0 * cosines[i] - x1 * sines[i]
                head[i + pairCount] = x0 * sines[i] + x1 * cosines[i]
            }
        }
    }
}
