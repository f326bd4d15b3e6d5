// Dot products of one row of 32-element legacy-quant blocks with an int8-quantized activation
// vector (reference: ggml-quants.c ggml_vec_dot_q{4_0,4_1,5_0,5_1,8_0}_q8_{0,1}_generic).
// The inner loops are plain integer loops over 16 or 32 lanes that LLVM auto-vectorizes
// (widen to 16 bits, multiply-add pairs); scales are applied once per block in float.
// `x` is [blocks × 32] int8, `xd` the block scales, `xs` the block sums of the quants.
// Compiled into every kernel module (KansoKernelsPortable/Plain, linked from the x86 ones), each
// vectorizing it for its own instruction set.
import KansoKernelCore

/// Σ term(b) over blocks, four blocks per step into independent accumulators: the four integer
/// reductions then overlap instead of waiting on one float sum (measured 2× on AVX-512).
@inline(__always)
func sumBlocks(_ blocks: Int, _ term: (Int) -> Float) -> Float {
    var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0
    var b = 0
    while b + 4 <= blocks {
        t0 += term(b)
        t1 += term(b + 1)
        t2 += term(b + 2)
        t3 += term(b + 3)
        b += 4
    }
    while b < blocks {
        t0 += term(b)
        b += 1
    }
    return (t0 + t1) + (t2 + t3)
}

@inline(__always)
func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    sumBlocks(blocks) { b in
        let block = row + 34 * b
        let w = (block + 2).assumingMemoryBound(to: Int8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<32 {
            sum &+= Int32(w[j]) &* Int32(xb[j])
        }
        return block.loadHalf(at: 0) * xd[b] * Float(sum)
    }
}

/// Σ (q − 8)·x = Σ q·x − 8·Σ x, with the activation block sum.
@inline(__always)
func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    sumBlocks(blocks) { b in
        let block = row + 18 * b
        let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<16 {
            sum &+= (Int32(qs[j]) & 15) &* Int32(xb[j]) &+ (Int32(qs[j]) >> 4) &* Int32(xb[j + 16])
        }
        return block.loadHalf(at: 0) * xd[b] * Float(sum &- 8 &* xs[b])
    }
}

/// Σ (d·q + m)·x = d·Σ q·x + m·Σ x
@inline(__always)
func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    sumBlocks(blocks) { b in
        let block = row + 20 * b
        let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<16 {
            sum &+= (Int32(qs[j]) & 15) &* Int32(xb[j]) &+ (Int32(qs[j]) >> 4) &* Int32(xb[j + 16])
        }
        return xd[b] * (block.loadHalf(at: 0) * Float(sum) + block.loadHalf(at: 2) * Float(xs[b]))
    }
}

/// Five-bit quants: the nibble plus bit j (or j + 16) of qh as bit 4; Σ (q − 16)·x.
@inline(__always)
func dotQ5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    sumBlocks(blocks) { b in
        let block = row + 22 * b
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<16 {
            let low = (Int32(qs[j]) & 15) | Int32((qh >> UInt32(j)) & 1) << 4
            let high = (Int32(qs[j]) >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
            sum &+= low &* Int32(xb[j]) &+ high &* Int32(xb[j + 16])
        }
        return block.loadHalf(at: 0) * xd[b] * Float(sum &- 16 &* xs[b])
    }
}

@inline(__always)
func dotQ5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Int32>, blocks: Int) -> Float {
    sumBlocks(blocks) { b in
        let block = row + 24 * b
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
        let xb = x + 32 * b
        var sum: Int32 = 0
        for j in 0..<16 {
            let low = (Int32(qs[j]) & 15) | Int32((qh >> UInt32(j)) & 1) << 4
            let high = (Int32(qs[j]) >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
            sum &+= low &* Int32(xb[j]) &+ high &* Int32(xb[j + 16])
        }
        return xd[b] * (block.loadHalf(at: 0) * Float(sum) + block.loadHalf(at: 2) * Float(xs[b]))
    }
}
