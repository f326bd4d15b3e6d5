// Prompt batches through an F32, F16 or BF16 matrix on 512-bit registers: the small matrix
// multiply of X86/FloatBatchMultiply.swift, thirty-two rows a chunk and twelve vectors a tile.
// Each chunk is converted to float once and transposed (chunk[k][32 rows],
// X86/FloatRowTransposition.swift); twenty-four registers accumulate 32 rows × 12 vectors: per
// column k, two loads of the chunk's weights and twenty-four multiply-adds, each taking x[v][k]
// broadcast from memory. A chunk of sixteen rows or fewer (the end of a thread's rows) takes one
// register of rows. The tile also serves BFloat16BatchMultiplyAVX512.swift, whose steps are
// pairs of bfloat16 columns (ChunkStep).
//
// Each result is one chain of multiply-adds over k = 0 ..< columns in order, whichever tile and
// lanes computed it, so a vector's results do not depend on the other vectors of its batch
// (KVCache.batchInvariant).

#if arch(x86_64)
import CKernelSupport
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A MatrixKernel for F32, F16 or BF16 rows, any number of vectors, a chain of multiply-adds per result.
func multiplyFloatBatchWide(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                            _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    switch matrix.type {
    case .f32: multiplyFloatBatchWide(matrix, x, n, y, outputStride, rows, Float32Weights.self)
    case .f16: multiplyFloatBatchWide(matrix, x, n, y, outputStride, rows, Float16Weights.self)
    default: multiplyFloatBatchWide(matrix, x, n, y, outputStride, rows, BFloat16Weights.self)
    }
}

/// Rows of a chunk: two registers of sixteen.
let wideChunkRows = 32

private func multiplyFloatBatchWide<Weights: FloatWeights>(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                                           _: Weights.Type) {
    let columns = matrix.columns
    // the chunk's weights, [columns, 32] floats
    let chunk = ThreadScratch.reserve(ThreadScratch.aligned(4 * wideChunkRows * columns)).bindMemory(to: Float.self, capacity: wideChunkRows * columns)
    multiplyRowChunks(matrix, rows: rows, chunkRows: wideChunkRows, vectors: n, steps: columns) { first in
        transposeFloatRows(matrix, columns: columns, first: first, last: rows.upperBound - 1, width: wideChunkRows, into: chunk, Weights.self)
    } tile: { v, first, rowCount, upcoming in
        multiplyWideChunk(UnsafeRawPointer(chunk), steps: columns, FloatStep.self, x: UnsafeRawPointer(x), vectors: v ..< n,
                          y: y + first, outputStride: outputStride, rowCount: rowCount, upcoming: upcoming)
    }
}

/// What one step of a chunk tile adds for one vector: `weights` holds sixteen rows' step k, `x`
/// points at the vector's four bytes of step k.
protocol ChunkStep {
    static func add(_ acc: __m512, _ weights: __m512, _ x: UnsafeRawPointer) -> __m512
}

/// One column: acc + w · x (`vfmadd231ps` with x broadcast).
enum FloatStep: ChunkStep {
    @inline(__always) static func add(_ acc: __m512, _ weights: __m512, _ x: UnsafeRawPointer) -> __m512 {
        _mm512_fmadd_ps(weights, _mm512_set1_ps(x.load(as: Float.self)), acc)
    }
}

/// Two columns as bfloat16 pairs: acc + w[2p] · x[2p] + w[2p + 1] · x[2p + 1] (`vdpbf16ps` with
/// the pair of x broadcast).
enum BFloat16PairStep: ChunkStep {
    @inline(__always) static func add(_ acc: __m512, _ weights: __m512, _ x: UnsafeRawPointer) -> __m512 {
        kanso_bfloat16_dot(acc, _mm512_castps_si512(weights), _mm512_set1_epi32(x.load(as: Int32.self)))
    }
}

