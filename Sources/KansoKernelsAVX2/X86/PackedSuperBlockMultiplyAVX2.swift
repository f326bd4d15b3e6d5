// y = W·x for one activation vector (generation) through a Q4_K or Q5_K matrix packed in groups of
// eight interleaved rows (PackedRowGroups.swift), with AVX2, against the activation quantized per
// super-block of 256 (SuperBlockActivation.swift) as llama.cpp's Q8_K:
//
//   per 32-byte chunk c of nibbles, step k: one register holds bytes 4k … 4k+3 of chunk c of all
//   eight rows: its low nibbles are sub-block 2c, its high nibbles sub-block 2c + 1, each against
//   four bytes of x broadcast to the eight rows' lanes (`vpmaddubsw`);
//   a sub-block's eight steps sum in int16 (8 · 2 · 15 · 127 = 30,480), and one `vpmaddwd` with
//   the eight rows' 6-bit scales (one `vpshufb` of the scale words, which are decoded for eight
//   rows at once) widens them into int32 lanes j = row j (at most 256 · 15 · 127 · 63 in all);
//   the mins give Σ_sub m · Σx per row the same way, and per super-block one convert and one
//   multiply-add each by [d of the eight rows] · d_x and [dmin] · d_x finish it.
// Per 32 weights of a row that is about 3.5 vector instructions against the per-row dot's 5.5
// (KQuantDotSIMD.swift), and half the `vpmaddubsw`/`vpmaddwd`, which share one port on some
// AVX2-only CPUs (bench/README.md, "Figures behind choices in the code").
// Q5_K adds each value's fifth bit (bit 2c or 2c + 1 of its qh byte, interleaved as the nibbles)
// as 16, and widens its int16 sums after four steps instead of eight (4 · 2 · 31 · 127 = 31,496).
// Prompt batches (several vectors) read the same groups, four vectors a tile
// (multiplyPackedQ4_KBatchAVX2; sixteen rows a register with AVX-512: PackedSuperBlockMultiplyAVX512.swift).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// The MatrixKernels of a packed Q4_K, Q5_K or Q6_K matrix: one vector at a time (generation), each
/// quantized per super-block of 256, and four vectors a tile (prompts; sixteen rows a register
/// with AVX-512: PackedSuperBlockMultiplyAVX512.swift). One function per type, each specialised.
func packedSuperBlockKernels(_ type: GGMLType) -> (vector: MatrixKernel, batch: MatrixKernel) {
    if type == .q6_K { return packedQ6_KKernels }  // (PackedQ6KMultiplyAVX2.swift)
    if type == .q5_K {
        return ({ multiplyPackedSuperBlockVectors($0, $1, $2, $3, $4, $5, fiveBits: true) },
                { multiplyPackedSuperBlockTiles($0, $1, $2, $3, $4, $5, fiveBits: true) })
    }
    return ({ multiplyPackedSuperBlockVectors($0, $1, $2, $3, $4, $5, fiveBits: false) },
            { multiplyPackedSuperBlockTiles($0, $1, $2, $3, $4, $5, fiveBits: false) })
}

@inline(__always)
private func multiplyPackedSuperBlockVectors(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                             _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                             fiveBits: Bool) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: matrix.columns))
    let activation = SuperBlockActivation(memory: memory, columns: matrix.columns)
    for v in 0..<n {
        quantizeSuperBlocks(activation, x + v * matrix.columns)
        forEachPackedGroup(rows) { g, store in store(packedQ4_KGroup(w, g, activation, fiveBits: fiveBits), y + v * outputStride) }
    }
}

