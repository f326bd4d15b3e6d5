// Attention's two loops over cached rows, for each KV cache type: the scores of the query heads
// that share a key head against a run of key rows, and the weighted sums of a run of value rows.
// Rows are `stride` bytes apart (one position of every key head); a head's part starts where the
// caller points. Head by head, eight lanes per register and one horizontal sum per row.
// Compiled in every kernel module (a file of Plain/, which the x86 modules link): the portable
// module's attention, and the x86 modules' for q8_0 caches (their f16 and f32 caches take
// X86/AttentionRowsSIMD.swift). At the portable baseline (x86-64-v2) Float16 is converted in
// software, several times slower than with F16C. The engine calls them through AttentionKernels.

import KansoGGUF

public enum AttentionRows {
    /// scores[g · scoresStride + t] = (query_g · key_t) × scale for head g < heads and t < count:
    /// `dimension` values of each key row, query heads `dimension` floats apart.
    public static func scores(queries: UnsafePointer<Float>, heads: Int, keys: UnsafeRawPointer, values: UnsafeRawPointer,
                              stride: Int, count: Int,
                              dimension: Int, type: KVCacheType, scale: Float, into scores: UnsafeMutablePointer<Float>,
                              scoresStride: Int) {
        for g in 0..<heads {
            Self.scores(query: queries + g * dimension, keys: keys, stride: stride, count: count, dimension: dimension, type: type,
                   scale: scale, into: scores + g * scoresStride)
        }
    }

    /// out[g · dimension + d] += Σt weights[g · weightsStride + t] · value_t[d] for head g < heads, d < dimension.
    public static func accumulate(values: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, weightsStride: Int,
                                  heads: Int, count: Int, dimension: Int, type: KVCacheType, into out: UnsafeMutablePointer<Float>) {
        for g in 0..<heads {
            Self.accumulate(values: values, stride: stride, weights: weights + g * weightsStride, count: count, dimension: dimension,
                       type: type, into: out + g * dimension)
        }
    }

