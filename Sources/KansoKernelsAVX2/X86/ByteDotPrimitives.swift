// The few 256-bit integer steps that the x86 dots (LegacyQuantDotSIMD.swift, KQuantDotSIMD.swift)
// are written in, each one instruction with AVX-512 VNNI and two or three with AVX2 alone:
//   addByteDots   acc + Σ_4 u·s per int32 lane (u unsigned bytes, s signed)  vpdpbusd | vpmaddubsw, vpmaddwd, vpaddd
//   addWordDots   acc + Σ_2 a·b per int32 lane (int16)                       vpdpwssd | vpmaddwd, vpaddd
//   addWhereBitsSet  a byte added where a bit of a 32-bit mask is set         vpaddb{k} | bytes from bits, vpand, vpaddb
// AVX2's vpmaddubsw saturates each pair sum u·s + u'·s' to int16, VNNI does not: every caller
// keeps |pair| ≤ 32767 (u ≤ 128 against |s| ≤ 127 at most; each caller says its range).
// With AVX-512 VNNI also the sign flip (signFlipped, removingSignFlip) by which the 512-bit Q8_0
// batch tiles feed signed weights to `vpdpbusd`.
// Compiled into both x86 kernel modules (this X86 folder is shared): with AVX2, FMA and F16C in
// KansoKernelsAVX2, and with AVX-512 VNNI as well (KANSO_AVX512_VNNI) in KansoKernelsAVX512.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// acc + the four-byte dots of unsigned `u` with signed `s` in each int32 lane.
@inline(__always)
func addByteDots(_ acc: __m256i, _ u: __m256i, _ s: __m256i) -> __m256i {
    #if KANSO_AVX512_VNNI
    // (the unmasked form is a C macro, which Swift does not import; an all-ones mask is the same)
    return _mm256_mask_dpbusd_epi32(acc, 0xFF, u, s)
    #else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
    #endif
}

/// acc + the two-word dots of int16 `a` with `b` in each int32 lane.
@inline(__always)
func addWordDots(_ acc: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i {
    #if KANSO_AVX512_VNNI
    return _mm256_mask_dpwssd_epi32(acc, 0xFF, a, b)
    #else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
    #endif
}

/// 0xFF in byte i where bit i of `bits` is set, else 0 (ggml's bytes_from_bits_32).
@inline(__always)
func bytesFromBits(_ bits: UInt32) -> __m256i {
    let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(Int32(bitPattern: bits)),
                                     _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202,
                                                       0x0101_0101_0101_0101, 0))
    // each byte keeps all bits but its own: it is all ones exactly when its own bit was set
    let others = _mm256_set1_epi64x(0x7FBF_DFEF_F7FB_FDFE)
    return _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi64x(-1))
}

/// `v` + `addend` in each byte i where bit i of `bits` is set (byte i of `v` elsewhere).
@inline(__always)
func addWhereBitsSet(_ v: __m256i, _ bits: UInt32, _ addend: __m256i) -> __m256i {
    #if KANSO_AVX512_VNNI
    return _mm256_mask_add_epi8(v, bits, v, addend)
    #else
    return _mm256_add_epi8(v, _mm256_and_si256(bytesFromBits(bits), addend))
    #endif
}

/// The eight float lanes that `block(b, &acc)` adds every block b into, two blocks per step into
/// independent accumulators so that consecutive blocks' multiply-adds overlap.
@inline(__always)
func addBlockPairs(_ blocks: Int, _ block: (Int, inout __m256) -> Void) -> __m256 {
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    var b = 0
    while b + 2 <= blocks {
        block(b, &acc0)
        block(b + 1, &acc1)
        b += 2
    }
    if b < blocks { block(b, &acc0) }
    return _mm256_add_ps(acc0, acc1)
}

/// Σ of the eight lanes of addBlockPairs: a per-row dot.
@inline(__always)
func sumBlockPairs(_ blocks: Int, _ block: (Int, inout __m256) -> Void) -> Float {
    let total: SIMD8<Float> = addBlockPairs(blocks, block)
    return total.sum()
}

#if KANSO_AVX512_VNNI
/// Signed weight bytes w as the unsigned bytes w + 128 (the sign bit flipped), so that `vpdpbusd`,
/// whose first operand is unsigned, can take them; `removingSignFlip` takes the offset back out.
/// One flip per weight register serves every vector of a tile (the 512-bit batch tiles of Q8_0).
@inline(__always)
func signFlipped(_ w: __m512i) -> __m512i {
    _mm512_xor_si512(w, _mm512_set1_epi8(-128))
}

/// Lanes of Σ (w + 128) · x over one block of 32 back to Σ w · x, given the block's Σ x: exact in
/// int32 (|Σ| ≤ 32 · 255 · 127).
@inline(__always)
func removingSignFlip(_ lanes: __m512i, activationSum: Int32) -> __m512i {
    _mm512_sub_epi32(lanes, _mm512_set1_epi32(128 &* activationSum))
}
#endif
#endif
