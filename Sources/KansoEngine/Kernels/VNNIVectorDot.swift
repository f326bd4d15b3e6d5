// The Q8_0 row · int8 activation dot of token generation (one vector), with AVX-512 VL VNNI on
// 256-bit registers, as llama.cpp's AVX2 path does it: `vpdpbusd` needs one unsigned side, so it
// multiplies |w| by x with w's sign moved onto it (`vpsignb`), eight int32 lanes per block of 32;
// the lanes are scaled by d_w · d_x in float and summed lane-wise, reduced once per row.
// Generation reads each weight once, so this is about bandwidth: the portable loop
// (LegacyQuantDot.swift) spends ~8 cycles a block on widening and a horizontal sum per block.
// Compiled where the building machine has the instructions (Package.swift, KANSO_AVX512_VNNI).

#if KANSO_AVX512_VNNI
import _Builtin_intrinsics.intel

/// Σ over `blocks` Q8_0 blocks of `row` (34 bytes each: f16 d, 32 int8) with the activation
/// quants `x` ([blocks × 32]) and their block scales `xd`.
@inline(__always)
func dotQ8_0VNNI(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, blocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let activation = UnsafeRawPointer(x)
    @inline(__always)
    func block(_ b: Int) -> (lanes: __m256, scale: Float) {
        let base = row + 34 * b
        let w = base.loadUnaligned(fromByteOffset: 2, as: __m256i.self)
        let q = activation.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self)
        // (the unmasked form is a C macro, which Swift does not import; an all-ones mask is the same)
        let sums = _mm256_mask_dpbusd_epi32(zero, 0xFF, _mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w))
        return (_mm256_cvtepi32_ps(sums), base.loadHalf(at: 0) * xd[b])
    }
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    var b = 0
    while b + 2 <= blocks {
        let first = block(b), second = block(b + 1)
        acc0 = _mm256_fmadd_ps(first.lanes, _mm256_set1_ps(first.scale), acc0)
        acc1 = _mm256_fmadd_ps(second.lanes, _mm256_set1_ps(second.scale), acc1)
        b += 2
    }
    if b < blocks {
        let last = block(b)
        acc0 = _mm256_fmadd_ps(last.lanes, _mm256_set1_ps(last.scale), acc0)
    }
    let total: SIMD8<Float> = _mm256_add_ps(acc0, acc1)
    return total.sum()
}
#endif
