// The rows of a matrix repacked once, at load, into groups of eight rows interleaved four bytes
// at a time (the layout of llama.cpp's repacked q4_0 8×8 kernels), so that one generation step
// reads each group's bytes in order and one multiply-add serves eight rows, sixteen with AVX-512
// (KansoKernelsAVX2/X86/PackedGroupMultiplyAVX2.swift, PackedSuperBlockMultiplyAVX2.swift and the
// AVX-512 module's Packed*.swift):
//   group g (rows 8g … 8g+7), block b at (g · blocks + b) · 8 · bytesPerBlock:
//     Q8_0  8 × f16 d, then [8 steps, 8 rows, 4]: bytes 4k … 4k+3 of row j's 32 quants at step k
//     Q4_0  8 × f16 d, then [4 steps, 8 rows, 4]: bytes 4k … 4k+3 of row j's 16 nibble bytes (low
//           nibbles elements 4k … 4k+3, high nibbles 16+4k … 16+4k+3)
//     Q4_1  8 × f16 d, 8 × f16 m, then the nibbles as Q4_0's
//     Q5_0  8 × f16 d, [4 steps, low/high] 32-bit masks of the fifth bits, then the nibbles as
//           Q4_0's: bit 4j + i of step k's low mask is the fifth bit of element 4k + i of row j
//           (the byte its low nibble goes to), of its high mask that of element 16 + 4k + i
//     Q5_1  8 × f16 d, 8 × f16 m, the masks and the nibbles as Q5_0's
//     Q4_K  (a super-block of 256) 8 × f16 d, 8 × f16 dmin, [3 words, 8 rows] of the 12 bytes of
//           6-bit scales and mins, then per 32-byte chunk c of nibbles (sub-block 2c low, 2c+1
//           high) [8 steps, 8 rows, 4]
//     Q5_K  as Q4_K, with the 32 bytes of fifth bits (bit j of byte l: element l of sub-block j)
//           interleaved as the nibbles, [8 steps, 8 rows, 4], between the scales and the nibbles
//     IQ4_NL as Q4_0 (the nibbles index a table of values instead of standing for themselves)
//     IQ4_XS (a super-block of 256) 8 × f16 d, 8 × u16 scales_h, 8 × u32 scales_l, then per
//           sub-block of 32 the nibbles as Q4_0's: [8 sub-blocks, 4 steps, 8 rows, 4]
//     Q6_K  (a super-block of 256) 8 × f16 d, [8 pairs, 8 rows, 2] int8 scales (row j's scales
//           2p and 2p + 1 of its sixteen groups), then per 32-byte chunk c of the 128 bytes of
//           ql [8 steps, 8 rows, 4], then per 32-byte chunk of the 64 bytes of qh the same
// A group-block holds the same bytes as the file's eight blocks (8 × 34, 18, 20, 22, 24, 144, 176, 136 or 210),
// so the copy costs what the file's pages cost, and those pages are released once copied;
// `copyRow` gives a row back in the file's form, for lookups (the embedding rows of a tied output
// matrix). A last group of fewer than eight rows is padded with zero rows.
// The layout is here, shared by every kernel module; the packing itself (packRowGroups) and the
// kernels that read the groups are the x86 modules' (KansoKernelsAVX2/X86): the engine's dispatch
// table (KansoEngine/Kernels/KernelDispatch.swift) packs a type only where the chosen instruction
// set has kernels for its groups. With AVX-512 VNNI generation reads the groups 15-26% faster on
// 1B Q8_0, 19% on Q4_0 and even on Q4_K_M (side by side with --no-pack), and prompt batches read
// them too.

