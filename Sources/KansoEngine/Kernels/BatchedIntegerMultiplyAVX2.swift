// Y = X·Wᵀ for several activation vectors at once (prompt processing) with AVX2 alone, where the
// building machine has no AVX-512 VNNI (BatchedIntegerMultiply.swift is that machine's kernel).
// Each weight row is unpacked once (UnpackedRow) and multiplied with every vector, as there.
// `vpmaddubsw` needs one unsigned side and saturates its int16 pair sums. Q4_0, Q4_1, Q5_0 and
// Q5_1 values are unsigned as unpacked (their zero point moved into the block min) and go in as
// they are; Q8_0's go in as |w|, each vector's quants taking w's sign (`vpsignb`), as llama.cpp's
// AVX2 dots do: |w| ≤ 128 and |x| ≤ 127 keep every pair sum within int16. Per 32 columns and
// (row, vector):
//
//   lanes = Σ_4 u·q_x  (8 int32 lanes, 4 columns each; u = q, or |w| against sign(w)·q_x)
//   acc  += float(lanes) · scale_w(group of 16) · d_x(block of 32)
//
// and the types with a min add Σ_blocks min · d_x · Σ q_x per row and vector at the end.
// (K-quant matrices take BatchedSuperBlockMultiplyAVX2.swift.)
// Register tile: two rows × four vectors (eight accumulators), so each 32-byte chunk of a vector,
// read from L1/L2, serves two rows, and each row's chunk four vectors.

#if KANSO_X86_SIMD && !KANSO_AVX512_VNNI
import _Builtin_intrinsics.intel

