// One weight row of any integer-quantized type unpacked into a single form that the batched
// kernel (BatchedIntegerMultiply.swift) multiplies with many activation vectors: signed 8-bit
// values, a float scale per group of 16 and, for the types with a "min", a float offset per block
// of 32. Every supported type fits exactly: w = scale · value + min, with
//   Q8_0 value = q,        Q4_0 q − 8,  Q5_0 q − 16,  Q6_K q − 32 (scale d·sc per 16),
//   Q4_1, Q5_1 value = q (min m),  Q4_K, Q5_K value = q, scale d·sc, min −dmin·m (per 32).
// Layouts as in DequantizeKQuants.swift and Dequantize.swift (ggml-common.h).
// Unpacking costs about one pass over the row; the batched kernel reuses it for every vector.

/// Views into scratch memory for one unpacked row of `columns` elements.
struct UnpackedRow {
    /// [columns] signed values
    let values: UnsafeMutablePointer<Int8>
    /// [columns / 16] the scale of each group of sixteen values
    let groupScales: UnsafeMutablePointer<Float>
    /// [columns / 32] the min of each block of 32 (zero for the types without one)
    let blockMins: UnsafeMutablePointer<Float>
    let columns: Int

    static func byteCount(columns: Int) -> Int {
        ThreadScratch.aligned(columns) + ThreadScratch.aligned(columns / 4) + ThreadScratch.aligned(columns / 8)
    }

    /// Lays the arrays out in `memory` (at least `byteCount(columns:)` bytes, 64-aligned).
    init(memory: UnsafeMutableRawPointer, columns: Int) {
        values = memory.bindMemory(to: Int8.self, capacity: columns)
        let scalesOffset = ThreadScratch.aligned(columns)
        groupScales = (memory + scalesOffset).bindMemory(to: Float.self, capacity: columns / 16)
        blockMins = (memory + scalesOffset + ThreadScratch.aligned(columns / 4)).bindMemory(to: Float.self, capacity: columns / 32)
        self.columns = columns
    }

    /// Whether `type` has a per-block min (the kernel then adds Σ min · x per block); with
    /// `keepingZeroPoint`, Q4_0 and Q5_0 have one too (see unpack).
    static func hasMins(_ type: GGMLType, keepingZeroPoint: Bool = false) -> Bool {
        switch type {
        case .q4_1, .q5_1, .q4_K, .q5_K: return true
        case .q4_0, .q5_0: return keepingZeroPoint
        default: return false
        }
    }

    /// Unpacks `row` (packed blocks of `type`, `columns` elements). `type` must be an integer type.
    /// `keepingZeroPoint`: Q4_0 and Q5_0 keep their unsigned q (0...15, 0...31) as values and
    /// move the zero point into the block's min (−8·d, −16·d), for kernels that multiply
    /// unsigned values as they are.
    func unpack(_ type: GGMLType, row: UnsafeRawPointer, keepingZeroPoint: Bool = false) {
        switch type {
        case .q8_0: unpackLegacy(row, blockBytes: 34, minOffset: nil, quantsOffset: 2, highBitsOffset: nil, center: 0)
        case .q4_0: unpackLegacy(row, blockBytes: 18, minOffset: nil, quantsOffset: 2, highBitsOffset: nil, center: 8,
                                 keepingZeroPoint: keepingZeroPoint)
        case .q4_1: unpackLegacy(row, blockBytes: 20, minOffset: 2, quantsOffset: 4, highBitsOffset: nil, center: 0)
        case .q5_0: unpackLegacy(row, blockBytes: 22, minOffset: nil, quantsOffset: 6, highBitsOffset: 2, center: 16,
                                 keepingZeroPoint: keepingZeroPoint)
        case .q5_1: unpackLegacy(row, blockBytes: 24, minOffset: 2, quantsOffset: 8, highBitsOffset: 4, center: 0)
        case .q4_K, .q5_K: unpackQ45K(row, fiveBits: type == .q5_K)
        case .q6_K: unpackQ6K(row)
        default: preconditionFailure("UnpackedRow: \(type) is not an integer-quantized type")
        }
    }

