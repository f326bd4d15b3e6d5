// A 2-D weight tensor read in place from the mapped GGUF file: rows = shape[1], columns =
// shape[0] (ggml's ne1 × ne0, each row contiguous). Matrix-vector products quantize the
// activations to int8 blocks for the quantized types and use float dots for F32/F16/BF16.
// No allocation per call: scratch memory is per thread (ThreadScratch).
import KansoGGUF

public struct WeightMatrix: @unchecked Sendable {  // read-only view; the owner keeps the bytes alive
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    /// Bytes of one row.
    public let rowByteCount: Int

    let data: UnsafeRawPointer
    private let owner: AnyObject
    #if KANSO_X86_SIMD
    /// The rows repacked for the kernels (PackedRowGroups.swift) by `packedForKernels`; when set,
    /// multiplies read only these and never the file's pages (which the model has released).
    private(set) var packed: PackedRowGroups?
    #endif

    /// Checks one or two dimensions (one dimension is one row), a supported type and whole blocks.
    public init(file: GGUFFile, tensor: GGUFTensorInfo) throws {
        guard tensor.shape.count <= 2 && !tensor.shape.isEmpty else {
            throw GGUFError.notAMatrix(name: tensor.name, shape: tensor.shape)
        }
        let columns = tensor.shape[0]
        let rows = tensor.shape.count == 2 ? tensor.shape[1] : 1
        let bytes = file.bytes(of: tensor)
        try self.init(name: tensor.name, type: tensor.type, rows: rows, columns: columns,
                      data: bytes.baseAddress, byteCount: bytes.count, owner: file)
    }

