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
    return sumBlockPairs(blocks) { b, acc in
        let base = row + 34 * b
        let w = base.loadUnaligned(fromByteOffset: 2, as: __m256i.self)
        let q = activation.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self)
        // (the unmasked form is a C macro, which Swift does not import; an all-ones mask is the same)
        let sums = _mm256_mask_dpbusd_epi32(zero, 0xFF, _mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(base.loadHalf(at: 0) * xd[b]), acc)
    }
}

/// Σ of eight float lanes that `block(b, &acc)` adds block b into, two blocks per step into
/// independent accumulators so that consecutive blocks' multiply-adds overlap.
@inline(__always)
private func sumBlockPairs(_ blocks: Int, _ block: (Int, inout __m256) -> Void) -> Float {
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    var b = 0
    while b + 2 <= blocks {
        block(b, &acc0)
        block(b + 1, &acc1)
        b += 2
    }
    if b < blocks { block(b, &acc0) }
    let total: SIMD8<Float> = _mm256_add_ps(acc0, acc1)
    return total.sum()
}
#endif

#if KANSO_AVX512_VNNI
/// Σ over `blocks` Q4_0 blocks of `row` (18 bytes each: f16 d, 16 bytes of nibbles: element j low,
/// j + 16 high) with the activation quants `x` and their block scales `xd`.
/// The nibbles are unsigned, so they are `vpdpbusd`'s unsigned side as they are:
/// Σ (q − 8)·x = Σ q·x − Σ 8·x, the second a `vpdpbusd` of 8s with x in the same lanes (a
/// scalar Σ d·d_x·Σx beside the vector work was one loop-carried chain per block).
@inline(__always)
func dotQ4_0VNNI(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, blocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let eight = _mm256_set1_epi8(8)
    let activation = UnsafeRawPointer(x)
    return sumBlockPairs(blocks) { b, acc in
        let base = row + 18 * b
        let packed = base.loadUnaligned(fromByteOffset: 2, as: __m128i.self)
        // [16 low nibbles | 16 high nibbles] as 32 bytes in element order
        let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed)
        let q = _mm256_and_si256(both, lowNibbles)
        let xb = activation.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self)
        let lanes = _mm256_sub_epi32(_mm256_mask_dpbusd_epi32(zero, 0xFF, q, xb), _mm256_mask_dpbusd_epi32(zero, 0xFF, eight, xb))
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_set1_ps(base.loadHalf(at: 0) * xd[b]), acc)
    }
}
#endif

#if KANSO_AVX512_VNNI
/// Σ over `superBlocks` Q4_K super-blocks of `row` (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit
/// scales and mins, 128 bytes of nibbles; 32-byte chunk c holds sub-block 2c low, 2c + 1 high)
/// with the activation quants `x`, block scales `xd` and block sums `xs`:
/// Σ (d·sc·q − dmin·m)·x per sub-block = d·sc·Σ q·x − dmin·m·Σ x.
@inline(__always)
func dotQ4_KVNNI(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>,
                 _ xs: UnsafePointer<Int32>, superBlocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let activation = UnsafeRawPointer(x)
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    var mins = SIMD8<Float>()  // per sub-block lane: Σ dmin·m·d_x·Σx, subtracted at the end
    for s in 0..<superBlocks {
        let base = row + 144 * s
        let d = base.loadHalf(at: 0), dmin = base.loadHalf(at: 2)
        let packedScales = (base + 4).assumingMemoryBound(to: UInt8.self)
        // The eight sub-blocks' scale and min, then their factors with the activation's block
        // scales and sums, eight at a time instead of one scalar product per sub-block.
        var scales = SIMD8<Float>(), minimums = SIMD8<Float>()
        for j in 0..<8 {
            let (scale, minimum) = scaleAndMinK4(j, packedScales)
            scales[j] = Float(scale)
            minimums[j] = Float(minimum)
        }
        let blockScales = UnsafeRawPointer(xd + 8 * s).loadUnaligned(as: SIMD8<Float>.self)
        let blockSums = SIMD8<Float>(UnsafeRawPointer(xs + 8 * s).loadUnaligned(as: SIMD8<Int32>.self))
        let factors = scales * blockScales * d
        mins += minimums * blockScales * blockSums * dmin
        for chunk in 0..<4 {
            let packed = base.loadUnaligned(fromByteOffset: 16 + 32 * chunk, as: __m256i.self)
            let low = _mm256_and_si256(packed, lowNibbles)
            let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
            let first = 8 * s + 2 * chunk  // activation block of the low nibbles
            let sums0 = _mm256_mask_dpbusd_epi32(zero, 0xFF, low, activation.loadUnaligned(fromByteOffset: 32 * first, as: __m256i.self))
            let sums1 = _mm256_mask_dpbusd_epi32(zero, 0xFF, high, activation.loadUnaligned(fromByteOffset: 32 * first + 32, as: __m256i.self))
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums0), _mm256_set1_ps(factors[2 * chunk]), acc0)
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums1), _mm256_set1_ps(factors[2 * chunk + 1]), acc1)
        }
    }
    let total: SIMD8<Float> = _mm256_add_ps(acc0, acc1)
    return total.sum() - mins.sum()
}

