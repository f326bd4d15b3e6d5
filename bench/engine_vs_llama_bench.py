#!/usr/bin/env python3
"""Kanso's engine beside llama.cpp's own `llama-bench` on the same GGUF files (bench/README.md,
"Engine"), for each of Kanso's kernel variants.

For each file, thread count and round, it runs the release `kanso-bench-engine --throughput-only`
once per kernel variant (KANSO_KERNELS=avx512, avx2, ...), then `llama-bench` (the binary built
from llama.cpp's sources, with the host's instruction sets), alternating, and each keeps its best:
- pp128: 128 prompt tokens in one batch into an empty KV cache, tokens/s of the best run
  (llama-bench -p 128: its default batch and ubatch hold them in one);
- tg64: 64 tokens one at a time, tokens/s of the best run (Kanso after an 8-token prompt,
  llama-bench from an empty cache);
- peak RSS of the process (Kanso's VmHWM against file + KV cache + 64 MiB; llama-bench's
  ru_maxrss, for reference: it keeps repacked copies of some weights beside the mapped file).
llama-bench keeps its defaults otherwise (f16 KV cache, flash attention auto, weight repacking,
mmap); Kanso its own (f32 KV cache, packed weights through a packed-weight cache folder).

    python3 scripts/make_bench_models.py
    swift build -c release --product kanso-bench-engine
    python3 bench/engine_vs_llama_bench.py --threads 1 2 --rounds 3

The default files are the real models that scripts/install-models.sh installs and the bench files
of scripts/make_bench_models.py (bench/out/), those present;
the raw JSON lines also go to bench/out/engine_vs_llama_bench.jsonl.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from engine_vs_llamacpp import OUT, ROOT, cpu_model, load_average, mib, run_lines


def model_directory() -> Path:
    """Where scripts/install-models.sh puts the real models (as it decides)."""
    if os.environ.get("KANSO_MODEL_DIR"):
        return Path(os.environ["KANSO_MODEL_DIR"])
    if os.getuid() == 0:
        return Path("/var/lib/kanso/models")
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "kanso/models"


REAL_MODELS = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]
BENCH_FILES = [
    "smollm2-135m-f16", "smollm2-135m-bf16", "smollm2-135m-q8_0", "smollm2-135m-q4_0", "smollm2-135m-q4_1",
    "smollm2-135m-q5_0", "smollm2-135m-q5_1", "smollm2-135m-iq4_nl", "smollm2-135m-q4_k_m",
    "llama-1b-q8_0", "llama-1b-q4_0", "llama-1b-q4_k_m", "llama-1b-q5_k_m", "llama-1b-q6_k", "llama-1b-iq4_xs",
]


def llama_bench(binary: Path, model: Path, threads: int, runs: int) -> dict:
    """llama-bench's pp128 and tg64 (best sample, tokens/s) and its peak RSS in bytes."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen([str(binary), "-m", str(model), "-t", str(threads), "-p", "128", "-n", "64",
                                    "-r", str(runs), "-o", "jsonl"], stdout=subprocess.PIPE, stderr=errors, text=True)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # (this child's own resource usage)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"llama-bench failed ({process.returncode}): {errors.read().strip()[-2000:]}")
    result = {"peak_rss_bytes": usage.ru_maxrss * 1024}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        name = "pp128" if entry["n_prompt"] > 0 else "tg64"
        result[name] = {"tokens_per_second": max(entry["samples_ts"]), "samples": entry["samples_ts"]}
    return result


def kanso(engine: Path, model: Path, threads: int, runs: int, variant: str, cache: list[str]) -> dict:
    environment = dict(os.environ, KANSO_KERNELS=variant)
    command = [str(engine), "--model", str(model), "--threads", str(threads), "--runs", str(runs), "--throughput-only"] + cache
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} (KANSO_KERNELS={variant}) failed: {result.stderr.strip()[-2000:]}")
    lines = {line["measurement"]: line for line in map(json.loads, filter(lambda l: l.startswith("{"), result.stdout.splitlines()))}
    if lines["pp128"]["kernels"] != variant:
        raise RuntimeError(f"asked for {variant} kernels, {lines['pp128']['kernels']} ran")
    return lines


