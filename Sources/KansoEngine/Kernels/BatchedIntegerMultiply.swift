// Y = X·Wᵀ for several activation vectors at once (prompt processing), with AVX-512 VNNI:
// `vpdpbusd` multiplies 64 unsigned bytes by 64 signed bytes and adds each group of four products
// into one of 16 int32 lanes. Each weight row is unpacked once (UnpackedRow) and then multiplied
// with every vector; the int32 lanes are scaled in float and summed lane-wise, so there is no
// horizontal reduction per block, only one per row and vector.
//
//   Σ w·x = Σ_lanes  scale_w(lane) · d_x(lane) · Σ_4 value·q_x  +  Σ_blocks min · d_x · Σ q_x
//
// `vpdpbusd` needs one unsigned side: the activation quants are offset by +128 (q ^ 0x80), and
// each lane starts from −128 · Σ_4 value (one more `vpdpbusd` per row chunk), which takes it back
// out. The integer sums are exact; only the float summation order differs from the portable kernels.
// Register tile: two rows × four vectors (eight accumulators), so each 64-byte chunk of activation
// quants, read from L2, serves two rows; scales are kept per 16 values and widened to the 16 lanes
// with one permute. Measured on the 1B Q8_0 shape, 2 threads: see bench/README.md.
//
// Compiled when the building machine has AVX-512 F/BW/VL and VNNI (Package.swift defines
// KANSO_AVX512_VNNI); with AVX2 alone BatchedInterleavedMultiplyAVX2.swift and
// BatchedSuperBlockMultiplyAVX2.swift serve, and without either the portable per-block kernels.

/// Scratch bytes the batched kernel of this build (multiplyBatchVNNI, else multiplyInterleavedBatchAVX2)
/// needs beside the activation, or nil where none serves: a single vector (the per-vector dots
/// are faster), columns not a multiple of 64, a build without AVX2.
func batchScratchByteCount(columns: Int, vectors: Int) -> Int? {
    guard vectors >= 2, columns % 64 == 0 else { return nil }
    #if KANSO_AVX512_VNNI
    return ThreadScratch.aligned(VNNIActivation.byteCount(columns: columns, vectors: vectors)) + 2 * UnpackedRow.byteCount(columns: columns)
    #elseif KANSO_X86_SIMD
    return interleavedBatchAVX2ScratchByteCount(columns: columns, vectors: vectors)
    #else
    return nil
    #endif
}

#if KANSO_AVX512_VNNI
import _Builtin_intrinsics.intel

/// Activation vectors in the form the VNNI kernel reads, laid out in scratch memory.
struct VNNIActivation {
    /// [vectors, columns] quants + 128, as unsigned bytes
    let offsetQuants: UnsafeMutablePointer<UInt8>
    /// [vectors, columns / 16] the block scale d of each group of 16 quants (each block's twice)
    let groupScales: UnsafeMutablePointer<Float>
    /// [vectors, columns / 32] d · Σ q of each block (for the mins of Q4_1, Q5_1, Q4_K, Q5_K)
    let blockSums: UnsafeMutablePointer<Float>
    let columns: Int
    let vectors: Int

    static func byteCount(columns: Int, vectors: Int) -> Int {
        ThreadScratch.aligned(vectors * columns) + ThreadScratch.aligned(vectors * columns / 4)
            + ThreadScratch.aligned(vectors * columns / 8)
    }

    /// Converts the int8 activation `source` into this form in `memory`.
    init(memory: UnsafeMutableRawPointer, from source: QuantizedActivation) {
        columns = source.columns
        vectors = source.vectors
        let total = vectors * columns
        let scalesOffset = ThreadScratch.aligned(total)
        offsetQuants = memory.bindMemory(to: UInt8.self, capacity: total)
        groupScales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: total / 16)
        blockSums = (memory + scalesOffset + ThreadScratch.aligned(total / 4)).bindMemory(to: Float.self, capacity: total / 32)
        let quants = UnsafeRawPointer(source.quants).assumingMemoryBound(to: UInt8.self)
        for i in 0..<total { offsetQuants[i] = quants[i] ^ 0x80 }
        for block in 0..<(total / 32) {
            let d = source.scales[block]
            groupScales[2 * block] = d
            groupScales[2 * block + 1] = d
            blockSums[block] = d * Float(source.sums[block])
        }
    }
}


