// Σ exp(logit − shift) over a row of logits, sixteen lanes at a time: the normalizer of every
// softmax the sampler and the reported probabilities take. A generation computes one per token for
// its log-probability, one `expf` per vocabulary entry, in the callers' time between two shared
// passes, where the pass waits for them (bench/README.md, "Many clients, one model").
//
// exp(x) for x ≤ 0 as 2^n · p(r): n = round(x / ln 2), r = x − n · ln 2 (ln 2 in two parts, so r
// is exact to a few ulps), p the degree-6 Taylor polynomial of e^r on |r| ≤ ln 2 / 2 (relative
// error below 2e-7, near float rounding), 2^n built in the exponent bits. x below −87 counts as
// 0 (e^−87 < 2^−125, beneath anything a sum of terms ≤ 1 can hold).

public enum ExponentialSum {
    // (Only comparisons, blends, float and wrapping integer arithmetic on the SIMD types: their
    // generic conversions and pointwiseMax/rounded run lane by lane through the standard
    // library's generic code, slower than libm.)

    /// The largest of `values` (−infinity for none; NaNs are passed over).
    public static func maximum(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress else { return -.infinity }
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= values.count {
            let next = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.replace(with: next, where: lanes .< next)
            i += 16
        }
        var result = -Float.infinity
        for k in 0..<16 where lanes[k] > result { result = lanes[k] }
        while i < values.count {
            if values[i] > result { result = values[i] }
            i += 1
        }
        return result
    }

    /// Σ exp(values[i] − shift), for a shift at least the largest value (so every term is ≤ 1).
    /// Sixteen float lanes sum a run of 256 values (terms ≤ 1: at most 16 each), runs sum in Double.
    public static func sum(_ values: UnsafeBufferPointer<Float>, shift: Float) -> Double {
        guard let base = values.baseAddress else { return 0 }
        let shifts = SIMD16<Float>(repeating: shift)
        var total = 0.0
        var i = 0
        while i + 16 <= values.count {
            var lanes = SIMD16<Float>(repeating: 0)
            let end = min(values.count - values.count % 16, i + 256)
            while i < end {
                lanes += exponential(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self) - shifts)
                i += 16
            }
            total += Double(lanes.sum())
        }
        var tail = SIMD16<Float>(repeating: -.infinity)
        for k in 0..<(values.count - i) { tail[k] = values[i + k] - shift }
        return total + Double(exponential(tail).sum())
    }

    /// e^x for every lane, x ≤ 0 (larger x is not clamped: callers shift by the maximum first).
    @inline(__always)
    static func exponential(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lowest = SIMD16<Float>(repeating: -87)
        var clamped = x
        clamped.replace(with: lowest, where: x .< lowest)
        // n = round(x / ln 2) by the 1.5 · 2^23 trick: adding it rounds to an integer, kept in
        // the low mantissa bits of the sum
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4  // ln 2 = 355/512 − 2.121_944_4e-4: n · 355/512 is exact
        // e^r ≈ 1 + r + r²/2 + r³/6 + r⁴/24 + r⁵/120 + r⁶/720, in Horner form
        var p = SIMD16<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2^n: the low bits of `shifted` are n + 2^22; n + 127 into the exponent field (n ≥ −126)
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD16<Float>.self)
        var result = p * scale
        result.replace(with: 0, where: x .< lowest)
        return result
    }
}
