#!/usr/bin/env python3
"""Makes compact llama.cpp goldens for the two real models that scripts/install-models.sh installs.

Run from the repository root, with the models installed and llama-cpp-python built:

    python3 scripts/make_real_model_goldens.py   # writes Tests/KansoEngineTests/Fixtures/real/*.json

Each model reads the same ~700-token prompt (PROMPT_TEXT below, tokenized by llama.cpp and cut to
PROMPT_LENGTH tokens) in one teacher-forced pass: llama.cpp with one batch, an F32 KV cache and
flash attention off. 700 tokens exercise Gemma 3's sliding-window layers (window 512) beside its
global ones, and the engine's rings (window + one pass of 64). The vocabularies are 49,152 and
262,144 entries, so only some positions are kept, and of each of their rows:
- `top`: the TOP_COUNT highest logits, as [token, logit];
- `sample`: SAMPLE_COUNT other tokens drawn with a seeded generator, as [token, logit];
- `minimum`, `maximum`: the row's range (the tolerance of the Swift test is a share of it);
- `exact`: the same tokens' logits from a float64 numpy forward pass over the dequantized weights
  (scripts/fixtures/reference.py), `exactMaxAbsDifference` the largest |llama.cpp - exact| over
  all kept entries: how far llama.cpp's own arithmetic (Q8 activations) is from exact.
The model file's size and SHA-256 are recorded; the test skips when the file differs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import gguf  # noqa: E402
import reference  # noqa: E402

OUTPUT_DIRECTORY = Path(__file__).resolve().parent.parent / "Tests/KansoEngineTests/Fixtures/real"
MODEL_DIRECTORY = Path("/var/lib/kanso/models")
PROMPT_LENGTH = 700
TOP_COUNT = 32
SAMPLE_COUNT = 32
# Batch edges of 64, the window's edge (512), the ring's (512 + 64 = 576) and the end.
POSITIONS = [0, 1, 2, 5, 31, 63, 64, 65, 127, 128, 200, 255, 256, 300, 383, 384, 448, 500, 510, 511,
             512, 513, 514, 520, 540, 575, 576, 577, 600, 639, 640, 641, 660, 680, 690, 697, 698, 699]

MODELS = [
    {"name": "smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf", "weights": "Q4_1",
     "config": {"arch": "llama", "n_embd": 576, "n_layer": 30, "n_head": 9, "n_head_kv": 3, "head_dim": 64,
                "eps": 1e-5, "rope_base": 100000.0}},
    {"name": "gemma3", "file": "gemma-3-270m-q4_k_m.gguf", "weights": "Q4_K_M",
     "config": {"arch": "gemma3", "n_embd": 640, "n_layer": 18, "n_head": 4, "n_head_kv": 1, "head_dim": 256,
                "eps": 1e-6, "rope_base": 1000000.0, "rope_base_local": 10000.0, "sliding_window": 512}},
]

PROMPT_TEXT = """\
The keeper of the lighthouse on Carrow Point kept two notebooks. The first was the official log, \
in which he wrote the hour the lamp was lit, the hour it was put out, the state of the sea, the \
direction of the wind and the names of any ships that passed close enough to be read through the \
glass. The second notebook was his own. In it he wrote down the things the official log had no \
column for: the colour of the water after a storm, the way the gulls gathered on the rocks before \
the herring came in, the sound the tower made when the wind turned north and found the gap under \
the lantern room door.

He had taken the post in the spring of his thirty-first year, after a winter in the city that had \
left him tired of people and of noise. The previous keeper, a woman named Agnes Hale, had stayed \
on for a week to show him the work. She showed him how to trim the wick so that the flame stood \
straight and did not smoke, how to clean the great lens with spirit and a soft cloth, how to wind \
the clockwork that turned the light, and how to read the barometer in the hallway, which she said \
was more honest than any forecast from the mainland. On her last evening she gave him a piece of \
advice he did not understand until much later. "Write down what you notice," she said, "not what \
you expect. The sea will teach you the difference if you let it."

For the first months he did as he was told and no more. He lit the lamp, he put it out, he filled \
the log. The supply boat came every second Thursday with oil, flour, tea, letters and newspapers \
that were already a week old. He read the newspapers slowly, to make them last, and found that \
the news mattered less to him each time. What mattered was whether the boat could land at all, \
and that depended on the swell at the north landing, which he learned to judge from the way the \
kelp moved below the steps.