/// y[v · outputStride + r] for the rows in `rows` and every vector of `source`, using `memory`
/// (batchScratchByteCount bytes, 64-aligned). `columns` must be a multiple of 64.
func multiplyBatchVNNI(_ matrix: WeightMatrix, _ source: QuantizedActivation, scratch memory: UnsafeMutableRawPointer,
                       into y: UnsafeMutablePointer<Float>, outputStride: Int, rows: Range<Int>) {
    let columns = matrix.columns
    let n = source.vectors
    let activationBytes = ThreadScratch.aligned(VNNIActivation.byteCount(columns: columns, vectors: n))
    let x = VNNIActivation(memory: memory, from: source)
    let rowA = UnpackedRow(memory: memory + activationBytes, columns: columns)
    let rowB = UnpackedRow(memory: memory + activationBytes + UnpackedRow.byteCount(columns: columns), columns: columns)
    let hasMins = UnpackedRow.hasMins(matrix.type)
    let blocks = columns / 32
    var r = rows.lowerBound
    while r < rows.upperBound {
        // Two rows at a time; a last odd row is computed twice and written once.
        let pair = r + 1 < rows.upperBound
        rowA.unpack(matrix.type, row: matrix.rowBytes(r))
        if pair { rowB.unpack(matrix.type, row: matrix.rowBytes(r + 1)) }
        let second = pair ? rowB : rowA
        var v = 0
        while v < n {
            let count = min(4, n - v)
            let (first, next) = dotTile(rowA, second, x, firstVector: v, count: count)
            for k in 0..<count {
                y[(v + k) * outputStride + r] = first[k]
                if pair { y[(v + k) * outputStride + r + 1] = next[k] }
            }
            v += count
        }
        if hasMins {
            for v in 0..<n {
                let sums = x.blockSums + v * blocks
                y[v * outputStride + r] += TransformerMath.dot(rowA.blockMins, sums, count: blocks)
                if pair { y[v * outputStride + r + 1] += TransformerMath.dot(rowB.blockMins, sums, count: blocks) }
            }
        }
        r += pair ? 2 : 1
    }
}

/// Widens four group scales (one per 16 values) to the 16 lanes of a chunk (4 lanes each).
@inline(__always)
private func widenGroupScales(_ pointer: UnsafePointer<Float>) -> __m512 {
    let index = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
    return _mm512_permutexvar_ps(index, _mm512_castps128_ps512(_mm_loadu_ps(pointer)))
}

/// One chunk of one row (values, −128·Σ corrections, lane scales) and one vector (offset quants,
/// lane scales): acc += float(Σ_4 value · q) · scale_w · d_x.
@inline(__always)
private func accumulate(_ acc: inout __m512, values: __m512i, corrections: __m512i, weightScales: __m512,
                        quants: __m512i, activationScales: __m512) {
    let lanes = _mm512_dpbusd_epi32(corrections, quants, values)
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), _mm512_mul_ps(weightScales, activationScales), acc)
}

/// The main terms of rows a and b with vectors v ..< v + count (count 1...4): each chunk of the
/// two rows and of the vectors is loaded once for the whole tile. Unused vector slots repeat the last.
@inline(__always)
private func dotTile(_ a: UnpackedRow, _ b: UnpackedRow, _ x: VNNIActivation, firstVector v: Int,
                     count: Int) -> (SIMD4<Float>, SIMD4<Float>) {
    let columns = a.columns
    let offset = _mm512_set1_epi8(-128)  // as unsigned bytes: 128
    let zero = _mm512_setzero_si512()
    var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0
    let q0 = x.offsetQuants + v * columns
    let q1 = q0 + min(1, count - 1) * columns, q2 = q0 + min(2, count - 1) * columns, q3 = q0 + min(3, count - 1) * columns
    let groups = columns / 16
    let s0 = UnsafePointer(x.groupScales + v * groups)
    let s1 = s0 + min(1, count - 1) * groups, s2 = s0 + min(2, count - 1) * groups, s3 = s0 + min(3, count - 1) * groups
    var c = 0
    while c < columns {
        let g = c / 16
        let valuesA = _mm512_loadu_si512(a.values + c), valuesB = _mm512_loadu_si512(b.values + c)
        let correctionsA = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offset, valuesA))
        let correctionsB = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offset, valuesB))
        let scalesA = widenGroupScales(a.groupScales + g), scalesB = widenGroupScales(b.groupScales + g)
        let x0 = _mm512_loadu_si512(q0 + c), d0 = widenGroupScales(s0 + g)
        accumulate(&a0, values: valuesA, corrections: correctionsA, weightScales: scalesA, quants: x0, activationScales: d0)
        accumulate(&b0, values: valuesB, corrections: correctionsB, weightScales: scalesB, quants: x0, activationScales: d0)
        let x1 = _mm512_loadu_si512(q1 + c), d1 = widenGroupScales(s1 + g)
        accumulate(&a1, values: valuesA, corrections: correctionsA, weightScales: scalesA, quants: x1, activationScales: d1)
        accumulate(&b1, values: valuesB, corrections: correctionsB, weightScales: scalesB, quants: x1, activationScales: d1)
        let x2 = _mm512_loadu_si512(q2 + c), d2 = widenGroupScales(s2 + g)
        accumulate(&a2, values: valuesA, corrections: correctionsA, weightScales: scalesA, quants: x2, activationScales: d2)
        accumulate(&b2, values: valuesB, corrections: correctionsB, weightScales: scalesB, quants: x2, activationScales: d2)
        let x3 = _mm512_loadu_si512(q3 + c), d3 = widenGroupScales(s3 + g)
        accumulate(&a3, values: valuesA, corrections: correctionsA, weightScales: scalesA, quants: x3, activationScales: d3)
        accumulate(&b3, values: valuesB, corrections: correctionsB, weightScales: scalesB, quants: x3, activationScales: d3)
        c += 64
    }
    return (SIMD4(_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2), _mm512_reduce_add_ps(a3)),
            SIMD4(_mm512_reduce_add_ps(b0), _mm512_reduce_add_ps(b1), _mm512_reduce_add_ps(b2), _mm512_reduce_add_ps(b3)))
}
#endif
