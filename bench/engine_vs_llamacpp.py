#!/usr/bin/env python3
"""Kanso's engine beside llama.cpp on the same GGUF files, in one run (bench/README.md, "Engine").

For each file and thread count it runs the release `kanso-bench-engine`, then llama.cpp through
llama-cpp-python in a child process (so neither shares memory or threads with the other), each
measuring the same way:
- pp128: 128 prompt tokens evaluated in one batch into an empty KV cache (llama.cpp: n_batch and
  n_ubatch 256, so one ubatch), tokens/s of the best of N runs after one warm-up run;
- tg64: after an 8-token prompt, 64 tokens one at a time, each the argmax of the previous logits,
  tokens/s of the best of N runs after one warm-up run;
- ttft: opening the file to the first token of a short text prompt (page cache warm), best of N;
- peak RSS (VmHWM / ru_maxrss); Kanso's is compared with file size + KV cache + 64 MiB.
With --rounds N, each file and thread count is measured N times, the two engines alternating
(Kanso, llama.cpp, Kanso, ...), and each engine keeps its best pp128, tg64 and TTFT and its
highest peak RSS: on a shared host the memory bandwidth that neighbours leave comes and goes
within minutes, and one unlucky stretch would otherwise decide a ratio.
With --busy-cores N, N other processes spin on the CPU the whole time (a machine that is not
idle: another program, a neighbour on a shared host), so both engines share their cores.
Kanso loads through a packed-weight cache folder (--packed-cache, as kansod keeps one): its
warm-up load packs the weights and writes the cache file, the timed loads map it.
Both engines see the same token ids (`benchmark_token`, the formula of the Swift side), a context
of 256 and each library's default KV cache type (f16 for both); llama.cpp keeps its
defaults otherwise (mmap, flash attention off, weight repacking on), as llama-bench does. Timing
goes through `Llama.eval` (set_batch + llama_decode, no logits copy) and `llama_get_logits_ith`
for the argmax; llama-bench itself is not shipped with the Python package.

    swift build -c release --product kanso-bench-engine
    python3 scripts/make_bench_models.py
    python3 bench/engine_vs_llamacpp.py --runs 3        # all of bench/out/*.gguf, 1 and 2 threads

The raw JSON lines also go to bench/out/engine_vs_llamacpp.jsonl.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PROMPT_LENGTH = 128
GENERATION_LENGTH = 64
GENERATION_PROMPT_LENGTH = 8
CONTEXT_LENGTH = 256
TTFT_TEXT = "Once upon a time, there was a little robot who"
DEFAULT_ORDER = [
    "llama-1b-q8_0", "llama-1b-q4_0", "llama-1b-q4_k_m",
    "smollm2-135m-q8_0", "smollm2-135m-q4_0", "smollm2-135m-q4_k_m",
]


def benchmark_token(index: int, vocabulary: int) -> int:
    """As benchmarkToken(_:vocabulary:) in bench/EngineBench/main.swift."""
    return (index * 7919 + 104_729) % vocabulary


def llama_worker(model: str, threads: int, runs: int) -> None:
    """Runs in a child process: llama.cpp's measurements as JSON lines on stdout."""
    import numpy as np
    import llama_cpp

    name = Path(model).name
    common = {"model": name, "threads": threads, "engine": "llama.cpp", "version": llama_cpp.__version__}

    def report(fields: dict) -> None:
        print(json.dumps({**common, **fields}, sort_keys=True), flush=True)

    with open(model, "rb") as handle:  # page cache warm, as on the Kanso side
        while handle.read(8 << 20):
            pass

    def load() -> "llama_cpp.Llama":
        return llama_cpp.Llama(model_path=model, n_ctx=CONTEXT_LENGTH, n_batch=CONTEXT_LENGTH,
                               n_ubatch=CONTEXT_LENGTH, n_threads=threads, n_threads_batch=threads,
                               verbose=False)

    def last_logits(llm: "llama_cpp.Llama", vocabulary: int):
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(vocabulary,))

    first_token_ms = []
    llm = None
    for _ in range(runs):
        llm = None
        start = time.perf_counter()
        loaded = load()
        prompt = loaded.tokenize(TTFT_TEXT.encode(), add_bos=True)
        loaded.eval(prompt)
        int(np.argmax(last_logits(loaded, loaded.n_vocab())))
        first_token_ms.append((time.perf_counter() - start) * 1000)
        llm = loaded
    report({"measurement": "ttft", "milliseconds": round(min(first_token_ms), 2),
            "runs_milliseconds": [round(value, 2) for value in first_token_ms]})

    vocabulary = llm.n_vocab()
    tokens = [benchmark_token(i, vocabulary) for i in range(PROMPT_LENGTH)]
    prompt_seconds = []
    for run in range(runs + 1):  # run 0 is the warm-up
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        seconds = time.perf_counter() - start
        if not np.isfinite(last_logits(llm, vocabulary)).all():
            raise SystemExit(f"{name}: llama.cpp logits are not finite after the prompt")
        if run > 0:
            prompt_seconds.append(seconds)
    report({"measurement": f"pp{PROMPT_LENGTH}", "tokens": PROMPT_LENGTH,
            "tokens_per_second": round(PROMPT_LENGTH / min(prompt_seconds), 2),
            "runs_seconds": [round(value, 4) for value in prompt_seconds]})

    generation_seconds = []
    for run in range(runs + 1):
        llm.reset()
        llm.eval(tokens[:GENERATION_PROMPT_LENGTH])
        token = int(np.argmax(last_logits(llm, vocabulary)))
        generated = [token]
        start = time.perf_counter()
        for _ in range(GENERATION_LENGTH):
            llm.eval([token])
            token = int(np.argmax(last_logits(llm, vocabulary)))
            generated.append(token)
        seconds = time.perf_counter() - start
        if not np.isfinite(last_logits(llm, vocabulary)).all():
            raise SystemExit(f"{name}: llama.cpp logits are not finite after generation")
        if run > 0:
            generation_seconds.append(seconds)
    report({"measurement": f"tg{GENERATION_LENGTH}", "tokens": GENERATION_LENGTH,
            "tokens_per_second": round(GENERATION_LENGTH / min(generation_seconds), 2),
            "runs_seconds": [round(value, 4) for value in generation_seconds], "generated": generated})
    report({"measurement": "memory", "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})


def run_lines(command: list[str]) -> list[dict]:
    """Runs a measuring process and returns its JSON lines (raises with its stderr on failure)."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def by_measurement(lines: list[dict]) -> dict[str, dict]:
    return {line["measurement"]: line for line in lines}


def best_of_rounds(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """One engine's measurements over several rounds: the fastest pp128 and tg64, the shortest
    TTFT, the highest peak RSS (the budget is checked against the worst), the rest of round one."""
    merged = dict(rounds[0])
    for name, pick in ((f"pp{PROMPT_LENGTH}", lambda line: line["tokens_per_second"]),
                       (f"tg{GENERATION_LENGTH}", lambda line: line["tokens_per_second"]),
                       ("ttft", lambda line: -line["milliseconds"]),
                       ("memory", lambda line: line["peak_rss_bytes"])):
        candidates = [measurements[name] for measurements in rounds if name in measurements]
        if candidates:
            merged[name] = dict(max(candidates, key=pick), rounds=len(candidates))
    return merged


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mib(value: float) -> str:
    return f"{value / 2**20:.0f}"


def agreement(kanso: dict, llama: dict) -> str:
    """How many greedy tokens (first one after the prompt, then the 64 generated) match before the
    first difference: both engines computing the same model agree on most of them."""
    ours, theirs = kanso.get("generated", []), llama.get("generated", [])
    same = 0
    while same < min(len(ours), len(theirs)) and ours[same] == theirs[same]:
        same += 1
    return f"{same}/{min(len(ours), len(theirs))}"


def table(rows: list[dict]) -> str:
    header = ("| file | threads | pp128 Kanso | pp128 llama.cpp | pp ratio | tg64 Kanso | tg64 llama.cpp | "
              "tg ratio | TTFT Kanso ms | TTFT llama.cpp ms | Kanso peak RSS MiB | budget MiB | same greedy | load |")
    lines = [header, "|" + "---|" * 14]
    for row in rows:
        kanso, llama = row["kanso"], row["llama"]
        if "error" in row:
            lines.append(f"| {row['file']} | {row['threads']} | error: {row['error'][:120]} |" + " |" * 11)
            continue
        pp = (kanso["pp128"]["tokens_per_second"], llama["pp128"]["tokens_per_second"])
        tg = (kanso["tg64"]["tokens_per_second"], llama["tg64"]["tokens_per_second"])
        memory = kanso["memory"]
        over = "" if memory["within_budget"] else " (over)"
        lines.append(
            f"| {row['file']} | {row['threads']} | {pp[0]:.1f} | {pp[1]:.1f} | {pp[0] / pp[1]:.2f} | "
            f"{tg[0]:.1f} | {tg[1]:.1f} | {tg[0] / tg[1]:.2f} | {kanso['ttft']['milliseconds']:.0f} | "
            f"{llama['ttft']['milliseconds']:.0f} | {mib(memory['peak_rss_bytes'])}{over} | "
            f"{mib(memory['budget_bytes'])} | {agreement(kanso['tg64'], llama['tg64'])} | {row['load']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Kanso engine vs llama.cpp on the same GGUF files")
    parser.add_argument("--models", nargs="+", help="GGUF files (default: bench/out/*.gguf of make_bench_models.py)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement (best counts), after a warm-up")
    parser.add_argument("--engine", default=str(ROOT / ".build" / "release" / "kanso-bench-engine"),
                        help="the release kanso-bench-engine binary")
    parser.add_argument("--packed-cache", default=str(OUT / "packed-cache"), metavar="DIR",
                        help="kanso's packed-weight cache folder, as the daemon keeps one (its first load of a file "
                             "fills it); 'none' packs in memory at every load")
    parser.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="measure each file and thread count N times, alternating the engines; each keeps its best")
    parser.add_argument("--busy-cores", type=int, default=0, metavar="N",
                        help="keep N busy-loop processes running beside both engines (cores shared with other work)")
    parser.add_argument("--llama-worker", metavar="MODEL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.runs < 1 or arguments.rounds < 1 or any(count < 1 for count in arguments.threads):
        parser.error("--runs, --rounds and --threads need positive numbers")
    if arguments.busy_cores < 0:
        parser.error("--busy-cores needs 0 or more")

    if arguments.llama_worker:
        llama_worker(arguments.llama_worker, arguments.threads[0], arguments.runs)
        return

    if arguments.models:
        models = [Path(model) for model in arguments.models]
    else:
        models = [OUT / f"{name}.gguf" for name in DEFAULT_ORDER if (OUT / f"{name}.gguf").exists()]
    if not models:
        parser.error("no GGUF files: run scripts/make_bench_models.py or pass --models")
    if not Path(arguments.engine).exists():
        parser.error(f"{arguments.engine} not found: swift build -c release --product kanso-bench-engine")

    import llama_cpp

    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs ({cpu_model()}), llama-cpp-python "
          f"{llama_cpp.__version__}, runs {arguments.runs}, rounds {arguments.rounds}, load average {load_average()}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(arguments.busy_cores)]
    if busy:
        print(f"# {len(busy)} busy-loop process(es) running beside both engines", flush=True)
    try:
        measure(arguments, models, rows)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print()
    print(table(rows))


def measure(arguments: argparse.Namespace, models: list[Path], rows: list[dict]) -> None:
    """Both engines on every file and thread count, one row each into `rows`."""
    with open(OUT / "engine_vs_llamacpp.jsonl", "a") as raw:
        for model in models:
            for threads in arguments.threads:
                row = {"file": model.name.removesuffix(".gguf"), "threads": threads, "load": load_average()}
                try:
                    cache = [] if arguments.packed_cache == "none" else ["--packed-cache", arguments.packed_cache]
                    kanso_rounds, llama_rounds = [], []
                    for round_index in range(arguments.rounds):
                        kanso = run_lines([arguments.engine, "--model", str(model), "--threads", str(threads),
                                           "--runs", str(arguments.runs)] + cache)
                        llama = run_lines([sys.executable, __file__, "--llama-worker", str(model),
                                           "--threads", str(threads), "--runs", str(arguments.runs)])
                        kanso_rounds.append(by_measurement(kanso))
                        llama_rounds.append(by_measurement(llama))
                        for line in kanso + llama:
                            line = dict(line, round=round_index + 1)
                            raw.write(json.dumps(line, sort_keys=True) + "\n")
                            print(json.dumps(line, sort_keys=True), flush=True)
                    row["kanso"], row["llama"] = best_of_rounds(kanso_rounds), best_of_rounds(llama_rounds)
                except (RuntimeError, json.JSONDecodeError, KeyError) as error:
                    row["error"] = str(error)
                    row["kanso"] = row["llama"] = {}
                    print(f"# {row['file']} threads {threads}: {error}", file=sys.stderr, flush=True)
                row["load"] += " → " + load_average()
                rows.append(row)


if __name__ == "__main__":
    main()
