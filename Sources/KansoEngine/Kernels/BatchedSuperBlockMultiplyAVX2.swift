// Y = X·Wᵀ for several activation vectors at once through a Q4_K, Q5_K or Q6_K matrix with AVX2
// alone, in the way llama.cpp's K-quant dots work (its Q8_K): each vector is quantized with one
// scale per super-block of 256 (SuperBlockActivation.swift), so a super-block's integer sums can
// be weighted by the weights' integer sub-block scales in integer (`vpmaddwd` against the row's
// chunkScales instead of against ones) and turned into float once per 256 elements, where the
// per-row kernel with per-32 activation scales would convert, scale and add once per 32.
// Each weight row is unpacked once (UnpackedSuperBlockRow.swift); the quants are unsigned, so
// they meet `vpmaddubsw` as they are. Per super-block s, row r and vector v:
//
//   main   = Σ_chunks  Σ_2 chunkScale · (Σ_2 q · q_x)          (8 int32 lanes)
//   offset = Σ_2 offsetWeight · Σ16 q_x                          (8 int32 lanes)
//   acc   += float(main) · d·d_x − float(offset) · e·d_x
//
// Integer ranges: a pair sum is at most 2 · 63 · 127 (Q6_K), a main lane at most
// 8 · 2 · 16002 · 128 over a super-block, an offset lane 2 · 2032 · 128.
// Register tile: two rows × four vectors, each chunk of a row (and its scales) loaded once for the
// four vectors and each chunk of a vector once for the two rows.

#if KANSO_X86_SIMD && !KANSO_AVX512_VNNI
import _Builtin_intrinsics.intel

