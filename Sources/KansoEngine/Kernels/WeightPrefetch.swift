// Software prefetch of the weights a generation dot will read next. One core streaming weights
// through a dot gets about 8.5 GB/s from memory on an AVX2 machine with the hardware prefetchers
// alone, and about 12 with each block also asking for the line 2 KiB ahead (a read loop's
// ceiling there is 13.5): the core computes while more misses are in flight. 8 KiB ahead is too
// far (lines are evicted before use). Measured with the Q8_0 row-group kernel over 1 GB.

#if KANSO_X86_SIMD
import CKernelSupport

/// Bytes ahead of the current read that a dot prefetches.
let weightPrefetchDistance = 2048

/// Asks for the `lines` cache lines from `weightPrefetchDistance` bytes past `address`.
@inline(__always)
func prefetchWeights(_ address: UnsafeRawPointer, lines: Int = 1) {
    for line in 0..<lines { kanso_prefetch(address + weightPrefetchDistance + 64 * line) }
}
#endif
