// Batches (two or more activation vectors) through a Q6_K matrix packed in groups of eight
// interleaved rows (PackedRowGroups.swift), with AVX-512 BW and VNNI: the arithmetic of the AVX2
// tile (X86/PackedQ6KMultiplyAVX2.swift) sixteen rows wide, groups g and g + 1 side by side (g in
// the low 256 bits, g + 1 in the high), four vectors per tile; each step's three loads give the
// values of all four quarters of its half. Per super-block s, group of sixteen (pair p = 4h + m,
// word k / 4) and vector v:
//   sums     = Σ_4 steps vpdpbusd(values, 4 bytes of x broadcast)    int32, ≤ 16 · 63 · 128
//   main    += sums · scale_g (vpmulld)                                 int32 lane j = row j
//   offset   = Σ_p vpdpwssd([scale_2p, scale_2p+1], [Σ16 x of groups 2p, 2p + 1])
//   acc     += float(main) · d_j·d_x − float(offset) · 32·d_j·d_x
// the same integers and float steps as every other Q6_K batch kernel, so the bits do not depend
// on the kernel or the batch. In the AVX-512 module (KansoKernelsAVX512).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` (two or more),
/// through a packed Q6_K matrix.
func multiplyPackedQ6_KWide(_ matrix: MatrixOperand, _ input: UnsafePointer<Float>, _ n: Int,
                            _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let x = SuperBlockActivationBatch(memory: memory, quantizing: input, count: n, columns: matrix.columns)
    multiplyGroupPairTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { a, b, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return count <= 2 ? packedQ6_KWideTile(w, a, b, x[s0], x[s1], x[s2], x[s3], vectors: 2, prefetching: v == 0)
            : packedQ6_KWideTile(w, a, b, x[s0], x[s1], x[s2], x[s3], vectors: 4, prefetching: v == 0)
    }
}

/// Groups a (rows 0-7 of the tile) and b (8-15) of a packed Q6_K matrix with four vectors, or the
/// first two (`vectors`: 2 or 4).
@inline(__always)
private func packedQ6_KWideTile(_ w: PackedRowGroups, _ a: Int, _ b: Int,
                                _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                                _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, vectors: Int,
                                prefetching: Bool) -> WideRowGroupTile {
    let low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3), bits23 = _mm512_set1_epi8(0x0C), bits45 = _mm512_set1_epi8(0x30)
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let pa = w.groupBlock(a, s), pb = w.groupBlock(b, s)
        @inline(__always) func pairScales(_ pair: Int) -> __m512i {  // lane j: [scale_2p, scale_2p+1] of row j
            _mm512_cvtepi8_epi16(__m256i(lowHalf: pa.loadUnaligned(fromByteOffset: 16 + 16 * pair, as: __m128i.self),
                                         highHalf: pb.loadUnaligned(fromByteOffset: 16 + 16 * pair, as: __m128i.self)))
        }
        var main0 = _mm512_setzero_si512(), main1 = main0, main2 = main0, main3 = main0
        if prefetching { prefetchGroupBlocks(pa, pb, bytes: w.groupBlockBytes) }
        for h in 0..<2 {
            for word in 0..<2 {  // steps 0-3 (the first group of each quarter's pair), then 4-7
                // sums of quarter m with vector v: three loads and a decode serve sixteen
                var sums = (_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512())
                var sums1 = sums, sums2 = sums, sums3 = sums
                for k in (4 * word)..<(4 * word + 4) {
                    let a = sideBySide(pa, pb, at: w.quantsOffset + 256 * (2 * h) + 32 * k)
                    let b = sideBySide(pa, pb, at: w.quantsOffset + 256 * (2 * h + 1) + 32 * k)
                    let qh = sideBySide(pa, pb, at: w.masksOffset + 256 * h + 32 * k)
                    let v0 = _mm512_or_si512(_mm512_and_si512(a, low4), _mm512_slli_epi16(_mm512_and_si512(qh, low2), 4))
                    let v1 = _mm512_or_si512(_mm512_and_si512(b, low4), _mm512_slli_epi16(_mm512_and_si512(qh, bits23), 2))
                    let v2 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(a, 4), low4), _mm512_and_si512(qh, bits45))
                    let v3 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(b, 4), low4), _mm512_and_si512(_mm512_srli_epi16(qh, 2), bits45))
                    let offset = 256 * s + 128 * h + 4 * k
                    @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout (__m512i, __m512i, __m512i, __m512i)) {
                        @inline(__always) func x(_ m: Int) -> __m512i { _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: offset + 32 * m, as: Int32.self)) }
                        sums.0 = _mm512_dpbusd_epi32(sums.0, v0, x(0))
                        sums.1 = _mm512_dpbusd_epi32(sums.1, v1, x(1))
                        sums.2 = _mm512_dpbusd_epi32(sums.2, v2, x(2))
                        sums.3 = _mm512_dpbusd_epi32(sums.3, v3, x(3))
                    }
                    step(q0, &sums); step(q1, &sums1)
                    if vectors > 2 { step(q2, &sums2); step(q3, &sums3) }
                }
                @inline(__always) func scaled(_ main: inout __m512i, _ sums: (__m512i, __m512i, __m512i, __m512i), _ scales: (__m512i, __m512i, __m512i, __m512i)) {
                    main = _mm512_add_epi32(main, _mm512_add_epi32(_mm512_add_epi32(_mm512_mullo_epi32(sums.0, scales.0), _mm512_mullo_epi32(sums.1, scales.1)),
                                                                   _mm512_add_epi32(_mm512_mullo_epi32(sums.2, scales.2), _mm512_mullo_epi32(sums.3, scales.3))))
                }
                // each lane's scale of quarter m's group: word `word` of pair 4h + m, sign-extended
                @inline(__always) func scale(_ m: Int) -> __m512i {
                    let pair = pairScales(4 * h + m)
                    return word == 0 ? _mm512_srai_epi32(_mm512_slli_epi32(pair, 16), 16) : _mm512_srai_epi32(pair, 16)
                }
                let scales = (scale(0), scale(1), scale(2), scale(3))
                scaled(&main0, sums, scales); scaled(&main1, sums1, scales)
                if vectors > 2 { scaled(&main2, sums2, scales); scaled(&main3, sums3, scales) }
            }
        }
        let d = _mm512_cvtph_ps(__m256i(lowHalf: pa.loadUnaligned(as: __m128i.self), highHalf: pb.loadUnaligned(as: __m128i.self)))
        let e = _mm512_mul_ps(d, _mm512_set1_ps(32))
        @inline(__always) func finish(_ acc: inout __m512, _ main: __m512i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var offset = _mm512_setzero_si512()
            for pair in 0..<8 {
                let sums = _mm512_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * pair, as: Int32.self))
                offset = _mm512_dpwssd_epi32(offset, pairScales(pair), sums)
            }
            let dx = _mm512_set1_ps(x.scales[s])
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(main), _mm512_mul_ps(d, dx), acc)
            acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(offset), _mm512_mul_ps(e, dx), acc)
        }
        finish(&acc0, main0, x0); finish(&acc1, main1, x1)
        if vectors > 2 { finish(&acc2, main2, x2); finish(&acc3, main3, x3) }
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
