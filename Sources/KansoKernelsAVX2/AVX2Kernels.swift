// The AVX2 kernel module: compiled with AVX2, FMA and F16C (Package.swift), chosen by the engine's
// dispatch table (KansoEngine/Kernels/KernelDispatch.swift) on CPUs that have them and no AVX-512
// VNNI, or under KANSO_KERNELS=avx2. Its sources: the 256-bit kernels of X86/ (which the AVX-512
// module compiles too, with VNNI steps), the plain row dots of Plain/ (linked from the portable
// module, vectorized here for AVX2), and the prompt-batch kernels of this folder (eight rows a
// register). Nothing outside this module may call it except through these entries, after cpuid.

#if arch(x86_64)
import KansoGGUF
import KansoKernelCore

public enum AVX2Kernels: X86KernelSet {
    /// Attention over cached rows: f16 and f32 rows four keys a step, widened with F16C (X86/AttentionRowsSIMD.swift).
    public static let attentionScores: AttentionScoresKernel = AttentionRowsSIMD.scores
    public static let attentionAccumulate: AttentionAccumulateKernel = AttentionRowsSIMD.accumulate
    /// KV cache rows written in their type, f16 with F16C (Plain/KVRowEncoding.swift).
    public static let encodeKVRow: KVRowEncodeKernel = KVRowEncoding.encode
    /// Every supported type, row by row (Plain/PlainRowMultiply.swift).
    public static let rows: MatrixKernel = multiplyPlainRows
    /// F32, F16, BF16 rows, one vector at a time (X86/FloatRowMultiplySIMD.swift).
    public static let floatRows: MatrixKernel = multiplyFloatRowsSIMD
    /// F32, F16, BF16 batches, sixteen rows by six vectors a tile (X86/FloatBatchMultiply.swift).
    public static let floatBatch: MatrixKernel = multiplyFloatBatch
    /// Q8_0, Q4_0 rows with 256-bit dots (X86/RowMultiplySIMD.swift).
    public static let legacyRows: MatrixKernel = multiplyLegacyRowsSIMD
    /// Q4_0, Q5_0 rows of a multiple of 64 columns, two blocks a register (X86/RowMultiplySIMD.swift).
    public static let blockPairRows: MatrixKernel = multiplyBlockPairRowsSIMD
    /// Q4_K, Q5_K, Q6_K rows against x per super-block (X86/RowMultiplySIMD.swift).
    public static let superBlockRows: MatrixKernel = multiplySuperBlockRowsSIMD
    /// The packing of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q4_K, Q5_K, Q6_K and IQ4_XS into row groups (X86/PackedRowGroupsPacking.swift).
    public static let pack: PackKernel = packRowGroups
    /// Packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and IQ4_NL, one vector at a time (X86/PackedGroupMultiplyAVX2.swift).
    public static func packedGroups(_ type: GGMLType) -> MatrixKernel { packedGroupKernels(type).vector }
    /// Packed Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and IQ4_NL, several vectors four a tile (X86/PackedGroupMultiplyAVX2.swift).
    public static func packedGroupsBatch(_ type: GGMLType) -> MatrixKernel { packedGroupKernels(type).batch }
    /// Packed Q4_K and Q5_K, one vector at a time (X86/PackedSuperBlockMultiplyAVX2.swift), and Q6_K (X86/PackedQ6KMultiplyAVX2.swift).
    public static func packedSuperBlocks(_ type: GGMLType) -> MatrixKernel { packedSuperBlockKernels(type).vector }
    /// Packed Q4_K and Q5_K, several vectors four a tile (X86/PackedSuperBlockMultiplyAVX2.swift), and Q6_K (X86/PackedQ6KMultiplyAVX2.swift).
    public static func packedSuperBlocksBatch(_ type: GGMLType) -> MatrixKernel { packedSuperBlockKernels(type).batch }
    /// Packed IQ4_XS, one vector at a time (X86/PackedIQ4XSMultiply.swift).
    public static let packedIQ4_XSVectors: MatrixKernel = multiplyPackedIQ4XSVectors
    /// Packed IQ4_XS, several vectors four a tile (X86/PackedIQ4XSMultiply.swift).
    public static let packedIQ4_XSBatch: MatrixKernel = multiplyPackedIQ4XSBatch
    /// (none: AVX2 has no bfloat16 dot product)
    public static let bfloat16DotBatch: MatrixKernel? = nil
    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL batches of a multiple of 64 columns (BatchedInterleavedMultiplyAVX2.swift).
    public static let interleavedBatch: MatrixKernel = multiplyInterleavedBatch
    /// Q4_K, Q5_K, Q6_K batches from the file's rows (BatchedSuperBlockMultiplyAVX2.swift).
    public static let superBlockBatch: MatrixKernel = multiplySuperBlocksBatch
}
#endif
