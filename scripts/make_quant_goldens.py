#!/usr/bin/env python3
"""Writes the golden GGUF file for the engine's dequantization and GGUF reader tests.

Output: Tests/KansoEngineTests/Fixtures/quant/quant_goldens.gguf, written with gguf-py's
GGUFWriter (an independent GGUF writer), holding
  - for every tensor type the engine supports, a tensor "<type>.weights" of random blocks
    (random bytes, with the f16 scale fields replaced by sane values so no block is NaN/inf),
    shaped [rows=4, columns=512], and a tensor "<type>.reference" (F32, same shape) with the
    reference dequantization computed by gguf-py's gguf.quants.dequantize (numpy, the same
    arithmetic as ggml-quants.c);
  - metadata of every GGUF value type, including arrays of strings and nested arrays, with
    the expected values listed in the Swift test.

Usage: pip install gguf numpy; python3 scripts/make_quant_goldens.py
Deterministic (fixed seed): rerunning produces the same file.
"""
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROWS, COLUMNS = 4, 512
OUTPUT = Path(__file__).resolve().parent.parent / "Tests/KansoEngineTests/Fixtures/quant/quant_goldens.gguf"

# Byte offsets of the f16 scale fields inside one block (ggml-common.h).
HALF_SCALE_OFFSETS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    # (appended last, so the blocks of the types above keep their bytes)
    T.IQ4_NL: [0], T.IQ4_XS: [0],
}
FLOAT_TYPES = [T.F32, T.F16, T.BF16]


def random_blocks(rng: np.random.Generator, qtype: T) -> np.ndarray:
    """[ROWS, bytes per row] uint8 of random blocks with finite scales."""
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    blocks = ROWS * COLUMNS // block_size
    data = rng.integers(0, 256, size=(blocks, type_size), dtype=np.uint8)
    for offset in HALF_SCALE_OFFSETS[qtype]:
        magnitude = rng.uniform(1e-3, 0.1, size=blocks)
        sign = rng.choice([-1.0, 1.0], size=blocks)
        half = (magnitude * sign).astype(np.float16)
        data[:, offset:offset + 2] = half.view(np.uint8).reshape(blocks, 2)
    return data.reshape(ROWS, -1)


def float_tensor(rng: np.random.Generator, qtype: T) -> np.ndarray:
    values = rng.normal(0, 1, size=(ROWS, COLUMNS)).astype(np.float32)
    # Include the exact edge values each 16-bit format must convert: zeros, a subnormal, large.
    values[0, :4] = [0.0, -0.0, 1.0e-7, 60000.0]
    if qtype == T.F32:
        return values
    if qtype == T.F16:
        return values.astype(np.float16).view(np.uint8).reshape(ROWS, -1)
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)  # truncation: any bf16 bits will do
    return bf16.view(np.uint8).reshape(ROWS, -1)


def main() -> None:
    rng = np.random.default_rng(20261125)
    writer = gguf.GGUFWriter(str(OUTPUT), arch="goldens")
    writer.add_name("quant goldens")
    # One key of each of the 13 value types, plus arrays (the Swift test lists the same values).
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4000000000)
    writer.add_int32("test.int32", -2000000000)
    writer.add_float32("test.float32", 0.25)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo wörld ✓")
    writer.add_uint64("test.uint64", 2**63 + 5)
    writer.add_int64("test.int64", -(2**62))
    writer.add_float64("test.float64", -1.5e300)
    writer.add_array("test.strings", ["a", "", "ü", "<0x0A>"])
    writer.add_key_value("test.int32s", [1, -2, 3], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
    writer.add_array("test.float32s", [0.5, -1.0, 2.0])
    writer.add_array("test.bools", [True, False, True])
    writer.add_array("test.nested", [[1, 2], [3], [4, 5, 6]])
    writer.add_array("test.nested_strings", [["x", "y"], ["z"]])

    for qtype in FLOAT_TYPES + list(HALF_SCALE_OFFSETS):
        name = qtype.name.lower()
        if qtype in FLOAT_TYPES:
            data = float_tensor(rng, qtype)
        else:
            data = random_blocks(rng, qtype)
        reference = gguf.quants.dequantize(data, qtype).astype(np.float32)
        assert reference.shape == (ROWS, COLUMNS), (qtype, reference.shape)
        assert np.all(np.isfinite(reference)), qtype
        if qtype == T.F32:
            writer.add_tensor(f"{name}.weights", data)
        else:
            writer.add_tensor(f"{name}.weights", data, raw_dtype=qtype)
        writer.add_tensor(f"{name}.reference", reference)

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
