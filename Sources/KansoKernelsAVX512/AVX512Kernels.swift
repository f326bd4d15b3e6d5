// The AVX-512 kernel module: compiled with AVX2, FMA, F16C and AVX-512 F, BW, VL, DQ and VNNI
// (Package.swift), chosen by the engine's dispatch table (KansoEngine/Kernels/KernelDispatch.swift)
// on CPUs that have them all, or under KANSO_KERNELS=avx512. Its sources: the 256-bit kernels of
// X86/ (the AVX2 module's folder, compiled here with KANSO_AVX512_VNNI: their byte dots take
// `vpdpbusd`), the plain row dots of Plain/ (vectorized here for AVX-512), and the sixteen-row
// prompt-batch kernels of this folder. Nothing outside this module may call it except through
// these entries, after cpuid: it is the only module whose code may use AVX-512 instructions.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

public enum AVX512Kernels: X86KernelSet {
    /// Attention over cached rows: f16 and f32 rows four keys a step, widened with F16C (X86/AttentionRowsSIMD.swift).
    public static let attentionScores: AttentionScoresKernel = AttentionRowsSIMD.scores
    public static let attentionAccumulate: AttentionAccumulateKernel = AttentionRowsSIMD.accumulate
    /// KV cache rows written in their type, f16 with F16C (Plain/KVRowEncoding.swift).
    public static let encodeKVRow: KVRowEncodeKernel = KVRowEncoding.encode
    /// Every supported type, row by row (Plain/PlainRowMultiply.swift).
    public static let rows: MatrixKernel = multiplyPlainRows
    /// F32, F16, BF16 rows, one vector at a time (X86/FloatRowMultiplySIMD.swift).
    public static let floatRows: MatrixKernel = multiplyFloatRowsSIMD
    /// F32, F16, BF16 batches, 32 rows by 12 vectors a tile (FloatBatchMultiplyAVX512.swift).
    public static let floatBatch: MatrixKernel = multiplyFloatBatchWide
    /// Q8_0, Q4_0 rows with 256-bit VNNI dots (X86/RowMultiplySIMD.swift).
    public static let legacyRows: MatrixKernel = multiplyLegacyRowsSIMD
    /// Q4_0, Q5_0 rows of a multiple of 64 columns, two blocks a register (X86/RowMultiplySIMD.swift).
    public static let blockPairRows: MatrixKernel = multiplyBlockPairRowsSIMD
    /// Q4_K, Q5_K, Q6_K rows against x per super-block (X86/RowMultiplySIMD.swift).
    public static let superBlockRows: MatrixKernel = multiplySuperBlockRowsSIMD
    /// The packing of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q4_K, Q5_K, Q6_K and IQ4_XS into row groups (X86/PackedRowGroupsPacking.swift).
    public static let pack: PackKernel = packRowGroups
    /// Packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and IQ4_NL, one vector at a time (X86/PackedGroupMultiplyAVX2.swift,
    /// with VNNI). Sixteen rows a register, two groups side by side, measured slower on a CPU that
    /// splits 512-bit instructions in two 256-bit halves and pays for joining the groups' halves
    /// (figures in bench/README.md, "Figures behind choices in the code").
    public static func packedGroups(_ type: GGMLType) -> MatrixKernel { packedGroupKernels(type).vector }
    /// Packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and IQ4_NL, several vectors sixteen rows a register (PackedGroupMultiplyAVX512.swift).
    public static func packedGroupsBatch(_ type: GGMLType) -> MatrixKernel { packedGroupBatchWideKernel(type) }
    /// Packed Q4_K and Q5_K, one vector at a time (X86/PackedSuperBlockMultiplyAVX2.swift, with VNNI), and Q6_K (X86/PackedQ6KMultiplyAVX2.swift).
    public static func packedSuperBlocks(_ type: GGMLType) -> MatrixKernel { packedSuperBlockKernels(type).vector }
    /// Packed Q4_K and Q5_K, several vectors sixteen rows a register (PackedSuperBlockMultiplyAVX512.swift), and Q6_K (PackedQ6KMultiplyAVX512.swift).
    public static func packedSuperBlocksBatch(_ type: GGMLType) -> MatrixKernel { packedSuperBlockWideKernel(type) }
    /// Packed IQ4_XS, one vector at a time (X86/PackedIQ4XSMultiply.swift, with VNNI).
    public static let packedIQ4_XSVectors: MatrixKernel = multiplyPackedIQ4XSVectors
    /// Packed IQ4_XS, several vectors sixteen rows a register (PackedIQ4XSMultiplyAVX512.swift).
    public static let packedIQ4_XSBatch: MatrixKernel = multiplyPackedIQ4XSWide
    /// BF16 batches with `vdpbf16ps`, 32 rows by 12 vectors a tile, on CPUs with AVX-512 BF16 (BFloat16BatchMultiplyAVX512.swift).
    public static let bfloat16DotBatch: MatrixKernel? = multiplyBFloat16BatchWide
    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL batches of a multiple of 64 columns (BatchedInterleavedMultiplyAVX512.swift).
    public static let interleavedBatch: MatrixKernel = multiplyInterleavedBatchWide
    /// Q4_K, Q5_K, Q6_K batches from the file's rows (BatchedSuperBlockMultiplyAVX512.swift).
    public static let superBlockBatch: MatrixKernel = multiplySuperBlocksBatchWide
}
#endif
