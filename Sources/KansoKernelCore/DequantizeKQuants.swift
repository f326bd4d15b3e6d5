// Dequantization of the 256-element K-quant super-blocks, bit for bit as ggml's
// dequantize_row_q{2,3,4,5,6}_K (reference: ggml-quants.c, layouts in ggml-common.h).

/// Elements of a K-quant super-block (ggml's QK_K); inlined into each kernel module.
@inlinable public var superBlockSize: Int { 256 }

/// The 6-bit scale and min of sub-block `j` (0..<8) packed in the 12 scale bytes of Q4_K/Q5_K
/// (ggml's get_scale_min_k4): sub-blocks 0-3 use the low 6 bits of bytes j and j+4; 4-7 take
/// their low 4 bits from byte j+4 and the top 2 bits from bytes j-4 and j.
@inlinable @inline(__always)
public func scaleAndMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j + 4] & 63)
    }
    return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
}

/// block_q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2-bit), f16 d, f16 dmin.
/// 16 groups of 16: y = d·scale · q − dmin·min
@inline(__always)
func dequantizeBlockQ2_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let scales = block.assumingMemoryBound(to: UInt8.self)
    let qs = scales + 16
    let d = block.loadHalf(at: 80)
    let dmin = block.loadHalf(at: 82)
    var group = 0
    var output = y
    for half in 0..<2 {
        let q = qs + 32 * half
        for shift in stride(from: 0 as UInt8, to: 8, by: 2) {
            for part in 0..<2 {
                let sc = scales[group]
                group += 1
                let dl = d * Float(sc & 0x0F)
                let ml = dmin * Float(sc >> 4)
                for l in 0..<16 {
                    output[l] = dl * Float((q[16 * part + l] >> shift) & 3) - ml
                }
                output += 16
            }
        }
    }
}

/// block_q3_K: hmask[32] (third bit, set means no −4 offset), qs[64] (2-bit), scales[12]
/// (16 six-bit scales, biased by 32), f16 d. y = d·(scale − 32) · (q − 4·(1 − hbit))
@inline(__always)
func dequantizeBlockQ3_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let hmask = block.assumingMemoryBound(to: UInt8.self)
    let qs = hmask + 32
    let packed = hmask + 96
    let d = block.loadHalf(at: 108)
    var group = 0
    var output = y
    var maskBit: UInt8 = 1
    for half in 0..<2 {
        let q = qs + 32 * half
        for shift in stride(from: 0 as UInt8, to: 8, by: 2) {
            for part in 0..<2 {
                // Scale `group`: low 4 bits from bytes 0-7 (nibble by group / 8), high 2 bits from bytes 8-11.
                let low = (packed[group % 8] >> (4 * UInt8(group / 8))) & 0x0F
                let high = (packed[8 + group % 4] >> (2 * UInt8(group / 4))) & 0x03
                let scale = Int32(low | (high << 4)) - 32
                group += 1
                let dl = d * Float(scale)
                for l in 0..<16 {
                    let index = 16 * part + l
                    let value = Int32((q[index] >> shift) & 3) - ((hmask[index] & maskBit) != 0 ? 0 : 4)
                    output[l] = dl * Float(value)
                }
                output += 16
            }
            maskBit = maskBit &<< 1
        }
    }
}

/// block_q4_K: f16 d, f16 dmin, scales[12] (8 six-bit scale/min pairs), qs[128].
/// Each 32-byte chunk holds sub-block 2c in its low nibbles and 2c+1 in its high nibbles.
/// y = d·scale · q − dmin·min
@inline(__always)
func dequantizeBlockQ4_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let dmin = block.loadHalf(at: 2)
    let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
    let qs = scales + 12
    for chunk in 0..<4 {
        let q = qs + 32 * chunk
        let (scale0, min0) = scaleAndMinK4(2 * chunk, scales)
        let (scale1, min1) = scaleAndMinK4(2 * chunk + 1, scales)
        let d0 = d * Float(scale0), m0 = dmin * Float(min0)
        let d1 = d * Float(scale1), m1 = dmin * Float(min1)
        let output = y + 64 * chunk
        for l in 0..<32 {
            output[l] = d0 * Float(q[l] & 0x0F) - m0
            output[l + 32] = d1 * Float(q[l] >> 4) - m1
        }
    }
}

/// block_q5_K: as Q4_K plus qh[32] before qs: bit s of qh[l] is the fifth bit of element l of
/// sub-block s. y = d·scale · q − dmin·min
@inline(__always)
func dequantizeBlockQ5_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let dmin = block.loadHalf(at: 2)
    let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
    let qh = scales + 12
    let qs = qh + 32
    for chunk in 0..<4 {
        let q = qs + 32 * chunk
        let (scale0, min0) = scaleAndMinK4(2 * chunk, scales)
        let (scale1, min1) = scaleAndMinK4(2 * chunk + 1, scales)
        let d0 = d * Float(scale0), m0 = dmin * Float(min0)
        let d1 = d * Float(scale1), m1 = dmin * Float(min1)
        let bit0 = UInt8(2 * chunk), bit1 = UInt8(2 * chunk + 1)
        let output = y + 64 * chunk
        for l in 0..<32 {
            let high0 = ((qh[l] >> bit0) & 1) << 4
            let high1 = ((qh[l] >> bit1) & 1) << 4
            output[l] = d0 * Float((q[l] & 0x0F) | high0) - m0
            output[l + 32] = d1 * Float((q[l] >> 4) | high1) - m1
        }
    }
}

/// block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), f16 d.
/// Per 128-element half: ql[l], ql[l+32] low/high nibbles and qh[l] bit pairs give elements
/// l, l+32, l+64, l+96. y = d·scale · (q − 32)
@inline(__always)
func dequantizeBlockQ6_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let qlAll = block.assumingMemoryBound(to: UInt8.self)
    let qhAll = qlAll + 128
    let scalesAll = (block + 192).assumingMemoryBound(to: Int8.self)
    let d = block.loadHalf(at: 208)
    for half in 0..<2 {
        let ql = qlAll + 64 * half
        let qh = qhAll + 32 * half
        let sc = scalesAll + 8 * half
        let output = y + 128 * half
        for l in 0..<32 {
            let group = l / 16
            let q1 = Int32((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32
            let q2 = Int32((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
            let q3 = Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
            let q4 = Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
            output[l] = d * Float(sc[group]) * Float(q1)
            output[l + 32] = d * Float(sc[group + 2]) * Float(q2)
            output[l + 64] = d * Float(sc[group + 4]) * Float(q3)
            output[l + 96] = d * Float(sc[group + 6]) * Float(q4)
        }
    }
}
