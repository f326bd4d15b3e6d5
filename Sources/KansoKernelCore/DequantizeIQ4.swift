// Dequantization of the two non-linear 4-bit types, bit for bit as ggml's dequantize_row_iq4_nl
// and dequantize_row_iq4_xs (reference: ggml-quants.c, layouts in ggml-common.h): each nibble
// indexes a fixed table of sixteen int8 values (`iq4Values`, spaced more finely near zero, where
// weights are dense) instead of standing for itself.

/// The values a nibble of IQ4_NL and IQ4_XS stands for (ggml's kvalues_iq4nl), before the scale.
@inlinable public var iq4Values: SIMD16<Int8> {
    SIMD16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)
}

/// block_iq4_nl: f16 d, 16 bytes; element j is the low nibble of byte j, element j+16 the high
/// one (as Q4_0). y = d · value(q)
@inline(__always)
func dequantizeBlockIQ4_NL(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let values = iq4Values
    let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
    for j in 0..<16 {
        y[j] = d * Float(values[Int(qs[j] & 0x0F)])
        y[j + 16] = d * Float(values[Int(qs[j] >> 4)])
    }
}

/// The 6-bit scale of sub-block `ib` (0..<8) of an IQ4_XS super-block, less 32: its low 4 bits
/// from nibble ib % 2 of scales_l[ib / 2], its high 2 bits from bits 2·ib of scales_h.
@inlinable @inline(__always)
public func iq4XSSubBlockScale(_ ib: Int, high: UInt16, low: UnsafePointer<UInt8>) -> Int32 {
    let lowBits = Int32(low[ib / 2] >> UInt8(4 * (ib % 2))) & 0x0F
    let highBits = Int32(high >> UInt16(2 * ib)) & 3
    return (lowBits | highBits << 4) - 32
}

/// block_iq4_xs (a super-block of 256): f16 d, u16 scales_h, 4 bytes scales_l, 128 bytes of
/// nibbles; sub-block ib (32 elements) takes bytes 16·ib ..< 16·ib + 16, low nibbles first (as an
/// IQ4_NL block), and the scale d · (its 6-bit scale − 32). y = d · (ls − 32) · value(q)
@inline(__always)
func dequantizeBlockIQ4_XS(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let high = block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
    let low = (block + 4).assumingMemoryBound(to: UInt8.self)
    let values = iq4Values
    for ib in 0..<8 {
        let dl = d * Float(iq4XSSubBlockScale(ib, high: high, low: low))
        let qs = low + 4 + 16 * ib
        let output = y + 32 * ib
        for j in 0..<16 {
            output[j] = dl * Float(values[Int(qs[j] & 0x0F)])
            output[j + 16] = dl * Float(values[Int(qs[j] >> 4)])
        }
    }
}