/// y[v · outputStride + r] for the rows in `rows` and the `n` vectors of `x` (two or more), through
/// a packed Q4_K or Q5_K matrix: each group of eight rows with four vectors at a time, straight
/// from the packed nibbles (no rows copied back and unpacked, as the super-block batch kernel needs).
@inline(__always)
private func multiplyPackedSuperBlockTiles(_ matrix: MatrixOperand, _ input: UnsafePointer<Float>, _ n: Int,
                                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                           fiveBits: Bool) {
    let w = matrix.packed!
    let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: matrix.columns, vectors: n))
    let x = SuperBlockActivationBatch(memory: memory, quantizing: input, count: n, columns: matrix.columns)
    multiplyPackedGroupTiles(rows: rows, vectors: n, into: y, outputStride: outputStride) { g, v, count in
        let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
        return packedQ4_KTile(w, g, x[s0], x[s1], x[s2], x[s3], fiveBits: fiveBits)
    }
}

/// Group g of a packed Q4_K or Q5_K matrix with four vectors: lane j of register k = row 8g + j with
/// vector k. One sub-block at a time (the low nibbles, then the high), so that the sixteen
/// registers hold the four vectors' int16 sums, int32 sums and float accumulators.
@inline(__always)
private func packedQ4_KTile(_ w: PackedRowGroups, _ g: Int, _ x0: SuperBlockActivation, _ x1: SuperBlockActivation,
                            _ x2: SuperBlockActivation, _ x3: SuperBlockActivation, fiveBits: Bool) -> (__m256, __m256, __m256, __m256) {
    let low4 = _mm256_set1_epi8(0x0F), low6 = _mm256_set1_epi8(0x3F), bits45 = _mm256_set1_epi8(0x30)
    let one = _mm256_set1_epi8(1)
    let q0 = UnsafeRawPointer(x0.quants), q1 = UnsafeRawPointer(x1.quants)
    let q2 = UnsafeRawPointer(x2.quants), q3 = UnsafeRawPointer(x3.quants)
    var acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0
    for s in 0..<w.blocks {
        let p = w.groupBlock(g, s)
        let w0 = p.load(fromByteOffset: 32, as: __m256i.self)
        let w1 = p.load(fromByteOffset: 64, as: __m256i.self)
        let w2 = p.load(fromByteOffset: 96, as: __m256i.self)
        let scales0to3 = _mm256_and_si256(w0, low6)
        let scales4to7 = _mm256_or_si256(_mm256_and_si256(w2, low4), _mm256_and_si256(_mm256_srli_epi32(w0, 2), bits45))
        var main0 = _mm256_setzero_si256(), main1 = main0, main2 = main0, main3 = main0
        for t in 0..<8 {  // sub-block t: chunk t / 2, low nibbles when t is even
            let c = t / 2, shift: Int32 = t % 2 == 0 ? 0 : 4
            let scale = _mm256_shuffle_epi8(t < 4 ? scales0to3 : scales4to7, laneByteToWords(t & 3))
            var sums0 = _mm256_setzero_si256(), sums1 = sums0, sums2 = sums0, sums3 = sums0
            for k in 0..<8 {
                let packed = p.load(fromByteOffset: w.quantsOffset + 256 * c + 32 * k, as: __m256i.self)
                var values = _mm256_and_si256(_mm256_srli_epi16(packed, shift), low4)
                if fiveBits {  // bit t of each qh byte, to bit 4
                    let bits = p.load(fromByteOffset: w.masksOffset + 32 * k, as: __m256i.self)
                    values = _mm256_or_si256(values, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bits, Int32(t)), one), 4))
                }
                let offset = 256 * s + 32 * t + 4 * k
                @inline(__always) func step(_ q: UnsafeRawPointer, _ sums: inout __m256i) {
                    let xb = _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    sums = _mm256_add_epi16(sums, _mm256_maddubs_epi16(values, xb))
                }
                step(q0, &sums0); step(q1, &sums1); step(q2, &sums2); step(q3, &sums3)
                if fiveBits && k == 3 {  // four steps of 5-bit values fill the int16 sums
                    main0 = addWordDots(main0, sums0, scale); main1 = addWordDots(main1, sums1, scale)
                    main2 = addWordDots(main2, sums2, scale); main3 = addWordDots(main3, sums3, scale)
                    sums0 = _mm256_setzero_si256(); sums1 = sums0; sums2 = sums0; sums3 = sums0
                }
            }
            main0 = addWordDots(main0, sums0, scale); main1 = addWordDots(main1, sums1, scale)
            main2 = addWordDots(main2, sums2, scale); main3 = addWordDots(main3, sums3, scale)
        }
        let mins0to3 = _mm256_and_si256(w1, low6)
        let mins4to7 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), low4), _mm256_and_si256(_mm256_srli_epi32(w1, 2), bits45))
        let d = _mm256_cvtph_ps(p.load(as: __m128i.self)), dmin = _mm256_cvtph_ps(p.load(fromByteOffset: 16, as: __m128i.self))
        @inline(__always) func finish(_ acc: inout __m256, _ main: __m256i, _ x: SuperBlockActivation) {
            let groupSums = UnsafeRawPointer(x.groupSums)
            var mins = _mm256_setzero_si256()
            for t in 0..<8 {
                // [m_t, m_t] · [Σx of the first 16 of sub-block t, Σx of the second 16]
                let sums = _mm256_set1_epi32(groupSums.loadUnaligned(fromByteOffset: 32 * s + 4 * t, as: Int32.self))
                mins = addWordDots(mins, _mm256_shuffle_epi8(t < 4 ? mins0to3 : mins4to7, laneByteToWords(t & 3)), sums)
            }
            let dx = _mm256_set1_ps(x.scales[s])
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(main), _mm256_mul_ps(d, dx), acc)
            acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_mul_ps(dmin, dx), acc)
        }
        finish(&acc0, main0, x0); finish(&acc1, main1, x1); finish(&acc2, main2, x2); finish(&acc3, main3, x3)
    }
    return (acc0, acc1, acc2, acc3)
}