/// Scratch bytes multiplySuperBlocksBatchAVX2 needs: the vectors in super-block form and two
/// unpacked rows.
func superBlockBatchAVX2ScratchByteCount(columns: Int, vectors: Int) -> Int {
    vectors * ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
        + 2 * UnpackedSuperBlockRow.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` ([n, columns]),
/// using `memory` (superBlockBatchAVX2ScratchByteCount bytes, 64-aligned). The matrix must be
/// Q4_K, Q5_K or Q6_K.
func multiplySuperBlocksBatchAVX2(_ matrix: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int,
                                  scratch memory: UnsafeMutableRawPointer, into y: UnsafeMutablePointer<Float>,
                                  outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let vectorBytes = ThreadScratch.aligned(SuperBlockActivation.byteCount(columns: columns))
    @inline(__always) func vector(_ v: Int) -> SuperBlockActivation {
        SuperBlockActivation(memory: memory + v * vectorBytes, columns: columns)
    }
    for v in 0..<n { vector(v).quantize(x + v * columns) }
    let rowsMemory = memory + n * vectorBytes
    let rowA = UnpackedSuperBlockRow(memory: rowsMemory, columns: columns)
    let rowB = UnpackedSuperBlockRow(memory: rowsMemory + UnpackedSuperBlockRow.byteCount(columns: columns), columns: columns)
    var r = rows.lowerBound
    while r < rows.upperBound {
        // Two rows at a time; a last odd row is computed twice and written once.
        let pair = r + 1 < rows.upperBound
        rowA.unpack(matrix.type, row: matrix.rowBytes(r))
        if pair { rowB.unpack(matrix.type, row: matrix.rowBytes(r + 1)) }
        let second = pair ? rowB : rowA
        var v = 0
        while v < n {
            let count = min(4, n - v)
            // unused vector slots repeat the last
            let (first, next) = superBlockTile(rowA, second, vector(v), vector(v + min(1, count - 1)),
                                               vector(v + min(2, count - 1)), vector(v + min(3, count - 1)))
            for k in 0..<count {
                y[(v + k) * outputStride + r] = first[k]
                if pair { y[(v + k) * outputStride + r + 1] = next[k] }
            }
            v += count
        }
        r += pair ? 2 : 1
    }
}

/// Rows a and b with four vectors: the tile's eight dots.
@inline(__always)
private func superBlockTile(_ a: UnpackedSuperBlockRow, _ b: UnpackedSuperBlockRow, _ x0: SuperBlockActivation,
                            _ x1: SuperBlockActivation, _ x2: SuperBlockActivation, _ x3: SuperBlockActivation)
    -> (SIMD4<Float>, SIMD4<Float>) {
    let zero = _mm256_setzero_si256()
    var fa0 = _mm256_setzero_ps(), fa1 = fa0, fa2 = fa0, fa3 = fa0
    var fb0 = fa0, fb1 = fa0, fb2 = fa0, fb3 = fa0
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    let valuesA = UnsafeRawPointer(a.values), valuesB = UnsafeRawPointer(b.values)
    let scalesA = UnsafeRawPointer(a.chunkScales), scalesB = UnsafeRawPointer(b.chunkScales)
    for s in 0..<a.superBlocks {
        var ia0 = zero, ia1 = zero, ia2 = zero, ia3 = zero
        var ib0 = zero, ib1 = zero, ib2 = zero, ib3 = zero
        for chunk in 0..<8 {
            let c = 256 * s + 32 * chunk
            let wa = valuesA.load(fromByteOffset: c, as: __m256i.self), wb = valuesB.load(fromByteOffset: c, as: __m256i.self)
            // 16 int16 factors (32 bytes) per 32 elements: at the same byte offset as the values
            let sa = scalesA.load(fromByteOffset: c, as: __m256i.self), sb = scalesB.load(fromByteOffset: c, as: __m256i.self)
            let v0 = q0.load(fromByteOffset: c, as: __m256i.self)
            ia0 = addWordDots(ia0, _mm256_maddubs_epi16(wa, v0), sa)
            ib0 = addWordDots(ib0, _mm256_maddubs_epi16(wb, v0), sb)
            let v1 = q1.load(fromByteOffset: c, as: __m256i.self)
            ia1 = addWordDots(ia1, _mm256_maddubs_epi16(wa, v1), sa)
            ib1 = addWordDots(ib1, _mm256_maddubs_epi16(wb, v1), sb)
            let v2 = q2.load(fromByteOffset: c, as: __m256i.self)
            ia2 = addWordDots(ia2, _mm256_maddubs_epi16(wa, v2), sa)
            ib2 = addWordDots(ib2, _mm256_maddubs_epi16(wb, v2), sb)
            let v3 = q3.load(fromByteOffset: c, as: __m256i.self)
            ia3 = addWordDots(ia3, _mm256_maddubs_epi16(wa, v3), sa)
            ib3 = addWordDots(ib3, _mm256_maddubs_epi16(wb, v3), sb)
        }
        let offsetsA = UnsafeRawPointer(a.offsetWeights).load(fromByteOffset: 32 * s, as: __m256i.self)
        let offsetsB = UnsafeRawPointer(b.offsetWeights).load(fromByteOffset: 32 * s, as: __m256i.self)
        @inline(__always) func finish(_ acc: inout __m256, _ main: __m256i, _ row: UnpackedSuperBlockRow, _ offsets: __m256i,
                                      _ x: SuperBlockActivation) {
            let sums = UnsafeRawPointer(x.groupSums).loadUnaligned(fromByteOffset: 32 * s, as: __m256i.self)
            let offset = _mm256_madd_epi16(sums, offsets)
            let dx = x.scales[s]
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(main), _mm256_set1_ps(row.d[s] * dx), acc)
            acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(offset), _mm256_set1_ps(row.e[s] * dx), acc)
        }
        finish(&fa0, ia0, a, offsetsA, x0); finish(&fb0, ib0, b, offsetsB, x0)
        finish(&fa1, ia1, a, offsetsA, x1); finish(&fb1, ib1, b, offsetsB, x1)
        finish(&fa2, ia2, a, offsetsA, x2); finish(&fb2, ib2, b, offsetsB, x2)
        finish(&fa3, ia3, a, offsetsA, x3); finish(&fb3, ib3, b, offsetsB, x3)
    }
    @inline(__always) func sum(_ v: __m256) -> Float { let lanes: SIMD8<Float> = v; return lanes.sum() }
    return (SIMD4(sum(fa0), sum(fa1), sum(fa2), sum(fa3)), SIMD4(sum(fb0), sum(fb1), sum(fb2), sum(fb3)))
}
#endif