    @inline(__always)
    private func setScale(_ scale: Float, group16 group: Int) {
        groupScales[group] = scale
    }

    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: blocks of 32 with an f16 scale at 0 (and an f16 min at
    /// `minOffset`); 8-bit quants, or nibbles (j low, j + 16 high) with a fifth bit from a u32.
    @inline(__always)
    private func unpackLegacy(_ row: UnsafeRawPointer, blockBytes: Int, minOffset: Int?, quantsOffset: Int,
                              highBitsOffset: Int?, center zeroPoint: Int32, keepingZeroPoint: Bool = false) {
        let center = keepingZeroPoint ? 0 : zeroPoint
        for b in 0..<(columns / 32) {
            let block = row + b * blockBytes
            let d = block.loadHalf(at: 0)
            setScale(d, group16: 2 * b)
            setScale(d, group16: 2 * b + 1)
            blockMins[b] = minOffset.map { block.loadHalf(at: $0) } ?? (keepingZeroPoint ? -Float(zeroPoint) * d : 0)
            let out = values + 32 * b
            if blockBytes == 34 {
                UnsafeMutableRawPointer(out).copyMemory(from: block + quantsOffset, byteCount: 32)
                continue
            }
            let qs = (block + quantsOffset).assumingMemoryBound(to: UInt8.self)
            let qh = highBitsOffset.map { UInt32(littleEndian: block.loadUnaligned(fromByteOffset: $0, as: UInt32.self)) } ?? 0
            for j in 0..<16 {
                let low = Int32(qs[j] & 15) | Int32((qh >> UInt32(j)) & 1) << 4
                let high = Int32(qs[j] >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = Int8(truncatingIfNeeded: low - center)
                out[j + 16] = Int8(truncatingIfNeeded: high - center)
            }
        }
    }

    /// Q4_K and Q5_K super-blocks of 256: eight sub-blocks of 32 with 6-bit scales and mins.
    @inline(__always)
    private func unpackQ45K(_ row: UnsafeRawPointer, fiveBits: Bool) {
        let blockBytes = fiveBits ? 176 : 144
        for s in 0..<(columns / superBlockSize) {
            let block = row + s * blockBytes
            let d = block.loadHalf(at: 0)
            let dmin = block.loadHalf(at: 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qh = scales + 12
            let qs = fiveBits ? qh + 32 : qh
            for chunk in 0..<4 {
                let q = qs + 32 * chunk
                let out = values + superBlockSize * s + 64 * chunk
                for part in 0..<2 {
                    let sub = 2 * chunk + part
                    let (scale, minimum) = scaleAndMinK4(sub, scales)
                    let block32 = 8 * s + sub
                    setScale(d * Float(scale), group16: 2 * block32)
                    setScale(d * Float(scale), group16: 2 * block32 + 1)
                    blockMins[block32] = -(dmin * Float(minimum))
                }
                let bit0 = UInt8(2 * chunk), bit1 = UInt8(2 * chunk + 1)
                for l in 0..<32 {
                    let high0: UInt8 = fiveBits ? ((qh[l] >> bit0) & 1) << 4 : 0
                    let high1: UInt8 = fiveBits ? ((qh[l] >> bit1) & 1) << 4 : 0
                    out[l] = Int8((q[l] & 0x0F) | high0)
                    out[l + 32] = Int8((q[l] >> 4) | high1)
                }
            }
        }
    }

    /// Q6_K super-blocks of 256: sixteen groups of 16 with int8 scales; 6-bit quants − 32.
    @inline(__always)
    private func unpackQ6K(_ row: UnsafeRawPointer) {
        for s in 0..<(columns / superBlockSize) {
            let block = row + s * 210
            let qlAll = block.assumingMemoryBound(to: UInt8.self)
            let qhAll = qlAll + 128
            let scales = (block + 192).assumingMemoryBound(to: Int8.self)
            let d = block.loadHalf(at: 208)
            for group in 0..<16 { setScale(d * Float(scales[group]), group16: 16 * s + group) }
            for b in 0..<8 { blockMins[8 * s + b] = 0 }
            for half in 0..<2 {
                let ql = qlAll + 64 * half
                let qh = qhAll + 32 * half
                let out = values + superBlockSize * s + 128 * half
                for l in 0..<32 {
                    out[l] = Int8((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) &- 32
                    out[l + 32] = Int8((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) &- 32
                    out[l + 64] = Int8((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) &- 32
                    out[l + 96] = Int8((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) &- 32
                }
            }
        }
    }
}
