// y = W·x through a Q6_K matrix packed in groups of eight interleaved rows (PackedRowGroups.swift),
// with AVX2, against x quantized per super-block of 256 (SuperBlockActivation.swift), one to four
// vectors a tile: generation (one vector) and the batches of a few sequences decoded together,
// which the super-block batch kernel served badly: it copies every row back out of the file's
// form before multiplying, which a few vectors do not repay (figures in bench/README.md, "Many
// clients, one model"). Prompt batches of sixteen rows a register with
// AVX-512: PackedQ6KMultiplyAVX512.swift.
//
// Per super-block s, pair p of groups of sixteen (2p and 2p + 1; half h = p / 4, quarter m = p % 4)
// and step k (0..<8; four elements per row):
//   values   byte 4j + i = the 6-bit q (0...63) of element 128h + 32m + 4k + i of row j: the low
//            (m < 2) or high nibble of ql chunk 2h + m % 2 and bits 2m, 2m + 1 of qh chunk h
//   main    += Σ_steps vpmaddubsw(values, 4 bytes of x broadcast) · scale_g   (vpmaddwd/vpdpwssd)
//   offset   = Σ_p [scale_2p, scale_2p+1] · [Σ16 x of group 2p, of 2p + 1]
//   acc     += float(main) · d_j·d_x − float(offset) · 32·d_j·d_x
// since w = d·scale·(q − 32). main and offset are exact integers (|main| ≤ 256 · 63 · 128 · 128),
// and the two float steps are those of the super-block batch kernels, so a vector gets the same
// bits from every Q6_K kernel but the per-row dot (KQuantDotSIMD.swift) and whatever the other
// vectors of its batch: a reproducible agent's passes stay batch-invariant (KVCache.batchInvariant).
// A pair sum of `vpmaddubsw` is at most 2 · 63 · 128, so each step is widened at once.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// The MatrixKernels of a packed Q6_K matrix: one vector at a time, and four vectors a tile.
let packedQ6_KKernels: (vector: MatrixKernel, batch: MatrixKernel) = (multiplyPackedQ6_KVectors, multiplyPackedQ6_KTiles)