/// Σ over `superBlocks` Q6_K super-blocks of `row` (210 bytes each: ql[128] low nibbles,
/// qh[64] high bit pairs, 16 int8 scales, f16 d) with the activation quants `x` and block scales
/// `xd`. Per 128-element half, byte l of ql/qh feeds elements l, l+32, l+64, l+96 (see dotQ6_K);
/// the 6-bit q (0...63) is the unsigned side, and the −32 of w = q − 32 is one more `vpdpbusd`
/// of 32s with x. Lanes 0-3 of a block hold its first 16 elements, lanes 4-7 the other 16, so
/// the two scales of a block are one vector.
@inline(__always)
func dotQ6_KVNNI(_ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>,
                 superBlocks: Int) -> Float {
    let zero = _mm256_setzero_si256()
    let lowNibbles = _mm256_set1_epi8(0x0F)
    let thirtyTwo = _mm256_set1_epi8(32)
    let activation = UnsafeRawPointer(x)
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    for s in 0..<superBlocks {
        let base = row + 210 * s
        let d = base.loadHalf(at: 208)
        // Each group of 16's factor d · sc · d_x, sixteen at a time: groups 2j and 2j + 1 are
        // activation block 8s + j.
        let scales = SIMD16<Float>(base.loadUnaligned(fromByteOffset: 192, as: SIMD16<Int8>.self))
        let blockScales = UnsafeRawPointer(xd + 8 * s).loadUnaligned(as: SIMD8<Float>.self) * d
        let factors = scales * SIMD16(blockScales[0], blockScales[0], blockScales[1], blockScales[1],
                                      blockScales[2], blockScales[2], blockScales[3], blockScales[3],
                                      blockScales[4], blockScales[4], blockScales[5], blockScales[5],
                                      blockScales[6], blockScales[6], blockScales[7], blockScales[7])
        for half in 0..<2 {
            let ql0 = base.loadUnaligned(fromByteOffset: 64 * half, as: __m256i.self)
            let ql1 = base.loadUnaligned(fromByteOffset: 64 * half + 32, as: __m256i.self)
            let qh = base.loadUnaligned(fromByteOffset: 128 + 32 * half, as: __m256i.self)
            // The four blocks' q: low nibble | two high bits at bits 4-5.
            let q0 = _mm256_or_si256(_mm256_and_si256(ql0, lowNibbles), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4))
            let q1 = _mm256_or_si256(_mm256_and_si256(ql1, lowNibbles), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2))
            let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), lowNibbles), _mm256_and_si256(qh, _mm256_set1_epi8(0x30)))
            let q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), lowNibbles),
                                     _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(-64)), 2))  // 0xC0
            let first = 8 * s + 4 * half
            @inline(__always) func add(_ q: __m256i, _ k: Int, _ acc: inout __m256) {
                let xk = activation.loadUnaligned(fromByteOffset: 32 * (first + k), as: __m256i.self)
                let lanes = _mm256_sub_epi32(_mm256_mask_dpbusd_epi32(zero, 0xFF, q, xk), _mm256_mask_dpbusd_epi32(zero, 0xFF, thirtyTwo, xk))
                let group = 2 * (4 * half + k)
                let laneScales = _mm256_set_m128(_mm_set1_ps(factors[group + 1]), _mm_set1_ps(factors[group]))
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), laneScales, acc)
            }
            add(q0, 0, &acc0)
            add(q1, 1, &acc1)
            add(q2, 2, &acc0)
            add(q3, 3, &acc1)
        }
    }
    let total: SIMD8<Float> = _mm256_add_ps(acc0, acc1)
    return total.sum()
}
#endif
