#!/usr/bin/env bash
# Checks that the instruction sets the kernel modules are compiled for stay in them, so that a
# build runs on any x86-64-v2 CPU and the engine's dispatch (KansoEngine/Kernels/KernelDispatch.swift)
# decides alone what runs:
#   - an EVEX-encoded instruction (AVX-512) only in functions of KansoKernelsAVX512;
#   - a VEX-encoded instruction (AVX, AVX2, FMA, F16C) only in KansoKernelsAVX2 or KansoKernelsAVX512.
# A function counts as a module's when its Swift name starts with the module's mangled prefix
# ($s18KansoKernelsAVX512...): a stdlib specialization or a C helper compiled inside a kernel
# module has another name, may be merged with the same symbol of another module at link time,
# and must not use the module's instructions. Give linked binaries or object files (default: the
# release kansod and kanso-bench-engine); prints each offending function and fails if there is one.
#   swift build -c release --product kansod && swift build -c release --product kanso-bench-engine
#   scripts/check-kernel-isolation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- .build/release/kansod .build/release/kanso-bench-engine; fi
command -v objdump >/dev/null || { echo "objdump is not installed (binutils)" >&2; exit 2; }
for file in "$@"; do [ -f "$file" ] || { echo "no such file: $file" >&2; exit 2; }; done

# -w: one instruction a line, its bytes in the second tab-separated field
for file in "$@"; do echo "FILE $file"; objdump -d -w "$file"; done | awk '
    function flush() {
        if (name == "") return
        if (evex && name !~ /^\$s18KansoKernelsAVX512/) { print file ": AVX-512 (EVEX) code outside KansoKernelsAVX512: " name; bad++ }
        else if (vex && name !~ /^\$s(16KansoKernelsAVX2|18KansoKernelsAVX512)/) { print file ": AVX (VEX) code outside the x86 kernel modules: " name; bad++ }
        if (evex) wide++
        else if (vex) narrow++
        name = ""
    }
    /^FILE / { flush(); file = substr($0, 6); next }
    /^[0-9a-f]+ <.*>:$/ { flush(); name = substr($2, 2, length($2) - 3); evex = 0; vex = 0; next }
    /^ *[0-9a-f]+:\t/ {
        n = split($0, field, "\t")
        if (n < 3) next
        count = split(field[2], byte, " ")
        i = 1
        while (i <= count && byte[i] ~ /^(26|2e|36|3e|64|65|67|f0)$/) i++  # prefixes allowed before VEX/EVEX
        if (byte[i] == "62") evex = 1          # in 64-bit mode 62 is EVEX (BOUND does not exist)
        else if (byte[i] == "c4" || byte[i] == "c5") vex = 1  # and c4/c5 VEX (LES/LDS do not)
    }
    END {
        flush()
        printf "%d functions with AVX-512 code, %d more with AVX code, %d outside their module\n", wide, narrow, bad
        exit bad > 0
    }'
