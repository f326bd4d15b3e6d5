// Dot products of one row of IQ4_NL blocks (32 elements) or IQ4_XS super-blocks (256) with an
// int8-quantized activation in 32-element blocks (reference: ggml-quants.c
// ggml_vec_dot_iq4_nl_q8_0 / iq4_xs_q8_K, generic forms): each nibble stands for a value of the
// iq4Values table (DequantizeIQ4.swift), so the integer sums are of table values times x.
// Compiled into every kernel module, as LegacyQuantDot.swift.
import KansoKernelCore

/// Σ value(q)·x per block, scaled by d·d_x.
@inline(__always)
func dotIQ4_NL(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    let values = iq4Values
    return sumBlocks(blocks) { b in
        let block = row + 18 * b
        let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<16 {
            sum &+= Int32(values[Int(qs[j] & 15)]) &* Int32(xb[j]) &+ Int32(values[Int(qs[j] >> 4)]) &* Int32(xb[j + 16])
        }
        return block.loadHalf(at: 0) * xd[b] * Float(sum)
    }
}

/// Per super-block d · Σ over its eight sub-blocks of (ls − 32) · d_x · Σ value(q)·x.
@inline(__always)
func dotIQ4_XS(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, superBlocks: Int) -> Float {
    let values = iq4Values
    return sumBlocks(superBlocks) { s in
        let block = row + 136 * s
        let high = block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        let low = (block + 4).assumingMemoryBound(to: UInt8.self)
        var total: Float = 0
        for ib in 0..<8 {
            let qs = low + 4 + 16 * ib
            let xb = x + 256 * s + 32 * ib
            var sum: Int32 = 0
            for j in 0..<16 {
                sum &+= Int32(values[Int(qs[j] & 15)]) &* Int32(xb[j]) &+ Int32(values[Int(qs[j] >> 4)]) &* Int32(xb[j + 16])
            }
            total += xd[8 * s + ib] * Float(iq4XSSubBlockScale(ib, high: high, low: low) &* sum)
        }
        return block.loadHalf(at: 0) * total
    }
}