    /// scores[t] = (query · key_t) × scale for t < count: `dimension` values of each key row.
    static func scores(query: UnsafePointer<Float>, keys: UnsafeRawPointer, stride: Int, count: Int, dimension: Int,
                       type: KVCacheType, scale: Float, into scores: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            for t in 0..<count {
                let key = (keys + t * stride).assumingMemoryBound(to: Float.self)
                scores[t] = dotSingle(query, key, count: dimension) * scale
            }
        case .f16:
            for t in 0..<count {
                scores[t] = dotHalf(query, keys + t * stride, count: dimension) * scale
            }
        case .q8_0:
            for t in 0..<count {
                scores[t] = dotBlocks(query, keys + t * stride, count: dimension) * scale
            }
        }
    }

    /// out[d] += Σt weights[t] · value_t[d] for d < dimension.
    static func accumulate(values: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, count: Int,
                           dimension: Int, type: KVCacheType, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32: accumulateSingle(values, stride: stride, weights: weights, count: count, dimension: dimension, into: out)
        case .f16: accumulateHalf(values, stride: stride, weights: weights, count: count, dimension: dimension, into: out)
        case .q8_0: accumulateBlocks(values, stride: stride, weights: weights, count: count, dimension: dimension, into: out)
        }
    }

    // MARK: f32

    /// Σ a[i]·b[i].
    @inline(__always)
    static func dotSingle(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var low = SIMD8<Float>(repeating: 0), high = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        var i = 0
        while i + 16 <= count {
            low += rawA.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rawB.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            high += rawA.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var sum = (low + high).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    // MARK: f16

    /// Σ a[i]·b[i] with b in half precision.
    @inline(__always)
    static func dotHalf(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer, count: Int) -> Float {
        var low = SIMD8<Float>(repeating: 0), high = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a)
        var i = 0
        while i + 16 <= count {
            low += rawA.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                * SIMD8<Float>(b.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self))
            high += rawA.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * SIMD8<Float>(b.loadUnaligned(fromByteOffset: 2 * i + 16, as: SIMD8<Float16>.self))
            i += 16
        }
        if i + 8 <= count {
            low += rawA.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                * SIMD8<Float>(b.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self))
            i += 8
        }
        var sum = (low + high).sum()
        while i < count {
            sum += a[i] * Float(b.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self))
            i += 1
        }
        return sum
    }

    @inline(__always)
    private static func accumulateHalf(_ rows: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, count: Int,
                                       dimension: Int, into out: UnsafeMutablePointer<Float>) {
        var d = 0
        // Sixteen dimensions a pass over the rows: two registers of sums per weight read.
        while d + 16 <= dimension {
            var low = UnsafeRawPointer(out + d).loadUnaligned(as: SIMD8<Float>.self)
            var high = UnsafeRawPointer(out + d + 8).loadUnaligned(as: SIMD8<Float>.self)
            for t in 0..<count {
                let row = rows + t * stride + 2 * d
                low += weights[t] * SIMD8<Float>(row.loadUnaligned(as: SIMD8<Float16>.self))
                high += weights[t] * SIMD8<Float>(row.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self))
            }
            UnsafeMutableRawPointer(out + d).storeBytes(of: low, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + d + 8).storeBytes(of: high, as: SIMD8<Float>.self)
            d += 16
        }
        while d < dimension {
            var sum = out[d]
            for t in 0..<count { sum += weights[t] * Float((rows + t * stride).loadUnaligned(fromByteOffset: 2 * d, as: Float16.self)) }
            out[d] = sum
            d += 1
        }
    }

    // MARK: f32

    @inline(__always)
    private static func accumulateSingle(_ rows: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, count: Int,
                                         dimension: Int, into out: UnsafeMutablePointer<Float>) {
        var d = 0
        while d + 16 <= dimension {
            var low = UnsafeRawPointer(out + d).loadUnaligned(as: SIMD8<Float>.self)
            var high = UnsafeRawPointer(out + d + 8).loadUnaligned(as: SIMD8<Float>.self)
            for t in 0..<count {
                let row = rows + t * stride + 4 * d
                low += weights[t] * row.loadUnaligned(as: SIMD8<Float>.self)
                high += weights[t] * row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            }
            UnsafeMutableRawPointer(out + d).storeBytes(of: low, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + d + 8).storeBytes(of: high, as: SIMD8<Float>.self)
            d += 16
        }
        if d + 8 <= dimension {
            var sum = UnsafeRawPointer(out + d).loadUnaligned(as: SIMD8<Float>.self)
            for t in 0..<count { sum += weights[t] * (rows + t * stride + 4 * d).loadUnaligned(as: SIMD8<Float>.self) }
            UnsafeMutableRawPointer(out + d).storeBytes(of: sum, as: SIMD8<Float>.self)
            d += 8
        }
        while d < dimension {
            var sum = out[d]
            for t in 0..<count { sum += weights[t] * (rows + t * stride).loadUnaligned(fromByteOffset: 4 * d, as: Float.self) }
            out[d] = sum
            d += 1
        }
    }

    // MARK: q8_0

    /// One block's 32 signed bytes (after its 2-byte scale), widened to floats, eight at a time.
    @inline(__always)
    private static func quants(_ block: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 2 + offset, as: SIMD8<Int8>.self)))
    }

    @inline(__always)
    private static func scale(_ block: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
    }

    /// Σ a[i]·b[i] with b as q8_0 blocks (count a multiple of 32).
    @inline(__always)
    public static func dotBlocks(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer, count: Int) -> Float {
        var total = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a)
        for block in 0..<(count / KVCacheType.blockLength) {
            let blockStart = b + block * KVCacheType.blockBytes
            let x = rawA + 4 * block * KVCacheType.blockLength
            var sum = x.loadUnaligned(as: SIMD8<Float>.self) * quants(blockStart, 0)
            sum += x.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) * quants(blockStart, 8)
            sum += x.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self) * quants(blockStart, 16)
            sum += x.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self) * quants(blockStart, 24)
            total += scale(blockStart) * sum
        }
        return total.sum()
    }

    @inline(__always)
    private static func accumulateBlocks(_ rows: UnsafeRawPointer, stride: Int, weights: UnsafePointer<Float>, count: Int,
                                         dimension: Int, into out: UnsafeMutablePointer<Float>) {
        for block in 0..<(dimension / KVCacheType.blockLength) {
            let o = UnsafeMutableRawPointer(out + block * KVCacheType.blockLength)
            var s0 = o.loadUnaligned(as: SIMD8<Float>.self), s1 = o.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            var s2 = o.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), s3 = o.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            for t in 0..<count {
                let blockStart = rows + t * stride + block * KVCacheType.blockBytes
                let factor = weights[t] * scale(blockStart)
                s0 += factor * quants(blockStart, 0)
                s1 += factor * quants(blockStart, 8)
                s2 += factor * quants(blockStart, 16)
                s3 += factor * quants(blockStart, 24)
            }
            o.storeBytes(of: s0, as: SIMD8<Float>.self)
            o.storeBytes(of: s1, toByteOffset: 32, as: SIMD8<Float>.self)
            o.storeBytes(of: s2, toByteOffset: 64, as: SIMD8<Float>.self)
            o.storeBytes(of: s3, toByteOffset: 96, as: SIMD8<Float>.self)
        }
    }
}
