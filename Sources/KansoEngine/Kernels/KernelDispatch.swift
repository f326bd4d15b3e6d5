// Which kernel multiplies a weight matrix, for every weight type and instruction-set variant, in
// one place: WeightMatrix asks `MatrixKernels.of(type, columns:, on:)` once, when the matrix is
// loaded, and then calls what it got. The kernel modules (Package.swift: one target per
// instruction set) are only ever called from here, for a variant the CPU runs (KernelVariant.swift).
//
// Per matrix there are kernels for one vector (generation) and for a batch of two or more
// (prompts), reading the file's rows; where a variant has kernels for a packed form of the type,
// the matrix is copied into it at load (or mapped from the packed-weight cache) and its own pair
// of kernels reads that instead. Each kernel is recorded with the elements per activation scale
// it quantizes x with (32, or a super-block of 256), which bounds its rounding (the tests' bound).

import KansoGGUF
import KansoKernelCore
import KansoKernelsPortable
#if arch(x86_64)
import KansoKernelsAVX2
import KansoKernelsAVX512
#endif

/// One kernel and how it rounds x before multiplying: the elements that share one int8 scale,
/// or x rounded to bfloat16.
struct Kernel {
    let multiply: MatrixKernel
    let activationBlock: Int
    var bfloat16Activation = false
    /// A batch kernel: fewer vectors than this go faster through the vector kernel one at a time
    /// (the super-block batches of the file's rows unpack each weight row once for all vectors,
    /// which a few vectors do not repay; the packed forms' batches read their groups as they are
    /// and pay from two; bench/README "Many clients, one model").
    var fewestVectors = 2

    /// This batch kernel, for `count` vectors or more.
    func from(_ count: Int) -> Kernel {
        var kernel = self
        kernel.fewestVectors = count
        return kernel
    }

    /// x quantized per block of 32 (or not at all: float types).
    static func blocks(_ multiply: @escaping MatrixKernel) -> Kernel { Kernel(multiply: multiply, activationBlock: 32) }
    /// x quantized per super-block of 256, as llama.cpp's Q8_K.
    static func superBlocks(_ multiply: @escaping MatrixKernel) -> Kernel { Kernel(multiply: multiply, activationBlock: 256) }
    /// x rounded to bfloat16, as the weights' own type.
    static func bfloat16(_ multiply: @escaping MatrixKernel) -> Kernel {
        Kernel(multiply: multiply, activationBlock: 32, bfloat16Activation: true)
    }
}

/// The kernels of one matrix: reading the file's rows, and reading the packed form if there is one.
struct MatrixKernels {
    struct Packed {
        let pack: PackKernel
        let vector: Kernel
        let batch: Kernel
    }

    let variant: KernelVariant
    let vector: Kernel
    let batch: Kernel
    /// The packed form's kernels, where `variant` packs this type.
    let packed: Packed?

    init(_ variant: KernelVariant, vector: Kernel, batch: Kernel, packed: Packed? = nil) {
        self.variant = variant
        self.vector = vector
        self.batch = batch
        self.packed = packed
    }

    /// Every type row by row with the plain dots of the variant's module.
    static func rows(_ variant: KernelVariant, _ rows: @escaping MatrixKernel) -> MatrixKernels {
        MatrixKernels(variant, vector: .blocks(rows), batch: .blocks(rows))
    }
}

#if arch(x86_64)
extension MatrixKernels {
    /// The kernels of a matrix of `type` with `columns` columns on `variant`.
    static func of(_ type: GGMLType, columns: Int, on variant: KernelVariant) -> MatrixKernels {
        switch variant {
        case .portable: return .rows(variant, PortableKernels.rows)
        case .avx2: return x86(type, columns: columns, variant, AVX2Kernels.self)
        case .avx512: return x86(type, columns: columns, variant, AVX512Kernels.self)
        }
    }

