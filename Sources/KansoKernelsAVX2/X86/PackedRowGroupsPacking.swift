// The packing of PackedRowGroups (KansoKernelCore/PackedRowGroups.swift, which gives the layout):
// the file's rows copied into groups of eight rows interleaved four bytes at a time, at load, on
// the load's threads. Both x86 modules compile it, to the same bytes, so a packed-weight cache
// file written under one is read under the other.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

/// A PackKernel: copies groups `range` from the row-major blocks at `source` (`rowBytes` per
/// row) into `packed`; the eight rows' quants of a block go through one word transpose
/// (FourByteInterleave.swift).
func packRowGroups(_ packed: PackedRowGroups, _ range: Range<Int>, _ source: UnsafeRawPointer, _ rowBytes: Int) {
    let type = packed.type, rows = packed.rows, blocks = packed.blocks
    let blockBytes = type.bytesPerBlock
    let zeroRow = _mm256_setzero_si256(), zeroHalf = _mm_setzero_si128()
    for g in range {
        let present = min(8, rows - 8 * g)
        for b in 0..<blocks {
            let out = packed.groupBlockForPacking(g, b)
            @inline(__always) func block(_ j: Int) -> UnsafeRawPointer { source + (8 * g + j) * rowBytes + b * blockBytes }
            let scaleOffset = type == .q6_K ? 208 : 0  // (Q6_K's d is its block's last field)
            for j in 0..<8 {  // the scales d
                out.storeBytes(of: j < present ? block(j).loadUnaligned(fromByteOffset: scaleOffset, as: UInt16.self) : 0,
                               toByteOffset: 2 * j, as: UInt16.self)
            }
            @inline(__always) func steps(from offset: Int, to destination: UnsafeMutableRawPointer) {
                @inline(__always) func row(_ j: Int) -> __m256i {
                    j < present ? block(j).loadUnaligned(fromByteOffset: offset, as: __m256i.self) : zeroRow
                }
                storeFourByteSteps(row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7), to: destination)
            }
            @inline(__always) func halves(from offset: Int, to destination: Int) {  // sixteen bytes a row: nibbles
                @inline(__always) func half(_ j: Int) -> __m128i {
                    j < present ? block(j).loadUnaligned(fromByteOffset: offset, as: __m128i.self) : zeroHalf
                }
                @inline(__always) func pair(_ j: Int) -> __m256i { __m256i(lowHalf: half(j), highHalf: half(j + 4)) }
                storeFourByteSteps(pair(0), pair(1), pair(2), pair(3), to: out + destination)
            }
            @inline(__always) func words<T: FixedWidthInteger>(_: T.Type, from offset: Int, to destination: Int) {
                for j in 0..<8 {  // the eight rows' field at `offset` (an f16, a u16, a u32), side by side
                    out.storeBytes(of: j < present ? block(j).loadUnaligned(fromByteOffset: offset, as: T.self) : 0,
                                   toByteOffset: destination + MemoryLayout<T>.size * j, as: T.self)
                }
            }
            @inline(__always) func fifthBits(from offset: Int) {
                PackedRowGroups.storeFifthBitMasks(at: out + packed.masksOffset) { j in
                    j < present ? block(j).loadUnaligned(fromByteOffset: offset, as: UInt32.self) : 0
                }
            }
            switch type {
            case .q8_0:
                steps(from: 2, to: out + packed.quantsOffset)
            case .q4_0, .iq4_nl:
                halves(from: 2, to: packed.quantsOffset)
            case .q4_1:
                words(UInt16.self, from: 2, to: packed.minsOffset)
                halves(from: 4, to: packed.quantsOffset)
            case .q5_0:
                fifthBits(from: 2)
                halves(from: 6, to: packed.quantsOffset)
            case .q5_1:
                words(UInt16.self, from: 2, to: packed.minsOffset)
                fifthBits(from: 4)
                halves(from: 8, to: packed.quantsOffset)
            case .iq4_xs:
                words(UInt16.self, from: 2, to: 16)  // scales_h
                words(UInt32.self, from: 4, to: 32)  // scales_l
                for ib in 0..<8 { halves(from: 8 + 16 * ib, to: packed.quantsOffset + 128 * ib) }
            case .q6_K:
                for p in 0..<8 { words(UInt16.self, from: 192 + 2 * p, to: 16 + 16 * p) }  // scales 2p and 2p + 1
                for c in 0..<4 { steps(from: 32 * c, to: out + packed.quantsOffset + 256 * c) }  // ql
                for c in 0..<2 { steps(from: 128 + 32 * c, to: out + packed.masksOffset + 256 * c) }  // qh
            default:  // Q4_K, Q5_K
                words(UInt16.self, from: 2, to: 16)  // dmin
                for k in 0..<3 {  // [3 words, 8 rows] of the scales and mins
                    words(UInt32.self, from: 4 + 4 * k, to: 32 + 32 * k)
                }
                let nibbles = type == .q5_K ? 48 : 16
                if type == .q5_K { steps(from: 16, to: out + packed.masksOffset) }  // the fifth bits
                for c in 0..<4 { steps(from: nibbles + 32 * c, to: out + packed.quantsOffset + 256 * c) }
            }
        }
    }
}
#endif
