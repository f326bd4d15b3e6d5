// The element-wise pieces of the forward pass over raw F32 buffers: RMS norm, softmax,
// activations, RoPE, dot products. Matrix products are the kernels' (WeightMatrix).
// Plain loops the optimizer vectorizes, and SIMD8 accumulators where a reduction would not be.

import Glibc

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

    /// Σ a[i]·b[i], sixteen lanes of partial sums.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var low = SIMD8<Float>(repeating: 0), high = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        var i = 0
        while i + 16 <= count {
            low += rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            high += rawA.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= count {
            low += rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = (low + high).sum()
        while i < count { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    /// out[d] = Σt weights[t] · rows[t·stride + d] for d < length: attention's weighted sum of value
    /// rows. Eight dimensions at a time are accumulated in a register across all rows, instead of
    /// reading and writing `out` once per row.
    @inline(__always)
    static func weightedSum(rows: UnsafePointer<Float>, stride: Int, weights: UnsafePointer<Float>, count: Int,
                            into out: UnsafeMutablePointer<Float>, length: Int) {
        var d = 0
        while d + 8 <= length {
            var accumulator = SIMD8<Float>(repeating: 0)
            for t in 0..<count {
                let row = UnsafeRawPointer(rows + t * stride + d).loadUnaligned(as: SIMD8<Float>.self)
                accumulator += weights[t] * row
            }
            UnsafeMutableRawPointer(out + d).storeBytes(of: accumulator, as: SIMD8<Float>.self)
            d += 8
        }
        while d < length {
            var sum: Float = 0
            for t in 0..<count { sum += weights[t] * rows[t * stride + d] }
            out[d] = sum
            d += 1
        }
    }

    /// Σ a[i]·b[i] with b in half precision (a cached key row).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, count: Int) -> Float {
        var accumulator = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= count {
            accumulator += rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * SIMD8<Float>(rawB.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<Float16>.self))
            i += 8
        }
        var sum = accumulator.sum()
        while i < count { sum += a[i] * Float(b[i]); i += 1 }
        return sum
    }

    /// `weightedSum` over half-precision rows (cached values).
    @inline(__always)
    static func weightedSum(rows: UnsafePointer<Float16>, stride: Int, weights: UnsafePointer<Float>, count: Int,
                            into out: UnsafeMutablePointer<Float>, length: Int) {
        var d = 0
        while d + 8 <= length {
            var accumulator = SIMD8<Float>(repeating: 0)
            for t in 0..<count {
                let row = UnsafeRawPointer(rows + t * stride + d).loadUnaligned(as: SIMD8<Float16>.self)
                accumulator += weights[t] * SIMD8<Float>(row)
            }
            UnsafeMutableRawPointer(out + d).storeBytes(of: accumulator, as: SIMD8<Float>.self)
            d += 8
        }
        while d < length {
            var sum: Float = 0
            for t in 0..<count { sum += weights[t] * Float(rows[t * stride + d]) }
            out[d] = sum
            d += 1
        }
    }

    /// y[i] += x[i]
    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// In-place softmax of x[0..<count], subtracting the maximum first: sixteen lanes at a time
    /// with ExponentialSum's exponential (within 2e-7 of expf), attention's weights for every
    /// query head and position.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let maximum = ExponentialSum.maximum(UnsafeBufferPointer(start: x, count: count))
        let shifts = SIMD16<Float>(repeating: maximum)
        var sums = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let e = ExponentialSum.exponential(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - shifts)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD16<Float>.self)
            sums += e
            i += 16
        }
        if i < count {
            var tail = SIMD16<Float>(repeating: -.infinity)
            for k in 0..<(count - i) { tail[k] = x[i + k] - maximum }
            let e = ExponentialSum.exponential(tail)
            for k in 0..<(count - i) { x[i + k] = e[k] }
            sums += e
        }
        let inverse = 1 / sums.sum()
        for i in 0..<count { x[i] *= inverse }
    }

    /// gate[i] = act(gate[i]) * up[i]: the gated feed-forward's middle.
    @inline(__always)
    static func gatedActivation(_ activation: FeedForwardActivation, gate: UnsafeMutablePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        // Both are g · σ(z), sixteen lanes at a time: SiLU with z = g, and ggml_gelu's
        // 0.5·g·(1 + tanh(y)) with z = 2y, y = sqrt(2/π)·(g + 0.044715·g³). The tail (fewer than
        // sixteen) as the same formulas with libm.
        let c: Float = 0.7978845608028654
        var i = 0
        while i + 16 <= count {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
            let z = activation == .silu ? g : 2 * c * (g + 0.044715 * g * g * g)
            UnsafeMutableRawPointer(gate + i).storeBytes(of: g * logistic(z) * u, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let g = gate[i]
            switch activation {
            case .silu: gate[i] = g / (1 + expf(-g)) * up[i]
            case .geluTanh: gate[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
            }
            i += 1
        }
    }

    /// σ(z) = 1 / (1 + e^−z) for every lane, from e = e^−|z| (ExponentialSum's exponential, whose
    /// argument must not be positive): 1 / (1 + e) for z ≥ 0, e / (1 + e) below.
    @inline(__always)
    static func logistic(_ z: SIMD16<Float>) -> SIMD16<Float> {
        var negativeMagnitude = z
        negativeMagnitude.replace(with: -z, where: z .> 0)
        let e = ExponentialSum.exponential(negativeMagnitude)
        var numerator = SIMD16<Float>(repeating: 1)
        numerator.replace(with: e, where: z .< 0)
        return numerator / (1 + e)
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
