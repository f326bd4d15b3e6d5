// What the engine's kernels need from C and Swift cannot say: a software prefetch. Swift has no
// prefetch intrinsic, and _mm_prefetch is a C macro, which Swift does not import; a static
// inline function is imported and inlined into the Swift caller as the one instruction.
#ifndef KANSO_KERNEL_SUPPORT_H
#define KANSO_KERNEL_SUPPORT_H

/// Asks for the cache line at `address` ahead of its use, into every cache level (prefetcht0).
/// A hint: it never faults.
static inline void kanso_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// The same into the second level and beyond, not the first (prefetcht2).
static inline void kanso_prefetch_outer(const void *address) {
    __builtin_prefetch(address, 0, 1);
}

#endif