/// The `vpshufb` control that puts byte `t` of each 32-bit lane into both of its int16 words:
/// row j's 6-bit value of sub-block t (of the four a scale word holds) against its pair sums.
@inline(__always)
private func laneByteToWords(_ t: Int) -> __m256i {
    // lane L of each 128-bit half: bytes [4L + t, zero, 4L + t, zero] (0x80 selects zero)
    @inline(__always) func lane(_ l: Int) -> Int64 { Int64(4 * l + t) | 0x80 << 8 | Int64(4 * l + t) << 16 | 0x80 << 24 }
    let low = lane(0) | lane(1) << 32, high = lane(2) | lane(3) << 32
    return _mm256_set_epi64x(high, low, high, low)
}

/// Group g of a packed Q4_K or Q5_K matrix with one vector: lane j = row 8g + j. Each step broadcasts its
/// four bytes of x from the vector itself (`vpbroadcastd` from memory), and the prefetches are
/// spread over the super-block, four lines before each chunk, instead of all eighteen at its
/// start, with an x widened eightfold beforehand (64 KiB for n_ff = 8192 columns, more than L1,
/// read twice per weight byte): together much faster on CPUs with 32 KiB of L1d, though each
/// change alone gave little (figures in bench/README.md, "Figures behind choices in the code").
@inline(__always)
private func packedQ4_KGroup(_ w: PackedRowGroups, _ g: Int, _ x: SuperBlockActivation, fiveBits: Bool) -> __m256 {
    let lowNibbles = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1)
    let low6 = _mm256_set1_epi8(0x3F), low4 = lowNibbles, bits45 = _mm256_set1_epi8(0x30)
    let controls = (laneByteToWords(0), laneByteToWords(1), laneByteToWords(2), laneByteToWords(3))
    @inline(__always) func control(_ t: Int) -> __m256i {
        switch t & 3 {
        case 0: return controls.0
        case 1: return controls.1
        case 2: return controls.2
        default: return controls.3
        }
    }
    let quants = UnsafeRawPointer(x.quants)
    var acc = _mm256_setzero_ps(), minimumAcc = _mm256_setzero_ps()
    for s in 0..<w.blocks {
        let p = w.groupBlock(g, s)
        prefetchWeights(p, lines: fiveBits ? 6 : 2)  // the scales (128 bytes), qh (256); each chunk's four lines below
        // the 6-bit scales and mins of eight rows (layout: dotQ4_KSIMD), four per 32-bit lane
        let w0 = p.load(fromByteOffset: 32, as: __m256i.self)
        let w1 = p.load(fromByteOffset: 64, as: __m256i.self)
        let w2 = p.load(fromByteOffset: 96, as: __m256i.self)
        let scales0to3 = _mm256_and_si256(w0, low6)
        let scales4to7 = _mm256_or_si256(_mm256_and_si256(w2, low4), _mm256_and_si256(_mm256_srli_epi32(w0, 2), bits45))
        let mins0to3 = _mm256_and_si256(w1, low6)
        let mins4to7 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), low4), _mm256_and_si256(_mm256_srli_epi32(w1, 2), bits45))
        var lanes = _mm256_setzero_si256(), minimumLanes = lanes
        for c in 0..<4 {
            var low = _mm256_setzero_si256(), high = low  // int16 pair sums of sub-blocks 2c and 2c + 1
            prefetchWeights(p + w.quantsOffset + 256 * c, lines: 4)
            let scaleWords = c < 2 ? scales0to3 : scales4to7
            let lowScale = _mm256_shuffle_epi8(scaleWords, control(2 * c)), highScale = _mm256_shuffle_epi8(scaleWords, control(2 * c + 1))
            for k in 0..<8 {
                let packed = p.load(fromByteOffset: w.quantsOffset + 256 * c + 32 * k, as: __m256i.self)
                var lowValues = _mm256_and_si256(packed, lowNibbles)
                var highValues = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
                if fiveBits {  // bits 2c and 2c + 1 of each qh byte, to bit 4
                    let bits = p.load(fromByteOffset: w.masksOffset + 32 * k, as: __m256i.self)
                    lowValues = _mm256_or_si256(lowValues, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bits, Int32(2 * c)), one), 4))
                    highValues = _mm256_or_si256(highValues, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bits, Int32(2 * c + 1)), one), 4))
                }
                let offset = 256 * s + 64 * c + 4 * k
                let xLow = _mm256_set1_epi32(quants.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                let xHigh = _mm256_set1_epi32(quants.loadUnaligned(fromByteOffset: offset + 32, as: Int32.self))
                low = _mm256_add_epi16(low, _mm256_maddubs_epi16(lowValues, xLow))
                high = _mm256_add_epi16(high, _mm256_maddubs_epi16(highValues, xHigh))
                if fiveBits && k == 3 {  // four steps of 5-bit values fill the int16 sums
                    lanes = addWordDots(addWordDots(lanes, low, lowScale), high, highScale)
                    low = _mm256_setzero_si256(); high = low
                }
            }
            lanes = addWordDots(addWordDots(lanes, low, lowScale), high, highScale)
        }
        for t in 0..<8 {
            // m_t of each row (both words of its lane) · [Σx of sub-block t, 0]
            let sum = Int32(x.groupSums[16 * s + 2 * t]) + Int32(x.groupSums[16 * s + 2 * t + 1])
            minimumLanes = addWordDots(minimumLanes, _mm256_shuffle_epi8(t < 4 ? mins0to3 : mins4to7, control(t)),
                                       _mm256_set1_epi32(sum & 0xFFFF))
        }
        let dx = _mm256_set1_ps(x.scales[s])
        let d = _mm256_cvtph_ps(p.load(as: __m128i.self)), dmin = _mm256_cvtph_ps(p.load(fromByteOffset: 16, as: __m128i.self))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_mul_ps(d, dx), acc)
        minimumAcc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(minimumLanes), _mm256_mul_ps(dmin, dx), minimumAcc)
    }
    return _mm256_sub_ps(acc, minimumAcc)
}
#endif
