// Prompt batches through an F32, F16 or BF16 matrix on 512-bit registers: the small matrix
// multiply of X86/FloatBatchMultiply.swift, thirty-two rows a chunk and twelve vectors a tile.
// Each chunk is converted to float once and transposed (chunk[k][32 rows],
// X86/FloatRowTransposition.swift); twenty-four registers accumulate 32 rows × 12 vectors: per
// column k, two loads of the chunk's weights and twenty-four multiply-adds, each taking x[v][k]
// broadcast from memory. A chunk of sixteen rows or fewer (the end of a thread's rows) takes one
// register of rows.
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
private let chunkRows = 32

private func multiplyFloatBatchWide<Weights: FloatWeights>(_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ n: Int,
                                                           _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>,
                                                           _: Weights.Type) {
    let columns = matrix.columns
    // the chunk's weights, [columns, 32] floats
    let chunk = ThreadScratch.reserve(ThreadScratch.aligned(4 * chunkRows * columns)).bindMemory(to: Float.self, capacity: chunkRows * columns)
    var first = rows.lowerBound
    while first < rows.upperBound {
        let rowCount = min(chunkRows, rows.upperBound - first)
        transposeFloatRows(matrix, first: first, last: rows.upperBound - 1, width: chunkRows, into: chunk, Weights.self)
        // the next chunk's weights (contiguous rows), asked for from memory during the first tile
        let upcoming = UpcomingChunk(first + chunkRows < rows.upperBound ? matrix.rowBytes(first + chunkRows) : nil,
                                     bytes: min(chunkRows, rows.upperBound - first - chunkRows) * matrix.rowByteCount, columns: columns)
        var v = 0
        while v < n {
            // twelve vectors a tile; the rest eight, four, two or one at a time (each width its own code)
            let width = n - v >= 12 ? 12 : n - v >= 8 ? 8 : n - v >= 4 ? 4 : n - v >= 2 ? 2 : 1
            let (xv, yv, ahead) = (x + v * columns, y + v * outputStride + first, v == 0 ? upcoming : .none)
            switch width {
            case 12: multiplyChunkTile(chunk, columns: columns, Twelve.self, xv, yv, outputStride, rowCount, ahead)
            case 8: multiplyChunkTile(chunk, columns: columns, Eight.self, xv, yv, outputStride, rowCount, ahead)
            case 4: multiplyChunkTile(chunk, columns: columns, Four.self, xv, yv, outputStride, rowCount, ahead)
            case 2: multiplyChunkTile(chunk, columns: columns, Two.self, xv, yv, outputStride, rowCount, ahead)
            default: multiplyChunkTile(chunk, columns: columns, One.self, xv, yv, outputStride, rowCount, ahead)
            }
            v += width
        }
        first += chunkRows
    }
}

/// y[j · outputStride + i] = Σk chunk[k][i] · x[j · columns + k] for the chunk's first `rowCount`
/// rows i and vectors j < `Vectors.value` (1...12), with one register of rows where there are
/// sixteen or fewer.
private func multiplyChunkTile<Vectors: TileCount>(_ chunk: UnsafePointer<Float>, columns: Int, _: Vectors.Type,
                                                   _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rowCount: Int,
                                                   _ upcoming: UpcomingChunk) {
    if rowCount > 16 {
        multiplyChunkTile(chunk, columns: columns, Two.self, Vectors.self, x, y, outputStride: outputStride, rowCount: rowCount, upcoming: upcoming)
    } else {
        multiplyChunkTile(chunk, columns: columns, One.self, Vectors.self, x, y, outputStride: outputStride, rowCount: rowCount, upcoming: upcoming)
    }
}

/// multiplyChunkTile with `Registers.value` registers of sixteen rows (1 or 2).
private func multiplyChunkTile<Registers: TileCount, Vectors: TileCount>(_ chunk: UnsafePointer<Float>, columns: Int, _: Registers.Type,
                                                                         _: Vectors.Type, _ x: UnsafePointer<Float>,
                                                                         _ y: UnsafeMutablePointer<Float>, outputStride: Int, rowCount: Int,
                                                                         upcoming: UpcomingChunk) {
    let registers = Registers.value, vectors = Vectors.value
    // a: rows 0-15, b: rows 16-31, each with vectors 0...11
    var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    var b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0, b8 = a0, b9 = a0, b10 = a0, b11 = a0
    var weights = UnsafeRawPointer(chunk)
    for k in 0..<columns {
        upcoming.prefetch(column: k)
        let low = weights.load(as: __m512.self)
        let high = registers > 1 ? weights.load(fromByteOffset: 64, as: __m512.self) : low
        @inline(__always) func add(_ j: Int, _ a: inout __m512, _ b: inout __m512) {
            guard vectors > j else { return }
            let broadcast = _mm512_set1_ps(x[j * columns + k])
            a = _mm512_fmadd_ps(low, broadcast, a)
            if registers > 1 { b = _mm512_fmadd_ps(high, broadcast, b) }
        }
        add(0, &a0, &b0); add(1, &a1, &b1); add(2, &a2, &b2); add(3, &a3, &b3)
        add(4, &a4, &b4); add(5, &a5, &b5); add(6, &a6, &b6); add(7, &a7, &b7)
        add(8, &a8, &b8); add(9, &a9, &b9); add(10, &a10, &b10); add(11, &a11, &b11)
        weights += 4 * chunkRows
    }
    @inline(__always) func store(_ j: Int, _ a: __m512, _ b: __m512) {
        guard vectors > j else { return }
        let out = y + j * outputStride
        if rowCount == chunkRows {
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
