// Y = X·Wᵀ for several activation vectors at once through a Q4_K, Q5_K or Q6_K matrix with AVX-512
// (BW and VNNI), sixteen rows wide. Two groups of eight interleaved rows
// (InterleavedSuperBlockRows.swift) are read side by side, group A in the low 256 bits of each
// register and group B in the high, so int32 lane j is row j of the sixteen throughout and one
// `vpdpbusd` (unsigned × signed bytes, four products a lane, no saturation) serves sixteen rows.
// Per super-block s and vector v, with x broadcast four bytes at a time:
//
//   main   = Σ_groups of 16  groupScale_j · (Σ_4 steps vpdpbusd(q, q_x))     (int32 lane j)
//   offset = Σ_pairs  Σ_2 offsetWeight_j · Σ16 q_x
//   acc   += float(main) · d_j·d_x − float(offset) · e_j·d_x
//
// Each group's int32 sums are scaled with `vpmulld` (|main| ≤ 256 · 63 · 127 · 128 < 2^31). The
// AVX2 kernel's int16 sums, with `vpmaddubsw`, their adds and a `vpdpwssd` per unit of steps,
// took more instructions, but these matrices (the Q6_K ones of Q4_K_M files) are a small part of
// the files measured, and prompt batches stayed within the noise; this kernel, with its rows'
// unpacking, is a small share of a Q4_K_M profile (figures in bench/README.md, "Figures behind
// choices in the code").
// Tile: sixteen rows × four vectors. In the AVX-512 module (KansoKernelsAVX512).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a Q4_K, Q5_K or Q6_K matrix read from the file.
func multiplySuperBlocksBatchWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                  _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let memory = ThreadScratch.reserve(superBlockBatchAVX512ScratchByteCount(columns: matrix.columns, vectors: n))
    multiplySuperBlocksBatchAVX512(matrix, x, count: n, scratch: memory, into: y, outputStride: outputStride, rows: rows)
}

