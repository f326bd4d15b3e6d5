// The portable kernel module: plain Swift loops (Plain/) compiled for the baseline of the build's
// architecture (x86-64-v2 on x86), which run on any CPU of it. What the engine's dispatch table
// (KansoEngine/Kernels/KernelDispatch.swift) chooses where the CPU has none of the instruction sets
// the other modules are compiled for, or when KANSO_KERNELS=portable says so.
import KansoKernelCore

public enum PortableKernels {
    /// Every supported type, row by row (Plain/PlainRowMultiply.swift).
    public static let rows: MatrixKernel = multiplyPlainRows
    /// Attention over cached rows (Plain/AttentionRows.swift).
    public static let attentionScores: AttentionScoresKernel = AttentionRows.scores
    public static let attentionAccumulate: AttentionAccumulateKernel = AttentionRows.accumulate
    /// KV cache rows written in their type (Plain/KVRowEncoding.swift).
    public static let encodeKVRow: KVRowEncodeKernel = KVRowEncoding.encode
}

/// The activation quantizer of the plain row dots: element by element.
func quantizeActivation(_ activation: QuantizedActivation, _ x: UnsafePointer<Float>, vector: Int) {
    activation.quantize(x, vector: vector)
}