    /// A matrix over caller-provided bytes (packed rows of `type` blocks), copied and owned.
    /// For tests and for weights that do not come from a file.
    public init(name: String = "matrix", type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws {
        let storage = OwnedBytes(bytes)
        try self.init(name: name, type: type, rows: rows, columns: columns,
                      data: UnsafeRawPointer(storage.pointer), byteCount: bytes.count, owner: storage)
    }

    private init(name: String, type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer?,
                 byteCount: Int, owner: AnyObject) throws {
        guard type.isSupported else { throw GGUFError.unsupportedTensorType(name: name, type: type) }
        let shape = [UInt64(max(0, columns)), UInt64(max(0, rows))]
        guard rows >= 0, columns > 0, columns % type.blockSize == 0 else {
            throw GGUFError.invalidShape(name: name, shape: shape,
                                         reason: "columns must be a positive multiple of the \(type) block size \(type.blockSize)")
        }
        guard let rowBytes = type.byteCount(elements: columns) else {
            throw GGUFError.invalidShape(name: name, shape: shape, reason: "row size overflows")
        }
        let (total, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow, total <= byteCount, let data else {
            throw GGUFError.tensorOutOfBounds(name: name, offset: 0, byteCount: overflow ? Int.max : total, fileSize: byteCount)
        }
        self.name = name
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowByteCount = rowBytes
        self.data = data
        self.owner = owner
    }

    /// The packed bytes of row `index`.
    public func rowBytes(_ index: Int) -> UnsafeRawPointer {
        data + index * rowByteCount
    }

    /// Dequantizes row `index` into `destination` (`columns` floats): an embedding lookup.
    /// An index outside 0..<rows writes NaN, so a bad token id shows instead of reading past the data.
    public func row(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        guard index >= 0 && index < rows else {
            destination.update(repeating: .nan, count: columns)
            return
        }
        #if KANSO_X86_SIMD
        if let packed {
            packed.dequantizeRow(index, into: destination)
            return
        }
        #endif
        dequantize(type, from: rowBytes(index), into: destination, count: columns)
    }

    /// y[r] = Σc W[r, c]·x[c] for r in `rows` (clamped to the matrix). x: [columns], y: [self.rows].
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        multiply(batch: x, count: 1, into: y, rows: rows)
    }

    /// Y = X·Wᵀ for n vectors: X [n, columns] → Y [n, self.rows], both row-major, only the rows in
    /// `rows`. Each weight row is read once and applied to all n vectors while it is in cache.
    public func multiply(batch x: UnsafePointer<Float>, count n: Int, into y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let range = rows.clamped(to: 0..<self.rows)
        guard !range.isEmpty, n > 0 else { return }
        let outputStride = self.rows
        switch type {
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K:
            #if KANSO_X86_SIMD
            if let packed, type == .q4_K, n == 1 {
                let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: columns))
                let activation = SuperBlockActivation(memory: memory, columns: columns)
                activation.quantize(x)
                multiplyPackedQ4_K(packed, activation, into: y, rows: range)
                return
            }
            // Several vectors through a packed Q4_K matrix: straight from the packed nibbles, no
            // rows copied back and unpacked for the super-block batch kernel below (which was
            // slower: bench/README.md); sixteen rows a register with AVX-512, eight with AVX2.
            if let packed, type == .q4_K {
                let memory = ThreadScratch.reserve(SuperBlockActivationBatch.byteCount(columns: columns, vectors: n))
                let activation = SuperBlockActivationBatch(memory: memory, quantizing: x, count: n, columns: columns)
                #if KANSO_AVX512_VNNI
                multiplyPackedQ4_KBatchAVX512(packed, activation, count: n, into: y, outputStride: outputStride, rows: range)
                #else
                multiplyPackedQ4_KBatchAVX2(packed, activation, count: n, into: y, outputStride: outputStride, rows: range)
                #endif
                return
            }
            // Packed Q8_0 and Q4_0: prompt batches read the groups too (sixteen rows a register
            // with AVX-512 VNNI, PackedGroupMultiplyAVX512.swift), not the per-row VNNI batch
            // kernel: with the rows copied back from the groups and unpacked for it, that was
            // slower, prompt batches and the time to first token alike (bench/README.md).
            if let packed, type != .q4_K {
                let memory = ThreadScratch.reserve(QuantizedActivation.byteCount(columns: columns, vectors: n))
                let activation = QuantizedActivation(memory: memory, columns: columns, vectors: n)
                for vector in 0..<n { activation.quantize(x + vector * columns, vector: vector) }
                multiplyPackedRowGroups(packed, activation, into: y, outputStride: outputStride, rows: range)
                return
            }
            #endif
            #if KANSO_X86_SIMD
            // One vector (generation): these types quantize x in the form their dot reads.
            if n == 1 && (type == .q4_K || type == .q6_K) {
                multiplySuperBlocksSIMD(x, into: y, rows: range)
                return
            }
            if n == 1 && (type == .q4_0 || type == .q5_0) && columns % 64 == 0 {
                multiplyBlockPairsSIMD(x, into: y, rows: range)
                return
            }
            #endif
            // Several vectors through a K-quant matrix: per super-block activation scales, sixteen
            // rows wide with AVX-512, eight with AVX2.
            #if KANSO_AVX512_VNNI
            if n >= 2 && UnpackedSuperBlockRow.serves(type) {
                let memory = ThreadScratch.reserve(superBlockBatchAVX512ScratchByteCount(columns: columns, vectors: n))
                multiplySuperBlocksBatchAVX512(self, x, count: n, scratch: memory, into: y, outputStride: outputStride, rows: range)
                return
            }
            #elseif KANSO_X86_SIMD
            if n >= 2 && UnpackedSuperBlockRow.serves(type) {
                let memory = ThreadScratch.reserve(superBlockBatchAVX2ScratchByteCount(columns: columns, vectors: n))
                multiplySuperBlocksBatchAVX2(self, x, count: n, scratch: memory, into: y, outputStride: outputStride, rows: range)
                return
            }
            #endif
            let activationBytes = ThreadScratch.aligned(QuantizedActivation.byteCount(columns: columns, vectors: n))
            let batchScratchBytes = interleavedBatchScratchByteCount(vectors: n)
            let memory = ThreadScratch.reserve(activationBytes + (batchScratchBytes ?? 0))
            let activation = QuantizedActivation(memory: memory, columns: columns, vectors: n)
            for vector in 0..<n {
                activation.quantize(x + vector * columns, vector: vector)
            }
            #if KANSO_AVX512_VNNI
            if batchScratchBytes != nil {
                multiplyInterleavedBatchAVX512(self, activation, scratch: memory + activationBytes, into: y,
                                               outputStride: outputStride, rows: range)
                return
            }
            #elseif KANSO_X86_SIMD
            if batchScratchBytes != nil {
                multiplyInterleavedBatchAVX2(self, activation, scratch: memory + activationBytes, into: y,
                                             outputStride: outputStride, rows: range)
                return
            }
            #endif
            multiplyQuantized(activation, into: y, outputStride: outputStride, rows: range)
        default:
            let temporary = ThreadScratch.reserve(floatChunkSize * MemoryLayout<Float>.stride)
                .bindMemory(to: Float.self, capacity: floatChunkSize)
            for r in range {
                let w = rowBytes(r)
                for vector in 0..<n {
                    let xv = x + vector * columns
                    let value: Float
                    switch type {
                    case .f32: value = dotF32(w.assumingMemoryBound(to: Float.self), xv, count: columns)
                    case .f16: value = dotF16(w, xv, count: columns)
                    case .bf16: value = dotBF16(w, xv, count: columns, temporary: temporary)
                    default: value = dotDequantizing(type, w, xv, count: columns, temporary: temporary)
                    }
                    y[vector * outputStride + r] = value
                }
            }
        }
    }

    /// Scratch bytes the interleaved batch kernel of this build (BatchedInterleavedMultiplyAVX512.swift,
    /// else ...AVX2.swift) needs beside the activation, or nil where none serves: a single vector
    /// (the per-vector dots are faster), a type that is not interleaved, columns not a multiple of
    /// 64, a build without AVX2.
    private func interleavedBatchScratchByteCount(vectors: Int) -> Int? {
        #if KANSO_X86_SIMD
        guard vectors >= 2, columns % 64 == 0, InterleavedRows.serves(type) else { return nil }
        #if KANSO_AVX512_VNNI
        return interleavedBatchAVX512ScratchByteCount(columns: columns, vectors: vectors)
        #else
        return interleavedBatchAVX2ScratchByteCount(columns: columns, vectors: vectors)
        #endif
        #else
        return nil
        #endif
    }

    /// The integer path: one specialised loop per type so each inner kernel is inlined.
    private func multiplyQuantized(_ activation: QuantizedActivation, into y: UnsafeMutablePointer<Float>,
                                   outputStride: Int, rows range: Range<Int>) {
        let blocks = columns / activationBlockSize
        let superBlocks = columns / superBlockSize
        let n = activation.vectors
        @inline(__always)
        func apply(_ dot: (UnsafeRawPointer, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Int32>) -> Float) {
            for r in range {
                let w = rowBytes(r)
                for vector in 0..<n {
                    let first = vector * blocks
                    y[vector * outputStride + r] = dot(w, activation.quants + first * activationBlockSize,
                                                       activation.scales + first, activation.sums + first)
                }
            }
        }
        switch type {
        #if KANSO_X86_SIMD
        // LegacyQuantDotSIMD.swift (Q4_0 only when its columns are no multiple of 64); the other
        // types take the portable loops in either build.
        case .q8_0: apply { w, x, xd, _ in dotQ8_0SIMD(w, x, xd, blocks: blocks) }
        case .q4_0: apply { w, x, xd, _ in dotQ4_0SIMD(w, x, xd, blocks: blocks) }
        #else
        case .q8_0: apply { dotQ8_0($0, $1, $2, $3, blocks: blocks) }
        case .q4_0: apply { dotQ4_0($0, $1, $2, $3, blocks: blocks) }
        #endif
        // (on x86, one vector of Q4_K or Q6_K takes multiplySuperBlocksSIMD, several the batched kernel)
        case .q4_K: apply { dotQ4_K($0, $1, $2, $3, superBlocks: superBlocks) }
        case .q6_K: apply { dotQ6_K($0, $1, $2, $3, superBlocks: superBlocks) }
        case .q4_1: apply { dotQ4_1($0, $1, $2, $3, blocks: blocks) }
        case .q5_0: apply { dotQ5_0($0, $1, $2, $3, blocks: blocks) }
        case .q5_1: apply { dotQ5_1($0, $1, $2, $3, blocks: blocks) }
        case .q5_K: apply { dotQ5_K($0, $1, $2, $3, superBlocks: superBlocks) }
        default: break
        }
    }
}