/// Scratch bytes multiplySuperBlocksBatchAVX512 needs: the vectors in super-block form and two row groups.
func superBlockBatchAVX512ScratchByteCount(columns: Int, vectors: Int) -> Int {
    SuperBlockActivationBatch.byteCount(columns: columns, vectors: vectors) + 2 * InterleavedSuperBlockRows.byteCount(columns: columns)
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` ([n, columns]),
/// using `memory` (superBlockBatchAVX512ScratchByteCount bytes, 64-aligned). The matrix must be
/// Q4_K, Q5_K or Q6_K.
func multiplySuperBlocksBatchAVX512(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, count n: Int,
                                    scratch memory: UnsafeMutableRawPointer, into y: UnsafeMutablePointer<Float>,
                                    outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let vector = SuperBlockActivationBatch(memory: memory, quantizing: x, count: n, columns: columns)
    let groups = memory + SuperBlockActivationBatch.byteCount(columns: columns, vectors: n)
    let low = InterleavedSuperBlockRows(memory: groups, columns: columns)
    let high = InterleavedSuperBlockRows(memory: groups + InterleavedSuperBlockRows.byteCount(columns: columns), columns: columns)
    multiplyWideRowGroups(rows: rows, vectors: n, into: y, outputStride: outputStride,
                          fill: { low.fill(matrix, rows: $0); high.fill(matrix, rows: $1) }) { v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return wideSuperBlockTile(low, high, vector[s0], vector[s1], vector[s2], vector[s3])
    }
}

/// Y for the rows in `rows` and `n` vectors, sixteen rows and four vectors at a time (the
/// sixteen-row form of FourByteInterleave.swift's multiplyRowGroups): `fill(a, b)` loads rows `a`
/// into the low group of eight and `b` into the high one (`b` may be empty: zero rows),
/// `tile(v, count)` multiplies them with vectors v ..< v + count (count 1...4), and the lanes
/// that exist are stored at y[vector · outputStride + row].
@inline(__always)
func multiplyWideRowGroups(rows: Range<Int>, vectors n: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int,
                           fill: (Range<Int>, Range<Int>) -> Void, tile: (Int, Int) -> WideRowGroupTile) {
    var r = rows.lowerBound
    while r < rows.upperBound {
        let count = min(16, rows.upperBound - r)
        fill(r..<(r + min(8, count)), (r + min(8, count))..<(r + count))
        var v = 0
        while v < n {
            let vectors = min(4, n - v)
            withUnsafeBytes(of: tile(v, vectors)) { raw in
                let lanes = raw.bindMemory(to: Float.self)  // [4 vectors, 16 rows]
                for k in 0..<vectors {
                    for j in 0..<count { y[(v + k) * outputStride + r + j] = lanes[16 * k + j] }
                }
            }
            v += vectors
        }
        r += count
    }
}

/// The results of sixteen rows with four vectors: lane j of register k is row j with vector k.
typealias WideRowGroupTile = (__m512, __m512, __m512, __m512)

/// 64 bytes at `offset` of two row groups' arrays: a's 32 in the low half, b's in the high (any
/// alignment: packed group-blocks of 144 or 176 bytes are only 16-aligned). Also the sixteen-row
/// tiles of the Packed*AVX512.swift kernels and BatchedInterleavedMultiplyAVX512.swift.
@inline(__always)
func sideBySide(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, at offset: Int) -> __m512i {
    __m512i(lowHalf: a.loadUnaligned(fromByteOffset: offset, as: __m256i.self),
            highHalf: b.loadUnaligned(fromByteOffset: offset, as: __m256i.self))
}

/// Asks for the lines of two group-blocks (`bytes` each) `weightPrefetchDistance` ahead
/// (X86/WeightPrefetch.swift), for the first tile of a group pair: without it the packed
/// super-block tiles waited on their weights' loads at eight streams of the 1B file (bench/README,
/// "Through the daemon on a Zen 5").
@inline(__always)
func prefetchGroupBlocks(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, bytes: Int) {
    var offset = 0
    while offset < bytes {
        prefetchWeights(a + offset)
        prefetchWeights(b + offset)
        offset += 64
    }
}

/// Eight floats at `index` of each of two row groups' arrays, a's in the low half (32-aligned).
@inline(__always)
func floatsSideBySide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, at index: Int) -> __m512 {
    __m512(lowHalf: UnsafeRawPointer(a + index).load(as: __m256.self), highHalf: UnsafeRawPointer(b + index).load(as: __m256.self))
}

/// The four vectors' accumulators ([16 rows] each) of the row groups a (rows 0-7) and b (8-15).
@inline(__always)
private func wideSuperBlockTile(_ a: InterleavedSuperBlockRows, _ b: InterleavedSuperBlockRows,
                                _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                                _ x2: SuperBlockActivation, _ x3: SuperBlockActivation) -> WideRowGroupTile {
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    let valuesA = UnsafeRawPointer(a.values), valuesB = UnsafeRawPointer(b.values)
    let scalesA = UnsafeRawPointer(a.groupScales), scalesB = UnsafeRawPointer(b.groupScales)
    let offsetsA = UnsafeRawPointer(a.offsetWeights), offsetsB = UnsafeRawPointer(b.offsetWeights)
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<a.superBlocks {
        var main0 = _mm512_setzero_si512(), main1 = main0, main2 = main0, main3 = main0
        for group in 0..<16 {  // of sixteen values: four steps
            var sums0 = _mm512_setzero_si512(), sums1 = sums0, sums2 = sums0, sums3 = sums0
            for k in (4 * group)..<(4 * group + 4) {
                let weights = sideBySide(valuesA, valuesB, at: 2048 * s + 32 * k)
                let offset = 256 * s + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m512i) {
                    sums = _mm512_dpbusd_epi32(sums, weights, _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                }
                step(q0, &sums0); step(q1, &sums1); step(q2, &sums2); step(q3, &sums3)
            }
            // each lane's scale: the high word of its [scale, scale] pair, sign-extended
            let groupScale = _mm512_srai_epi32(sideBySide(scalesA, scalesB, at: 512 * s + 32 * group), 16)
            main0 = _mm512_add_epi32(main0, _mm512_mullo_epi32(sums0, groupScale))
            main1 = _mm512_add_epi32(main1, _mm512_mullo_epi32(sums1, groupScale))
            main2 = _mm512_add_epi32(main2, _mm512_mullo_epi32(sums2, groupScale))
            main3 = _mm512_add_epi32(main3, _mm512_mullo_epi32(sums3, groupScale))
        }
        let d = floatsSideBySide(a.d, b.d, at: 8 * s)
        let e = floatsSideBySide(a.e, b.e, at: 8 * s)
        @inline(__always) func finish(_ acc: inout __m512, _ main: __m512i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var offset = _mm512_setzero_si512()
            for p in 0..<8 {
                let sums = _mm512_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * p, as: Int32.self))
                offset = _mm512_dpwssd_epi32(offset, sideBySide(offsetsA, offsetsB, at: 256 * s + 32 * p), sums)
            }
            let dx = _mm512_set1_ps(x.scales[s])
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(main), _mm512_mul_ps(d, dx), acc)
            acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(offset), _mm512_mul_ps(e, dx), acc)
        }
        finish(&acc0, main0, x0); finish(&acc1, main1, x1); finish(&acc2, main2, x2); finish(&acc3, main3, x3)
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
