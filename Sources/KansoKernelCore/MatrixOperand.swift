// What every kernel module (KansoKernelsPortable, KansoKernelsAVX2, KansoKernelsAVX512) agrees on
// with the engine: the view of one weight matrix a kernel reads, and the shapes of the kernel
// functions the engine's dispatch table (KansoEngine/Kernels/KernelDispatch.swift) holds. The
// engine never calls into a kernel module except through such a function, chosen at model load
// for an instruction set the CPU has: each module is compiled with its own instruction-set flags.
import KansoGGUF

/// One weight matrix as a kernel reads it: rows = ggml's ne1, columns = ne0, each row contiguous
/// in the file (`data`), or repacked for the kernels (`packed`; then the file's rows are not
/// read: their pages are released).
public struct MatrixOperand {
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    /// Bytes of one row in the file's form.
    public let rowByteCount: Int
    public let data: UnsafeRawPointer
    public let packed: PackedRowGroups?

    public init(type: GGMLType, rows: Int, columns: Int, rowByteCount: Int, data: UnsafeRawPointer, packed: PackedRowGroups?) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowByteCount = rowByteCount
        self.data = data
        self.packed = packed
    }

    /// The bytes of row `r` in the file's form.
    @inlinable @inline(__always)
    public func rowBytes(_ r: Int) -> UnsafeRawPointer { data + r * rowByteCount }
}

/// y[v · outputStride + r] = Σc W[r, c] · x[v · columns + c] for the `count` vectors of x
/// ([count, columns], row-major) and the rows r in `rows` (within the matrix, not empty); no other
/// element of y is written. Scratch memory is the calling thread's (ThreadScratch).
public typealias MatrixKernel = (_ matrix: MatrixOperand, _ x: UnsafePointer<Float>, _ count: Int,
                                 _ y: UnsafeMutablePointer<Float>, _ outputStride: Int, _ rows: Range<Int>) -> Void

/// Copies the row groups `groups` of the file's rows at `source` (`rowBytes` apart) into `packed`.
public typealias PackKernel = (_ packed: PackedRowGroups, _ groups: Range<Int>, _ source: UnsafeRawPointer, _ rowBytes: Int) -> Void

/// Attention scores of `heads` query heads (consecutive, `dimension` floats each) that share one
/// key head, against `count` cached key rows (`stride` bytes apart), × `scale`, for a KV cache
/// type: scores[g · scoresStride + t] for head g and row t (AttentionRows.scores). `values`, the
/// value rows of the same positions (the weighted sum's next), may be asked for meanwhile.
public typealias AttentionScoresKernel = (_ queries: UnsafePointer<Float>, _ heads: Int, _ keys: UnsafeRawPointer,
                                          _ values: UnsafeRawPointer, _ stride: Int, _ count: Int, _ dimension: Int, _ type: KVCacheType, _ scale: Float,
                                          _ scores: UnsafeMutablePointer<Float>, _ scoresStride: Int) -> Void
/// out[g] += Σt weights[g · weightsStride + t] · value row t for each of `heads` heads sharing the
/// value head (out: `heads` consecutive rows of `dimension`), for a KV cache type (AttentionRows.accumulate).
public typealias AttentionAccumulateKernel = (_ values: UnsafeRawPointer, _ stride: Int, _ weights: UnsafePointer<Float>,
                                              _ weightsStride: Int, _ heads: Int, _ count: Int, _ dimension: Int,
                                              _ type: KVCacheType, _ out: UnsafeMutablePointer<Float>) -> Void

/// Writes `count` floats of `row` at `destination` in a KV cache type (KVRowEncoding.encode).
public typealias KVRowEncodeKernel = (_ row: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ count: Int,
                                      _ type: KVCacheType) -> Void

/// The entries of an x86 kernel module (KansoKernelsAVX2, KansoKernelsAVX512): the same kinds of
/// kernels, each compiled for its module's instruction set, so the dispatch table names them once
/// for both. What each one serves is said where the module defines it.
public protocol X86KernelSet {
    /// Attention over cached rows, compiled for the module's instruction set (X86/AttentionRowsSIMD.swift).
    static var attentionScores: AttentionScoresKernel { get }
    static var attentionAccumulate: AttentionAccumulateKernel { get }
    /// The KV cache's rows written in its type (Plain/KVRowEncoding.swift).
    static var encodeKVRow: KVRowEncodeKernel { get }
    static var rows: MatrixKernel { get }
    static var floatRows: MatrixKernel { get }
    static var floatBatch: MatrixKernel { get }
    static var legacyRows: MatrixKernel { get }
    static var blockPairRows: MatrixKernel { get }
    static var superBlockRows: MatrixKernel { get }
    static var pack: PackKernel { get }
    static func packedGroups(_ type: GGMLType) -> MatrixKernel
    static func packedGroupsBatch(_ type: GGMLType) -> MatrixKernel
    static func packedSuperBlocks(_ type: GGMLType) -> MatrixKernel
    static func packedSuperBlocksBatch(_ type: GGMLType) -> MatrixKernel
    static var packedIQ4_XSVectors: MatrixKernel { get }
    static var packedIQ4_XSBatch: MatrixKernel { get }
    /// BF16 batches with the CPU's bfloat16 dot product, where the module has one (run only
    /// where the CPU has it too).
    static var bfloat16DotBatch: MatrixKernel? { get }
    static var interleavedBatch: MatrixKernel { get }
    static var superBlockBatch: MatrixKernel { get }
}