extension WeightMatrix {
    /// Whether this build has packed kernels at all (PackedRowGroups.swift): every AVX2 build.
    static var packedFormsAreBuilt: Bool {
        #if KANSO_X86_SIMD
        return true
        #else
        return false
        #endif
    }

    /// Whether `packedForKernels` repacks this matrix: its type has packed kernels in this build.
    var hasPackedForm: Bool {
        #if KANSO_X86_SIMD
        return PackedRowGroups.serves(type)
        #else
        return false
        #endif
    }

    /// This matrix with its rows repacked for the kernels where `hasPackedForm`, else itself (also
    /// when no memory is left for the copy). The groups are copied on `pool`'s threads, about 1 MiB
    /// of source rows at a time, and `release(start, byteCount)` is called with each run of source
    /// bytes once copied, so the caller can drop the file's pages as it goes and a matrix never
    /// costs its bytes twice for long.
    func packedForKernels(pool: ThreadPool, release: (UnsafeRawPointer, Int) -> Void) -> WeightMatrix {
        #if KANSO_X86_SIMD
        guard hasPackedForm, let groups = PackedRowGroups(type: type, rows: rows, columns: columns) else { return self }
        let groupsPerPiece = max(1, (1 << 20) / (8 * rowByteCount))
        let pieces = (groups.groups + groupsPerPiece - 1) / groupsPerPiece
        pool.parallelFor(pieces) { range in
            for piece in range {
                let first = piece * groupsPerPiece
                let end = min(groups.groups, first + groupsPerPiece)
                groups.pack(groups: first..<end, from: data, rowBytes: rowByteCount)
                let endRow = min(rows, 8 * end)
                release(data + 8 * first * rowByteCount, (endRow - 8 * first) * rowByteCount)
            }
        }
        // and once more whole: reading a piece faults in pages around it (the kernel's fault-
        // around, 64 KiB), some of them in pieces already released, and pages that straddle two
        // pieces were in neither's whole pages
        release(data, rows * rowByteCount)
        var copy = self
        copy.packed = groups
        return copy
        #else
        return self
        #endif
    }
}

