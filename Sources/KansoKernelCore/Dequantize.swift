// Dequantization of every supported type to float32, matching ggml's dequantize_row_* bit for
// bit (reference: ggml-quants.c; block layouts in ggml-common.h). The arithmetic order of each
// line is the reference's, and Swift never fuses a multiply and an add, so results are exact.
// This file: dispatch, plain floats and the 32-element legacy blocks. K-quants are in
// DequantizeKQuants.swift, IQ4_NL and IQ4_XS in DequantizeIQ4.swift.
import KansoGGUF

/// Dequantizes `count` elements of `type` from `source` (packed blocks) into `destination`.
/// `count` should be a multiple of `type.blockSize`; a trailing partial block is left untouched.
/// An unsupported type fills the destination with NaN (WeightMatrix refuses such tensors first).
public func dequantize(_ type: GGMLType, from source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    let blocks = count / type.blockSize
    let blockBytes = type.bytesPerBlock
    let blockSize = type.blockSize
    switch type {
    case .f32:
        destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        return
    case .f16:
        for i in 0..<count {
            destination[i] = floatFromHalf(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
        return
    case .bf16:
        for i in 0..<count {
            destination[i] = floatFromBFloat16(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
        return
    default:
        break
    }
    let blockFunction: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    switch type {
    case .q4_0: blockFunction = dequantizeBlockQ4_0
    case .q4_1: blockFunction = dequantizeBlockQ4_1
    case .q5_0: blockFunction = dequantizeBlockQ5_0
    case .q5_1: blockFunction = dequantizeBlockQ5_1
    case .q8_0: blockFunction = dequantizeBlockQ8_0
    case .q2_K: blockFunction = dequantizeBlockQ2_K
    case .q3_K: blockFunction = dequantizeBlockQ3_K
    case .q4_K: blockFunction = dequantizeBlockQ4_K
    case .q5_K: blockFunction = dequantizeBlockQ5_K
    case .q6_K: blockFunction = dequantizeBlockQ6_K
    case .iq4_nl: blockFunction = dequantizeBlockIQ4_NL
    case .iq4_xs: blockFunction = dequantizeBlockIQ4_XS
    default:
        destination.update(repeating: .nan, count: count)
        return
    }
    for block in 0..<blocks {
        blockFunction(source + block * blockBytes, destination + block * blockSize)
    }
}

// MARK: - 32-element blocks

/// block_q4_0: f16 d, 16 bytes; element j is the low nibble of byte j, element j+16 the high one.
/// y = (q - 8) * d
@inline(__always)
func dequantizeBlockQ4_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
    for j in 0..<16 {
        y[j] = Float(Int32(qs[j] & 0x0F) - 8) * d
        y[j + 16] = Float(Int32(qs[j] >> 4) - 8) * d
    }
}

/// block_q4_1: f16 d, f16 m, 16 bytes of nibbles. y = q * d + m
@inline(__always)
func dequantizeBlockQ4_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let m = block.loadHalf(at: 2)
    let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
    for j in 0..<16 {
        y[j] = Float(qs[j] & 0x0F) * d + m
        y[j + 16] = Float(qs[j] >> 4) * d + m
    }
}

/// block_q5_0: f16 d, u32 qh (bit j is the fifth bit of element j), 16 bytes of nibbles.
/// y = (q - 16) * d
@inline(__always)
func dequantizeBlockQ5_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
    let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
    for j in 0..<16 {
        let high0 = Int32((qh >> UInt32(j)) & 1) << 4
        let high1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
        y[j] = Float((Int32(qs[j] & 0x0F) | high0) - 16) * d
        y[j + 16] = Float((Int32(qs[j] >> 4) | high1) - 16) * d
    }
}

/// block_q5_1: f16 d, f16 m, u32 qh, 16 bytes of nibbles. y = q * d + m
@inline(__always)
func dequantizeBlockQ5_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let m = block.loadHalf(at: 2)
    let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
    for j in 0..<16 {
        let high0 = UInt32((qh >> UInt32(j)) & 1) << 4
        let high1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
        y[j] = Float(UInt32(qs[j] & 0x0F) | high0) * d + m
        y[j + 16] = Float(UInt32(qs[j] >> 4) | high1) * d + m
    }
}

/// block_q8_0: f16 d, 32 int8. y = q * d
@inline(__always)
func dequantizeBlockQ8_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = block.loadHalf(at: 0)
    let qs = (block + 2).assumingMemoryBound(to: Int8.self)
    for j in 0..<32 {
        y[j] = Float(qs[j]) * d
    }
}
