// `llama`: Llama 2/3.x, SmolLM2, TinyLlama, the llama2.c stories models.
// Reference: llama.cpp src/models/llama.cpp (build_llama) and convert_hf_to_gguf.py (LlamaModel).
//
// Pre-norm blocks: x += Wo·attn(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x)); x += Wdown·(silu(Wgate·n(x)) * Wup·n(x)).
// RoPE rotates adjacent pairs: the converter permutes the rows of Wq and Wk so that ggml's normal
// rope mode reproduces Hugging Face's rotate-half. Llama 3.1+ files carry a `rope_freqs.weight`
// tensor ([ropeDimensionCount / 2] divisors of each pair's frequency), read in ModelWeights.
// Optional q/k/v/o biases are used when present, as llama.cpp does.

enum LlamaArchitecture {
    static func configure(_ configuration: inout ModelConfiguration, keys: MetadataKeys) throws {
        configuration.ropeStyle = .adjacentPairs
        configuration.activation = .silu
        // Some converters (Granite-style) write an explicit scale; llama.cpp honours it when non-zero.
        if let scale = keys.metadata.float(keys.full("attention.scale")), scale != 0 {
            configuration.attentionScale = Float(scale)
        }
    }
}
