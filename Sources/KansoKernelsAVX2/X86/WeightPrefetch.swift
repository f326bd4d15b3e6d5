// Software prefetch of the weights a generation dot will read next. One core streaming weights
// through a dot gets about 8.5 GB/s from memory on an AVX2 machine with the hardware prefetchers
// alone, and about 12 with each block also asking for the line 2 KiB ahead (a read loop's
// ceiling there is 13.5): the core computes while more misses are in flight. 8 KiB ahead is too
// far there (lines are evicted from L1 before use). Measured with the Q8_0 row-group kernel over 1 GB.
// On the AVX-512 Zen 4 (1 MiB of L2 a core) 8 KiB ahead is better, and into L2 only (prefetcht2)
// better still for the 4-bit kernels, whose loads from L2 keep up; the Q8_0 group kernels, which
// read twice the bytes per multiply, want their lines in L1 (prefetcht0). 1B generation at one
// thread, alternated with 2 KiB into L1 for all: Q4_0 31.7-32.8 -> 36.9-38.1 t/s, Q4_K_M
// 29.4-30.7 -> 31.6-34.2, Q8_0 20.8-21.3 -> 21.7-23.2; 135M +3-12%. (Into L2 for Q8_0 too: 17-18.)
// A C read loop there gets 27.7 GB/s, 29.7 with prefetcht2 8 KiB ahead.

#if arch(x86_64)
import CKernelSupport
import KansoGGUF
import KansoKernelCore

/// Bytes ahead of the current read that a dot prefetches.
#if KANSO_AVX512_VNNI
let weightPrefetchDistance = 8192
#else
let weightPrefetchDistance = 2048
#endif

/// Where a prefetched line goes: every level, or the second and beyond (on AVX2-only builds
/// always every level, as measured there).
enum WeightPrefetchLevel { case first, outer }

/// Asks for the `lines` cache lines from `weightPrefetchDistance` bytes past `address`.
@inline(__always)
func prefetchWeights(_ address: UnsafeRawPointer, lines: Int = 1, into level: WeightPrefetchLevel = .outer) {
    #if KANSO_AVX512_VNNI
    if level == .outer {
        for line in 0..<lines { kanso_prefetch_outer(address + weightPrefetchDistance + 64 * line) }
        return
    }
    #endif
    for line in 0..<lines { kanso_prefetch(address + weightPrefetchDistance + 64 * line) }
}
#endif