def table(rows: list[dict]) -> str:
    header = ("| file | threads | kernels | pp128 Kanso | pp128 llama.cpp | pp ratio | tg64 Kanso | tg64 llama.cpp | "
              "tg ratio | Kanso peak RSS / budget MiB | llama.cpp peak RSS MiB | load |")
    lines = [header, "|" + "---|" * 12]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['file']} | {row['threads']} | {row['kernels']} | error: {row['error'][:120]} |" + " |" * 8)
            continue
        k, l = row["kanso"], row["llama"]
        pp = (k["pp128"]["tokens_per_second"], l["pp128"]["tokens_per_second"])
        tg = (k["tg64"]["tokens_per_second"], l["tg64"]["tokens_per_second"])
        memory = k["memory"]
        over = "" if memory["peak_rss_bytes"] <= memory["budget_bytes"] else " (over)"
        lines.append(f"| {row['file']} | {row['threads']} | {row['kernels']} | {pp[0]:.1f} | {pp[1]:.1f} | {pp[0] / pp[1]:.2f} | "
                     f"{tg[0]:.1f} | {tg[1]:.1f} | {tg[0] / tg[1]:.2f} | {mib(memory['peak_rss_bytes'])} / "
                     f"{mib(memory['budget_bytes'])}{over} | {mib(l['peak_rss_bytes'])} | {row['load']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Kanso engine vs llama.cpp's llama-bench on the same GGUF files")
    parser.add_argument("--models", nargs="+", type=Path, help="GGUF files (default: the real models and bench/out/*.gguf)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--variants", nargs="+", default=["avx512", "avx2"],
                        help="Kanso's kernel variants (KANSO_KERNELS), each measured beside llama.cpp")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement and round (best counts)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the engines per file and thread count")
    parser.add_argument("--engine", type=Path, default=ROOT / ".build" / "release" / "kanso-bench-engine")
    parser.add_argument("--llama-bench", type=Path, default=shutil.which("llama-bench"),
                        help="llama.cpp's llama-bench binary (default: the one on PATH)")
    parser.add_argument("--packed-cache", default=str(OUT / "packed-cache"), metavar="DIR",
                        help="Kanso's packed-weight cache folder ('none': pack in memory at every load)")
    arguments = parser.parse_args()
    candidates = [model_directory() / name for name in REAL_MODELS] + [OUT / f"{name}.gguf" for name in BENCH_FILES]
    models = arguments.models or [path for path in candidates if path.exists()]
    for path in (arguments.engine, arguments.llama_bench):
        if path is None or not Path(path).exists():
            parser.error(f"{path or 'llama-bench'} not found (--engine, --llama-bench)")
    cache = [] if arguments.packed_cache == "none" else ["--packed-cache", arguments.packed_cache]
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs ({cpu_model()}), {arguments.llama_bench}, "
          f"runs {arguments.runs}, rounds {arguments.rounds}, load average {load_average()}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(OUT / "engine_vs_llama_bench.jsonl", "a") as raw:
        for model in models:
            for threads in arguments.threads:
                load_before = load_average()
                best: dict = {variant: {} for variant in arguments.variants + ["llama.cpp"]}
                error = None
                try:
                    for round_index in range(arguments.rounds):
                        measured = {variant: kanso(arguments.engine, model, threads, arguments.runs, variant, cache)
                                    for variant in arguments.variants}
                        measured["llama.cpp"] = llama_bench(arguments.llama_bench, model, threads, arguments.runs)
                        for engine, lines in measured.items():
                            record = {"file": model.name, "threads": threads, "engine": engine, "round": round_index + 1,
                                      "load": load_average(), **lines}
                            raw.write(json.dumps(record, sort_keys=True) + "\n")
                            print(json.dumps(record, sort_keys=True), flush=True)
                            keep(best[engine], lines)
                except (RuntimeError, KeyError, json.JSONDecodeError) as failure:
                    error = str(failure)
                    print(f"# {model.name} threads {threads}: {failure}", file=sys.stderr, flush=True)
                for variant in arguments.variants:
                    row = {"file": model.name.removesuffix(".gguf"), "threads": threads, "kernels": variant,
                           "load": f"{load_before} → {load_average()}"}
                    if error:
                        row["error"] = error
                    else:
                        row["kanso"], row["llama"] = best[variant], best["llama.cpp"]
                    rows.append(row)
    print()
    print(table(rows))


def keep(best: dict, lines: dict) -> None:
    """Keeps the fastest pp128 and tg64 and the highest peak RSS (with its budget) of the rounds."""
    for name in ("pp128", "tg64"):
        if name not in best or lines[name]["tokens_per_second"] > best[name]["tokens_per_second"]:
            best[name] = lines[name]
    if "memory" in lines and ("memory" not in best or lines["memory"]["peak_rss_bytes"] > best["memory"]["peak_rss_bytes"]):
        best["memory"] = lines["memory"]
    if "peak_rss_bytes" in lines:
        best["peak_rss_bytes"] = max(best.get("peak_rss_bytes", 0), lines["peak_rss_bytes"])


if __name__ == "__main__":
    main()
