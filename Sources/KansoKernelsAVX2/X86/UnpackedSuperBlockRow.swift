// One weight row of K-quant super-blocks (Q4_K, Q5_K, Q6_K) unpacked into the form from which
// InterleavedSuperBlockRows.swift builds the AVX2 batched K-quant kernel's row groups
// (BatchedSuperBlockMultiplyAVX2.swift, against activations quantized per super-block of 256):
//   values        the unsigned quants q in element order (Q4_K 0...15, Q5_K 0...31, Q6_K 0...63)
//   chunkScales   per 32 elements, the sixteen int16 factors that weight `vpmaddubsw`'s pair sums:
//                 Q4_K/Q5_K the sub-block's 6-bit scale sixteen times, Q6_K its two groups'
//                 int8 scales eight times each
//   offsetWeights per super-block, sixteen int16 factors of the activation's per-16 sums:
//                 Q4_K/Q5_K each sub-block's 6-bit min twice, Q6_K each group's scale
//   d, e          per super-block: w = d · scale · q − e · offsetWeight, so
//                 Σ w·x = d·d_x·Σ scale·q·q_x − e·d_x·Σ offsetWeight·Σ16 q_x, with
//                 e = dmin (Q4_K, Q5_K) or 32·d (Q6_K, whose w = d·sc·(q − 32)).
// Layouts as in DequantizeKQuants.swift (ggml-common.h). Unpacked with AVX2, as the kernel runs.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore
import _Builtin_intrinsics.intel

struct UnpackedSuperBlockRow {
    /// [columns] unsigned quants
    let values: UnsafeMutablePointer<UInt8>
    /// [columns / 32, 16] int16 factors per 32 elements
    let chunkScales: UnsafeMutablePointer<Int16>
    /// [columns / 256, 16] int16 factors of the per-16 activation sums
    let offsetWeights: UnsafeMutablePointer<Int16>
    /// [columns / 256] the super-block scale d
    let d: UnsafeMutablePointer<Float>
    /// [columns / 256] the factor e of the offset term
    let e: UnsafeMutablePointer<Float>
    let columns: Int

    var superBlocks: Int { columns / superBlockSize }

    static func serves(_ type: GGMLType) -> Bool { type == .q4_K || type == .q5_K || type == .q6_K }

    static func byteCount(columns: Int) -> Int {
        let superBlocks = columns / superBlockSize
        return ThreadScratch.aligned(columns) + ThreadScratch.aligned(columns) + ThreadScratch.aligned(32 * superBlocks)
            + 2 * ThreadScratch.aligned(4 * superBlocks)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        let superBlocks = columns / superBlockSize
        var offset = 0
        func take(_ bytes: Int) -> UnsafeMutableRawPointer {
            defer { offset += ThreadScratch.aligned(bytes) }
            return memory + offset
        }
        values = take(columns).bindMemory(to: UInt8.self, capacity: columns)
        chunkScales = take(columns).bindMemory(to: Int16.self, capacity: columns / 2)
        offsetWeights = take(32 * superBlocks).bindMemory(to: Int16.self, capacity: 16 * superBlocks)
        d = take(4 * superBlocks).bindMemory(to: Float.self, capacity: superBlocks)
        e = take(4 * superBlocks).bindMemory(to: Float.self, capacity: superBlocks)
        self.columns = columns
    }

    /// Unpacks `row` (packed super-blocks of `type`, `columns` elements); `serves(type)` must hold.
    func unpack(_ type: GGMLType, row: UnsafeRawPointer) {
        switch type {
        case .q4_K, .q5_K: unpackQ45K(row, fiveBits: type == .q5_K)
        case .q6_K: unpackQ6K(row)
        default: preconditionFailure("UnpackedSuperBlockRow: \(type) is not Q4_K, Q5_K or Q6_K")
        }
    }

