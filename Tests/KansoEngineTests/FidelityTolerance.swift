// How close the engine's logits must come to llama.cpp's on the fixtures, and why.
//
// Neither side computes exactly, so the bound is set by how far llama.cpp itself is from exact
// arithmetic on the same weights; scripts/make_fixtures.py measures that for each fixture against
// a float64 numpy forward pass (golden `exactMaxAbsDifference`). Over these fixtures, as a share
// of a row's logit range (max − min, about 25–30 here):
// - F32: 2e-7 (llama, qwen2), 2.6e-4 for gemma3: ggml's GELU reads a table of f16 values.
// - F16: 4.7e-4. ggml rounds the activations to f16 before an F16 dot product.
// - BF16: 4.0e-3. The same with bf16 (8 significant bits).
// - Quantized: up to 1.7e-2. ggml quantizes the activations to Q8_0/Q8_1 (Q8_K for the K types,
//   scales rounded to f16) before every dot product, and that error compounds over the layers.
//   The engine quantizes activations too, to int8 blocks of 32 with float scales, which is close
//   to ggml but not bit-equal, so it sits somewhere between exact and llama.cpp.
// The engine's own rounding (f32 throughout, f32 KV cache) is at the 1e-6 level.
// So each bound is about twice llama.cpp's own distance from exact, with a floor: an engine that
// computed exactly would pass, and a real bug (a wrong RoPE pair, a missing norm or bias, a
// misread block) moves logits by a sizeable part of the range and fails. The root mean square of
// the difference over all prompt logits is held to a third of the bound, which catches a
// systematic error that stays just under the maximum.
// Measured on 2026-11-25 (engine vs llama.cpp, max |Δ| / range): F32 3e-7, gemma3 F32 2.6e-4,
// F16 4.8e-4, BF16 4.0e-3 (the engine was exact there: all of it is llama.cpp's rounding),
// quantized 0.9e-2 to 2.3e-2 (Q6_K; the two activation quantizations differ and add up).

// A half-precision KV cache (KVCacheType.f16, the engine's and llama.cpp's default) rounds every key
// and value to 11 significant bits; against the F32-cache goldens that adds about 2e-4 of the
// range on these fixtures (measured 1.2e-4 to 4.6e-4), so such caches get `halfPrecisionCache` more.
// A q8_0 cache keeps 8 bits per value and one scale per 32: against the F32-cache goldens it adds
// up to 1.15e-2 of the range on the unquantized fixtures (gemma3-f32; 2.0e-2 on llama-q4_k_m,
// where the activation quantization of both sides amplifies it), so `blockQuantizedCache`
// allows 1.5e-2 more there.
// Against llama.cpp with its cache in the same type (NAME.kv.json; q8_0 with flash attention,
// which quantizes the queries too), measured 2026-12-07 over the 100-token prompts, max |Δ| /
// range: f16 1.0e-4 (F32 weights) to 7.5e-4 (F16), 2.7e-3 (BF16), 0.8e-2 to 1.9e-2 (quantized
// weights); q8_0 0.6e-2 to 0.8e-2 (F32, F16 weights), 1.1e-2 to 2.3e-2 (quantized). The same
// allowances hold there.

enum FidelityTolerance {
    /// Extra share of the logit range allowed when the engine's cache holds keys and values in f16.
    static let halfPrecisionCache: Float = 1e-3
    /// Extra share of the logit range allowed when the engine's cache holds q8_0 blocks.
    static let blockQuantizedCache: Float = 1.5e-2

    /// Allowed max |engine − llama.cpp| as a share of the golden row's logit range, by weight type.
    static func relativeMaximum(weights: String, architecture: String) -> Float {
        switch weights {
        case "F32": return architecture == "gemma3" ? 6e-4 : 1e-4
        case "F16": return 1.5e-3
        case "BF16": return 1e-2
        default: return 3.5e-2  // every quantized type and the Q4_K_M mix
        }
    }

    /// The absolute bound for one row of golden logits.
    static func maximum(row: [Float], weights: String, architecture: String) -> Float {
        let range = (row.max() ?? 0) - (row.min() ?? 0)
        return relativeMaximum(weights: weights, architecture: architecture) * range
    }

    /// Allowed root mean square of the difference over all prompt logits, as a share of the range.
    static func relativeRootMeanSquare(weights: String, architecture: String) -> Float {
        relativeMaximum(weights: weights, architecture: architecture) / 3
    }
}
