// Writing one position's key or value row into a KV cache in the cache's type: f32 as it is, f16
// rounded to nearest, q8_0 as ggml's quantize_row_q8_0_ref does it (per block of 32: d = max|x| /
// 127 stored as f16, each value round(x / d) as a signed byte, halves away from zero).
// Compiled in every kernel module (Plain/), like the attention that reads the rows: the x86
// modules round to f16 with F16C (`vcvtps2ph`), where the engine's x86-64-v2 baseline would
// call a software conversion for every value. The engine calls it through AttentionKernels.

import KansoGGUF

public enum KVRowEncoding {
    /// Writes `count` values of `row` at `destination` in `type` (q8_0: count a multiple of 32).
    public static func encode(_ row: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int, type: KVCacheType) {
        switch type {
        case .f32:
            destination.copyMemory(from: row, byteCount: count * 4)
        case .f16:
            let out = destination.assumingMemoryBound(to: Float16.self)
            var i = 0
            while i + 8 <= count {
                let values = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)
                (destination + 2 * i).storeBytes(of: SIMD8<Float16>(values), as: SIMD8<Float16>.self)
                i += 8
            }
            while i < count { out[i] = Float16(row[i]); i += 1 }
        case .q8_0:
            for block in 0..<(count / KVCacheType.blockLength) {
                encodeBlock(row + block * KVCacheType.blockLength, into: destination + block * KVCacheType.blockBytes)
            }
        }
    }

    /// One q8_0 block: the f16 scale, then 32 signed bytes.
    @inline(__always)
    private static func encodeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        // (a plain loop: the SIMD types' generic pointwiseMax and max() are specialized into
        // every module that calls them, and the linker may keep an x86 module's copy, compiled
        // for AVX, for the engine's baseline callers too)
        var maximum: Float = 0
        for i in 0..<32 where x[i].magnitude > maximum { maximum = x[i].magnitude }
        let d = maximum / 127
        let inverse: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
        let quants = (block + 2).assumingMemoryBound(to: Int8.self)
        for i in 0..<32 { quants[i] = Int8((x[i] * inverse).rounded()) }
    }
}
