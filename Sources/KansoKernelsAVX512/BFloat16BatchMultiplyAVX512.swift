// Prompt batches through a BF16 matrix with AVX-512 BF16, where the CPU has it (the dispatch table
// checks kanso_cpu_has_avx512_bf16): the small matrix multiply of FloatBatchMultiplyAVX512.swift,
// its steps pairs of columns taken by `vdpbf16ps`, which multiplies sixteen rows' pairs of
// bfloat16 weights by a pair of x and adds both products into float lanes: 32 multiply-adds an
// instruction, twice the float kernel's, and no weight converted at all.
// - x is rounded to bfloat16 once per call, as pairs [vectors][columns / 2] (a relative error of
//   up to 2^-9 per element, as llama.cpp's BF16 path has);
// - a chunk of 32 rows is laid out [columns / 2][32 rows] pairs: the rows' own bytes four at a
//   time, transposed as if they were floats (X86/FloatRowTransposition.swift);
// - an odd last column makes a pair with a zero, in the weights and in x.
// The instructions are C intrinsics Swift cannot import (CKernelSupport/bfloat16_dot.h).
//
// Each result is one chain of pair steps over the columns in order, whichever tile and lanes
// computed it, so a vector's results do not depend on the other vectors of its batch
// (KVCache.batchInvariant).

#if arch(x86_64)
import CKernelSupport
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for any number of vectors through a BF16 matrix, on a CPU with AVX-512 BF16.
func multiplyBFloat16BatchWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                               _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let columns = matrix.columns, pairs = (columns + 1) / 2, wholePairs = columns / 2
    let xBytes = ThreadScratch.aligned(4 * n * pairs)
    let scratch = ThreadScratch.reserve(xBytes + 4 * wideChunkRows * pairs)
    let xPairs = scratch  // [n][pairs] pairs of bfloat16
    roundToBFloat16Pairs(x, n, columns: columns, into: xPairs)
    // the chunk's weights, [pairs][32 rows] pairs of bfloat16, moved as floats
    let chunk = (scratch + xBytes).bindMemory(to: Float.self, capacity: wideChunkRows * pairs)
    multiplyRowChunks(matrix, rows: rows, chunkRows: wideChunkRows, vectors: n, steps: pairs) { first in
        let last = rows.upperBound - 1
        transposeFloatRows(matrix, columns: wholePairs, first: first, last: last, width: wideChunkRows, into: chunk, Float32Weights.self)
        guard pairs > wholePairs else { return }
        for i in 0..<wideChunkRows {
            let weight = matrix.rowBytes(min(first + i, last)).loadUnaligned(fromByteOffset: 2 * (columns - 1), as: UInt16.self)
            UnsafeMutableRawPointer(chunk).storeBytes(of: UInt32(weight), toByteOffset: 4 * (wholePairs * wideChunkRows + i), as: UInt32.self)
        }
    } tile: { v, first, rowCount, upcoming in
        multiplyWideChunk(UnsafeRawPointer(chunk), steps: pairs, BFloat16PairStep.self, x: UnsafeRawPointer(xPairs), vectors: v ..< n,
                          y: y + first, outputStride: outputStride, rowCount: rowCount, upcoming: upcoming)
    }
}

/// The n vectors of x rounded to bfloat16 (to nearest, ties to even), each (columns + 1) / 2
/// pairs, an odd last column paired with a zero.
private func roundToBFloat16Pairs(_ x: UnsafePointer<Float>, _ n: Int, columns: Int, into out: UnsafeMutableRawPointer) {
    let rowBytes = 4 * ((columns + 1) / 2), whole = columns / 32 * 32
    for v in 0..<n {
        let xv = x + v * columns, row = out + v * rowBytes
        var i = 0
        while i < whole {
            row.storeBytes(of: kanso_bfloat16_from_floats(_mm512_loadu_ps(xv + i), _mm512_loadu_ps(xv + i + 16)),
                           toByteOffset: 2 * i, as: __m512i.self)
            i += 32
        }
        guard i < columns else { continue }
        // the last 1...31 columns, the lanes past them zero (masked: nothing past x is read)
        let count = columns - i
        let low = _mm512_maskz_loadu_ps(__mmask16(truncatingIfNeeded: (1 << min(count, 16)) - 1), xv + i)
        let high = _mm512_maskz_loadu_ps(__mmask16(truncatingIfNeeded: (1 << max(count - 16, 0)) - 1), xv + i + 16)
        let values = (rowBytes - 2 * i) / 2  // count, or count + 1 when odd
        _mm512_mask_storeu_epi16(row + 2 * i, __mmask32(truncatingIfNeeded: (1 << values) - 1), kanso_bfloat16_from_floats(low, high))
    }
}
#endif