In the autumn a storm came in from the west and did not leave for four days. The lamp had to be \
kept burning through the afternoons because the rain turned day into dusk. On the second night a \
fishing boat lost its rudder and drifted toward the reef below the point. He saw its light, then \
lost it, then saw it again much closer. There was nothing he could do from the tower except keep \
his own light steady and hope the crew could use it. At dawn the boat was gone, and he did not \
know whether it had sunk or found its way into the bay. He wrote the facts in the official log. \
In his own notebook he wrote that he had never felt so useless and so necessary at the same time.

A week later a letter came with the supply boat. It was from the skipper of the fishing boat, who \
had rigged an oar as a rudder and steered by keeping the lighthouse on his port side until the \
sea calmed enough to turn for home. He thanked the keeper for the light. The keeper read the \
letter three times and then pinned it above his desk, next to the tide tables.

After that he began to understand what Agnes Hale had meant. He started to notice how the sea \
changed before the weather did: a long, low swell from a storm that was still two days away, a \
flatness in the colour of the water before fog, the sudden quiet of the birds. He wrote these \
things down, and over the years the second notebook became more useful than the first. When \
younger keepers came to the point for training, he let them read it, and he told them what he \
had been told: write down what you notice, not what you expect.
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dequantized_weights(path: Path) -> dict[str, np.ndarray]:
    """Every tensor as float32 in [rows, columns] layout, as gguf-py decodes the stored blocks."""
    reader = gguf.GGUFReader(str(path))
    return {tensor.name: gguf.quants.dequantize(tensor.data, tensor.tensor_type) for tensor in reader.tensors}


def significant(value: float, digits: int = 7) -> float:
    return float(f"{value:.{digits}g}")


def make_golden(spec: dict) -> dict | None:
    import llama_cpp

    path = MODEL_DIRECTORY / spec["file"]
    if not path.exists():
        print(f"skipping {spec['name']}: {path} not found (run scripts/install-models.sh)")
        return None
    model = llama_cpp.Llama(
        model_path=str(path), n_ctx=1024, n_batch=1024, n_ubatch=1024, n_threads=2, n_threads_batch=2,
        logits_all=True, flash_attn=False, type_k=0, type_v=0, seed=0, verbose=False,
    )
    tokens = model.tokenize(PROMPT_TEXT.encode("utf-8"), add_bos=True, special=False)
    if len(tokens) < PROMPT_LENGTH:
        raise RuntimeError(f"{spec['name']}: the text gives only {len(tokens)} tokens")
    prompt = [int(t) for t in tokens[:PROMPT_LENGTH]]
    model.reset()
    model.eval(prompt)
    rows = np.array(model.scores[:PROMPT_LENGTH][POSITIONS], dtype=np.float64)  # [positions, vocab]
    model.close()

    exact = reference.forward(spec["config"], dequantized_weights(path), prompt, rows=POSITIONS)
    vocabulary = rows.shape[1]
    kept = []
    largest = 0.0
    for index, position in enumerate(POSITIONS):
        row = rows[index]
        order = np.argsort(-row, kind="stable")
        top = [int(t) for t in order[:TOP_COUNT]]
        rng = np.random.default_rng(position)
        sample = [int(t) for t in rng.choice(np.setdiff1d(np.arange(vocabulary), top), SAMPLE_COUNT, replace=False)]
        ids = top + sample
        largest = max(largest, float(np.abs(exact[index][ids] - row[ids]).max() / (row.max() - row.min())))
        kept.append({
            "position": position,
            "top": [[t, significant(row[t])] for t in top],
            "sample": [[t, significant(row[t])] for t in sample],
            "exact": [significant(exact[index][t]) for t in ids],
            "minimum": significant(row.min()),
            "maximum": significant(row.max()),
        })
    golden = {
        "model": spec["file"],
        "modelBytes": path.stat().st_size,
        "modelSHA256": sha256(path),
        "llamaCppPythonVersion": llama_cpp.__version__,
        "architecture": spec["config"]["arch"],
        "weights": spec["weights"],
        "vocabularySize": vocabulary,
        "prompt": prompt,
        "rows": kept,
        "exactMaxAbsDifference": significant(largest, 4),
    }
    OUTPUT_DIRECTORY.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIRECTORY / f"{spec['name']}.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"{spec['name']:8} {len(prompt)} tokens, {len(POSITIONS)} rows; llama.cpp vs float64 max |Δ| / range "
          f"{largest:.3g}")
    return golden


def main() -> None:
    for spec in MODELS:
        make_golden(spec)


if __name__ == "__main__":
    main()
