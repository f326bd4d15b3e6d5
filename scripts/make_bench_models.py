#!/usr/bin/env python3
"""Writes the GGUF files of the engine benchmark (bench/README.md, "Engine"): real model shapes,
random weights.

Run from the repository root (needs `pip install gguf numpy` and ../shared/vocab):

    python3 scripts/make_bench_models.py            # all files into bench/out/ (git-ignored)
    python3 scripts/make_bench_models.py --only llama-1b-q8_0 smollm2-135m-q4_k_m

Shapes (llama architecture, tied output, as the published models):
- llama-1b:     Llama-3.2-1B  n_embd 2048, 16 layers, 32 heads, 8 KV heads, n_ff 8192, vocab 128256,
                rope base 500000 with Llama 3 rope_freqs (factor 32); tokenizer keys read from
                ../shared/vocab/ggml-vocab-llama-bpe.gguf at generation time;
- smollm2-135m: SmolLM2-135M  n_embd 576, 30 layers, 9 heads, 3 KV heads, n_ff 1536, vocab 49152,
                rope base 100000; tokenizer keys from ../shared/vocab/ggml-vocab-starcoder.gguf.
Each in Q8_0, Q4_0 and Q4_K_M; the 135M shape also in F16, BF16, Q4_1, Q5_0, Q5_1 and IQ4_NL
(types of blocks of 32, as its 576 columns need), the 1B shape also in Q5_K_M, Q6_K and IQ4_XS
(super-blocks of 256): a file of every weight type the engine loads. The tensor types are the
ones llama-quantize would pick for that file type (llama.cpp src/llama-quant.cpp,
llama_tensor_get_type), see `tensor_type`; the token embedding of the IQ4_XS file is Q6_K, as
Q4_K_M's.

Weights are not quantized from floats: the blocks are random bytes (seeded numpy) with the scale
fields set so every matrix has about the std 1/sqrt(in_features) (the embedding 0.02), which keeps
the residual stream of order 1-10 through all layers (llama.cpp and the engine stay finite); F16
and BF16 matrices are random normal values of that std. The block layouts are ggml's
(ggml-common.h); scripts/fixtures/kquants.py packs the 6-bit K scales.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import gguf  # noqa: E402
import iq4quants  # noqa: E402
import kquants  # noqa: E402

T = gguf.GGMLQuantizationType
ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIRECTORY = ROOT / "bench" / "out"
VOCAB_DIRECTORY = ROOT.parent / "shared" / "vocab"
EMBEDDING_STD = 0.02


@dataclass(frozen=True)
class Shape:
    name: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    rope_base: float
    context_length: int
    vocab_file: str
    llama3_rope: bool  # a rope_freqs.weight tensor as Llama 3.1/3.2 files carry
    file_types: tuple[str, ...]

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


SHAPES = [
    Shape("llama-1b", 2048, 16, 32, 8, 8192, 128256, 500000.0, 131072, "ggml-vocab-llama-bpe.gguf", True,
          ("Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_XS")),
    Shape("smollm2-135m", 576, 30, 9, 3, 1536, 49152, 100000.0, 8192, "ggml-vocab-starcoder.gguf", False,
          ("Q8_0", "Q4_0", "Q4_K_M", "F16", "BF16", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL")),
]
FILE_TYPES = {
    "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
    "Q4_K_M": gguf.LlamaFileType.MOSTLY_Q4_K_M,
    "F16": gguf.LlamaFileType.MOSTLY_F16,
    "BF16": gguf.LlamaFileType.MOSTLY_BF16,
    "Q4_1": gguf.LlamaFileType.MOSTLY_Q4_1,
    "Q5_0": gguf.LlamaFileType.MOSTLY_Q5_0,
    "Q5_1": gguf.LlamaFileType.MOSTLY_Q5_1,
    "IQ4_NL": gguf.LlamaFileType.MOSTLY_IQ4_NL,
    "Q5_K_M": gguf.LlamaFileType.MOSTLY_Q5_K_M,
    "Q6_K": gguf.LlamaFileType.MOSTLY_Q6_K,
    "IQ4_XS": gguf.LlamaFileType.MOSTLY_IQ4_XS,
}
DEFAULT_TYPE = {"Q8_0": T.Q8_0, "Q4_0": T.Q4_0, "Q4_K_M": T.Q4_K, "F16": T.F16, "BF16": T.BF16, "Q4_1": T.Q4_1,
                "Q5_0": T.Q5_0, "Q5_1": T.Q5_1, "IQ4_NL": T.IQ4_NL, "Q5_K_M": T.Q5_K, "Q6_K": T.Q6_K, "IQ4_XS": T.IQ4_XS}
# Each file's seed: the first six as before the other types were added, so those files stay the same.
SEEDS = {"llama-1b-q8_0": 1, "llama-1b-q4_0": 2, "llama-1b-q4_k_m": 3, "smollm2-135m-q8_0": 4,
         "smollm2-135m-q4_0": 5, "smollm2-135m-q4_k_m": 6, "llama-1b-q5_k_m": 7, "llama-1b-q6_k": 8,
         "llama-1b-iq4_xs": 9, "smollm2-135m-f16": 10, "smollm2-135m-bf16": 11, "smollm2-135m-q4_1": 12,
         "smollm2-135m-q5_0": 13, "smollm2-135m-q5_1": 14, "smollm2-135m-iq4_nl": 15}
# llama-quantize's replacements when a row length is not a multiple of the type's block.
FALLBACK = {T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0, T.IQ4_XS: T.IQ4_NL}


def use_more_bits(layer: int, count: int) -> bool:
    """The layers whose attn_v and ffn_down Q4_K_M keeps in Q6_K: the first and last eighth, and
    every third layer between."""
    return layer < count // 8 or layer >= 7 * count // 8 or (layer - count // 8) % 3 == 2


def tensor_type(file_type: str, name: str, columns: int, n_layer: int) -> T:
    """The type llama-quantize gives a tensor of a llama model with tied embeddings. The token
    embedding doubles as the output, so it gets the output's type: Q6_K unless the file type is
    Q8_0, F16 or BF16 (which keep their own), Q8_0 when its rows do not split into super-blocks of
    256. Q4_K_M and Q5_K_M put attn_v and ffn_down in Q6_K on the `use_more_bits` layers. Rows that
    do not split into K super-blocks of 256 (SmolLM2's 576) fall back: Q4_K -> Q5_0, Q6_K -> Q8_0."""
    default = DEFAULT_TYPE[file_type]
    chosen = default
    if name == "token_embd.weight":
        if default in (T.Q8_0, T.F16, T.BF16):
            chosen = default
        else:
            chosen = T.Q8_0 if columns % 256 != 0 else T.Q6_K
    elif file_type in ("Q4_K_M", "Q5_K_M") and (name.endswith("attn_v.weight") or name.endswith("ffn_down.weight")):
        if use_more_bits(int(name.split(".")[1]), n_layer):
            chosen = T.Q6_K
    if columns % gguf.GGML_QUANT_SIZES[chosen][0] != 0:
        chosen = FALLBACK[chosen]
    return chosen


def f16_field(values: np.ndarray) -> np.ndarray:
    """[blocks] float -> [blocks, 2] little-endian half-precision bytes."""
    return values.astype(np.float16).reshape(-1, 1).view(np.uint8)


def scale_signs(rng: np.random.Generator, count: int) -> np.ndarray:
    # Uniform codes have a mean of -1/2 step; a random sign per block cancels it across a row.
    return np.where(rng.integers(0, 2, count, dtype=np.uint8) == 1, 1.0, -1.0)


def jitter(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.uniform(0.75, 1.25, count)


IQ4_VALUES_STD = float(np.std(iq4quants.VALUES))


def random_blocks(qtype: T, rows: int, columns: int, std: float, rng: np.random.Generator) -> np.ndarray:
    """[rows, bytes per row] of valid `qtype` blocks whose values have about the given std."""
    if qtype in (T.F16, T.BF16):
        values = (rng.standard_normal((rows, columns)) * std).astype(np.float32)
        if qtype == T.F16:
            return values.astype(np.float16).view(np.uint8).reshape(rows, -1)
        return (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8).reshape(rows, -1)
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    count = rows * columns // block
    data = rng.integers(0, 256, (count, size), dtype=np.uint8)  # the quant codes stay random
    if qtype == T.Q8_0:  # d, then 32 int8 codes (std of uniform int8: 73.9)
        data[:, 0:2] = f16_field(std / 73.9 * jitter(rng, count) * scale_signs(rng, count))
    elif qtype == T.Q4_0:  # d, then 16 bytes of nibbles; value (q - 8) * d, std of q 4.61
        data[:, 0:2] = f16_field(std / 4.61 * jitter(rng, count) * scale_signs(rng, count))
    elif qtype == T.Q5_0:  # d, 4 bytes of fifth bits, 16 bytes of nibbles; (q - 16) * d, std 9.23
        data[:, 0:2] = f16_field(std / 9.23 * jitter(rng, count) * scale_signs(rng, count))
    elif qtype in (T.Q4_1, T.Q5_1):  # d, m (then fifth bits), nibbles: q * d + m; m = -mean(q) * d
        levels, spread = (15.0, 4.61) if qtype == T.Q4_1 else (31.0, 9.23)
        d = std / spread * jitter(rng, count)
        data[:, 0:2] = f16_field(d)
        data[:, 2:4] = f16_field(-levels / 2 * d)
    elif qtype == T.IQ4_NL:  # d, 16 bytes of nibbles indexing iq4quants.VALUES
        data[:, 0:2] = f16_field(std / IQ4_VALUES_STD * jitter(rng, count) * scale_signs(rng, count))
    elif qtype == T.IQ4_XS:
        # d, scales_h, scales_l (6-bit ls, scale d * (ls - 32)), nibbles: with ls in 40...55 the
        # sub-block scales are 8...23 (mean 15.5) times d
        ls = rng.integers(40, 56, (count, 8), dtype=np.uint8)
        data[:, 0:2] = f16_field(std / (IQ4_VALUES_STD * 15.5) * jitter(rng, count) * scale_signs(rng, count))
        high = np.zeros(count, dtype=np.uint16)
        for ib in range(8):
            high |= ((ls[:, ib] >> 4).astype(np.uint16) & 3) << (2 * ib)
        data[:, 2:4] = high.reshape(-1, 1).view(np.uint8)
        data[:, 4:8] = (ls[:, 0::2] & 0x0F) | ((ls[:, 1::2] & 0x0F) << 4)
    elif qtype == T.Q5_K:
        # as Q4_K with a fifth bit: values d*sc*(q - 15.5), std d*sc*9.23
        codes = rng.integers(8, 24, (count, 8), dtype=np.uint8)
        d = std / (9.23 * 15.5) * jitter(rng, count)
        data[:, 0:2] = f16_field(d)
        data[:, 2:4] = f16_field(15.5 * d)
        data[:, 4:16] = kquants._pack_scales_and_mins(codes, codes)
    elif qtype == T.Q4_K:
        # d, dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles: value d*sc*q - dmin*m.
        # With m = sc and dmin = 7.5 d the values are d*sc*(q - 7.5): zero mean, std d*sc*4.61.
        codes = rng.integers(8, 24, (count, 8), dtype=np.uint8)
        d = std / (4.61 * 15.5) * jitter(rng, count)
        data[:, 0:2] = f16_field(d)
        data[:, 2:4] = f16_field(7.5 * d)
        data[:, 4:16] = kquants._pack_scales_and_mins(codes, codes)
    elif qtype == T.Q6_K:
        # 128 bytes low nibbles, 64 bytes high bit pairs, 16 int8 scales, d: d*sc*(q - 32), std of q 18.5.
        data[:, 192:208] = rng.integers(8, 24, (count, 16), dtype=np.uint8)
        data[:, 208:210] = f16_field(std / (18.47 * 15.5) * jitter(rng, count) * scale_signs(rng, count))
    else:
        raise ValueError(f"no random block maker for {qtype.name}")
    return data.reshape(rows, -1)


def llama3_rope_factors(shape: Shape) -> np.ndarray:
    """Per-pair frequency divisors of Llama 3.1 rope scaling (factor 32, low/high frequency factors
    1 and 4, original context 8192): 1 for short wavelengths, 32 for long ones, smooth between."""
    factor, low_factor, high_factor, original = 32.0, 1.0, 4.0, 8192.0
    frequencies = 1.0 / shape.rope_base ** (np.arange(0, shape.head_dim, 2) / shape.head_dim)
    wavelengths = 2 * math.pi / frequencies
    smooth = (original / wavelengths - low_factor) / (high_factor - low_factor)
    blended = 1.0 / ((1 - smooth) / factor + smooth)
    factors = np.where(wavelengths < original / high_factor, 1.0,
                       np.where(wavelengths > original / low_factor, factor, blended))
    return factors.astype(np.float32)


def copy_tokenizer(writer: gguf.GGUFWriter, vocab_path: Path, n_vocab: int) -> None:
    """Copies every tokenizer.ggml.* key of a llama.cpp vocabulary file."""
    reader = gguf.GGUFReader(str(vocab_path))
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    if len(tokens) != n_vocab:
        raise ValueError(f"{vocab_path.name} has {len(tokens)} tokens, the shape needs {n_vocab}")
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer.ggml."):
            continue
        value_type = field.types[0]
        sub_type = field.types[1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), value_type, sub_type=sub_type)


def write_model(shape: Shape, file_type: str, seed: int) -> Path:
    path = OUTPUT_DIRECTORY / f"{shape.name}-{file_type.lower()}.gguf"
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(f"Kanso benchmark {shape.name} {file_type} (random weights)")
    writer.add_file_type(int(FILE_TYPES[file_type]))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(shape.rope_base)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(shape.n_vocab)
    copy_tokenizer(writer, VOCAB_DIRECTORY / shape.vocab_file, shape.n_vocab)

    def norm() -> np.ndarray:
        return (1.0 + 0.05 * rng.standard_normal(shape.n_embd)).astype(np.float32)

    def matrix(name: str, rows: int, columns: int, std: float | None = None) -> None:
        qtype = tensor_type(file_type, name, columns, shape.n_layer)
        blocks = random_blocks(qtype, rows, columns, std if std is not None else 1 / math.sqrt(columns), rng)
        writer.add_tensor(name, blocks, raw_dtype=qtype)

    kv_dim = shape.n_head_kv * shape.head_dim
    matrix("token_embd.weight", shape.n_vocab, shape.n_embd, EMBEDDING_STD)
    if shape.llama3_rope:
        writer.add_tensor("rope_freqs.weight", llama3_rope_factors(shape))
    for layer in range(shape.n_layer):
        p = f"blk.{layer}."
        writer.add_tensor(p + "attn_norm.weight", norm())
        matrix(p + "attn_q.weight", shape.n_embd, shape.n_embd)
        matrix(p + "attn_k.weight", kv_dim, shape.n_embd)
        matrix(p + "attn_v.weight", kv_dim, shape.n_embd)
        matrix(p + "attn_output.weight", shape.n_embd, shape.n_embd)
        writer.add_tensor(p + "ffn_norm.weight", norm())
        matrix(p + "ffn_gate.weight", shape.n_ff, shape.n_embd)
        matrix(p + "ffn_up.weight", shape.n_ff, shape.n_embd)
        matrix(p + "ffn_down.weight", shape.n_embd, shape.n_ff)
    writer.add_tensor("output_norm.weight", norm())

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def describe(path: Path) -> str:
    reader = gguf.GGUFReader(str(path))
    counts: dict[str, int] = {}
    for tensor in reader.tensors:
        counts[tensor.tensor_type.name] = counts.get(tensor.tensor_type.name, 0) + 1
    types = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return f"{path.stat().st_size / 2**20:.1f} MiB, tensors: {types}"


def main() -> None:
    names = [f"{shape.name}-{file_type.lower()}" for shape in SHAPES for file_type in shape.file_types]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=names, help="write only these files")
    arguments = parser.parse_args()
    OUTPUT_DIRECTORY.mkdir(parents=True, exist_ok=True)
    for shape in SHAPES:
        for file_type in shape.file_types:
            name = f"{shape.name}-{file_type.lower()}"
            if arguments.only and name not in arguments.only:
                continue
            start = time.monotonic()
            path = write_model(shape, file_type, SEEDS[name])
            print(f"{path.relative_to(ROOT)}: {describe(path)} ({time.monotonic() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