/// Scratch bytes multiplyBatchAVX2 needs beside the activation: the vectors' block sums times
/// their scales (for the mins) and two unpacked rows.
func batchAVX2ScratchByteCount(columns: Int, vectors: Int) -> Int {
    ThreadScratch.aligned(4 * vectors * (columns / 32)) + 2 * UnpackedRow.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x`, using `memory`
/// (batchAVX2ScratchByteCount bytes, 64-aligned).
func multiplyBatchAVX2(_ matrix: WeightMatrix, _ x: QuantizedActivation, scratch memory: UnsafeMutableRawPointer,
                       into y: UnsafeMutablePointer<Float>, outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let n = x.vectors
    let blocks = columns / 32
    let sumsBytes = ThreadScratch.aligned(4 * n * blocks)
    let rowA = UnpackedRow(memory: memory + sumsBytes, columns: columns)
    let rowB = UnpackedRow(memory: memory + sumsBytes + UnpackedRow.byteCount(columns: columns), columns: columns)
    let signed = matrix.type == .q8_0 || matrix.type == .q6_K
    let hasMins = UnpackedRow.hasMins(matrix.type, keepingZeroPoint: true)
    let blockSums = memory.bindMemory(to: Float.self, capacity: n * blocks)  // [n, blocks] d_x · Σ q_x
    if hasMins {
        for i in 0..<(n * blocks) { blockSums[i] = x.scales[i] * Float(x.sums[i]) }
    }
    var r = rows.lowerBound
    while r < rows.upperBound {
        // Two rows at a time; a last odd row is computed twice and written once.
        let pair = r + 1 < rows.upperBound
        rowA.unpack(matrix.type, row: matrix.rowBytes(r), keepingZeroPoint: true)
        if pair { rowB.unpack(matrix.type, row: matrix.rowBytes(r + 1), keepingZeroPoint: true) }
        let second = pair ? rowB : rowA
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let (first, next) = signed ? dotTileAVX2(rowA, second, x, firstVector: v, count: count, signed: true)
                                       : dotTileAVX2(rowA, second, x, firstVector: v, count: count, signed: false)
            for k in 0..<count {
                y[(v + k) * outputStride + r] = first[k]
                if pair { y[(v + k) * outputStride + r + 1] = next[k] }
            }
            v += count
        }
        if hasMins {
            for v in 0..<n {
                let sums = blockSums + v * blocks
                y[v * outputStride + r] += TransformerMath.dot(rowA.blockMins, sums, count: blocks)
                if pair { y[v * outputStride + r + 1] += TransformerMath.dot(rowB.blockMins, sums, count: blocks) }
            }
        }
        r += pair ? 2 : 1
    }
}

/// The two group scales of 32 columns spread to the 8 int32 lanes (lanes 0-3 the first 16 columns).
@inline(__always)
private func groupScalePair(_ pointer: UnsafePointer<Float>) -> __m256 {
    _mm256_set_m128(_mm_broadcast_ss(pointer + 1), _mm_broadcast_ss(pointer))
}

/// acc += float(Σ_4 u · q) · scale_w · d_x for one 32-column chunk, where u = |w| and q takes
/// the sign of w when `signed`, else u = w.
@inline(__always)
private func accumulate(_ acc: inout __m256, magnitudes: __m256i, signs: __m256i, signed: Bool, weightScales: __m256,
                        quants: __m256i, activationScale: __m256) {
    let lanes = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, signed ? _mm256_sign_epi8(quants, signs) : quants),
                                  _mm256_set1_epi16(1))
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_mul_ps(weightScales, activationScale), acc)
}

/// Rows a and b with vectors v ..< v + count (count 1...4): each chunk of the two rows and of the
/// vectors is loaded once for the whole tile. Unused vector slots repeat the last. `signed`: the
/// rows' values are signed (Q8_0, Q6_K), else unsigned.
@inline(__always)
private func dotTileAVX2(_ a: UnpackedRow, _ b: UnpackedRow, _ x: QuantizedActivation, firstVector v: Int,
                         count: Int, signed: Bool) -> (SIMD4<Float>, SIMD4<Float>) {
    let columns = a.columns
    let blocks = columns / 32
    var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0
    let quants = UnsafeRawPointer(x.quants)
    let q0 = quants + v * columns
    let q1 = q0 + min(1, count - 1) * columns, q2 = q0 + min(2, count - 1) * columns, q3 = q0 + min(3, count - 1) * columns
    let d0 = UnsafePointer(x.scales + v * blocks)
    let d1 = d0 + min(1, count - 1) * blocks, d2 = d0 + min(2, count - 1) * blocks, d3 = d0 + min(3, count - 1) * blocks
    let valuesA = UnsafeRawPointer(a.values), valuesB = UnsafeRawPointer(b.values)
    for block in 0..<blocks {
        let c = 32 * block
        let signsA = valuesA.load(fromByteOffset: c, as: __m256i.self), signsB = valuesB.load(fromByteOffset: c, as: __m256i.self)
        let magnitudesA = signed ? _mm256_abs_epi8(signsA) : signsA, magnitudesB = signed ? _mm256_abs_epi8(signsB) : signsB
        let scalesA = groupScalePair(a.groupScales + 2 * block), scalesB = groupScalePair(b.groupScales + 2 * block)
        let x0 = q0.loadUnaligned(fromByteOffset: c, as: __m256i.self), s0 = _mm256_broadcast_ss(d0 + block)
        accumulate(&a0, magnitudes: magnitudesA, signs: signsA, signed: signed, weightScales: scalesA, quants: x0, activationScale: s0)
        accumulate(&b0, magnitudes: magnitudesB, signs: signsB, signed: signed, weightScales: scalesB, quants: x0, activationScale: s0)
        let x1 = q1.loadUnaligned(fromByteOffset: c, as: __m256i.self), s1 = _mm256_broadcast_ss(d1 + block)
        accumulate(&a1, magnitudes: magnitudesA, signs: signsA, signed: signed, weightScales: scalesA, quants: x1, activationScale: s1)
        accumulate(&b1, magnitudes: magnitudesB, signs: signsB, signed: signed, weightScales: scalesB, quants: x1, activationScale: s1)
        let x2 = q2.loadUnaligned(fromByteOffset: c, as: __m256i.self), s2 = _mm256_broadcast_ss(d2 + block)
        accumulate(&a2, magnitudes: magnitudesA, signs: signsA, signed: signed, weightScales: scalesA, quants: x2, activationScale: s2)
        accumulate(&b2, magnitudes: magnitudesB, signs: signsB, signed: signed, weightScales: scalesB, quants: x2, activationScale: s2)
        let x3 = q3.loadUnaligned(fromByteOffset: c, as: __m256i.self), s3 = _mm256_broadcast_ss(d3 + block)
        accumulate(&a3, magnitudes: magnitudesA, signs: signsA, signed: signed, weightScales: scalesA, quants: x3, activationScale: s3)
        accumulate(&b3, magnitudes: magnitudesB, signs: signsB, signed: signed, weightScales: scalesB, quants: x3, activationScale: s3)
    }
    @inline(__always) func sum(_ v: __m256) -> Float { let lanes: SIMD8<Float> = v; return lanes.sum() }
    return (SIMD4(sum(a0), sum(a1), sum(a2), sum(a3)), SIMD4(sum(b0), sum(b1), sum(b2), sum(b3)))
}
#endif
