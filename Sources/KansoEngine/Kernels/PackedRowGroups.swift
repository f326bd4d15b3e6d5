// The rows of a Q8_0 or Q4_0 matrix repacked once, at load, into groups of eight rows interleaved
// four bytes at a time (the layout of llama.cpp's repacked q4_0 8×8 kernels), so that one
// generation step reads each group's bytes in order and one `vpmaddubsw` serves eight rows
// (PackedGroupMultiplyAVX2.swift):
//   group g (rows 8g … 8g+7), block b at (g · blocks + b) · 8 · bytesPerBlock:
//     8 × f16                     the eight rows' block scales d
//     Q8_0 [8 steps, 8 rows, 4]   bytes 4k … 4k+3 of row j's 32 quants at step k
//     Q4_0 [4 steps, 8 rows, 4]   bytes 4k … 4k+3 of row j's 16 nibble bytes: the low nibbles are
//                                 elements 4k … 4k+3, the high nibbles 16+4k … 16+4k+3
// A group-block holds the same bytes as the file's eight blocks (8 × 34 or 8 × 18), so the copy
// costs what the file's pages cost, and those pages are released once copied (`pack`).
// A last group of fewer than eight rows is padded with zero rows.

#if KANSO_X86_SIMD && !KANSO_AVX512_VNNI
import _Builtin_intrinsics.intel
import Glibc

final class PackedRowGroups: @unchecked Sendable {  // written once by `pack`, read-only after
    let type: GGMLType
    let rows: Int
    let groups: Int
    /// Blocks of 32 in one row.
    let blocks: Int
    /// Bytes of one group-block: eight of the type's blocks.
    let groupBlockBytes: Int
    private let memory: UnsafeMutableRawPointer
    private let byteCount: Int

    /// Whether matrices of `type` are packed.
    static func serves(_ type: GGMLType) -> Bool { type == .q8_0 || type == .q4_0 }

    /// Anonymous memory for `rows` × `columns` of `type` (a served type), or nil if none is left.
    init?(type: GGMLType, rows: Int, columns: Int) {
        precondition(Self.serves(type), "PackedRowGroups takes Q8_0 and Q4_0, not \(type)")
        self.type = type
        self.rows = rows
        groups = (rows + 7) / 8
        blocks = columns / 32
        groupBlockBytes = 8 * type.bytesPerBlock
        byteCount = max(groups * blocks * groupBlockBytes, 1)
        guard let address = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else { return nil }
        // 2 MiB pages where the kernel allows them: fewer faults while packing, fewer TLB misses after
        _ = madvise(address, byteCount, 14)  // MADV_HUGEPAGE
        memory = address
    }

    deinit { munmap(memory, byteCount) }

    /// Group-block b of group g.
    @inline(__always)
    func groupBlock(_ g: Int, _ b: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(memory + (g * blocks + b) * groupBlockBytes)
    }

    /// Dequantizes row `r` into `destination` (blocks × 32 floats) from the packed copy: the
    /// embedding lookup of a tied output matrix, so that the file's released pages stay unread.
    func dequantizeRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
        let g = r / 8, j = r % 8
        for b in 0..<blocks {
            let block = groupBlock(g, b)
            let d = block.loadHalf(at: 2 * j)
            let out = destination + 32 * b
            if type == .q8_0 {
                for k in 0..<8 {
                    for i in 0..<4 { out[4 * k + i] = d * Float(block.load(fromByteOffset: 16 + 32 * k + 4 * j + i, as: Int8.self)) }
                }
            } else {
                for k in 0..<4 {
                    for i in 0..<4 {
                        let byte = block.load(fromByteOffset: 16 + 32 * k + 4 * j + i, as: UInt8.self)
                        out[4 * k + i] = d * Float(Int(byte & 0x0F) - 8)
                        out[16 + 4 * k + i] = d * Float(Int(byte >> 4) - 8)
                    }
                }
            }
        }
    }

    /// Copies groups `range` from the row-major blocks at `source` (`rowBytes` per row): the eight
    /// rows' quants of a block go through one word transpose (FourByteInterleave.swift).
    func pack(groups range: Range<Int>, from source: UnsafeRawPointer, rowBytes: Int) {
        let blockBytes = type.bytesPerBlock
        let zeroRow = _mm256_setzero_si256(), zeroHalf = _mm_setzero_si128()
        for g in range {
            let present = min(8, rows - 8 * g)
            for b in 0..<blocks {
                let out = memory + (g * blocks + b) * groupBlockBytes
                @inline(__always) func block(_ j: Int) -> UnsafeRawPointer { source + (8 * g + j) * rowBytes + b * blockBytes }
                for j in 0..<8 {
                    out.storeBytes(of: j < present ? block(j).loadUnaligned(as: UInt16.self) : 0, toByteOffset: 2 * j, as: UInt16.self)
                }
                if type == .q8_0 {
                    @inline(__always) func row(_ j: Int) -> __m256i {
                        j < present ? block(j).loadUnaligned(fromByteOffset: 2, as: __m256i.self) : zeroRow
                    }
                    storeFourByteSteps(row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7), to: out + 16)
                } else {
                    @inline(__always) func half(_ j: Int) -> __m128i {
                        j < present ? block(j).loadUnaligned(fromByteOffset: 2, as: __m128i.self) : zeroHalf
                    }
                    @inline(__always) func pair(_ j: Int) -> __m256i { __m256i(lowHalf: half(j), highHalf: half(j + 4)) }
                    storeFourByteSteps(pair(0), pair(1), pair(2), pair(3), to: out + 16)
                }
            }
        }
    }
}
#endif
