// Y = X·Wᵀ for several activation vectors at once (prompt processing) through a Q8_0, Q4_0, Q4_1,
// Q5_0 or Q5_1 matrix read from the file (Q5_0, Q4_1 and Q5_1 have no packed form; Q8_0 and
// Q4_0 only with packing off), with AVX-512 BW and VNNI: the arithmetic of
// BatchedInterleavedMultiplyAVX2.swift, sixteen rows wide. Two groups of eight interleaved rows
// (InterleavedRows.swift) are read side by side, group A in the low 256 bits of each register and
// group B in the high, so int32 lane j is row j of the sixteen and one `vpdpbusd` (unsigned ×
// signed bytes, four products a lane, no saturation) serves sixteen rows. Per block b, vector v:
//
//   lanes = Σ_8 steps vpdpbusd(values, 4 bytes of x broadcast)        int32 lane j = row j
//   acc  += float(lanes) · d_j·d_x  +  min_j · d_x·Σq_x
//
// Unsigned values (Q4_0 and Q5_0 with their zero point moved into the min, Q4_1, Q5_1) go in as
// they are; Q8_0's signed ones with the sign bit flipped (w + 128), the block's 128·Σq_x taken back
// out of each lane in int32. The per-row kernel this replaces (two rows × four vectors) converted
// and scaled every sixteen lanes of each row with each vector, and measured much slower on files
// mostly in these types (figures in bench/README.md, "Figures behind choices in the code").
// Tile: sixteen rows × four vectors.
// In the AVX-512 module (KansoKernelsAVX512: F, BW, VL, DQ and VNNI), chosen on CPUs that have them.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL matrix read from
/// the file, of a multiple of 64 columns.
func multiplyInterleavedBatchWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                  _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let activationBytes = ThreadScratch.aligned(QuantizedActivation.byteCount(columns: matrix.columns, vectors: n))
    let memory = ThreadScratch.reserve(activationBytes + interleavedBatchAVX512ScratchByteCount(columns: matrix.columns, vectors: n))
    let activation = QuantizedActivation(memory: memory, columns: matrix.columns, vectors: n)
    for vector in 0..<n { quantizeActivation(activation, x + vector * matrix.columns, vector: vector) }
    multiplyInterleavedBatchAVX512(matrix, activation, scratch: memory + activationBytes, into: y, outputStride: outputStride, rows: rows)
}

/// Scratch bytes multiplyInterleavedBatchAVX512 needs beside the activation.
func interleavedBatchAVX512ScratchByteCount(columns: Int, vectors: Int) -> Int {
    ThreadScratch.aligned(4 * vectors * (columns / 32)) + 2 * InterleavedRows.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x`, using `memory`
/// (interleavedBatchAVX512ScratchByteCount bytes, 64-aligned); InterleavedRows.serves(matrix.type).
func multiplyInterleavedBatchAVX512(_ matrix: MatrixOperand, _ x: QuantizedActivation, scratch memory: UnsafeMutableRawPointer,
                                    into y: UnsafeMutablePointer<Float>, outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let n = x.vectors
    let blocks = columns / 32
    let sumsBytes = ThreadScratch.aligned(4 * n * blocks)
    let blockSums = memory.bindMemory(to: Float.self, capacity: n * blocks)  // [n, blocks] d_x · Σ q_x
    for i in 0..<(n * blocks) { blockSums[i] = x.scales[i] * Float(x.sums[i]) }
    let groupBytes = InterleavedRows.byteCount(columns: columns)
    let low = InterleavedRows(memory: memory + sumsBytes, columns: columns)
    let high = InterleavedRows(memory: memory + sumsBytes + groupBytes, columns: columns)
    let signed = matrix.type == .q8_0 || matrix.type == .iq4_nl
    multiplyWideRowGroups(rows: rows, vectors: n, into: y, outputStride: outputStride,
                          fill: { low.fill(matrix, rows: $0); high.fill(matrix, rows: $1) }) { v, count in
        // one specialisation per kind, so the tile's branches are constants
        signed ? wideInterleavedTile(low, high, x, blockSums, firstVector: v, count: count, signed: true)
               : wideInterleavedTile(low, high, x, blockSums, firstVector: v, count: count, signed: false)
    }
}

/// The four vectors' accumulators ([16 rows] each) of the row groups a (rows 0-7) and b (8-15);
/// unused vector slots repeat the last.
@inline(__always)
private func wideInterleavedTile(_ a: InterleavedRows, _ b: InterleavedRows, _ x: QuantizedActivation,
                                 _ blockSums: UnsafePointer<Float>, firstVector v: Int, count: Int,
                                 signed: Bool) -> WideRowGroupTile {
    let columns = a.columns
    let blocks = columns / 32
    let quants = UnsafeRawPointer(x.quants)
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * columns, q1 = quants + slot1 * columns
    let q2 = quants + slot2 * columns, q3 = quants + slot3 * columns
    let valuesA = UnsafeRawPointer(a.values), valuesB = UnsafeRawPointer(b.values)
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for block in 0..<blocks {
        var i0 = _mm512_setzero_si512(), i1 = i0, i2 = i0, i3 = i0
        for k in 0..<8 {
            let loaded = sideBySide(valuesA, valuesB, at: 256 * block + 32 * k)
            let weights = signed ? signFlipped(loaded) : loaded
            let offset = 32 * block + 4 * k
            @inline(__always) func step(_ q: UnsafeRawPointer, _ lanes: inout __m512i) {
                lanes = _mm512_dpbusd_epi32(lanes, weights, _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            }
            step(q0, &i0); step(q1, &i1); step(q2, &i2); step(q3, &i3)
        }
        let scales = floatsSideBySide(a.scales, b.scales, at: 8 * block)
        let mins = floatsSideBySide(a.mins, b.mins, at: 8 * block)
        @inline(__always) func finish(_ acc: inout __m512, _ lanes: __m512i, _ slot: Int) {
            let i = slot * blocks + block
            let exact = signed ? removingSignFlip(lanes, activationSum: x.sums[i]) : lanes
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_mul_ps(scales, _mm512_set1_ps(x.scales[i])), acc)
            if !signed { acc = _mm512_fmadd_ps(mins, _mm512_set1_ps(blockSums[i]), acc) }
        }
        finish(&acc0, i0, slot0); finish(&acc1, i1, slot1); finish(&acc2, i2, slot2); finish(&acc3, i3, slot3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
