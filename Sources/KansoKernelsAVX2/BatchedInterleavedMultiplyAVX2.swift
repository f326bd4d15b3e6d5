// Y = X·Wᵀ for several activation vectors at once (prompt processing) through a Q8_0, Q4_0, Q4_1,
// Q5_0 or Q5_1 matrix with AVX2 alone (K-quant matrices take BatchedSuperBlockMultiplyAVX2.swift,
// machines with AVX-512 VNNI BatchedInterleavedMultiplyAVX512.swift). As llama.cpp's repacked GEMMs do it,
// eight weight rows are interleaved four bytes at a time (InterleavedRows.swift), so one register
// holds four elements of each of eight rows and `vpmaddubsw` against four bytes of a vector
// broadcast eight times gives int16 pair sums of eight rows at once:
//
//   step k of block b:   [w_0[4k…4k+3] | w_1[4k…4k+3] | … | w_7[4k…4k+3]] · [x[4k…4k+3] × 8]
//   int16 lane 2j, 2j+1  row j's two pair sums;  after `vpmaddwd` with ones, int32 lane j = row j
//
// Per block the eight steps' sums stay in int16 where they cannot overflow (unsigned 4-bit values:
// 16 products of at most 15 · 127 per lane; 5-bit: four steps at a time), then one `vpmaddwd`,
// one convert and one multiply-add by [d_w of the eight rows] · d_x finish the block for all eight
// rows: the float work per block is shared by eight rows instead of done per row, and int32
// lane j is y of row j, so there is no horizontal sum at all. Q8_0 (signed values) multiplies
// |w| by x with w's sign moved onto it (`vpsignb`; |w| ≤ 128 and |x| ≤ 127 keep each pair sum
// within int16), and widens every step. The min (Q4_1, Q5_1) and zero point (Q4_0 −8·d, Q5_0 −16·d) add
// min_w · d_x · Σ q_x per block. Tile: eight rows × four vectors.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL matrix read from
/// the file, of a multiple of 64 columns.
func multiplyInterleavedBatch(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                              _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let activationBytes = ThreadScratch.aligned(QuantizedActivation.byteCount(columns: matrix.columns, vectors: n))
    let memory = ThreadScratch.reserve(activationBytes + interleavedBatchAVX2ScratchByteCount(columns: matrix.columns, vectors: n))
    let activation = QuantizedActivation(memory: memory, columns: matrix.columns, vectors: n)
    for vector in 0..<n { quantizeActivation(activation, x + vector * matrix.columns, vector: vector) }
    multiplyInterleavedBatchAVX2(matrix, activation, scratch: memory + activationBytes, into: y, outputStride: outputStride, rows: rows)
}

