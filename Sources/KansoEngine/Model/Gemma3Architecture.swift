// `gemma3`: Gemma 3 text models (270M, 1B, 4B, ...).
// Reference: llama.cpp src/models/gemma3.cpp (llm_build_gemma3), llama-model.cpp (hparams of
// LLM_ARCH_GEMMA3, set_swa_pattern) and convert_hf_to_gguf.py (Gemma3Model).
//
// - Embeddings are multiplied by sqrt(embeddingLength).
// - Every norm is RMS; Gemma's (1 + w) weights are stored already shifted by the converter
//   (norm_shift = 1 on every `*norm.weight`), so the forward pass multiplies by the stored value.
// - Per-head Q/K RMS norms before RoPE (NEOX mode); queries are scaled by 1/sqrt(headDimension)
//   (llama.cpp ignores query_pre_attn_scalar except for the 27B model, which uses
//   1/sqrt(embeddingLength / headCount)).
// - Post-attention and post-feed-forward norms before each residual add.
// - GeGLU feed-forward: down(gelu_tanh(gate(x)) * up(x)).
// - With `attention.sliding_window` > 0, five of every six layers (layer % 6 < 5) see only the last
//   `sliding_window` positions and use RoPE base 10000 (`rope.freq_base_swa` when written) with no
//   scaling; every sixth layer is global with `rope.freq_base` and the linear scaling.
// - Without a sliding window, `final_logit_softcapping` (when written) caps the logits.

import KansoGGUF

enum Gemma3Architecture {
    static func configure(_ configuration: inout ModelConfiguration, keys: MetadataKeys) throws {
        configuration.ropeStyle = .neoxHalves
        configuration.activation = .geluTanh
        configuration.hasQueryKeyNorms = true
        configuration.hasPostNorms = true
        configuration.embeddingScale = Float(configuration.embeddingLength).squareRoot()
        if configuration.layerCount == 62 {
            configuration.attentionScale = 1 / Float(configuration.embeddingLength / configuration.headCount).squareRoot()
        } else {
            configuration.attentionScale = 1 / Float(configuration.headDimension).squareRoot()
        }

        let window = keys.metadata.int(keys.full("attention.sliding_window")) ?? 0
        guard window >= 0 else {
            throw ModelError.invalidMetadata(key: keys.full("attention.sliding_window"), value: "\(window)", expected: ">= 0")
        }
        if window > 0 {
            // The pattern is KansoGGUF's, which the supervisor's memory estimate reads too.
            (configuration.slidingWindow, configuration.slidingWindowLayers) = KVCacheLayout.slidingLayers(
                architecture: ModelArchitecture.gemma3.rawValue, metadata: keys.metadata, layerCount: configuration.layerCount)
            configuration.slidingRopeFrequencyBase = Float(keys.metadata.float(keys.full("rope.freq_base_swa")) ?? 10000)
            configuration.slidingRopeFrequencyScale = 1
        } else {
            configuration.finalLogitSoftcapping = Float(keys.metadata.float(keys.full("final_logit_softcapping")) ?? 0)
        }
    }
}
