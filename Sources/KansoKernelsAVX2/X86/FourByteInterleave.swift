// The interleaving step of the AVX2 row groups (InterleavedRows.swift, InterleavedSuperBlockRows.swift):
// eight unpacked rows of bytes become [chunks, 8 steps, 8 rows, 4 bytes], i.e. for each 32-byte
// chunk an 8 × 8 transpose of 32-bit words (three rounds of unpack/permute, as a matrix transpose
// of floats is done with AVX), instead of 64 scattered 4-byte stores per chunk. Also here: the
// walk over row groups and vector tiles that both kernels share (multiplyRowGroups).

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// Writes [chunks, 8, 8, 4 bytes] at `destination` (64-aligned) from eight rows of `chunks` × 32
/// bytes, row j at `rows + j · rowStride` (32-aligned); rows j ≥ `count` read as zero.
func interleaveFourByteSteps(_ rows: UnsafeRawPointer, rowStride: Int, count: Int, chunks: Int,
                             into destination: UnsafeMutableRawPointer) {
    let zero = _mm256_setzero_si256()
    @inline(__always) func load(_ j: Int, _ c: Int) -> __m256i {
        j < count ? (rows + j * rowStride).load(fromByteOffset: 32 * c, as: __m256i.self) : zero
    }
    for c in 0..<chunks {
        storeFourByteSteps(load(0, c), load(1, c), load(2, c), load(3, c), load(4, c), load(5, c), load(6, c), load(7, c),
                           to: destination + 256 * c)
    }
}

/// Stores eight registers (row j's 32 bytes in r_j) as [8 steps, 8 rows, 4 bytes] at `out`:
/// step k holds bytes 4k … 4k+3 of each row. Also the packing of Q8_0 rows (PackedRowGroups.swift).
@inline(__always)
func storeFourByteSteps(_ r0: __m256i, _ r1: __m256i, _ r2: __m256i, _ r3: __m256i,
                        _ r4: __m256i, _ r5: __m256i, _ r6: __m256i, _ r7: __m256i, to out: UnsafeMutableRawPointer) {
    // words [a0 b0 a1 b1 | a4 b4 a5 b5] and [a2 b2 a3 b3 | a6 b6 a7 b7]
    let t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1)
    let t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3)
    let t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5)
    let t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7)
    // rows 0-3 (and 4-7) of steps [k | k + 4] for k = 0...3
    let u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2)
    let u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3)
    let u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6)
    let u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7)
    out.storeBytes(of: lowHalves(u0, u4), toByteOffset: 0, as: __m256i.self)
    out.storeBytes(of: lowHalves(u1, u5), toByteOffset: 32, as: __m256i.self)
    out.storeBytes(of: lowHalves(u2, u6), toByteOffset: 64, as: __m256i.self)
    out.storeBytes(of: lowHalves(u3, u7), toByteOffset: 96, as: __m256i.self)
    out.storeBytes(of: highHalves(u0, u4), toByteOffset: 128, as: __m256i.self)
    out.storeBytes(of: highHalves(u1, u5), toByteOffset: 160, as: __m256i.self)
    out.storeBytes(of: highHalves(u2, u6), toByteOffset: 192, as: __m256i.self)
    out.storeBytes(of: highHalves(u3, u7), toByteOffset: 224, as: __m256i.self)
}

/// Stores four registers, r_j = [row j's 16 bytes | row j + 4's], as [4 steps, 8 rows, 4 bytes]
/// at `out`: step k holds bytes 4k … 4k+3 of each row (the packing of Q4_0 rows).
@inline(__always)
func storeFourByteSteps(_ r0: __m256i, _ r1: __m256i, _ r2: __m256i, _ r3: __m256i, to out: UnsafeMutableRawPointer) {
    let t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1)
    let t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3)
    out.storeBytes(of: _mm256_unpacklo_epi64(t0, t2), toByteOffset: 0, as: __m256i.self)
    out.storeBytes(of: _mm256_unpackhi_epi64(t0, t2), toByteOffset: 32, as: __m256i.self)
    out.storeBytes(of: _mm256_unpacklo_epi64(t1, t3), toByteOffset: 64, as: __m256i.self)
    out.storeBytes(of: _mm256_unpackhi_epi64(t1, t3), toByteOffset: 96, as: __m256i.self)
}

/// The results of one row group with four vectors: lane j of register k is row j with vector k.
typealias RowGroupTile = (__m256, __m256, __m256, __m256)

/// The vectors a four-vector tile's slots read for vectors v ..< v + count (1...4): slots past
/// the last repeat it, so the tile's code has no branches on the count.
@inline(__always)
func tileSlots(firstVector v: Int, count: Int) -> (Int, Int, Int, Int) {
    (v, v + min(1, count - 1), v + min(2, count - 1), v + min(3, count - 1))
}

/// Y for the rows in `rows` and `n` vectors, eight rows and four vectors at a time: `fill` loads
/// a group of one to eight rows, `tile(v, count)` multiplies it with vectors v ..< v + count
/// (count 1...4), and the lanes that exist are stored at y[vector · outputStride + row].
@inline(__always)
func multiplyRowGroups(rows: Range<Int>, vectors n: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int,
                       fill: (Range<Int>) -> Void, tile: (Int, Int) -> RowGroupTile) {
    var r = rows.lowerBound
    while r < rows.upperBound {
        let count = min(8, rows.upperBound - r)
        fill(r..<(r + count))
        var v = 0
        while v < n {
            let vectors = min(4, n - v)
            withUnsafeBytes(of: tile(v, vectors)) { raw in
                let lanes = raw.bindMemory(to: Float.self)  // [4 vectors, 8 rows]
                for k in 0..<vectors {
                    for j in 0..<count { y[(v + k) * outputStride + r + j] = lanes[8 * k + j] }
                }
            }
            v += vectors
        }
        r += count
    }
}

/// [a's low 128 bits | b's low 128 bits] (`vinserti128`; the permute intrinsics are C macros,
/// which Swift does not import).
@inline(__always)
private func lowHalves(_ a: __m256i, _ b: __m256i) -> __m256i { __m256i(lowHalf: a.lowHalf, highHalf: b.lowHalf) }

/// [a's high 128 bits | b's high 128 bits]
@inline(__always)
private func highHalves(_ a: __m256i, _ b: __m256i) -> __m256i { __m256i(lowHalf: a.highHalf, highHalf: b.highHalf) }
#endif
