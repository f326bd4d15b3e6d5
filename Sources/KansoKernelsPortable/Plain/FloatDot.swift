// Float32 dot products for unquantized weights (F32, F16, BF16) and for the types multiplied by
// dequantizing (Q2_K, Q3_K). LLVM does not reorder float sums on its own, so the loop keeps 16
// independent lanes in a SIMD16 accumulator (fused multiply-add per lane).
import KansoGGUF
import KansoKernelCore

/// Σ a[i]·b[i] over `count` floats.
@inline(__always)
func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
        let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        accumulator.addProduct(va, vb)
        i += 16
    }
    var total = accumulator.sum()
    while i < count {
        total += a[i] * b[i]
        i += 1
    }
    return total
}

/// Elements converted to float per step of the 16-bit and dequantizing paths: one K-quant
/// super-block, and a small stack of floats that stays in L1.
let floatChunkSize = 256

/// Σ w[i]·x[i] with w in half precision: SIMD16<Float16> → SIMD16<Float> lowers to vcvtph2ps
/// (measured 15 G elements/s in cache against 12.6 for converting through a buffer).
@inline(__always)
func dotF16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
        let halves = (w + 2 * i).loadUnaligned(as: SIMD16<Float16>.self)
        accumulator.addProduct(SIMD16<Float>(halves), UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self))
        i += 16
    }
    var total = accumulator.sum()
    while i < count {
        total += floatFromHalf(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) * x[i]
        i += 1
    }
    return total
}

/// bfloat16 weights, converted a chunk at a time into `temporary` (`floatChunkSize` floats):
/// the SIMD integer-widening form of this loop compiled to slow code (3.8 against 12.6 G/s).
@inline(__always)
func dotBF16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int, temporary: UnsafeMutablePointer<Float>) -> Float {
    var total: Float = 0
    var start = 0
    let halves = w.assumingMemoryBound(to: UInt16.self)
    while start < count {
        let length = min(floatChunkSize, count - start)
        for i in 0..<length {
            temporary[i] = floatFromBFloat16(halves[start + i])
        }
        total += dotF32(temporary, x + start, count: length)
        start += length
    }
    return total
}

/// Any supported block type: dequantize one block at a time into `temporary`, then a float dot.
@inline(__always)
func dotDequantizing(_ type: GGMLType, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int,
                     temporary: UnsafeMutablePointer<Float>) -> Float {
    var total: Float = 0
    let blockSize = type.blockSize, blockBytes = type.bytesPerBlock
    let blocksPerChunk = max(1, floatChunkSize / blockSize)
    var block = 0
    let blocks = count / blockSize
    while block < blocks {
        let chunkBlocks = min(blocksPerChunk, blocks - block)
        dequantize(type, from: w + block * blockBytes, into: temporary, count: chunkBlocks * blockSize)
        total += dotF32(temporary, x + block * blockSize, count: chunkBlocks * blockSize)
        block += chunkBlocks
    }
    return total
}