extension WeightMatrix {
    /// What a packed-weight cache file records of this matrix's packed form.
    var packedCacheEntry: PackedCacheEntry {
        #if KANSO_X86_SIMD
        let bytes = PackedRowGroups.byteCount(type: type, rows: rows, columns: columns)
        #else
        let bytes = 0
        #endif
        return PackedCacheEntry(name: name, type: type, rows: rows, columns: columns, byteCount: bytes)
    }

    /// The bytes of the packed form, once packed.
    var packedBytes: UnsafeRawBufferPointer? {
        #if KANSO_X86_SIMD
        return packed?.bytes
        #else
        return nil
        #endif
    }

    /// This matrix reading its packed form at `memory` (written by an earlier load), which
    /// `owner` keeps mapped.
    func withPackedRows(at memory: UnsafeMutableRawPointer, owner: AnyObject) -> WeightMatrix {
        #if KANSO_X86_SIMD
        var copy = self
        copy.packed = PackedRowGroups(type: type, rows: rows, columns: columns, memory: memory, owner: owner)
        return copy
        #else
        return self
        #endif
    }
}

#if KANSO_X86_SIMD
extension WeightMatrix {
    /// One vector through a Q4_K or Q6_K matrix: the activation quantized per super-block of 256
    /// (SuperBlockActivation.swift) for the dots of KQuantDotSIMD.swift.
    fileprivate func multiplySuperBlocksSIMD(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        let memory = ThreadScratch.reserve(SuperBlockActivation.byteCount(columns: columns))
        let activation = SuperBlockActivation(memory: memory, columns: columns)
        activation.quantize(x)
        let superBlocks = columns / superBlockSize
        switch type {
        case .q4_K: for r in range { y[r] = dotQ4_KSIMD(rowBytes(r), activation, superBlocks: superBlocks) }
        case .q6_K: for r in range { y[r] = dotQ6_KSIMD(rowBytes(r), activation, superBlocks: superBlocks) }
        default: preconditionFailure("multiplySuperBlocksSIMD takes Q4_K and Q6_K, not \(type)")
        }
    }

    /// One vector through a Q4_0 or Q5_0 matrix: the activation in block-pair order
    /// (BlockPairActivation.swift) for dotQ4_0PairsSIMD and dotQ5_0PairsSIMD.
    fileprivate func multiplyBlockPairsSIMD(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        let memory = ThreadScratch.reserve(BlockPairActivation.byteCount(columns: columns))
        let activation = BlockPairActivation(memory: memory, columns: columns)
        switch type {
        case .q4_0:
            activation.quantize(x, zeroPoint: 8)
            for r in range { y[r] = dotQ4_0PairsSIMD(rowBytes(r), activation) }
        case .q5_0:
            activation.quantize(x, zeroPoint: 16)
            for r in range { y[r] = dotQ5_0PairsSIMD(rowBytes(r), activation) }
        default: preconditionFailure("multiplyBlockPairsSIMD takes Q4_0 and Q5_0, not \(type)")
        }
    }
}
#endif

/// Heap bytes owned by a WeightMatrix built from an array.
private final class OwnedBytes {
    let pointer: UnsafeMutableRawPointer

    init(_ bytes: [UInt8]) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: source.count) }
        }
    }

    deinit { pointer.deallocate() }
}