private func multiplyPackedQ6_KVectors(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                       _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: matrix.columns))
    let activation = SuperBlockActivation(memory: memory, columns: matrix.columns)
    for v in 0..<n {
        quantizeSuperBlocks(activation, x + v * matrix.columns)
        forEachPackedGroup(rows) { g, store in
            store(packedQ6_KTile(w, g, activation, activation, activation, activation, vectors: 1).0, y + v * outputStride)
        }
    }
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x`, each group of eight
/// rows with four vectors at a time.
private func multiplyPackedQ6_KTiles(_ matrix: MatrixOperand, _ input: UnsafePointer<Float>, _ n: Int,
                                     _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let x = SuperBlockActivationBatch(memory: memory, quantizing: input, count: n, columns: matrix.columns)
    multiplyPackedGroupTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { g, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return packedQ6_KTile(w, g, x[s0], x[s1], x[s2], x[s3], vectors: 4)
    }
}

/// The values of step `k` of half `h` of the group-block at `p`, eight rows, for quarters 0…3
/// (layout above): three loads give all four.
@inline(__always)
func packedQ6_KValues(_ p: UnsafeRawPointer, _ w: PackedRowGroups, half h: Int, step k: Int) -> (__m256i, __m256i, __m256i, __m256i) {
    let low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(3)
    let a = p.loadUnaligned(fromByteOffset: w.quantsOffset + 256 * (2 * h) + 32 * k, as: __m256i.self)
    let b = p.loadUnaligned(fromByteOffset: w.quantsOffset + 256 * (2 * h + 1) + 32 * k, as: __m256i.self)
    let qh = p.loadUnaligned(fromByteOffset: w.masksOffset + 256 * h + 32 * k, as: __m256i.self)
    let v0 = _mm256_or_si256(_mm256_and_si256(a, low4), _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4))
    let v1 = _mm256_or_si256(_mm256_and_si256(b, low4), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2))
    let v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), _mm256_and_si256(qh, _mm256_set1_epi8(0x30)))
    let v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), low4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), _mm256_set1_epi8(0x30)))
    return (v0, v1, v2, v3)
}

/// Row j's scales 2p and 2p + 1 (int16) in the two words of lane j.
@inline(__always)
private func pairScales(_ p: UnsafeRawPointer, _ pair: Int) -> __m256i {
    _mm256_cvtepi8_epi16(p.loadUnaligned(fromByteOffset: 16 + 16 * pair, as: __m128i.self))
}

/// The `vpshufb` control that copies word `word` (0, 1) of each 32-bit lane into both its words.
@inline(__always)
private func laneWordToBoth(_ word: Int) -> __m256i {
    let b = Int64(2 * word)
    @inline(__always) func lane(_ l: Int64) -> Int64 { (4 * l + b) | (4 * l + b + 1) << 8 | (4 * l + b) << 16 | (4 * l + b + 1) << 24 }
    let low = lane(0) | lane(1) << 32, high = lane(2) | lane(3) << 32
    return _mm256_set_epi64x(high, low, high, low)
}

/// Group g with the first `vectors` (1 or 4) of x0…x3: lane j of register k = row 8g + j with
/// vector k (the registers of absent vectors are zero).
@inline(__always)
private func packedQ6_KTile(_ w: PackedRowGroups, _ g: Int, _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                            _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, vectors: Int) -> (__m256, __m256, __m256, __m256) {
    let firstWord = laneWordToBoth(0), secondWord = laneWordToBoth(1)
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let p = w.groupBlock(g, s)
        var main0 = _mm256_setzero_si256(), main1 = main0, main2 = main0, main3 = main0
        prefetchWeights(p, lines: 3)  // d and the scales
        for h in 0..<2 {
            // pairs 4h … 4h + 3: quarter m's groups are 2(4h + m) (steps 0-3) and 2(4h + m) + 1 (steps 4-7)
            let scales = (pairScales(p, 4 * h), pairScales(p, 4 * h + 1), pairScales(p, 4 * h + 2), pairScales(p, 4 * h + 3))
            for k in 0..<8 {
                if k % 2 == 0 {  // this step's and the next one's lines of ql, ql and qh
                    prefetchWeights(p + w.quantsOffset + 256 * (2 * h) + 32 * k, lines: 1)
                    prefetchWeights(p + w.quantsOffset + 256 * (2 * h + 1) + 32 * k, lines: 1)
                    prefetchWeights(p + w.masksOffset + 256 * h + 32 * k, lines: 1)
                }
                let control = k < 4 ? firstWord : secondWord
                let values = packedQ6_KValues(p, w, half: h, step: k)
                @inline(__always) func quarter(_ m: Int, _ values: __m256i, _ scales: __m256i) {
                    let scale = _mm256_shuffle_epi8(scales, control)
                    let offset = 256 * s + 128 * h + 32 * m + 4 * k
                    @inline(__always) func step(_ q: UnsafeRawPointer, _ main: inout __m256i) {
                        let xb = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                        main = addWordDots(main, _mm256_maddubs_epi16(values, xb), scale)
                    }
                    step(q0, &main0)
                    if vectors > 1 { step(q1, &main1); step(q2, &main2); step(q3, &main3) }
                }
                quarter(0, values.0, scales.0); quarter(1, values.1, scales.1)
                quarter(2, values.2, scales.2); quarter(3, values.3, scales.3)
            }
        }
        let d = _mm256_cvtph_ps(p.loadUnaligned(as: __m128i.self))
        let e = _mm256_mul_ps(d, _mm256_set1_ps(32))
        @inline(__always) func finish(_ acc: inout __m256, _ main: __m256i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var offset = _mm256_setzero_si256()
            for pair in 0..<8 {
                let sums = _mm256_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * pair, as: Int32.self))
                offset = addWordDots(offset, pairScales(p, pair), sums)
            }
            let dx = _mm256_set1_ps(x.scales[s])
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(main), _mm256_mul_ps(d, dx), acc)
            acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(offset), _mm256_mul_ps(e, dx), acc)
        }
        finish(&acc0, main0, x0)
        if vectors > 1 { finish(&acc1, main1, x1); finish(&acc2, main2, x2); finish(&acc3, main3, x3) }
    }
    return (acc0, acc1, acc2, acc3)
}
#endif
