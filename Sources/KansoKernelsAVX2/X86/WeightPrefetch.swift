// Software prefetch of the weights a generation dot will read next. On an AVX2 CPU, one core
// streaming weights through a dot with the hardware prefetchers alone stays well below a read
// loop's bandwidth, and comes close to it with each block also asking for the line 2 KiB ahead:
// the core computes while more misses are in flight. 8 KiB ahead is too far there (lines are
// evicted from L1 before use). On AVX-512 CPUs with 1 MiB of L2 a core, 8 KiB ahead is better,
// and into L2 only (prefetcht2) better still for the 4-bit kernels, whose loads from L2 keep up;
// the Q8_0 group kernels, which read twice the bytes per multiply, want their lines in L1
// (prefetcht0). Figures in bench/README.md, "Figures behind choices in the code".

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