import KansoGGUF
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public final class PackedRowGroups: @unchecked Sendable {  // written once by packRowGroups, read-only after
    public let type: GGMLType
    public let rows: Int
    public let groups: Int
    /// Blocks in one row (of 32; super-blocks of 256 for Q4_K, Q5_K, Q6_K and IQ4_XS).
    public let blocks: Int
    /// Bytes of one group-block: eight of the type's blocks.
    public let groupBlockBytes: Int
    /// Where in a group-block of a 32-element type the eight rows' f16 mins start (Q4_1, Q5_1),
    /// the fifth-bit masks (Q5_0, Q5_1) and the quants; for Q4_K, Q5_K and IQ4_XS, where the
    /// nibbles start (and Q5_K's fifth bits, at `masksOffset`); for Q6_K where ql (`quantsOffset`)
    /// and qh (`masksOffset`) start.
    public let minsOffset: Int, masksOffset: Int, quantsOffset: Int
    @usableFromInline let memory: UnsafeMutableRawPointer
    /// Keeps `memory` mapped: an AnonymousPages of this matrix, or a PackedCacheFile shared by all.
    private let owner: AnyObject

    /// The types that have this packed form.
    public static let servedTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .iq4_nl, .iq4_xs]

    public static func serves(_ type: GGMLType) -> Bool { servedTypes.contains(type) }

    /// Bytes of the packed form of `rows` × `columns` of `type`.
    public static func byteCount(type: GGMLType, rows: Int, columns: Int) -> Int {
        (rows + 7) / 8 * (columns / type.blockSize) * 8 * type.bytesPerBlock
    }

    /// Packed rows of `rows` × `columns` of `type` (a served type) at `memory`
    /// (`byteCount(type:rows:columns:)` bytes), which `owner` keeps mapped: written by `pack`, or
    /// already holding them (a packed-weight cache file).
    public init(type: GGMLType, rows: Int, columns: Int, memory: UnsafeMutableRawPointer, owner: AnyObject) {
        precondition(Self.serves(type), "PackedRowGroups takes \(Self.servedTypes), not \(type)")
        self.type = type
        self.rows = rows
        groups = (rows + 7) / 8
        blocks = columns / type.blockSize
        groupBlockBytes = 8 * type.bytesPerBlock
        let hasMins = type == .q4_1 || type == .q5_1, hasMasks = type == .q5_0 || type == .q5_1
        minsOffset = 16
        switch type {
        case .q4_K: masksOffset = 128; quantsOffset = 128
        case .q5_K: masksOffset = 128; quantsOffset = 384
        case .q6_K: quantsOffset = 144; masksOffset = 144 + 1024
        case .iq4_xs: masksOffset = 64; quantsOffset = 64
        default:
            masksOffset = hasMins ? 32 : 16
            quantsOffset = masksOffset + (hasMasks ? 32 : 0)
        }
        self.memory = memory
        self.owner = owner
    }

    /// In anonymous memory of its own, or nil if none is left.
    public convenience init?(type: GGMLType, rows: Int, columns: Int) {
        guard let pages = AnonymousPages(byteCount: Self.byteCount(type: type, rows: rows, columns: columns)) else { return nil }
        self.init(type: type, rows: rows, columns: columns, memory: pages.start, owner: pages)
    }

    /// All groups' bytes.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: memory, count: Self.byteCount(type: type, rows: rows, columns: blocks * type.blockSize))
    }

    /// Group-block b of group g.
    @inlinable @inline(__always)
    public func groupBlock(_ g: Int, _ b: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(memory + (g * blocks + b) * groupBlockBytes)
    }

    /// Group-block b of group g, to be written while the groups are packed (before any kernel reads them).
    @inlinable @inline(__always)
    public func groupBlockForPacking(_ g: Int, _ b: Int) -> UnsafeMutableRawPointer {
        memory + (g * blocks + b) * groupBlockBytes
    }

    /// Row `r` in the file's form (`blocks` · bytesPerBlock bytes at `destination`).
    public func copyRow(_ r: Int, into destination: UnsafeMutableRawPointer) {
        let g = r / 8, j = r % 8
        let blockBytes = type.bytesPerBlock
        for b in 0..<blocks {
            let packed = groupBlock(g, b)
            let block = destination + b * blockBytes
            @inline(__always) func words(_ count: Int, from: Int, to: Int) {
                for k in 0..<count {
                    block.storeBytes(of: packed.load(fromByteOffset: from + 32 * k + 4 * j, as: UInt32.self),
                                     toByteOffset: to + 4 * k, as: UInt32.self)
                }
            }
            block.storeBytes(of: packed.load(fromByteOffset: 2 * j, as: UInt16.self), as: UInt16.self)
            switch type {
            case .q8_0: words(8, from: quantsOffset, to: 2)
            case .q4_0, .iq4_nl: words(4, from: quantsOffset, to: 2)
            case .iq4_xs:
                block.storeBytes(of: packed.load(fromByteOffset: 16 + 2 * j, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
                block.storeBytes(of: packed.load(fromByteOffset: 32 + 4 * j, as: UInt32.self), toByteOffset: 4, as: UInt32.self)
                for ib in 0..<8 { words(4, from: quantsOffset + 128 * ib, to: 8 + 16 * ib) }
            case .q4_1:
                block.storeBytes(of: packed.load(fromByteOffset: minsOffset + 2 * j, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
                words(4, from: quantsOffset, to: 4)
            case .q5_0, .q5_1:
                let hasMin = type == .q5_1
                if hasMin {
                    block.storeBytes(of: packed.load(fromByteOffset: minsOffset + 2 * j, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
                }
                block.storeBytes(of: Self.fifthBits(of: j, masks: packed + masksOffset), toByteOffset: hasMin ? 4 : 2, as: UInt32.self)
                words(4, from: quantsOffset, to: hasMin ? 8 : 6)
            case .q6_K:  // (d is the block's last field, so the line above wrote ql's first bytes, written again here)
                for c in 0..<4 { words(8, from: quantsOffset + 256 * c, to: 32 * c) }
                for c in 0..<2 { words(8, from: masksOffset + 256 * c, to: 128 + 32 * c) }
                for p in 0..<8 {
                    block.storeBytes(of: packed.load(fromByteOffset: 16 + 16 * p + 2 * j, as: UInt16.self), toByteOffset: 192 + 2 * p, as: UInt16.self)
                }
                block.storeBytes(of: packed.load(fromByteOffset: 2 * j, as: UInt16.self), toByteOffset: 208, as: UInt16.self)
            default:  // Q4_K, Q5_K
                block.storeBytes(of: packed.load(fromByteOffset: 16 + 2 * j, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
                words(3, from: 32, to: 4)
                let nibbles = type == .q5_K ? 48 : 16
                if type == .q5_K { words(8, from: masksOffset, to: 16) }
                for c in 0..<4 { words(8, from: quantsOffset + 256 * c, to: nibbles + 32 * c) }
            }
        }
    }

    /// Writes the fifth-bit masks of a Q5_0/Q5_1 group-block ([4 steps, low/high] u32) at `masks`
    /// from the file's 32-bit qh of its eight rows (`qh(j)`; bit i of it is element i's fifth bit).
    @inlinable
    public static func storeFifthBitMasks(at masks: UnsafeMutableRawPointer, qh: (Int) -> UInt32) {
        for k in 0..<4 {
            var low: UInt32 = 0, high: UInt32 = 0
            for j in 0..<8 {
                let bits = qh(j), shift = UInt32(4 * j)
                low |= ((bits >> UInt32(4 * k)) & 0xF) << shift
                high |= ((bits >> UInt32(16 + 4 * k)) & 0xF) << shift
            }
            masks.storeBytes(of: low, toByteOffset: 8 * k, as: UInt32.self)
            masks.storeBytes(of: high, toByteOffset: 8 * k + 4, as: UInt32.self)
        }
    }

    /// Row j's 32-bit qh from a group-block's masks: the inverse of `fifthBitMasks`.
    static func fifthBits(of j: Int, masks: UnsafeRawPointer) -> UInt32 {
        var bits: UInt32 = 0
        for k in 0..<4 {
            bits |= ((masks.load(fromByteOffset: 8 * k, as: UInt32.self) >> UInt32(4 * j)) & 0xF) << UInt32(4 * k)
            bits |= ((masks.load(fromByteOffset: 8 * k + 4, as: UInt32.self) >> UInt32(4 * j)) & 0xF) << UInt32(16 + 4 * k)
        }
        return bits
    }

    /// Dequantizes row `r` into `destination` (the row's floats) from the packed copy: the
    /// embedding lookup of a tied output matrix, so that the file's released pages stay unread.
    public func dequantizeRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
        let bytes = blocks * type.bytesPerBlock
        let row = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        defer { row.deallocate() }
        copyRow(r, into: row)
        dequantize(type, from: row, into: destination, count: blocks * type.blockSize)
    }
}

/// Private anonymous pages, unmapped with this object: 2 MiB pages where the kernel allows them
/// (fewer faults while packing, fewer TLB misses after).
final class AnonymousPages {
    let start: UnsafeMutableRawPointer
    private let byteCount: Int

    init?(byteCount: Int) {
        self.byteCount = max(byteCount, 1)
        guard let address = mmap(nil, self.byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else { return nil }
        _ = madvise(address, self.byteCount, 14)  // MADV_HUGEPAGE
        start = address
    }

    deinit { munmap(start, byteCount) }
}