/// One tile of a chunk laid out [steps][32 rows] (four bytes each) with the first vectors of
/// `vectors` (x[j · steps + k], four bytes each): twelve vectors, or the rest eight, four, two or
/// one at a time (each width its own code). Writes y[j · outputStride + i] for the chunk's first
/// `rowCount` rows i, and returns the number of vectors it took.
@inline(__always)
func multiplyWideChunk<Step: ChunkStep>(_ chunk: UnsafeRawPointer, steps: Int, _: Step.Type, x: UnsafeRawPointer, vectors: Range<Int>,
                                        y: UnsafeMutablePointer<Float>, outputStride: Int, rowCount: Int,
                                        upcoming: UpcomingChunk) -> Int {
    let v = vectors.lowerBound
    let (xv, yv) = (x + 4 * v * steps, y + v * outputStride)
    @inline(__always) func tile<Vectors: TileCount>(_: Vectors.Type) -> Int {
        if rowCount > 16 {
            multiplyChunkTile(chunk, steps: steps, Step.self, Two.self, Vectors.self, xv, yv, outputStride, rowCount, upcoming)
        } else {
            multiplyChunkTile(chunk, steps: steps, Step.self, One.self, Vectors.self, xv, yv, outputStride, rowCount, upcoming)
        }
        return Vectors.value
    }
    switch vectors.count {
    case 12...: return tile(Twelve.self)
    case 8...: return tile(Eight.self)
    case 4...: return tile(Four.self)
    case 2...: return tile(Two.self)
    default: return tile(One.self)
    }
}

/// y[j · outputStride + i] = Σk Step(chunk[k][i], x[j · steps + k]) for the chunk's first
/// `rowCount` rows i and vectors j < `Vectors.value` (1...12), with `Registers.value` registers of
/// sixteen rows (1 or 2).
private func multiplyChunkTile<Step: ChunkStep, Registers: TileCount, Vectors: TileCount>(
    _ chunk: UnsafeRawPointer, steps: Int, _: Step.Type, _: Registers.Type, _: Vectors.Type, _ x: UnsafeRawPointer,
    _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rowCount: Int, _ upcoming: UpcomingChunk
) {
    let registers = Registers.value, vectors = Vectors.value
    // a: rows 0-15, b: rows 16-31, each with vectors 0...11
    var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0, b8 = a0, b9 = a0, b10 = a0, b11 = a0
    var weights = chunk
    for k in 0..<steps {
        upcoming.prefetch(step: k)
        let low = weights.load(as: __m512.self)
        let high = registers > 1 ? weights.load(fromByteOffset: 64, as: __m512.self) : low
        @inline(__always) func add(_ j: Int, _ a: inout __m512, _ b: inout __m512) {
            guard vectors > j else { return }
            let xk = x + 4 * (j * steps + k)
            a = Step.add(a, low, xk)
            if registers > 1 { b = Step.add(b, high, xk) }
        }
        add(0, &a0, &b0); add(1, &a1, &b1); add(2, &a2, &b2); add(3, &a3, &b3)
        add(4, &a4, &b4); add(5, &a5, &b5); add(6, &a6, &b6); add(7, &a7, &b7)
        add(8, &a8, &b8); add(9, &a9, &b9); add(10, &a10, &b10); add(11, &a11, &b11)
        weights += 4 * wideChunkRows
    }
    @inline(__always) func store(_ j: Int, _ a: __m512, _ b: __m512) {
        guard vectors > j else { return }
        let out = y + j * outputStride
        if rowCount == wideChunkRows {
            UnsafeMutableRawPointer(out).storeBytes(of: a, as: __m512.self)
            UnsafeMutableRawPointer(out + 16).storeBytes(of: b, as: __m512.self)
        } else {
            withUnsafeBytes(of: (a, b)) { raw in
                for i in 0..<rowCount { out[i] = raw.load(fromByteOffset: 4 * i, as: Float.self) }
            }
        }
    }
    store(0, a0, b0); store(1, a1, b1); store(2, a2, b2); store(3, a3, b3)
    store(4, a4, b4); store(5, a5, b5); store(6, a6, b6); store(7, a7, b7)
    store(8, a8, b8); store(9, a9, b9); store(10, a10, b10); store(11, a11, b11)
}
#endif
