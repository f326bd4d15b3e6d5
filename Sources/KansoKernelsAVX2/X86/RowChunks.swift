// The loop of the prompt batches that lay a thread's rows out a chunk at a time (converted to
// float and transposed, FloatRowTransposition.swift) and then multiply each chunk with every
// vector in tiles: FloatBatchMultiply.swift (sixteen rows a chunk, six vectors a tile),
// FloatBatchMultiplyAVX512.swift (thirty-two and twelve) and BFloat16BatchMultiplyAVX512.swift.
// While the first tile of a chunk runs, the next chunk's rows are asked for from memory.

#if arch(x86_64)
import CKernelSupport
import KansoKernelCore

/// Steps through `rows` `chunkRows` at a time: `layOut(first)` lays out rows first ..< first +
/// chunkRows (or to the end of `rows`), then `tile(v, first, rowCount, upcoming)` multiplies them
/// with vectors v ..< v + width of the `vectors` and returns the width it took. A tile's inner
/// loop has `steps` steps (columns, or column pairs), each calling `upcoming.prefetch(step:)`.
@inline(__always)
func multiplyRowChunks(_ matrix: MatrixOperand, rows: Range<Int>, chunkRows: Int, vectors n: Int, steps: Int,
                       layOut: (_ first: Int) -> Void,
                       tile: (_ v: Int, _ first: Int, _ rowCount: Int, _ upcoming: UpcomingChunk) -> Int) {
    var first = rows.lowerBound
    while first < rows.upperBound {
        layOut(first)
        let next = first + chunkRows, rowCount = min(chunkRows, rows.upperBound - first)
        // the next chunk's weights (contiguous rows), asked for during the first tile
        let upcoming = UpcomingChunk(next < rows.upperBound ? matrix.rowBytes(next) : nil,
                                     bytes: min(chunkRows, rows.upperBound - next) * matrix.rowByteCount, steps: steps)
        var v = 0
        while v < n { v += tile(v, first, rowCount, v == 0 ? upcoming : .none) }
        first = next
    }
}

/// The weights of a thread's next chunk of rows (contiguous, `bytes` long), asked for into the
/// second-level cache a line or two per step of the current chunk's first tile, so that their
/// transposition does not wait on memory (it did: the row streams of a chunk are too short for
/// the hardware prefetcher to start early).
struct UpcomingChunk {
    let start: UnsafeRawPointer?
    let bytes: Int
    /// Cache lines asked for per step: bytes / 64 / steps, rounded up.
    let linesPerStep: Int

    static let none = UpcomingChunk(nil, bytes: 0, steps: 1)

    init(_ start: UnsafeRawPointer?, bytes: Int, steps: Int) {
        self.start = start
        self.bytes = max(0, bytes)
        linesPerStep = (self.bytes + 64 * steps - 1) / (64 * steps)
    }

    @inline(__always)
    func prefetch(step k: Int) {
        guard let start else { return }
        for line in 0..<linesPerStep {
            let offset = 64 * (k * linesPerStep + line)
            if offset < bytes { kanso_prefetch_outer(start + offset) }
        }
    }
}
#endif
