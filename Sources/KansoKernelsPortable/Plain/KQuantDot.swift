// Dot products of one row of K-quant super-blocks (256 elements) with an int8-quantized
// activation in 32-element blocks (reference: ggml-quants.c ggml_vec_dot_q{4,5,6}_K_q8_K_generic).
// Sub-blocks of 32 (Q4_K, Q5_K) line up with the activation blocks; Q6_K's groups of 16 take
// two per activation block. Integer sums per sub-block, scales applied in float. Compiled into
// every kernel module, as LegacyQuantDot.swift.
import KansoKernelCore

/// Σ over sub-blocks s: d·scale_s·xd_s·Σ q·x − dmin·min_s·xd_s·Σ x. All eight sub-block sums
/// come from one loop over the 32 byte columns, so their reductions overlap.
@inline(__always)
func dotQ4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, superBlocks: Int) -> Float {
    sumBlocks(superBlocks) { sb in
        let block = row + 144 * sb
        let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
        let q = scales + 12
        let first = 8 * sb
        let x0 = x + 256 * sb
        var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
        var s4: Int32 = 0, s5: Int32 = 0, s6: Int32 = 0, s7: Int32 = 0
        for l in 0..<32 {
            s0 &+= (Int32(q[l]) & 15) &* Int32(x0[l])
            s1 &+= (Int32(q[l]) >> 4) &* Int32(x0[l + 32])
            s2 &+= (Int32(q[l + 32]) & 15) &* Int32(x0[l + 64])
            s3 &+= (Int32(q[l + 32]) >> 4) &* Int32(x0[l + 96])
            s4 &+= (Int32(q[l + 64]) & 15) &* Int32(x0[l + 128])
            s5 &+= (Int32(q[l + 64]) >> 4) &* Int32(x0[l + 160])
            s6 &+= (Int32(q[l + 96]) & 15) &* Int32(x0[l + 192])
            s7 &+= (Int32(q[l + 96]) >> 4) &* Int32(x0[l + 224])
        }
        let sums = (s0, s1, s2, s3, s4, s5, s6, s7)
        var scaled: Float = 0
        var mins: Float = 0
        withUnsafeBytes(of: sums) { raw in
            let sum = raw.bindMemory(to: Int32.self)
            for s in 0..<8 {
                let (scale, minimum) = scaleAndMinK4(s, scales)
                scaled += xd[first + s] * Float(Int32(scale) &* sum[s])
                mins += xd[first + s] * Float(Int32(minimum) &* xs[first + s])
            }
        }
        return block.loadHalf(at: 0) * scaled - block.loadHalf(at: 2) * mins
    }
}

/// As Q4_K with a fifth bit per element from qh (bit s of qh[l] for sub-block s).
@inline(__always)
func dotQ5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, superBlocks: Int) -> Float {
    sumBlocks(superBlocks) { sb in
        let block = row + 176 * sb
        let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
        let qh = scales + 12
        let q = qh + 32
        let first = 8 * sb
        let x0 = x + 256 * sb
        var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
        var s4: Int32 = 0, s5: Int32 = 0, s6: Int32 = 0, s7: Int32 = 0
        for l in 0..<32 {
            let h = Int32(qh[l])
            s0 &+= (Int32(q[l] & 0x0F) | ((h << 4) & 16)) &* Int32(x0[l])
            s1 &+= (Int32(q[l] >> 4) | ((h << 3) & 16)) &* Int32(x0[l + 32])
            s2 &+= (Int32(q[l + 32] & 0x0F) | ((h << 2) & 16)) &* Int32(x0[l + 64])
            s3 &+= (Int32(q[l + 32] >> 4) | ((h << 1) & 16)) &* Int32(x0[l + 96])
            s4 &+= (Int32(q[l + 64] & 0x0F) | (h & 16)) &* Int32(x0[l + 128])
            s5 &+= (Int32(q[l + 64] >> 4) | ((h >> 1) & 16)) &* Int32(x0[l + 160])
            s6 &+= (Int32(q[l + 96] & 0x0F) | ((h >> 2) & 16)) &* Int32(x0[l + 192])
            s7 &+= (Int32(q[l + 96] >> 4) | ((h >> 3) & 16)) &* Int32(x0[l + 224])
        }
        let sums = (s0, s1, s2, s3, s4, s5, s6, s7)
        var scaled: Float = 0
        var mins: Float = 0
        withUnsafeBytes(of: sums) { raw in
            let sum = raw.bindMemory(to: Int32.self)
            for s in 0..<8 {
                let (scale, minimum) = scaleAndMinK4(s, scales)
                scaled += xd[first + s] * Float(Int32(scale) &* sum[s])
                mins += xd[first + s] * Float(Int32(minimum) &* xs[first + s])
            }
        }
        return block.loadHalf(at: 0) * scaled - block.loadHalf(at: 2) * mins
    }
}

/// Q6_K: per 128-element half, byte l of ql/qh feeds elements l, l+32, l+64, l+96 (activation
/// blocks k = 0...3 of the half); each block of 32 has two int8 scales, one per 16 elements.
@inline(__always)
func dotQ6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, superBlocks: Int) -> Float {
    sumBlocks(superBlocks) { sb in
        let block = row + 210 * sb
        let qlAll = block.assumingMemoryBound(to: UInt8.self)
        let qhAll = qlAll + 128
        let scalesAll = (block + 192).assumingMemoryBound(to: Int8.self)
        var scaled: Float = 0
        for half in 0..<2 {
            let ql = qlAll + 64 * half
            let qh = qhAll + 32 * half
            let sc = scalesAll + 8 * half
            let firstBlock = 8 * sb + 4 * half
            let x0 = x + 32 * firstBlock, x1 = x0 + 32, x2 = x0 + 64, x3 = x0 + 96
            // sums[k][g]: activation block k of the half, group g (elements 0-15 or 16-31).
            var s00: Int32 = 0, s01: Int32 = 0, s10: Int32 = 0, s11: Int32 = 0
            var s20: Int32 = 0, s21: Int32 = 0, s30: Int32 = 0, s31: Int32 = 0
            for l in 0..<16 {
                s00 &+= (Int32((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) &- 32) &* Int32(x0[l])
                s10 &+= (Int32((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) &- 32) &* Int32(x1[l])
                s20 &+= (Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) &- 32) &* Int32(x2[l])
                s30 &+= (Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) &- 32) &* Int32(x3[l])
            }
            for l in 16..<32 {
                s01 &+= (Int32((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) &- 32) &* Int32(x0[l])
                s11 &+= (Int32((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) &- 32) &* Int32(x1[l])
                s21 &+= (Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) &- 32) &* Int32(x2[l])
                s31 &+= (Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) &- 32) &* Int32(x3[l])
            }
            // Element group of block k, part g is 2k + g within the half: scales sc[2k], sc[2k+1].
            scaled += xd[firstBlock] * Float(Int32(sc[0]) &* s00 &+ Int32(sc[1]) &* s01)
            scaled += xd[firstBlock + 1] * Float(Int32(sc[2]) &* s10 &+ Int32(sc[3]) &* s11)
            scaled += xd[firstBlock + 2] * Float(Int32(sc[4]) &* s20 &+ Int32(sc[5]) &* s21)
            scaled += xd[firstBlock + 3] * Float(Int32(sc[6]) &* s30 &+ Int32(sc[7]) &* s31)
        }
        return block.loadHalf(at: 208) * scaled
    }
}
