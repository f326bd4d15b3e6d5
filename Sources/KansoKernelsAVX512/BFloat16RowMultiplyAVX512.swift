// Prompt batches through a BF16 matrix with AVX-512 BF16, where the CPU has it (the dispatch table
// checks kanso_cpu_has_avx512_bf16): each vector of x is rounded to bfloat16 once, then
// `vdpbf16ps` multiplies 32 weights by 32 values of x and adds the pairs into sixteen float
// lanes, two rows and four vectors a tile: 32 multiply-adds an instruction, against 8 for the
// float rows' convert-and-`vfmadd` (X86/FloatRowMultiplySIMD.swift), which llama.cpp's BF16 path
// outran several times over on an AVX-512 CPU (figures in bench/README.md, "Figures behind
// choices in the code"). x rounded to bfloat16 carries a relative error of up to 2^-9 per
// element, as llama.cpp's does. Columns past the last whole 32 are summed in float, with x as
// it is. The instructions are C intrinsics Swift cannot import (CKernelSupport/bfloat16_dot.h).
// In the AVX-512 module, which is compiled with AVX-512 BF16 for this file alone.

#if arch(x86_64)
import CKernelSupport
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for two or more vectors through a BF16 matrix, on a CPU with AVX-512 BF16.
func multiplyBFloat16RowsWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                              _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    let columns = matrix.columns, whole = columns / 32 * 32
    // x as bfloat16, [n, whole] (two bytes each)
    let rounded = ThreadScratch.reserve(ThreadScratch.aligned(2 * n * whole))
    for v in 0..<n {
        var i = 0
        while i < whole {
            let pair = kanso_bfloat16_from_floats(_mm512_loadu_ps(x + v * columns + i), _mm512_loadu_ps(x + v * columns + i + 16))
            rounded.storeBytes(of: pair, toByteOffset: 2 * (v * whole + i), as: __m512i.self)
            i += 32
        }
    }
    var r = rows.lowerBound
    while r < rows.upperBound {
        let second = min(r + 1, rows.upperBound - 1)  // (the first again at an odd end)
        let w0 = matrix.rowBytes(r), w1 = matrix.rowBytes(second)
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let (s0, s1, s2, s3) = tileSlots(firstVector: v, count: count)
            var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
            var i = 0
            while i < whole {
                let first = w0.loadUnaligned(fromByteOffset: 2 * i, as: __m512i.self)
                let other = w1.loadUnaligned(fromByteOffset: 2 * i, as: __m512i.self)
                @inline(__always) func add(_ slot: Int, _ a: inout __m512, _ b: inout __m512) {
                    let xi = rounded.load(fromByteOffset: 2 * (slot * whole + i), as: __m512i.self)
                    a = kanso_bfloat16_dot(a, first, xi)
                    b = kanso_bfloat16_dot(b, other, xi)
                }
                add(s0, &a0, &b0); add(s1, &a1, &b1); add(s2, &a2, &b2); add(s3, &a3, &b3)
                i += 32
            }
            @inline(__always) func total(_ acc: __m512, _ w: UnsafeRawPointer, _ slot: Int) -> Float {
                var sum = _mm512_reduce_add_ps(acc)
                for j in whole..<columns {
                    sum += floatFromBFloat16(w.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)) * x[slot * columns + j]
                }
                return sum
            }
            let row0 = (total(a0, w0, s0), total(a1, w0, s1), total(a2, w0, s2), total(a3, w0, s3))
            let row1 = (total(b0, w1, s0), total(b1, w1, s1), total(b2, w1, s2), total(b3, w1, s3))
            withUnsafeBytes(of: (row0, row1)) { raw in
                let values = raw.bindMemory(to: Float.self)  // [2 rows, 4 vectors]
                for k in 0..<count {
                    y[(v + k) * outputStride + r] = values[k]
                    if second > r { y[(v + k) * outputStride + second] = values[4 + k] }
                }
            }
            v += count
        }
        r += 2
    }
}
#endif
