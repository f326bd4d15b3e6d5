// Prompt batches (two or more vectors, and single vectors that must give a batch's bits) through
// an F32, F16 or BF16 matrix, on 256-bit registers: a small matrix multiply. The thread's rows go
// sixteen at a time; each chunk is converted to float once and transposed (chunk[k][16 rows],
// FloatRowTransposition.swift), then for tiles of six vectors twelve registers accumulate
// sixteen rows × six vectors: per column k, two loads of the chunk's weights, a broadcast of
// x[v][k] per vector and twelve multiply-adds. No sum runs across lanes, and no weight is
// converted again for another vector (the row dots, FloatRowMultiplySIMD.swift, converted each
// weight once per four vectors and summed each row and vector's lanes).
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
func multiplyFloatBatch(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                        _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) {
    switch matrix.type {
    case .f32: multiplyFloatBatch(matrix, x, n, y, outputStride, rows, Float32Weights.self)
    case .f16: multiplyFloatBatch(matrix, x, n, y, outputStride, rows, Float16Weights.self)
    default: multiplyFloatBatch(matrix, x, n, y, outputStride, rows, BFloat16Weights.self)
    }
}

/// Rows of a chunk: two registers of eight.
private let chunkRows = 16

private func multiplyFloatBatch<Weights: FloatWeights>(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                                       _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                                       _: Weights.Type) {
    let columns = matrix.columns
    // the chunk's weights, [columns, 16] floats
    let chunk = ThreadScratch.reserve(ThreadScratch.aligned(4 * chunkRows * columns)).bindMemory(to: Float.self, capacity: chunkRows * columns)
    multiplyRowChunks(matrix, rows: rows, chunkRows: chunkRows, vectors: n, steps: columns) { first in
        transposeFloatRows(matrix, columns: columns, first: first, last: rows.upperBound - 1, width: chunkRows, into: chunk, Weights.self)
    } tile: { v, first, rowCount, upcoming in
        // six vectors a tile; the rest four, two or one at a time (each width its own code)
        let (xv, yv) = (x + v * columns, y + v * outputStride + first)
        switch n - v {
        case 6...: multiplyChunkTile(chunk, columns: columns, Six.self, xv, yv, outputStride, rowCount, upcoming); return 6
        case 4...: multiplyChunkTile(chunk, columns: columns, Four.self, xv, yv, outputStride, rowCount, upcoming); return 4
        case 2...: multiplyChunkTile(chunk, columns: columns, Two.self, xv, yv, outputStride, rowCount, upcoming); return 2
        default: multiplyChunkTile(chunk, columns: columns, One.self, xv, yv, outputStride, rowCount, upcoming); return 1
        }
    }
}

/// y[j · outputStride + i] = Σk chunk[k][i] · x[j · columns + k] for the chunk's first `rowCount`
/// rows i and vectors j < `Vectors.value` (1...6).
private func multiplyChunkTile<Vectors: TileCount>(_ chunk: UnsafePointer<Float>, columns: Int, _: Vectors.Type, _ x: UnsafePointer<Float>,
                                                   _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rowCount: Int,
                                                   _ upcoming: UpcomingChunk) {
    let vectors = Vectors.value
    var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0  // rows 0-7 with vectors 0...5
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0                   // rows 8-15
    let x0 = x, x1 = x + columns, x2 = x + 2 * columns, x3 = x + 3 * columns, x4 = x + 4 * columns, x5 = x + 5 * columns
    var weights = UnsafeRawPointer(chunk)
    for k in 0..<columns {
        upcoming.prefetch(step: k)
        let low = weights.load(as: __m256.self), high = weights.load(fromByteOffset: 32, as: __m256.self)
        @inline(__always) func add(_ xv: UnsafePointer<Float>, _ a: inout __m256, _ b: inout __m256) {
            let broadcast = _mm256_set1_ps(xv[k])
            a = _mm256_fmadd_ps(low, broadcast, a)
            b = _mm256_fmadd_ps(high, broadcast, b)
        }
        add(x0, &a0, &b0)
        if vectors > 1 { add(x1, &a1, &b1) }
        if vectors > 2 { add(x2, &a2, &b2) }
        if vectors > 3 { add(x3, &a3, &b3) }
        if vectors > 4 { add(x4, &a4, &b4) }
        if vectors > 5 { add(x5, &a5, &b5) }
        weights += 4 * chunkRows
    }
    @inline(__always) func store(_ a: __m256, _ b: __m256, _ j: Int) {
        let out = y + j * outputStride
        if rowCount == chunkRows {
            UnsafeMutableRawPointer(out).storeBytes(of: a, as: __m256.self)
            UnsafeMutableRawPointer(out + 8).storeBytes(of: b, as: __m256.self)
        } else {
            withUnsafeBytes(of: (a, b)) { raw in
                for i in 0..<rowCount { out[i] = raw.load(fromByteOffset: 4 * i, as: Float.self) }
            }
        }
    }
    store(a0, b0, 0)
    if vectors > 1 { store(a1, b1, 1) }
    if vectors > 2 { store(a2, b2, 2) }
    if vectors > 3 { store(a3, b3, 3) }
    if vectors > 4 { store(a4, b4, 4) }
    if vectors > 5 { store(a5, b5, 5) }
}

/// A count that tile code is specialised for (a constant in the specialised code: a count passed
/// as a value was not, and the accumulators of the vectors not used were kept in memory).
protocol TileCount { static var value: Int { get } }
enum One: TileCount { static var value: Int { 1 } }
enum Two: TileCount { static var value: Int { 2 } }
enum Four: TileCount { static var value: Int { 4 } }
enum Six: TileCount { static var value: Int { 6 } }
enum Eight: TileCount { static var value: Int { 8 } }
enum Twelve: TileCount { static var value: Int { 12 } }
#endif
