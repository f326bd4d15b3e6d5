// The Q8_0, Q4_0 and Q5_0 row · int8 activation dots of token generation (one vector) on 256-bit
// registers, as llama.cpp's AVX2 path does them, in the steps of ByteDotPrimitives.swift (one
// VNNI instruction each where the machine has it, AVX2's multiply-adds otherwise).
// Q8_0: the byte dot needs one unsigned side, so it multiplies |w| by x with w's sign moved onto it
// (`vpsignb`), eight int32 lanes per block of 32 (|w| ≤ 128, |x| ≤ 127: no int16 saturation);
// the lanes are scaled by d_w · d_x in float and summed lane-wise, reduced once per row.
// Generation reads each weight once, so this is about bandwidth: the portable loop
// (LegacyQuantDot.swift) spends ~8 cycles a block on widening and a horizontal sum per block.
// Q4_0 and Q5_0 go two blocks at a time against the activation in block-pair order
// (BlockPairActivation.swift); the K-quants are in KQuantDotSIMD.swift.
// In both x86 kernel modules (ByteDotPrimitives.swift says how).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// Σ over `blocks` Q8_0 blocks of `row` (34 bytes each: f16 d, 32 int8) with the activation
/// quants `x` ([blocks × 32]) and their block scales `xd`.
@inline(__always)
func dotQ8_0SIMD(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, blocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let activation = UnsafeRawPointer(x)
    return sumBlockPairs(blocks) { b, acc in
        let base = row + 34 * b
        prefetchWeights(base)
        let w = base.loadUnaligned(fromByteOffset: 2, as: __m256i.self)
        let q = activation.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self)
        let sums = addByteDots(zero, _mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(base.loadHalf(at: 0) * xd[b]), acc)
    }
}
#endif

#if arch(x86_64)
/// Σ over `blocks` Q4_0 blocks of `row` (18 bytes each: f16 d, 16 bytes of nibbles: element j low,
/// j + 16 high) with the activation quants `x` and their block scales `xd`.
/// The nibbles are unsigned, so they are the byte dot's unsigned side as they are (q ≤ 15):
/// Σ (q − 8)·x = Σ q·x − Σ 8·x, the second a byte dot of 8s with x in the same lanes (a
/// scalar Σ d·d_x·Σx beside the vector work was one loop-carried chain per block).
@inline(__always)
func dotQ4_0SIMD(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, blocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let eight = _mm256_set1_epi8(8)
    let activation = UnsafeRawPointer(x)
    return sumBlockPairs(blocks) { b, acc in
        let base = row + 18 * b
        prefetchWeights(base)
        let packed = base.loadUnaligned(fromByteOffset: 2, as: __m128i.self)
        // [16 low nibbles | 16 high nibbles] as 32 bytes in element order
        let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed)
        let q = _mm256_and_si256(both, lowNibbles)
        let xb = activation.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self)
        let lanes = _mm256_sub_epi32(addByteDots(zero, q, xb), addByteDots(zero, eight, xb))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_set1_ps(base.loadHalf(at: 0) * xd[b]), acc)
    }
}
#endif

#if arch(x86_64)
/// Σ over `x.pairs` pairs of Q4_0 blocks of `row` (18 bytes each: f16 d, 16 bytes of nibbles)
/// with the activation in block-pair order (BlockPairActivation.swift, quantized with zero point
/// 8): per pair one 256-bit register of both blocks' nibbles, two byte dots from the
/// precomputed −8 terms, one convert and one multiply-add for 64 weights.
@inline(__always)
func dotQ4_0PairsSIMD(_ row: UnsafeRawPointer, _ x: BlockPairActivation) -> Float {
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let quants = UnsafeRawPointer(x.quants)
    let offsets = UnsafeRawPointer(x.laneOffsets)
    return sumBlockPairs(x.pairs) { p, acc in
        let base = row + 36 * p
        prefetchWeights(base)
        let packed = _mm256_set_m128i(base.loadUnaligned(fromByteOffset: 20, as: __m128i.self),
                                      base.loadUnaligned(fromByteOffset: 2, as: __m128i.self))
        let low = _mm256_and_si256(packed, lowNibbles)
        let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
        var lanes = offsets.load(fromByteOffset: 32 * p, as: __m256i.self)
        lanes = addByteDots(lanes, low, quants.load(fromByteOffset: 64 * p, as: __m256i.self))
        lanes = addByteDots(lanes, high, quants.load(fromByteOffset: 64 * p + 32, as: __m256i.self))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), pairLaneScales(base, blockBytes: 18, x, pair: p), acc)
    }
}

/// Σ over `x.pairs` pairs of Q5_0 blocks of `row` (22 bytes each: f16 d, 32 high bits qh,
/// 16 bytes of nibbles; bit j of qh is bit 4 of element j) with the activation in block-pair
/// order quantized with zero point 16: as dotQ4_0PairsSIMD, the high bits added as 16 to the
/// nibbles under a byte mask built from both blocks' qh.
@inline(__always)
func dotQ5_0PairsSIMD(_ row: UnsafeRawPointer, _ x: BlockPairActivation) -> Float {
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let sixteen = _mm256_set1_epi8(16)
    let quants = UnsafeRawPointer(x.quants)
    let offsets = UnsafeRawPointer(x.laneOffsets)
    return sumBlockPairs(x.pairs) { p, acc in
        let base = row + 44 * p
        prefetchWeights(base)
        let packed = _mm256_set_m128i(base.loadUnaligned(fromByteOffset: 28, as: __m128i.self),
                                      base.loadUnaligned(fromByteOffset: 6, as: __m128i.self))
        let high0 = base.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        let high1 = base.loadUnaligned(fromByteOffset: 24, as: UInt32.self)
        // byte i of the low register is element i of block 2p (i < 16) or i − 16 of 2p + 1
        let lowMask = (high0 & 0xFFFF) | (high1 << 16)
        let highMask = (high0 >> 16) | (high1 & 0xFFFF_0000)
        let lowNibble = _mm256_and_si256(packed, lowNibbles)
        let highNibble = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
        let low = addWhereBitsSet(lowNibble, lowMask, sixteen)
        let high = addWhereBitsSet(highNibble, highMask, sixteen)
        var lanes = offsets.load(fromByteOffset: 32 * p, as: __m256i.self)
        lanes = addByteDots(lanes, low, quants.load(fromByteOffset: 64 * p, as: __m256i.self))
        lanes = addByteDots(lanes, high, quants.load(fromByteOffset: 64 * p + 32, as: __m256i.self))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), pairLaneScales(base, blockBytes: 22, x, pair: p), acc)
    }
}

/// The float factor of each int32 lane of a block pair: [d_b · d_x,b × 4, d_b+1 · d_x,b+1 × 4],
/// from the two blocks' f16 d (at the start of each block) in one word.
@inline(__always)
private func pairLaneScales(_ base: UnsafeRawPointer, blockBytes: Int, _ x: BlockPairActivation, pair p: Int) -> __m256 {
    let halves = UInt32(base.loadUnaligned(as: UInt16.self)) | UInt32(base.loadUnaligned(fromByteOffset: blockBytes, as: UInt16.self)) << 16
    let d = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: halves)))
    let spread = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1))
    return _mm256_mul_ps(spread, UnsafeRawPointer(x.laneScales).load(fromByteOffset: 32 * p, as: __m256.self))
}
#endif
