// The Q4_K, Q5_K and Q6_K row · activation dots of token generation (one vector) on 256-bit registers,
// against the activation in super-blocks of 256 with one scale (SuperBlockActivation.swift), as
// llama.cpp's AVX2 ggml_vec_dot_q4_K_q8_K / q6_K_q8_K do it: `vpmaddubsw` multiplies the unsigned
// weight quants by x into int16 pair sums, a word dot (ByteDotPrimitives.swift: `vpdpwssd` with
// VNNI, `vpmaddwd` + add without) weights those by the integer sub-block scales into int32 lanes,
// and one convert and one multiply-add per super-block (256 elements) scale them to float,
// instead of one per 32. The min (Q4_K) and −32 offset (Q6_K) terms are integer dots of the
// scales or mins with the activation's per-16 sums. Integer ranges: a pair sum is at most
// 2 · 63 · 127 (Q6_K) in int16; a super-block's lane at most 256 · 127 · 63 · 127 in int32.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// Σ over `superBlocks` Q4_K super-blocks of `row` (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit
/// scales and mins, 128 bytes of nibbles; 32-byte chunk c holds sub-block 2c low, 2c + 1 high)
/// with the activation `x`: per sub-block d·sc·Σ q·x − dmin·m·Σ x. With `fiveBits`, Q5_K (176
/// bytes: the same with 32 bytes qh before the nibbles, bit j of qh[l] the fifth bit of element l
/// of sub-block j): values up to 31, a pair sum of `vpmaddubsw` at most 2 · 31 · 127.
@inline(__always)
func dotQ4_KSIMD(_ row: UnsafeRawPointer, _ x: SuperBlockActivation, superBlocks: Int, fiveBits: Bool = false) -> Float {
    let zero = _mm256_setzero_si256()
    let lowNibbles = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1)
    let quants = UnsafeRawPointer(x.quants)
    let blockBytes = fiveBits ? 176 : 144, nibbleOffset = fiveBits ? 48 : 16
    var acc = _mm256_setzero_ps(), minimumAcc = _mm256_setzero_ps()
    for s in 0..<superBlocks {
        let base = row + blockBytes * s
        prefetchWeights(base, lines: 3)
        // The eight 6-bit scales and mins (layout: scaleAndMinK4) from three 32-bit words:
        // sub-blocks 0-3 are the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 take their
        // low 4 bits from bytes 8-11 and their top 2 bits from the top bits of bytes 0-3 / 4-7.
        let w0 = base.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let w1 = base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let w2 = base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        let scales0to3 = w0 & 0x3F3F_3F3F
        let scales4to7 = (w2 & 0x0F0F_0F0F) | ((w0 >> 2) & 0x3030_3030)
        let mins0to3 = w1 & 0x3F3F_3F3F
        let mins4to7 = ((w2 >> 4) & 0x0F0F_0F0F) | ((w1 >> 2) & 0x3030_3030)
        // bytes 0-7 the scales, 8-15 the mins
        let scalesAndMins = _mm_set_epi32(Int32(bitPattern: mins4to7), Int32(bitPattern: mins0to3),
                                          Int32(bitPattern: scales4to7), Int32(bitPattern: scales0to3))
        // The scales as int16 in both 128-bit halves, so `vpshufb` broadcasts one per sub-block.
        let scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scalesAndMins))
        // Each min twice (int16), against the two groups of 16 of its sub-block.
        let minsTwice = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scalesAndMins,
                                                              _mm_set_epi8(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8)))
        let groupSums = UnsafeRawPointer(x.groupSums + 16 * s).loadUnaligned(as: __m256i.self)
        let minimumSums = _mm256_madd_epi16(groupSums, minsTwice)  // m_j · Σx of sub-block j

        var sums0 = zero, sums1 = zero
        let fifthBits = fiveBits ? base.loadUnaligned(fromByteOffset: 16, as: __m256i.self) : zero
        for chunk in 0..<4 {
            let packed = base.loadUnaligned(fromByteOffset: nibbleOffset + 32 * chunk, as: __m256i.self)
            var low = _mm256_and_si256(packed, lowNibbles)
            var high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
            if fiveBits {  // bits 2c and 2c + 1 of each qh byte, to bit 4
                low = _mm256_or_si256(low, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(fifthBits, Int32(2 * chunk)), one), 4))
                high = _mm256_or_si256(high, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(fifthBits, Int32(2 * chunk + 1)), one), 4))
            }
            let x0 = quants.loadUnaligned(fromByteOffset: 256 * s + 64 * chunk, as: __m256i.self)
            let x1 = quants.loadUnaligned(fromByteOffset: 256 * s + 64 * chunk + 32, as: __m256i.self)
            sums0 = addWordDots(sums0, _mm256_maddubs_epi16(low, x0), _mm256_shuffle_epi8(scales, broadcastWord(2 * chunk)))
            sums1 = addWordDots(sums1, _mm256_maddubs_epi16(high, x1), _mm256_shuffle_epi8(scales, broadcastWord(2 * chunk + 1)))
        }
        let dx = x.scales[s]
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sums0, sums1)),
                              _mm256_set1_ps(base.loadHalf(at: 0) * dx), acc)
        minimumAcc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(minimumSums), _mm256_set1_ps(base.loadHalf(at: 2) * dx), minimumAcc)
    }
    let total: SIMD8<Float> = _mm256_sub_ps(acc, minimumAcc)
    return total.sum()
}

