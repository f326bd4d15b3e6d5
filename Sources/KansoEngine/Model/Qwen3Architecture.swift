// `qwen3`: dense Qwen3 models.
// Reference: llama.cpp src/models/qwen3.cpp (build_qwen3) and convert_hf_to_gguf.py (Qwen3Model).
//
// The llama block without biases, plus an RMS norm over each query head and each key head
// (`blk.N.attn_q_norm.weight`, `blk.N.attn_k_norm.weight`, [headDimension]) applied before RoPE.
// RoPE in NEOX mode. The head width comes from `attention.key_length` (128 in Qwen3-0.6B, which is
// not embeddingLength / headCount), so query width and embedding width differ.

enum Qwen3Architecture {
    static func configure(_ configuration: inout ModelConfiguration, keys: MetadataKeys) throws {
        configuration.ropeStyle = .neoxHalves
        configuration.activation = .silu
        configuration.hasQueryKeyNorms = true
    }
}
