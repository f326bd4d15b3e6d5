// The one C library call the engine needs that Swift's Glibc module does not import: malloc.h.
#ifndef KANSO_HEAP_RELEASE_H
#define KANSO_HEAP_RELEASE_H

#include <stdlib.h>  // (defines __GLIBC__ where the C library is glibc)
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// Hands the free memory of every malloc arena back to the kernel (glibc's malloc_trim(0),
/// which also drops whole free pages inside the heap, not only at its top). A load's temporary
/// allocations (the tokenizer built from the GGUF metadata, the packing) leave such pages
/// behind; without it they stay in the resident set for the life of the process. A no-op where
/// the C library is not glibc.
static inline void kanso_release_free_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

#endif