/// The `vpshufb` control that copies int16 word `j` (0-7) of each 128-bit half to all its words.
@inline(__always)
private func broadcastWord(_ j: Int) -> __m256i {
    _mm256_set1_epi16(Int16(0x0100 + 0x0202 * j))  // bytes 2j, 2j + 1
}

/// Σ over `superBlocks` Q6_K super-blocks of `row` (210 bytes each: ql[128] low nibbles,
/// qh[64] high bit pairs, 16 int8 scales, f16 d) with the activation `x`. Per 128-element half,
/// byte l of ql/qh feeds elements l, l+32, l+64, l+96 (see dotQ6_K); the 6-bit q (0...63) is the
/// unsigned side, and w = q − 32 makes Σ sc·w·x = Σ sc·q·x − 32·Σ_groups sc·Σx.
@inline(__always)
func dotQ6_KSIMD(_ row: UnsafeRawPointer, _ x: SuperBlockActivation, superBlocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let quants = UnsafeRawPointer(x.quants)
    var acc = _mm256_setzero_ps()
    for s in 0..<superBlocks {
        let base = row + 210 * s
        prefetchWeights(base, lines: 4)
        let scaleBytes = base.loadUnaligned(fromByteOffset: 192, as: __m128i.self)  // 16 × int8
        let scales = _mm256_cvtepi8_epi16(scaleBytes)  // 16 × int16
        let groupSums = UnsafeRawPointer(x.groupSums + 16 * s).loadUnaligned(as: __m256i.self)
        var sums0 = _mm256_sub_epi32(zero, _mm256_slli_epi32(_mm256_madd_epi16(groupSums, scales), 5))
        var sums1 = zero
        for half in 0..<2 {
            let (q0, q1, q2, q3) = q6KHalfQuants(base, half: half)
            @inline(__always) func add(_ q: __m256i, _ k: Int, _ sums: inout __m256i) {
                let xk = quants.loadUnaligned(fromByteOffset: 256 * s + 128 * half + 32 * k, as: __m256i.self)
                // int16 lanes 0-7 are the block's first group of 16, lanes 8-15 its second
                let group = 8 * half + 2 * k
                let pairScales = groupScalePair(scaleBytes, group)
                sums = addWordDots(sums, _mm256_maddubs_epi16(q, xk), pairScales)
            }
            add(q0, 0, &sums0)
            add(q1, 1, &sums1)
            add(q2, 2, &sums0)
            add(q3, 3, &sums1)
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sums0, sums1)),
                              _mm256_set1_ps(base.loadHalf(at: 208) * x.scales[s]), acc)
    }
    let total: SIMD8<Float> = acc
    return total.sum()
}

/// The 6-bit quants (0...63) of half `half` (128 elements) of the Q6_K super-block at `base`:
/// byte l of the four registers is element l, l + 32, l + 64, l + 96 of the half, each its low
/// nibble from ql (bytes l and l + 32 of the half's 64, low then high nibbles) and its two high
/// bits from byte l of the half's 32 bytes of qh (bits 0-1, 2-3, 4-5, 6-7).
@inline(__always)
func q6KHalfQuants(_ base: UnsafeRawPointer, half: Int) -> (__m256i, __m256i, __m256i, __m256i) {
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let ql0 = base.loadUnaligned(fromByteOffset: 64 * half, as: __m256i.self)
    let ql1 = base.loadUnaligned(fromByteOffset: 64 * half + 32, as: __m256i.self)
    let qh = base.loadUnaligned(fromByteOffset: 128 + 32 * half, as: __m256i.self)
    let q0 = _mm256_or_si256(_mm256_and_si256(ql0, lowNibbles), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4))
    let q1 = _mm256_or_si256(_mm256_and_si256(ql1, lowNibbles), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2))
    let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), lowNibbles), _mm256_and_si256(qh, _mm256_set1_epi8(0x30)))
    let q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), lowNibbles),
                             _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(-64)), 2))  // 0xC0
    return (q0, q1, q2, q3)
}

/// Scales `group` and `group + 1` of the sixteen int8 scales, as int16: the first in words 0-7,
/// the second in words 8-15 (one block of 32 against its two groups of 16).
@inline(__always)
private func groupScalePair(_ scaleBytes: __m128i, _ group: Int) -> __m256i {
    let control = _mm_or_si128(_mm_set1_epi8(Int8(group)), _mm_set_epi64x(0x0101_0101_0101_0101, 0))
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scaleBytes, control))
}
#endif
