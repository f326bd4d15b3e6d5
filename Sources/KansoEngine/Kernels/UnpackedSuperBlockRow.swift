// One weight row of K-quant super-blocks (Q4_K, Q5_K, Q6_K) unpacked into the form the AVX2
// batched K-quant kernel (BatchedSuperBlockMultiplyAVX2.swift) multiplies with many activation
// vectors quantized per super-block of 256 (SuperBlockActivation.swift):
//   values        the unsigned quants q in element order (Q4_K 0...15, Q5_K 0...31, Q6_K 0...63)
//   chunkScales   per 32 elements, the sixteen int16 factors that weight `vpmaddubsw`'s pair sums:
//                 Q4_K/Q5_K the sub-block's 6-bit scale sixteen times, Q6_K its two groups'
//                 int8 scales eight times each
//   offsetWeights per super-block, sixteen int16 factors of the activation's per-16 sums:
//                 Q4_K/Q5_K each sub-block's 6-bit min twice, Q6_K each group's scale
//   d, e          per super-block: w = d · scale · q − e · offsetWeight, so
//                 Σ w·x = d·d_x·Σ scale·q·q_x − e·d_x·Σ offsetWeight·Σ16 q_x, with
//                 e = dmin (Q4_K, Q5_K) or 32·d (Q6_K, whose w = d·sc·(q − 32)).
// Layouts as in DequantizeKQuants.swift (ggml-common.h).

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
    /// c of the nibbles holds sub-block 2c in its low and 2c + 1 in its high nibbles.
    @inline(__always)
    private func unpackQ45K(_ row: UnsafeRawPointer, fiveBits: Bool) {
        let blockBytes = fiveBits ? 176 : 144
        for s in 0..<superBlocks {
            let block = row + s * blockBytes
            d[s] = block.loadHalf(at: 0)
            e[s] = block.loadHalf(at: 2)
            let packedScales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qh = packedScales + 12
            let qs = fiveBits ? qh + 32 : qh
            for sub in 0..<8 {
                let (scale, minimum) = scaleAndMinK4(sub, packedScales)
                (chunkScales + 16 * (8 * s + sub)).update(repeating: Int16(scale), count: 16)
                offsetWeights[16 * s + 2 * sub] = Int16(minimum)
                offsetWeights[16 * s + 2 * sub + 1] = Int16(minimum)
            }
            for chunk in 0..<4 {
                let q = qs + 32 * chunk
                let out = values + superBlockSize * s + 64 * chunk
                let bit0 = UInt8(2 * chunk), bit1 = UInt8(2 * chunk + 1)
                for l in 0..<32 {
                    let high0: UInt8 = fiveBits ? ((qh[l] >> bit0) & 1) << 4 : 0
                    let high1: UInt8 = fiveBits ? ((qh[l] >> bit1) & 1) << 4 : 0
                    out[l] = (q[l] & 0x0F) | high0
                    out[l + 32] = (q[l] >> 4) | high1
                }
            }
        }
    }

    /// Q6_K (210 bytes: ql[128] low nibbles, qh[64] high bit pairs, 16 int8 scales, f16 d): per
    /// 128-element half, byte l of ql/qh feeds elements l, l+32, l+64, l+96.
    @inline(__always)
    private func unpackQ6K(_ row: UnsafeRawPointer) {
        for s in 0..<superBlocks {
            let block = row + s * 210
            let qlAll = block.assumingMemoryBound(to: UInt8.self)
            let qhAll = qlAll + 128
            let scales = (block + 192).assumingMemoryBound(to: Int8.self)
            let scale = block.loadHalf(at: 208)
            d[s] = scale
            e[s] = 32 * scale
            for group in 0..<16 {
                offsetWeights[16 * s + group] = Int16(scales[group])
                let chunk = chunkScales + 16 * (8 * s + group / 2) + 8 * (group % 2)
                chunk.update(repeating: Int16(scales[group]), count: 8)
            }
            for half in 0..<2 {
                let ql = qlAll + 64 * half
                let qh = qhAll + 32 * half
                let out = values + superBlockSize * s + 128 * half
                for l in 0..<32 {
                    out[l] = (ql[l] & 0x0F) | ((qh[l] & 3) << 4)
                    out[l + 32] = (ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)
                    out[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)
                    out[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)
                }
            }
        }
    }
}
