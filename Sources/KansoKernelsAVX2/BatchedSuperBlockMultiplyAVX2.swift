// Y = X·Wᵀ for several activation vectors at once through a Q4_K, Q5_K or Q6_K matrix with AVX2
// alone, in the way llama.cpp's K-quant dots work (its Q8_K): each vector is quantized with one
// scale per super-block of 256 (SuperBlockActivation.swift), so a super-block's integer sums can
// be weighted by the weights' integer group scales in integer (`vpmaddwd` against the scales
// instead of against ones) and turned into float once per 256 elements. As for the legacy types
// (BatchedInterleavedMultiplyAVX2.swift), eight rows are interleaved four bytes at a time
// (InterleavedSuperBlockRows.swift), so int32 lane j belongs to row j throughout. Per super-block
// s and vector v, with x broadcast four bytes at a time:
//
//   main   = Σ_units  Σ_2 groupScale_j · (Σ_steps of the unit  Σ_2 q · q_x)   (int32 lane j)
//   offset = Σ_pairs  Σ_2 offsetWeight_j · Σ16 q_x
//   acc   += float(main) · d_j·d_x − float(offset) · e_j·d_x
//
// A unit is as many four-byte steps as int16 pair sums can hold: 8 for Q4_K (16 products of at
// most 15 · 127 per word), 4 for Q5_K (31 · 127), 2 for Q6_K (63 · 127); a unit never crosses a
// group of 16, so one scale register serves it. Tile: eight rows × four vectors.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a Q4_K, Q5_K or Q6_K matrix read from the file.
func multiplySuperBlocksBatch(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                              _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let memory = ThreadScratch.reserve(superBlockBatchAVX2ScratchByteCount(columns: matrix.columns, vectors: n))
    multiplySuperBlocksBatchAVX2(matrix, x, count: n, scratch: memory, into: y, outputStride: outputStride, rows: rows)
}

/// Scratch bytes multiplySuperBlocksBatchAVX2 needs: the vectors in super-block form and one row group.
func superBlockBatchAVX2ScratchByteCount(columns: Int, vectors: Int) -> Int {
    SuperBlockActivationBatch.byteCount(columns: columns, vectors: vectors) + InterleavedSuperBlockRows.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` ([n, columns]),
/// using `memory` (superBlockBatchAVX2ScratchByteCount bytes, 64-aligned). The matrix must be
/// Q4_K, Q5_K or Q6_K.
func multiplySuperBlocksBatchAVX2(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, count n: Int,
                                  scratch memory: UnsafeMutableRawPointer, into y: UnsafeMutablePointer<Float>,
                                  outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let vector = SuperBlockActivationBatch(memory: memory, quantizing: x, count: n, columns: columns)
    let group = InterleavedSuperBlockRows(memory: memory + SuperBlockActivationBatch.byteCount(columns: columns, vectors: n),
                                          columns: columns)
    multiplyRowGroups(rows: rows, vectors: n, into: y, outputStride: outputStride,
                      fill: { group.fill(matrix, rows: $0) }) { v, vectors in
        // unused vector slots repeat the last; one specialisation per unit length
        let x0 = vector[v], x1 = vector[v + min(1, vectors - 1)], x2 = vector[v + min(2, vectors - 1)], x3 = vector[v + min(3, vectors - 1)]
        switch matrix.type {
        case .q4_K: return superBlockTile(group, x0, x1, x2, x3, unitSteps: 8)
        case .q5_K: return superBlockTile(group, x0, x1, x2, x3, unitSteps: 4)
        default: return superBlockTile(group, x0, x1, x2, x3, unitSteps: 2)
        }
    }
}

/// The four vectors' accumulators ([8 rows] each) of one row group.
@inline(__always)
private func superBlockTile(_ w: InterleavedSuperBlockRows, _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                            _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, unitSteps: Int) -> RowGroupTile {
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    let values = UnsafeRawPointer(w.values)
    let scales = UnsafeRawPointer(w.groupScales)
    let offsets = UnsafeRawPointer(w.offsetWeights)
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.superBlocks {
        var main0 = _mm256_setzero_si256(), main1 = main0, main2 = main0, main3 = main0
        var unit = 0
        while unit < 64 {
            var sums0 = _mm256_setzero_si256(), sums1 = sums0, sums2 = sums0, sums3 = sums0
            for k in unit..<(unit + unitSteps) {
                let weights = values.load(fromByteOffset: 2048 * s + 32 * k, as: __m256i.self)
                let offset = 256 * s + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m256i) {
                    let xb = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(weights, xb))
                }
                step(q0, &sums0); step(q1, &sums1); step(q2, &sums2); step(q3, &sums3)
            }
            let groupScale = scales.load(fromByteOffset: 512 * s + 32 * (unit / 4), as: __m256i.self)  // 4 steps per group
            main0 = addWordDots(main0, sums0, groupScale); main1 = addWordDots(main1, sums1, groupScale)
            main2 = addWordDots(main2, sums2, groupScale); main3 = addWordDots(main3, sums3, groupScale)
            unit += unitSteps
        }
        let d = UnsafeRawPointer(w.d).load(fromByteOffset: 32 * s, as: __m256.self)
        let e = UnsafeRawPointer(w.e).load(fromByteOffset: 32 * s, as: __m256.self)
        @inline(__always) func finish(_ acc: inout __m256, _ main: __m256i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var offset = _mm256_setzero_si256()
            for p in 0..<8 {
                let sums = _mm256_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * p, as: Int32.self))
                offset = addWordDots(offset, offsets.load(fromByteOffset: 256 * s + 32 * p, as: __m256i.self), sums)
            }
            let dx = _mm256_set1_ps(x.scales[s])
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(main), _mm256_mul_ps(d, dx), acc)
            acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(offset), _mm256_mul_ps(e, dx), acc)
        }
        finish(&acc0, main0, x0); finish(&acc1, main1, x1); finish(&acc2, main2, x2); finish(&acc3, main3, x3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
