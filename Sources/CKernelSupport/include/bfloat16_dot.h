// The AVX-512 BF16 instructions, which Swift cannot call: their intrinsics take and return
// vectors of __bf16, a type Swift does not import. These wrappers take and give integer vectors
// and are always inlined into their callers, which must be compiled for AVX-512 BF16 (the
// KansoKernelsAVX512 target) and run only where the CPU has it (kanso_cpu_has_avx512_bf16).
#ifndef KANSO_BFLOAT16_DOT_H
#define KANSO_BFLOAT16_DOT_H

#if defined(__x86_64__)
#include <immintrin.h>

/// acc + in each of the sixteen float lanes i: a[2i]·b[2i] + a[2i+1]·b[2i+1], a and b each 32
/// bfloat16 values (`vdpbf16ps`).
static inline __attribute__((always_inline, target("avx512f,avx512bf16")))
__m512 kanso_bfloat16_dot(__m512 acc, __m512i a, __m512i b) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/// 32 floats rounded to bfloat16 (to nearest, ties to even): values 0-15 from `low`, 16-31 from
/// `high` (`vcvtne2ps2bf16`).
static inline __attribute__((always_inline, target("avx512f,avx512bf16")))
__m512i kanso_bfloat16_from_floats(__m512 low, __m512 high) {
    return (__m512i)_mm512_cvtne2ps_pbh(high, low);
}
#endif

#endif