    /// Q4_K (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles)
    /// and Q5_K (176 bytes: the same with 32 bytes of fifth bits before the nibbles): 32-byte chunk
    /// c of the nibbles holds sub-block 2c in its low and 2c + 1 in its high nibbles; bit j of
    /// fifth-bit byte l is bit 4 of element l of sub-block j.
    @inline(__always)
    private func unpackQ45K(_ row: UnsafeRawPointer, fiveBits: Bool) {
        let blockBytes = fiveBits ? 176 : 144
        let lowNibbles = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1)
        let out = UnsafeMutableRawPointer(values)
        for s in 0..<superBlocks {
            let block = row + s * blockBytes
            d[s] = block.loadHalf(at: 0)
            e[s] = block.loadHalf(at: 2)
            let packedScales = (block + 4).assumingMemoryBound(to: UInt8.self)
            for sub in 0..<8 {
                let (scale, minimum) = scaleAndMinK4(sub, packedScales)
                UnsafeMutableRawPointer(chunkScales + 16 * (8 * s + sub)).storeBytes(of: _mm256_set1_epi16(Int16(scale)), as: __m256i.self)
                offsetWeights[16 * s + 2 * sub] = Int16(minimum)
                offsetWeights[16 * s + 2 * sub + 1] = Int16(minimum)
            }
            let highBits = fiveBits ? block.loadUnaligned(fromByteOffset: 16, as: __m256i.self) : _mm256_setzero_si256()
            let nibbles = block + (fiveBits ? 48 : 16)
            for chunk in 0..<4 {
                let packed = nibbles.loadUnaligned(fromByteOffset: 32 * chunk, as: __m256i.self)
                var low = _mm256_and_si256(packed, lowNibbles)
                var high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), lowNibbles)
                if fiveBits {
                    // bit 2c (and 2c + 1) of each byte, moved to bit 4
                    let bit0 = _mm256_and_si256(_mm256_srl_epi16(highBits, _mm_cvtsi32_si128(Int32(2 * chunk))), one)
                    let bit1 = _mm256_and_si256(_mm256_srl_epi16(highBits, _mm_cvtsi32_si128(Int32(2 * chunk + 1))), one)
                    low = _mm256_or_si256(low, _mm256_slli_epi16(bit0, 4))
                    high = _mm256_or_si256(high, _mm256_slli_epi16(bit1, 4))
                }
                out.storeBytes(of: low, toByteOffset: superBlockSize * s + 64 * chunk, as: __m256i.self)
                out.storeBytes(of: high, toByteOffset: superBlockSize * s + 64 * chunk + 32, as: __m256i.self)
            }
        }
    }

    /// Q6_K (210 bytes: ql[128] low nibbles, qh[64] high bit pairs, 16 int8 scales, f16 d): per
    /// 128-element half, byte l of ql/qh feeds elements l, l+32, l+64, l+96 (q6KHalfQuants).
    @inline(__always)
    private func unpackQ6K(_ row: UnsafeRawPointer) {
        let out = UnsafeMutableRawPointer(values)
        for s in 0..<superBlocks {
            let block = row + s * 210
            let scales = (block + 192).assumingMemoryBound(to: Int8.self)
            let scale = block.loadHalf(at: 208)
            d[s] = scale
            e[s] = 32 * scale
            for group in 0..<16 {
                offsetWeights[16 * s + group] = Int16(scales[group])
            }
            for chunk in 0..<8 {  // groups 2c and 2c + 1, eight words each
                let pair = _mm256_set_m128i(_mm_set1_epi16(Int16(scales[2 * chunk + 1])), _mm_set1_epi16(Int16(scales[2 * chunk])))
                UnsafeMutableRawPointer(chunkScales + 16 * (8 * s + chunk)).storeBytes(of: pair, as: __m256i.self)
            }
            for half in 0..<2 {
                let (q0, q1, q2, q3) = q6KHalfQuants(block, half: half)
                let base = superBlockSize * s + 128 * half
                out.storeBytes(of: q0, toByteOffset: base, as: __m256i.self)
                out.storeBytes(of: q1, toByteOffset: base + 32, as: __m256i.self)
                out.storeBytes(of: q2, toByteOffset: base + 64, as: __m256i.self)
                out.storeBytes(of: q3, toByteOffset: base + 96, as: __m256i.self)
            }
        }
    }
}
#endif