/// Scratch bytes multiplyInterleavedBatchAVX2 needs beside the activation.
func interleavedBatchAVX2ScratchByteCount(columns: Int, vectors: Int) -> Int {
    ThreadScratch.aligned(4 * vectors * (columns / 32)) + InterleavedRows.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and every vector of `x`, using `memory`
/// (interleavedBatchAVX2ScratchByteCount bytes, 64-aligned); InterleavedRows.serves(matrix.type).
func multiplyInterleavedBatchAVX2(_ matrix: MatrixOperand, _ x: QuantizedActivation, scratch memory: UnsafeMutableRawPointer,
                                  into y: UnsafeMutablePointer<Float>, outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let n = x.vectors
    let blocks = columns / 32
    let sumsBytes = ThreadScratch.aligned(4 * n * blocks)
    let kind: InterleavedValues = switch matrix.type {
    case .q8_0, .iq4_nl: .signed
    case .q5_0, .q5_1: .unsigned5
    default: .unsigned4
    }
    let blockSums = memory.bindMemory(to: Float.self, capacity: n * blocks)  // [n, blocks] d_x · Σ q_x
    if kind != .signed {  // (Q8_0 has no min)
        for i in 0..<(n * blocks) { blockSums[i] = x.scales[i] * Float(x.sums[i]) }
    }
    let group = InterleavedRows(memory: memory + sumsBytes, columns: columns)
    multiplyRowGroups(rows: rows, vectors: n, into: y, outputStride: outputStride,
                      fill: { group.fill(matrix, rows: $0) }) { v, vectors in
        // one specialisation per kind, so the tile's branches are constants
        switch kind {
        case .signed: interleavedTile(group, x, blockSums, firstVector: v, count: vectors, kind: .signed)
        case .unsigned4: interleavedTile(group, x, blockSums, firstVector: v, count: vectors, kind: .unsigned4)
        case .unsigned5: interleavedTile(group, x, blockSums, firstVector: v, count: vectors, kind: .unsigned5)
        }
    }
}

/// How a row group's values meet `vpmaddubsw`, and for how many steps int16 sums are safe.
enum InterleavedValues {
    /// Q8_0, IQ4_NL: signed bytes, |w| against x with w's sign, widened every step
    case signed
    /// Q4_0, Q4_1: 0...15, eight steps (a whole block) in int16
    case unsigned4
    /// Q5_0, Q5_1: 0...31, four steps in int16
    case unsigned5
}

/// The four vectors' accumulators ([8 rows] each) of one row group; unused vector slots repeat the last.
@inline(__always)
private func interleavedTile(_ w: InterleavedRows, _ x: QuantizedActivation, _ blockSums: UnsafePointer<Float>,
                             firstVector v: Int, count: Int, kind: InterleavedValues) -> RowGroupTile {
    let columns = w.columns
    let blocks = columns / 32
    let ones = _mm256_set1_epi16(1)
    let quants = UnsafeRawPointer(x.quants)
    let (slot0, slot1, slot2, slot3) = tileSlots(firstVector: v, count: count)
    let q0 = quants + slot0 * columns, q1 = quants + slot1 * columns
    let q2 = quants + slot2 * columns, q3 = quants + slot3 * columns
    let d0 = UnsafePointer(x.scales + slot0 * blocks), d1 = UnsafePointer(x.scales + slot1 * blocks)
    let d2 = UnsafePointer(x.scales + slot2 * blocks), d3 = UnsafePointer(x.scales + slot3 * blocks)
    let m0 = blockSums + slot0 * blocks, m1 = blockSums + slot1 * blocks
    let m2 = blockSums + slot2 * blocks, m3 = blockSums + slot3 * blocks
    let values = UnsafeRawPointer(w.values)
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for b in 0..<blocks {
        var i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0  // int32 lanes: rows
        var s0 = i0, s1 = i0, s2 = i0, s3 = i0                     // int16 pair sums not yet widened
        for k in 0..<8 {
            let weights = values.load(fromByteOffset: 256 * b + 32 * k, as: __m256i.self)
            let magnitudes = kind == .signed ? _mm256_abs_epi8(weights) : weights
            let offset = 32 * b + 4 * k
            @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m256i, _ lanes: inout __m256i) {
                let xb = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                if kind == .signed {
                    let products = _mm256_maddubs_epi16(magnitudes, _mm256_sign_epi8(xb, weights))
                    lanes = _mm256_add_epi32(lanes, _mm256_madd_epi16(products, ones))
                } else {
                    sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(weights, xb))
                }
            }
            step(q0, &s0, &i0); step(q1, &s1, &i1); step(q2, &s2, &i2); step(q3, &s3, &i3)
            if kind == .unsigned5 && k == 3 {
                i0 = _mm256_madd_epi16(s0, ones); i1 = _mm256_madd_epi16(s1, ones)
                i2 = _mm256_madd_epi16(s2, ones); i3 = _mm256_madd_epi16(s3, ones)
                s0 = _mm256_setzero_si256(); s1 = s0; s2 = s0; s3 = s0
            }
        }
        if kind != .signed {
            i0 = _mm256_add_epi32(i0, _mm256_madd_epi16(s0, ones)); i1 = _mm256_add_epi32(i1, _mm256_madd_epi16(s1, ones))
            i2 = _mm256_add_epi32(i2, _mm256_madd_epi16(s2, ones)); i3 = _mm256_add_epi32(i3, _mm256_madd_epi16(s3, ones))
        }
        let scales = UnsafeRawPointer(w.scales).load(fromByteOffset: 32 * b, as: __m256.self)
        let mins = UnsafeRawPointer(w.mins).load(fromByteOffset: 32 * b, as: __m256.self)
        @inline(__always) func finish(_ acc: inout __m256, _ lanes: __m256i, _ d: UnsafePointer<Float>, _ m: UnsafePointer<Float>) {
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_mul_ps(scales, _mm256_set1_ps(d[b])), acc)
            if kind != .signed { acc = _mm256_fmadd_ps(mins, _mm256_set1_ps(m[b]), acc) }
        }
        finish(&acc0, i0, d0, m0); finish(&acc1, i1, d1, m1); finish(&acc2, i2, d2, m2); finish(&acc3, i3, d3, m3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
