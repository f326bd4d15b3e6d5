// What the CPU this process runs on can execute, for the engine's choice of kernels at load
// (KansoEngine/Kernels/KernelDispatch.swift). Swift cannot emit `cpuid` or `xgetbv`; these static
// inline functions are imported and inlined into the Swift caller. An instruction set counts only
// when the CPU has it and the kernel saves its registers on a context switch (XCR0): a CPU with
// AVX-512 under an OS or hypervisor that does not enable it must not get AVX-512 kernels.
#ifndef KANSO_CPU_FEATURES_H
#define KANSO_CPU_FEATURES_H

#include <stdbool.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// XCR0, the register state the OS saves (only when CPUID says OSXSAVE).
static inline unsigned long long kanso_xcr0(void) {
    unsigned int low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((unsigned long long)high << 32) | low;
}

/// AVX2 with FMA and F16C, and the OS saving the ymm registers.
static inline bool kanso_cpu_has_avx2(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
    if (!(fma && osxsave && avx && f16c)) return false;
    if ((kanso_xcr0() & 0x6) != 0x6) return false;  // xmm and ymm state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return b & (1u << 5);  // AVX2
}

/// AVX-512 F, BW, VL, DQ and VNNI on top of kanso_cpu_has_avx2, and the OS saving the zmm
/// registers and the mask registers.
static inline bool kanso_cpu_has_avx512_vnni(void) {
    unsigned int a, b, c, d;
    if (!kanso_cpu_has_avx2()) return false;
    if ((kanso_xcr0() & 0xE6) != 0xE6) return false;  // xmm, ymm, opmask, zmm 0-15 high, zmm 16-31
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    bool f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
    bool vnni = c & (1u << 11);
    return f && dq && bw && vl && vnni;
}
/// AVX-512 BF16 (`vdpbf16ps`, `vcvtne2ps2bf16`) on top of kanso_cpu_has_avx512_vnni.
static inline bool kanso_cpu_has_avx512_bf16(void) {
    unsigned int a, b, c, d;
    if (!kanso_cpu_has_avx512_vnni()) return false;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
    return a & (1u << 5);
}
#else
static inline bool kanso_cpu_has_avx2(void) { return false; }
static inline bool kanso_cpu_has_avx512_vnni(void) { return false; }
static inline bool kanso_cpu_has_avx512_bf16(void) { return false; }
#endif

#endif
