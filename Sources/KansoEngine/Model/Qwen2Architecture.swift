// `qwen2`: Qwen2 and Qwen2.5.
// Reference: llama.cpp src/models/qwen2.cpp (build_qwen2) and convert_hf_to_gguf.py (Qwen2Model).
//
// The llama block with biases on the Q, K and V projections (`blk.N.attn_{q,k,v}.bias`, required
// here) and RoPE in NEOX mode (pairs x[i], x[i + n/2]; the converter does not permute Wq/Wk).
// The output matrix is tied to the token embeddings in the small models (no `output.weight`).

enum Qwen2Architecture {
    static func configure(_ configuration: inout ModelConfiguration, keys: MetadataKeys) throws {
        configuration.ropeStyle = .neoxHalves
        configuration.activation = .silu
    }

    /// Tensors this architecture requires beyond the common block.
    static func requiredBiases(layer: Int) -> [String] {
        ["blk.\(layer).attn_q.bias", "blk.\(layer).attn_k.bias", "blk.\(layer).attn_v.bias"]
    }
}