    /// The table of the two x86 modules: for each type, the kinds of kernels either runs (each
    /// from its own module `K`; the AVX-512 module's batch kernels are sixteen rows wide, the
    /// AVX2 module's eight, and its byte dots take VNNI).
    private static func x86<K: X86KernelSet>(_ type: GGMLType, columns: Int, _ variant: KernelVariant,
                                            _: K.Type) -> MatrixKernels {
        let wholePairs = columns % 64 == 0  // the block-pair dots and the interleaved batches take 64 at a time
        let superBlockBatchFrom = 6  // the file rows' super-block batch unpacks every row first (Kernel.fewestVectors)
        let legacyBatch: MatrixKernel = wholePairs ? K.interleavedBatch : K.rows
        var packedGroups: Packed { Packed(pack: K.pack, vector: .blocks(K.packedGroups(type)), batch: .blocks(K.packedGroupsBatch(type))) }
        switch type {
        case .q8_0:
            return MatrixKernels(variant, vector: .blocks(K.legacyRows), batch: .blocks(wholePairs ? K.interleavedBatch : K.legacyRows),
                                 packed: packedGroups)
        case .q4_0:
            return MatrixKernels(variant, vector: .blocks(wholePairs ? K.blockPairRows : K.legacyRows),
                                 batch: .blocks(wholePairs ? K.interleavedBatch : K.legacyRows), packed: packedGroups)
        case .q5_0:
            return MatrixKernels(variant, vector: .blocks(wholePairs ? K.blockPairRows : K.rows), batch: .blocks(legacyBatch),
                                 packed: packedGroups)
        case .q4_1, .q5_1:
            return MatrixKernels(variant, vector: .blocks(K.rows), batch: .blocks(legacyBatch), packed: packedGroups)
        case .q4_K, .q5_K, .q6_K:
            return MatrixKernels(variant, vector: .superBlocks(K.superBlockRows), batch: .superBlocks(K.superBlockBatch).from(superBlockBatchFrom),
                                 packed: Packed(pack: K.pack, vector: .superBlocks(K.packedSuperBlocks(type)),
                                                batch: .superBlocks(K.packedSuperBlocksBatch(type))))
        case .iq4_nl:
            return MatrixKernels(variant, vector: .blocks(K.rows), batch: .blocks(legacyBatch), packed: packedGroups)
        case .iq4_xs:
            return MatrixKernels(variant, vector: .blocks(K.rows), batch: .blocks(K.rows),
                                 packed: Packed(pack: K.pack, vector: .superBlocks(K.packedIQ4_XSVectors),
                                                batch: .superBlocks(K.packedIQ4_XSBatch)))
        case .bf16:
            // with the bfloat16 dot product where both the module and the CPU have one (it measured
            // faster than the float multiply-adds of the other float types' batches)
            guard let dot = K.bfloat16DotBatch, KernelVariant.hasBFloat16Dot else {
                return MatrixKernels(variant, vector: .blocks(K.floatRows), batch: .blocks(K.floatBatch))
            }
            return MatrixKernels(variant, vector: .blocks(K.floatRows), batch: .bfloat16(dot))
        case .f32, .f16:
            return MatrixKernels(variant, vector: .blocks(K.floatRows), batch: .blocks(K.floatBatch))
        default:
            // Q2_K, Q3_K (float dots of the dequantized blocks): the plain loops, vectorized for
            // the module's instruction set
            return .rows(variant, K.rows)
        }
    }
}
#else
extension MatrixKernels {
    /// Other architectures take the portable kernels for every type (a NEON dot-product module
    /// would get its column here, as the x86 modules have theirs above).
    static func of(_ type: GGMLType, columns: Int, on variant: KernelVariant) -> MatrixKernels {
        .rows(.portable, PortableKernels.rows)
    }
}
#endif

/// Attention over cached rows (the scores of the query heads sharing a key head, the weighted sums
/// of value rows) and the writing of those rows, for every KV cache type, from the variant's
/// module: f16 caches need F16C to convert their rows at speed, which the engine's own baseline
/// build does not have.
struct AttentionKernels {
    let scores: AttentionScoresKernel
    let accumulate: AttentionAccumulateKernel
    let encode: KVRowEncodeKernel

    static func of(_ variant: KernelVariant) -> AttentionKernels {
        #if arch(x86_64)
        switch variant {
        case .portable: return portable
        case .avx2: return x86(AVX2Kernels.self)
        case .avx512: return x86(AVX512Kernels.self)
        }
        #else
        return portable
        #endif
    }

    private static let portable = AttentionKernels(scores: PortableKernels.attentionScores, accumulate: PortableKernels.attentionAccumulate,
                                                   encode: PortableKernels.encodeKVRow)

    #if arch(x86_64)
    private static func x86<K: X86KernelSet>(_: K.Type) -> AttentionKernels {
        AttentionKernels(scores: K.attentionScores, accumulate: K.attentionAccumulate, encode: K.encodeKVRow)
    }
    #endif
}
