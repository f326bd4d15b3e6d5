// A 2-D weight tensor read in place from the mapped GGUF file: rows = shape[1], columns =
// shape[0] (ggml's ne1 × ne0, each row contiguous). Its kernels are chosen when it is made, for
// its type and shape and the instruction-set variant of the load (Kernels/KernelDispatch.swift);
// where that variant has a packed form of the type, the loader copies the matrix into it
// (`packedForKernels`) or maps it from the packed-weight cache (`withPackedRows`).
// No allocation per call: scratch memory is per thread (ThreadScratch).
import KansoGGUF
import KansoKernelCore

public struct WeightMatrix: @unchecked Sendable {  // read-only view; the owner keeps the bytes alive
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    /// Bytes of one row.
    public let rowByteCount: Int

    let data: UnsafeRawPointer
    private let owner: AnyObject
    /// What multiplies this matrix (KernelDispatch.swift).
    let kernels: MatrixKernels
    /// The rows repacked for the kernels (PackedRowGroups.swift) by `packedForKernels`; when set,
    /// multiplies read only these and never the file's pages (which the model has released).
    private(set) var packed: PackedRowGroups?

    /// Checks one or two dimensions (one dimension is one row), a supported type and whole blocks.
    /// `variant`: the kernels' instruction set (nil: the one loads use, KernelVariant.selected()).
    public init(file: GGUFFile, tensor: GGUFTensorInfo, kernels variant: KernelVariant? = nil) throws {
        guard tensor.shape.count <= 2 && !tensor.shape.isEmpty else {
            throw GGUFError.notAMatrix(name: tensor.name, shape: tensor.shape)
        }
        let columns = tensor.shape[0]
        let rows = tensor.shape.count == 2 ? tensor.shape[1] : 1
        let bytes = file.bytes(of: tensor)
        try self.init(name: tensor.name, type: tensor.type, rows: rows, columns: columns,
                      data: bytes.baseAddress, byteCount: bytes.count, owner: file, variant: variant)
    }

    /// A matrix over caller-provided bytes (packed rows of `type` blocks), copied and owned.
    /// For tests and for weights that do not come from a file.
    public init(name: String = "matrix", type: GGMLType, rows: Int, columns: Int, bytes: [UInt8],
                kernels variant: KernelVariant? = nil) throws {
        let storage = OwnedBytes(bytes)
        try self.init(name: name, type: type, rows: rows, columns: columns,
                      data: UnsafeRawPointer(storage.pointer), byteCount: bytes.count, owner: storage, variant: variant)
    }

    private init(name: String, type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer?,
                 byteCount: Int, owner: AnyObject, variant: KernelVariant?) throws {
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
        let chosen = try variant ?? KernelVariant.selected()
        guard KernelVariant.runnable.contains(chosen) else { throw KernelSelectionError.notRunnable(chosen) }
        self.name = name
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowByteCount = rowBytes
        self.data = data
        self.owner = owner
        kernels = MatrixKernels.of(type, columns: columns, on: chosen)
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
        if let packed {
            packed.dequantizeRow(index, into: destination)
            return
        }
        dequantize(type, from: rowBytes(index), into: destination, count: columns)
    }

    /// y[r] = Σc W[r, c]·x[c] for r in `rows` (clamped to the matrix). x: [columns], y: [self.rows].
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        multiply(batch: x, count: 1, into: y, rows: rows)
    }

    /// Y = X·Wᵀ for n vectors: X [n, columns] → Y [n, self.rows], both row-major, only the rows in
    /// `rows`. The batch kernels read each weight row (or group of rows) once for all n vectors.
    /// `batchKernel`: even one vector goes through the batch kernel, whose result for a vector does
    /// not depend on the others multiplied with it (the vector kernel's sums run in another
    /// order, so its last bits differ).
    public func multiply(batch x: UnsafePointer<Float>, count n: Int, into y: UnsafeMutablePointer<Float>, rows: Range<Int>,
                         batchKernel: Bool = false) {
        let range = rows.clamped(to: 0..<self.rows)
        guard !range.isEmpty, n > 0 else { return }
        let operand = MatrixOperand(type: type, rows: self.rows, columns: columns, rowByteCount: rowByteCount,
                                    data: data, packed: packed)
        let chosen = kernel(vectors: batchKernel ? max(2, n) : n)
        if !batchKernel, n > 1, n < chosen.fewestVectors {
            let vector = kernel(vectors: 1)
            for v in 0..<n { vector.multiply(operand, x + v * columns, 1, y + v * self.rows, self.rows, range) }
            return
        }
        chosen.multiply(operand, x, n, y, self.rows, range)
    }

    /// The kernel that multiplies `n` vectors.
    func kernel(vectors n: Int) -> Kernel {
        if packed != nil, let forms = kernels.packed { return n == 1 ? forms.vector : forms.batch }
        return n == 1 ? kernels.vector : kernels.batch
    }
}

extension WeightMatrix {
    /// Whether loads on this machine pack matrices: the kernel variant they use
    /// (KernelVariant.selected()) has packed forms.
    static var packedFormsAreBuilt: Bool {
        guard let variant = try? KernelVariant.selected() else { return false }
        return PackedRowGroups.servedTypes.contains { MatrixKernels.of($0, columns: 256, on: variant).packed != nil }
    }

    /// Whether `packedForKernels` repacks this matrix: its kernels have a packed form.
    var hasPackedForm: Bool { kernels.packed != nil }

    /// This matrix with its rows repacked for the kernels where `hasPackedForm`, else itself (also
    /// when no memory is left for the copy). The groups are copied on `pool`'s threads, about 1 MiB
    /// of source rows at a time, and `release(start, byteCount)` is called with each run of source
    /// bytes once copied, so the caller can drop the file's pages as it goes and a matrix never
    /// costs its bytes twice for long.
    func packedForKernels(pool: ThreadPool, release: (UnsafeRawPointer, Int) -> Void) -> WeightMatrix {
        guard let forms = kernels.packed, let groups = PackedRowGroups(type: type, rows: rows, columns: columns) else { return self }
        let groupsPerPiece = max(1, (1 << 20) / (8 * rowByteCount))
        let pieces = (groups.groups + groupsPerPiece - 1) / groupsPerPiece
        pool.parallelFor(pieces) { range in
            for piece in range {
                let first = piece * groupsPerPiece
                let end = min(groups.groups, first + groupsPerPiece)
                forms.pack(groups, first..<end, data, rowByteCount)
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
    }
}

extension WeightMatrix {
    /// What a packed-weight cache file records of this matrix's packed form.
    var packedCacheEntry: PackedCacheEntry {
        let bytes = hasPackedForm ? PackedRowGroups.byteCount(type: type, rows: rows, columns: columns) : 0
        return PackedCacheEntry(name: name, type: type, rows: rows, columns: columns, byteCount: bytes)
    }

    /// The bytes of the packed form, once packed.
    var packedBytes: UnsafeRawBufferPointer? { packed?.bytes }

    /// This matrix reading its packed form at `memory` (written by an earlier load), which
    /// `owner` keeps mapped.
    func withPackedRows(at memory: UnsafeMutableRawPointer, owner: AnyObject) -> WeightMatrix {
        guard hasPackedForm else { return self }
        var copy = self
        copy.packed = PackedRowGroups(type: type, rows: rows, columns: columns, memory: memory, owner: owner)
        return copy
    }
}

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
