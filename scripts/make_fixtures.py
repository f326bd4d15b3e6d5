#!/usr/bin/env python3
"""Makes the tiny GGUF fixture models and their llama.cpp golden outputs for the engine fidelity tests.

Run from the repository root:

    pip install gguf numpy llama-cpp-python   # llama-cpp-python builds llama.cpp from source
    python3 scripts/make_fixtures.py          # writes Tests/KansoEngineTests/Fixtures/models/

Everything is deterministic: weights come from seeded numpy generators, the tokenizers are made by
scripts/fixtures/vocab.py, tensors are named and laid out as llama.cpp's convert_hf_to_gguf.py and
llama-quantize would (`blk.N.attn_q.weight`, rows = output features, 1-D norms and biases in F32),
and quantized blocks come from gguf-py (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, BF16) or from
scripts/fixtures/kquants.py (Q4_K, Q5_K, Q6_K) and iq4quants.py (IQ4_NL, IQ4_XS). Only the golden numbers depend on the llama.cpp
build, whose llama-cpp-python version each golden file records.

It also writes `stories260K.json`, llama.cpp's outputs on the real trained model in
../shared/models (when that is there; the model itself is not copied), and `sampling.json`, the
tokens and probabilities llama.cpp's samplers (penalties, top-k, top-p, min-p, temperature) leave
from some of the golden logit rows. Each `NAME.gguf` gets a
`NAME.json`:
- `prompt`: token ids (BOS first where the vocabulary adds one);
- `logits`: llama.cpp's logits at every prompt position, [position][vocab], 7 significant digits;
- `greedy`: 16 greedy tokens after the prompt (argmax, decoded one token at a time through the KV
  cache; EOS does not stop it); `greedyMargins`: top-1 minus top-2 logit at each of those choices;
- `exactMaxAbsDifference`: max |llama.cpp - exact| over the prompt logits, where "exact" is a float64
  numpy forward pass on the same (dequantized) weights (scripts/fixtures/reference.py): the size of
  llama.cpp's own rounding (f16/bf16 activations, Q8 activation quantization) on that file;
- `text`, `textTokens`: a sample sentence and llama.cpp's tokenization of it (with special tokens);
- `longPrompt`, `longLogitPositions`, `longLogits`: a 100-token prompt and llama.cpp's logits at
  some of its positions (batch edges of 32, the end), `longExactMaxAbsDifference` as above;
- `dequantizedRows`: a few rows of weight tensors as gguf-py decodes the stored blocks (9 digits,
  exact for float32).

Each fixture also gets `NAME.kv.json`: llama.cpp's logits with its KV cache in f16 (flash attention
off, as the goldens above) and in q8_0 (keys and values; llama.cpp needs flash attention for a
quantized value cache), for the same `prompt` (every position) and `longPrompt` (`longLogitPositions`).
q8_0 only where the heads hold whole blocks of 32, as llama.cpp requires. `python3
scripts/make_fixtures.py kv` makes these alone, from the fixtures as committed.

The prompt is, of a seeded series of candidates, one whose continuation has at least 8 distinct
tokens (where any has) and, among those, whose smallest greedy margin is largest, so that few
choices are near-ties that rounding alone could flip (the Swift test accepts either token only where
the margin is below its logit tolerance). llama.cpp runs with one thread, an F32 KV cache and flash
attention off, so its reference numbers carry as little rounding as the library allows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import gguf  # noqa: E402
import iq4quants  # noqa: E402
import kquants  # noqa: E402
import reference  # noqa: E402
import vocab as vocabularies  # noqa: E402

T = gguf.GGMLQuantizationType
OUTPUT_DIRECTORY = Path(__file__).resolve().parent.parent / "Tests/KansoEngineTests/Fixtures/models"
PROMPT_LENGTH = 12
GREEDY_STEPS = 16
CONTEXT_LENGTH = 128

PROMPT_CANDIDATES = 40
LONG_PROMPT_LENGTH = 100
LONG_POSITIONS = [0, 31, 32, 33, 63, 64, 98, 99]

FILE_TYPE = {
    "F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
    "BF16": gguf.LlamaFileType.MOSTLY_BF16, "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0, "Q4_1": gguf.LlamaFileType.MOSTLY_Q4_1,
    "Q5_0": gguf.LlamaFileType.MOSTLY_Q5_0, "Q5_1": gguf.LlamaFileType.MOSTLY_Q5_1,
    "Q4_K": gguf.LlamaFileType.MOSTLY_Q4_K_S, "Q5_K": gguf.LlamaFileType.MOSTLY_Q5_K_S,
    "Q6_K": gguf.LlamaFileType.MOSTLY_Q6_K, "Q4_K_M": gguf.LlamaFileType.MOSTLY_Q4_K_M,
    "IQ4_NL": gguf.LlamaFileType.MOSTLY_IQ4_NL, "IQ4_XS": gguf.LlamaFileType.MOSTLY_IQ4_XS,
}


@dataclass(frozen=True)
class Spec:
    name: str
    arch: str  # llama | qwen2 | qwen3 | gemma3
    weights: str  # a key of FILE_TYPE; "Q4_K_M" mixes Q4_K and Q6_K as llama-quantize does
    seed: int
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 16
    n_ff: int = 160
    vocab_size: int = 420  # SPM vocabularies; BPE ones get 256 + merges + 3 specials
    tied: bool = False
    sliding_window: int = 0
    tokenizer: str = ""  # "" = the architecture's usual one; "llama3" = byte-level BPE as Llama 3
    rope_base: float = 0.0  # 0 = the architecture's usual one
    rope_freqs: bool = False  # a Llama 3.1-style rope_freqs.weight tensor
    softcap: float = 0.0  # {arch}.final_logit_softcapping, 0 = not written
    rope_linear: float = 0.0  # linear RoPE scaling factor (positions divided by it), 0 = none

    @property
    def theta(self) -> float:
        return self.rope_base or (10000.0 if self.arch == "llama" else 1000000.0)


SPECS = [
    Spec("llama-f32", "llama", "F32", seed=1),
    Spec("llama-f16", "llama", "F16", seed=2, tied=True),
    Spec("llama-bf16", "llama", "BF16", seed=3),
    Spec("llama-q8_0", "llama", "Q8_0", seed=4, tied=True),
    Spec("llama-q4_0", "llama", "Q4_0", seed=5),
    Spec("llama-q4_1", "llama", "Q4_1", seed=6),
    Spec("llama-q5_0", "llama", "Q5_0", seed=7),
    Spec("llama-q5_1", "llama", "Q5_1", seed=8, tied=True),
    Spec("llama-q4_k", "llama", "Q4_K", seed=9, n_embd=256, head_dim=64, n_ff=512),
    Spec("llama-q5_k", "llama", "Q5_K", seed=10, n_embd=256, head_dim=64, n_ff=512, tied=True),
    Spec("llama-q6_k", "llama", "Q6_K", seed=11, n_embd=256, head_dim=64, n_ff=512),
    Spec("llama-q4_k_m", "llama", "Q4_K_M", seed=12, n_embd=256, head_dim=64, n_ff=512),
    Spec("qwen2-f32", "qwen2", "F32", seed=13, tied=True),
    Spec("qwen2-q8_0", "qwen2", "Q8_0", seed=14, tied=True),
    # Qwen3 and Gemma 3 keep head_dim apart from n_embd / n_head, as the real ones do.
    Spec("qwen3-f16", "qwen3", "F16", seed=15, head_dim=32, n_ff=192, tied=True),
    Spec("gemma3-f32", "gemma3", "F32", seed=16, n_layer=6, head_dim=32, n_ff=192, tied=True, sliding_window=8),
    Spec("gemma3-q8_0", "gemma3", "Q8_0", seed=17, n_layer=6, head_dim=32, n_ff=192, tied=True, sliding_window=8),
    # Llama 3.x shape: byte-level BPE vocabulary, theta 500000, rope_freqs, one KV head (as Llama
    # 3.2 1B's 4:1 and Gemma 3 1B's single KV head push GQA to its end).
    Spec("llama3-f16", "llama", "F16", seed=18, n_head_kv=1, tied=True, tokenizer="llama3",
         rope_base=500000.0, rope_freqs=True),
    # Plain multi-head attention (as TinyLlama-style and llama2.c models), wider heads.
    Spec("llama-mha-q8_0", "llama", "Q8_0", seed=19, n_head=2, n_head_kv=2, head_dim=32),
    # Linear RoPE scaling by 8 on the global layers only, as Gemma 3 4B and larger.
    Spec("gemma3-scaled-f16", "gemma3", "F16", seed=21, n_layer=6, head_dim=32, n_ff=128, tied=True,
         sliding_window=8, rope_linear=8.0),
    # The non-linear 4-bit types current Q4 files use: IQ4_NL in blocks of 32, IQ4_XS in 256.
    Spec("llama-iq4_nl", "llama", "IQ4_NL", seed=22),
    Spec("llama-iq4_xs", "llama", "IQ4_XS", seed=23, n_embd=256, head_dim=64, n_ff=512, tied=True),
]


def make_vocabulary(spec: Spec) -> vocabularies.Vocabulary:
    if spec.tokenizer == "llama3":
        return vocabularies.bpe_vocab(merge_count=spec.vocab_size - 259, style="llama3")
    if spec.arch in ("qwen2", "qwen3"):
        return vocabularies.bpe_vocab(merge_count=spec.vocab_size - 259)
    return vocabularies.spm_vocab("gemma" if spec.arch == "gemma3" else "llama", spec.vocab_size)


def make_weights(spec: Spec, n_vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Float32 weights in GGUF layout ([out_features, in_features]), in the converter's order."""

    def linear(rows: int, columns: int) -> np.ndarray:
        return (rng.standard_normal((rows, columns)) / math.sqrt(columns)).astype(np.float32)

    def norm(size: int) -> np.ndarray:
        # Gemma's converter stores 1 + w; every architecture then multiplies by the stored value.
        return (1.0 + 0.1 * rng.standard_normal(size)).astype(np.float32)

    e, q_dim, kv_dim = spec.n_embd, spec.n_head * spec.head_dim, spec.n_head_kv * spec.head_dim
    # Logits should spread with a std of about 4. Untied: output rows of RMS 4/sqrt(n_embd) over the
    # unit-RMS normed state. Tied: small embeddings (else the residual stream stays close to the
    # input token's own row and greedy decoding repeats it forever) and a final norm gain to make up.
    # Gemma scales embeddings by sqrt(n_embd) on input, so its rows are smaller by that factor.
    embedding_rms = 0.1 if spec.tied else 4.0 / math.sqrt(e)
    if spec.arch == "gemma3":
        embedding_rms /= math.sqrt(e) / 4.0
    output_gain = 4.0 / (embedding_rms * math.sqrt(e)) if spec.tied else 1.0
    weights = {"token_embd.weight": (rng.standard_normal((n_vocab, e)) * embedding_rms).astype(np.float32)}
    if spec.rope_freqs:
        # Real files hold 1 for the fast pairs and up to 8 for the slow ones; random values in
        # [1, 8] on every pair make them matter within the fixtures' short contexts too.
        weights["rope_freqs.weight"] = rng.uniform(1.0, 8.0, spec.head_dim // 2).astype(np.float32)
    for layer in range(spec.n_layer):
        p = f"blk.{layer}."
        weights[p + "attn_norm.weight"] = norm(e)
        weights[p + "attn_q.weight"] = linear(q_dim, e)
        weights[p + "attn_k.weight"] = linear(kv_dim, e)
        weights[p + "attn_v.weight"] = linear(kv_dim, e)
        if spec.arch == "qwen2":
            weights[p + "attn_q.bias"] = (0.3 * rng.standard_normal(q_dim)).astype(np.float32)
            weights[p + "attn_k.bias"] = (0.3 * rng.standard_normal(kv_dim)).astype(np.float32)
            weights[p + "attn_v.bias"] = (0.3 * rng.standard_normal(kv_dim)).astype(np.float32)
        if spec.arch in ("qwen3", "gemma3"):
            weights[p + "attn_q_norm.weight"] = norm(spec.head_dim)
            weights[p + "attn_k_norm.weight"] = norm(spec.head_dim)
        weights[p + "attn_output.weight"] = linear(e, q_dim)
        if spec.arch == "gemma3":
            weights[p + "post_attention_norm.weight"] = norm(e)
        weights[p + "ffn_norm.weight"] = norm(e)
        weights[p + "ffn_gate.weight"] = linear(spec.n_ff, e)
        weights[p + "ffn_up.weight"] = linear(spec.n_ff, e)
        weights[p + "ffn_down.weight"] = linear(e, spec.n_ff)
        if spec.arch == "gemma3":
            weights[p + "post_ffw_norm.weight"] = norm(e)
    weights["output_norm.weight"] = norm(e) * np.float32(output_gain)
    if not spec.tied:
        weights["output.weight"] = (rng.standard_normal((n_vocab, e)) * 4.0 / math.sqrt(e)).astype(np.float32)
    return weights


def tensor_type(spec: Spec, name: str, array: np.ndarray) -> T:
    if array.ndim == 1:
        return T.F32
    if spec.weights != "Q4_K_M":
        return T[spec.weights]
    # llama-quantize's Q4_K_M (llama-quant.cpp): output -> Q6_K; attn_v and ffn_down -> Q6_K on the
    # layers where use_more_bits(i, n) holds (i < n/8, i >= 7n/8, or (i - n/8) % 3 == 2); rest Q4_K.
    if name == "output.weight":
        return T.Q6_K
    if name.endswith("attn_v.weight") or name.endswith("ffn_down.weight"):
        layer, count = int(name.split(".")[1]), spec.n_layer
        if layer < count // 8 or layer >= 7 * count // 8 or (layer - count // 8) % 3 == 2:
            return T.Q6_K
    return T.Q4_K


def encode(array: np.ndarray, qtype: T) -> tuple[np.ndarray, np.ndarray]:
    """Returns (bytes or array to store, the float32 values a reader decodes from them)."""
    if qtype == T.F32:
        return array, array
    if qtype == T.F16:
        stored = array.astype(np.float16)
        return stored, stored.astype(np.float32)
    packers = kquants.PACKERS | iq4quants.PACKERS
    if qtype in packers:
        packed = packers[qtype](array)
        error = kquants.roundtrip_error(array, packed, qtype)
        if error > 0.1:
            raise RuntimeError(f"{qtype.name} packing is wrong: relative round-trip error {error}")
    else:
        packed = gguf.quants.quantize(array, qtype)
    return packed, gguf.quants.dequantize(packed, qtype).reshape(array.shape).astype(np.float32)


def write_gguf(spec: Spec, path: Path, vocab: vocabularies.Vocabulary,
               weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    writer = gguf.GGUFWriter(str(path), spec.arch)
    writer.add_name(f"Kanso fixture {spec.name}")
    writer.add_file_type(int(FILE_TYPE[spec.weights]))
    if spec.weights not in ("F32", "F16", "BF16"):
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    if spec.arch in ("qwen3", "gemma3"):
        writer.add_key_length(spec.head_dim)
        writer.add_value_length(spec.head_dim)
    if spec.arch == "llama":
        writer.add_vocab_size(len(vocab))
        writer.add_rope_dimension_count(spec.head_dim)
    writer.add_layer_norm_rms_eps(1e-5 if spec.arch == "llama" else 1e-6)
    writer.add_rope_freq_base(spec.theta)
    if spec.sliding_window:
        writer.add_sliding_window(spec.sliding_window)
    if spec.softcap:
        writer.add_final_logit_softcapping(spec.softcap)
    if spec.rope_linear:
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(spec.rope_linear)

    writer.add_tokenizer_model(vocab.model)
    if spec.tokenizer == "llama3":
        writer.add_tokenizer_pre("llama-bpe")
    else:
        writer.add_tokenizer_pre({"llama": "default", "gemma3": "default"}.get(spec.arch, "qwen2"))
    writer.add_token_list(vocab.tokens)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    writer.add_token_types(vocab.types)
    if vocab.merges:
        writer.add_token_merges(vocab.merges)
    writer.add_bos_token_id(vocab.special["bos"])
    writer.add_eos_token_id(vocab.special["eos"])
    if "unk" in vocab.special:
        writer.add_unk_token_id(vocab.special["unk"])
    if "pad" in vocab.special:
        writer.add_pad_token_id(vocab.special["pad"])
    writer.add_add_bos_token(vocab.adds_bos)
    writer.add_add_eos_token(False)
    if spec.arch == "gemma3":
        writer.add_add_space_prefix(False)

    decoded: dict[str, np.ndarray] = {}
    for name, array in weights.items():
        qtype = tensor_type(spec, name, array)
        stored, decoded[name] = encode(array, qtype)
        writer.add_tensor(name, stored, raw_dtype=None if qtype in (T.F32, T.F16) else qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return decoded


def run_llama_cpp(path: Path, prompt: list[int]):
    import llama_cpp

    model = llama_cpp.Llama(
        model_path=str(path), n_ctx=CONTEXT_LENGTH, n_batch=CONTEXT_LENGTH, n_ubatch=CONTEXT_LENGTH,
        n_threads=1, n_threads_batch=1, logits_all=True, flash_attn=False,
        type_k=0, type_v=0,  # GGML_TYPE_F32 KV cache
        seed=0, verbose=False,
    )
    model.reset()
    model.eval(prompt)
    logits = np.array(model.scores[: len(prompt)], dtype=np.float64)
    greedy, margins = [], []
    current = logits[-1]
    for _ in range(GREEDY_STEPS):
        order = np.argsort(-current, kind="stable")
        token = int(order[0])
        greedy.append(token)
        margins.append(float(current[order[0]] - current[order[1]]))
        model.eval([token])
        current = np.array(model.scores[model.n_tokens - 1], dtype=np.float64)
    return model, logits, greedy, margins


def significant(value: float, digits: int = 7) -> float:
    return float(f"{value:.{digits}g}")


def make_fixture(spec: Spec) -> dict:
    import llama_cpp

    rng = np.random.default_rng(spec.seed)
    vocab = make_vocabulary(spec)
    weights = make_weights(spec, len(vocab), rng)
    path = OUTPUT_DIRECTORY / f"{spec.name}.gguf"
    decoded = write_gguf(spec, path, vocab, weights)

    config = {"arch": spec.arch, "n_embd": spec.n_embd, "n_layer": spec.n_layer, "n_head": spec.n_head,
              "n_head_kv": spec.n_head_kv, "head_dim": spec.head_dim,
              "eps": 1e-5 if spec.arch == "llama" else 1e-6,
              "rope_base": spec.theta,
              "rope_base_local": 10000.0, "sliding_window": spec.sliding_window, "softcap": spec.softcap,
              "rope_linear": spec.rope_linear}
    adds_bos = vocab.adds_bos
    ordinary = [i for i, kind in enumerate(vocab.types) if kind == vocabularies.NORMAL]
    prompt_rng = np.random.default_rng(1000 + spec.seed)
    best = None
    for attempt in range(PROMPT_CANDIDATES):
        body = [int(t) for t in prompt_rng.choice(ordinary, PROMPT_LENGTH - (1 if adds_bos else 0))]
        prompt = ([vocab.special["bos"]] if adds_bos else []) + body
        model, logits, greedy, margins = run_llama_cpp(path, prompt)
        model.close()
        # Prefer continuations that do not just repeat a token (they test the KV cache better), then
        # the largest smallest margin.
        rank = (min(len(set(greedy)), 8), min(margins))
        if best is None or rank > best[0]:
            best = (rank, prompt, logits, greedy, margins, attempt)
    _, prompt, logits, greedy, margins, attempt = best
    scale = float((logits.max(axis=1) - logits.min(axis=1)).max())
    model, check_logits, check_greedy, _ = run_llama_cpp(path, prompt)
    if check_greedy != greedy or not np.array_equal(check_logits, logits):
        raise RuntimeError(f"{spec.name}: llama.cpp is not deterministic on this file")

    exact = reference.forward(config, decoded, prompt)
    exact_difference = float(np.abs(exact - logits).max())
    exact_rms = float(np.sqrt(np.mean((exact - logits) ** 2)))
    text_tokens = model.tokenize(vocabularies.SAMPLE_TEXT.encode("utf-8"), add_bos=True, special=False)

    # A long prompt: RoPE at later positions, many windows of gemma3's sliding layers, and more
    # tokens than one engine batch. Only some positions' logits are kept, to stay small.
    long_body = [int(t) for t in prompt_rng.choice(ordinary, LONG_PROMPT_LENGTH - (1 if adds_bos else 0))]
    long_prompt = ([vocab.special["bos"]] if adds_bos else []) + long_body
    model.reset()
    model.eval(long_prompt)
    long_logits = np.array(model.scores[: len(long_prompt)], dtype=np.float64)[LONG_POSITIONS]
    long_exact = reference.forward(config, decoded, long_prompt)[LONG_POSITIONS]
    model.close()

    # Rows of a few tensors as gguf-py decodes them (an independent reader of the block formats),
    # to check the engine's dequantization value for value.
    sampled = [("token_embd.weight", 0), ("token_embd.weight", len(vocab) - 1), ("blk.0.attn_v.weight", 0),
               (f"blk.{spec.n_layer - 1}.ffn_down.weight", 0), (f"blk.{spec.n_layer - 1}.attn_v.weight", 1)]
    if not spec.tied:
        sampled.append(("output.weight", 1))
    dequantized = [{"tensor": name, "row": row, "values": [float(f"{v:.9g}") for v in decoded[name][row]]}
                   for name, row in sampled]
    golden = {
        "fixture": path.name,
        "llamaCppPythonVersion": llama_cpp.__version__,
        "architecture": spec.arch,
        "weights": spec.weights,
        "vocabularySize": len(vocab),
        "tiedOutput": spec.tied,
        "prompt": prompt,
        "promptAttempt": attempt,
        "logits": [[significant(v) for v in row] for row in logits],
        "greedy": greedy,
        "greedyMargins": [significant(m, 4) for m in margins],
        "exactMaxAbsDifference": significant(exact_difference, 4),
        "exactRmsDifference": significant(exact_rms, 4),
        "logitRange": significant(scale, 6),
        "text": vocabularies.SAMPLE_TEXT,
        "textTokens": list(text_tokens),
        "longPrompt": long_prompt,
        "longLogitPositions": LONG_POSITIONS,
        "longLogits": [[significant(v) for v in row] for row in long_logits],
        "longExactMaxAbsDifference": significant(float(np.abs(long_exact - long_logits).max()), 4),
        "dequantizedRows": dequantized,
    }
    (OUTPUT_DIRECTORY / f"{spec.name}.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    return golden


SHARED_MODEL = Path(__file__).resolve().parent.parent.parent / "shared/models/stories260K.gguf"
STORIES_PROMPT = "Once upon a time"
STORIES_TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside."
STORIES_GREEDY_STEPS = 32


def read_gguf_weights(path: Path) -> dict[str, np.ndarray]:
    """Float32 weights of an F32 GGUF in [rows, columns] layout."""
    reader = gguf.GGUFReader(str(path))
    weights = {}
    for tensor in reader.tensors:
        if tensor.tensor_type != T.F32:
            raise RuntimeError(f"{tensor.name}: only F32 files are read here")
        shape = [int(n) for n in reversed(tensor.shape)]
        weights[tensor.name] = np.array(tensor.data, dtype=np.float32).reshape(shape)
    return weights


def make_shared_golden() -> dict | None:
    """llama.cpp's outputs on the real trained stories260K (../shared/models), when it is there.

    Only the golden JSON is committed (Fixtures/models/stories260K.json); the model stays in shared/.
    Same format as the synthetic fixtures, with 32 greedy tokens.
    """
    import llama_cpp

    if not SHARED_MODEL.exists():
        print(f"skipping stories260K: {SHARED_MODEL} not found")
        return None
    weights = read_gguf_weights(SHARED_MODEL)
    model = llama_cpp.Llama(
        model_path=str(SHARED_MODEL), n_ctx=CONTEXT_LENGTH, n_batch=CONTEXT_LENGTH, n_ubatch=CONTEXT_LENGTH,
        n_threads=1, n_threads_batch=1, logits_all=True, flash_attn=False, type_k=0, type_v=0,
        seed=0, verbose=False,
    )
    prompt = model.tokenize(STORIES_PROMPT.encode("utf-8"), add_bos=True, special=False)
    model.reset()
    model.eval(prompt)
    logits = np.array(model.scores[: len(prompt)], dtype=np.float64)
    greedy, margins = [], []
    current = logits[-1]
    for _ in range(STORIES_GREEDY_STEPS):
        order = np.argsort(-current, kind="stable")
        greedy.append(int(order[0]))
        margins.append(float(current[order[0]] - current[order[1]]))
        model.eval([int(order[0])])
        current = np.array(model.scores[model.n_tokens - 1], dtype=np.float64)
    continuation = model.detokenize(greedy).decode("utf-8", errors="replace")
    text_tokens = model.tokenize(STORIES_TEXT.encode("utf-8"), add_bos=True, special=False)
    # The long prompt: the story so far, as llama.cpp continued it, then its own greedy text again.
    long_prompt = (prompt + greedy + greedy + greedy)[:LONG_PROMPT_LENGTH]
    model.reset()
    model.eval(long_prompt)
    long_logits = np.array(model.scores[: len(long_prompt)], dtype=np.float64)[LONG_POSITIONS]
    model.close()

    config = {"arch": "llama", "n_embd": 64, "n_layer": 5, "n_head": 8, "n_head_kv": 4, "head_dim": 8,
              "eps": 1e-5, "rope_base": 10000.0}
    exact = reference.forward(config, weights, prompt)
    long_exact = reference.forward(config, weights, long_prompt)[LONG_POSITIONS]
    sampled = [("token_embd.weight", 0), ("token_embd.weight", 511), ("blk.0.attn_v.weight", 0),
               ("blk.4.ffn_down.weight", 0), ("output.weight", 1)]
    golden = {
        "fixture": SHARED_MODEL.name,
        "llamaCppPythonVersion": llama_cpp.__version__,
        "architecture": "llama",
        "weights": "F32",
        "vocabularySize": 512,
        "tiedOutput": "output.weight" not in weights,
        "prompt": list(prompt),
        "promptAttempt": 0,
        "logits": [[significant(v) for v in row] for row in logits],
        "greedy": greedy,
        "greedyMargins": [significant(m, 4) for m in margins],
        "greedyText": continuation,
        "exactMaxAbsDifference": significant(float(np.abs(exact - logits).max()), 4),
        "exactRmsDifference": significant(float(np.sqrt(np.mean((exact - logits) ** 2))), 4),
        "logitRange": significant(float((logits.max(axis=1) - logits.min(axis=1)).max()), 6),
        "text": STORIES_TEXT,
        "textTokens": list(text_tokens),
        "longPrompt": long_prompt,
        "longLogitPositions": LONG_POSITIONS,
        "longLogits": [[significant(v) for v in row] for row in long_logits],
        "longExactMaxAbsDifference": significant(float(np.abs(long_exact - long_logits).max()), 4),
        "dequantizedRows": [{"tensor": name, "row": row, "values": [float(f"{v:.9g}") for v in weights[name][row]]}
                            for name, row in sampled if name in weights],
    }
    (OUTPUT_DIRECTORY / "stories260K.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"stories260K    exact max {golden['exactMaxAbsDifference']:.3g}  long-exact "
          f"{golden['longExactMaxAbsDifference']:.3g}  greedy: {continuation!r}")
    return golden


SAMPLING_CASES = [
    # The engine's SamplingSettings names; llama.cpp's chain is built in its default order:
    # penalties -> top-k -> top-p -> min-p -> temperature.
    {"temperature": 0.8, "topK": 40, "topP": 0.95, "minP": 0.05, "repetitionPenalty": 1.0},
    {"temperature": 1.5, "topK": 0, "topP": 0.5, "minP": 0.0, "repetitionPenalty": 1.0},
    {"temperature": 0.7, "topK": 10, "topP": 1.0, "minP": 0.1, "repetitionPenalty": 1.3},
    {"temperature": 1.0, "topK": 0, "topP": 1.0, "minP": 0.02, "repetitionPenalty": 1.1},
    {"temperature": 2.0, "topK": 100, "topP": 0.9, "minP": 0.0, "repetitionPenalty": 0.8},
    {"temperature": 0.5, "topK": 3, "topP": 0.99, "minP": 0.5, "repetitionPenalty": 1.5},
]
SAMPLING_WINDOW = 64


def llama_cpp_candidates(logits: list[float], history: list[int], case: dict) -> tuple[list[int], list[float]]:
    """Runs llama.cpp's samplers (without the final draw) over `logits`; returns the tokens left
    and their probabilities (softmax of their final logits), most likely first."""
    import ctypes

    import llama_cpp as l

    count = len(logits)
    chain = l.llama_sampler_chain_init(l.llama_sampler_chain_default_params())
    l.llama_sampler_chain_add(chain, l.llama_sampler_init_penalties(count, SAMPLING_WINDOW, case["repetitionPenalty"], 0.0, 0.0))
    l.llama_sampler_chain_add(chain, l.llama_sampler_init_top_k(case["topK"]))
    l.llama_sampler_chain_add(chain, l.llama_sampler_init_top_p(case["topP"], 1))
    l.llama_sampler_chain_add(chain, l.llama_sampler_init_min_p(case["minP"], 1))
    l.llama_sampler_chain_add(chain, l.llama_sampler_init_temp(case["temperature"]))
    for token in history:
        l.llama_sampler_accept(chain, token)
    data = (l.llama_token_data * count)(*[l.llama_token_data(i, v, 0.0) for i, v in enumerate(logits)])
    array = l.llama_token_data_array(data=data, size=count, selected=-1, sorted=False)
    l.llama_sampler_apply(chain, ctypes.byref(array))
    kept = [(data[i].id, data[i].logit) for i in range(array.size)]
    l.llama_sampler_free(chain)
    values = np.array([logit for _, logit in kept], dtype=np.float64)
    probabilities = np.exp(values - values.max())
    probabilities /= probabilities.sum()
    order = np.argsort(-probabilities, kind="stable")
    return [int(kept[i][0]) for i in order], [float(probabilities[i]) for i in order]


def make_sampling_golden() -> None:
    """sampling.json: which tokens llama.cpp's samplers keep, with what probabilities, for a few
    settings over golden logit rows of two fixtures (the logits as stored, so both sides read the
    same numbers), with the fixture's prompt as the history the repetition penalty sees."""
    import llama_cpp

    cases = []
    for name in ("llama-f32", "qwen3-f16"):
        golden = json.loads((OUTPUT_DIRECTORY / f"{name}.json").read_text())
        for row in (golden["logits"][-1], golden["logits"][3]):
            for settings in SAMPLING_CASES:
                tokens, probabilities = llama_cpp_candidates(row, golden["prompt"], settings)
                cases.append({"fixture": name, "logits": row, "history": golden["prompt"],
                              "settings": dict(settings, repetitionWindow=SAMPLING_WINDOW),
                              "tokens": tokens, "probabilities": [significant(p) for p in probabilities]})
    document = {"llamaCppPythonVersion": llama_cpp.__version__, "cases": cases}
    (OUTPUT_DIRECTORY / "sampling.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"sampling.json  {len(cases)} cases, kept {[len(c['tokens']) for c in cases]}")


KV_CACHE_TYPES = {"f16": (1, False), "q8_0": (8, True)}  # GGML type id, flash attention


def kv_cache_logits(path: Path, prompt: list[int], long_prompt: list[int], ggml_type: int, flash: bool):
    """llama.cpp's logits with keys and values cached as `ggml_type`: every prompt position, and the
    long prompt's LONG_POSITIONS."""
    import llama_cpp

    model = llama_cpp.Llama(
        model_path=str(path), n_ctx=CONTEXT_LENGTH, n_batch=CONTEXT_LENGTH, n_ubatch=CONTEXT_LENGTH,
        n_threads=1, n_threads_batch=1, logits_all=True, flash_attn=flash, type_k=ggml_type, type_v=ggml_type,
        seed=0, verbose=False,
    )
    model.reset()
    model.eval(prompt)
    logits = np.array(model.scores[: len(prompt)], dtype=np.float64)
    model.reset()
    model.eval(long_prompt)
    long_logits = np.array(model.scores[: len(long_prompt)], dtype=np.float64)[LONG_POSITIONS]
    model.close()
    return logits, long_logits


def make_kv_goldens() -> None:
    """NAME.kv.json for every fixture whose golden exists (and stories260K when ../shared has it)."""
    import llama_cpp

    names = [spec.name for spec in SPECS] + ["stories260K"]
    for name in names:
        golden_path = OUTPUT_DIRECTORY / f"{name}.json"
        model_path = SHARED_MODEL if name == "stories260K" else OUTPUT_DIRECTORY / f"{name}.gguf"
        if not golden_path.exists() or not model_path.exists():
            print(f"skipping {name}: {golden_path.name} or {model_path} not found")
            continue
        golden = json.loads(golden_path.read_text())
        document = {"fixture": golden["fixture"], "llamaCppPythonVersion": llama_cpp.__version__}
        for type_name, (ggml_type, flash) in KV_CACHE_TYPES.items():
            try:
                logits, long_logits = kv_cache_logits(model_path, golden["prompt"], golden["longPrompt"], ggml_type, flash)
            except (ValueError, RuntimeError) as error:  # llama.cpp refuses q8_0 for heads of 16
                print(f"{name:14} {type_name}: not made ({error})")
                continue
            document[type_name] = {
                "flashAttention": flash,
                "logits": [[significant(v) for v in row] for row in logits],
                "longLogits": [[significant(v) for v in row] for row in long_logits],
            }
            reference = np.array(golden["logits"], dtype=np.float64)
            print(f"{name:14} {type_name}: max |Δ| against the f32 cache {np.abs(logits - reference).max():.3g}"
                  f" (range {golden['logitRange']:.3g})")
        (OUTPUT_DIRECTORY / f"{name}.kv.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="fixture names to make (default: all)")
    arguments = parser.parse_args()
    OUTPUT_DIRECTORY.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        if arguments.names and spec.name not in arguments.names:
            continue
        golden = make_fixture(spec)
        if golden is None:
            continue
        size = (OUTPUT_DIRECTORY / golden["fixture"]).stat().st_size
        print(f"{spec.name:14} {size / 1024:7.1f} KiB  range {golden['logitRange']:7.3f}  "
              f"long-exact {golden['longExactMaxAbsDifference']:.3g}  "
              f"llama.cpp-exact max {golden['exactMaxAbsDifference']:.3g} "
              f"rms {golden['exactRmsDifference']:.3g}  "
              f"min margin {min(golden['greedyMargins']):.3g}  attempt {golden['promptAttempt']}")
    if not arguments.names or "stories260K" in arguments.names:
        make_shared_golden()
    if not arguments.names or "sampling" in arguments.names:
        make_sampling_golden()
    if not arguments.names or "kv" in arguments.names:
        make_kv_goldens()


if __name__ == "__main__":
    main()
