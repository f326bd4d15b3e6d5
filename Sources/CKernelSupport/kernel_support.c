// (header-only: see include/kernel_support.h; SwiftPM needs one source file in a C target)
#include "kernel_support.h"
