#!/usr/bin/env python3
"""Many clients, one model: streams decoded at once through the daemon, beside llama.cpp's
`llama-batched-bench` on the same file (issue 26, continuous batching).

Kanso: the release `kansod` on a private socket in a temporary folder, one raw predict agent on the
model (temperature 0, max_tokens TOKENS, a context of at least 256, priority normal, a packed-weight
cache folder of its own, `--threads` per worker; `--max-sequences N` is passed to kansod only when
this script is given `--max-sequences`). One warm-up call (TOKENS tokens) loads the model. Then, for each stream
count N, N client threads, each on its own connection, are released together by a barrier and each
sends a streamed `io.kanso.Agents.Predict` of its own text ("Story K: Once upon a time, ...", K new
for every stream of every run, so no prompt is reused) for TOKENS tokens. Each stream records its
time to first piece (TTFT, from the barrier), the time of its last reply and its generated tokens
(the final reply's `generatedTokens`; fewer than TOKENS if the model ends its text).
- aggregate tokens/s: all streams' generated tokens over (last stream's end - start): prompts and
  waiting in the queue are inside it;
- per-stream tokens/s: a stream's generated tokens after the first over (its end - its first piece);
  the table shows the median over the streams;
- TTFT p50 and max over the streams.
Each point is run RUNS times; the run with the best aggregate is kept (its per-stream figures too).

llama.cpp: `llama-batched-bench` on the same file, `-t THREADS -c CTX -b 2048 -ub 512 -npp P
-ntg TOKENS -npl <the stream counts>`, P the Kanso prompt's length in tokens (counted with
llama-cpp-python's tokenizer when it is importable, else 16; `--prompt-tokens` sets it), CTX large
enough for every B (the tool silently skips a B whose B*(P+TOKENS) exceeds it). Its S_TG t/s at B
is the aggregate generation rate of B sequences decoded together, prompts NOT included (so it is
a ceiling for Kanso's aggregate, which includes its prompts). Run RUNS times, best S_TG per B kept.
The two sides alternate per model (Kanso then llama.cpp), so the load of the machine falls on both.

The table per model goes to stdout (the command line first), progress to stderr, and one JSON line
per model and stream count is appended to --out.

    swift build -c release --product kansod
    python3 bench/batched_streams.py                       # SmolLM2-135M Q4_1 and the 1B Q4_K_M bench file
    python3 bench/batched_streams.py --max-sequences       # once kansod decodes sequences together
    python3 bench/batched_streams.py --models bench/out/smollm2-135m-q4_0.gguf --streams 1 2 4 --runs 1 --tokens 32
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from daemon_vs_llamacpp import Varlink, default_model_folder  # the same folder: one Varlink client for the benches

ROOT = Path(__file__).resolve().parent.parent
STORY = "Once upon a time, there was a little robot who"
DEFAULT_MODELS = ["SmolLM2-135M-Instruct.Q4_1.gguf", str(ROOT / "bench" / "out" / "llama-1b-q4_k_m.gguf")]
DEFAULT_BATCHED_BENCH = "/work/llama/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin/llama-batched-bench"
FALLBACK_PROMPT_TOKENS = 16
STREAM_TIMEOUT_SECONDS = 1800


def story(number: int) -> str:
    return f"Story {number}: {STORY}"


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


class Daemon:
    """The release kansod on a private socket with one raw predict agent on the model."""

    def __init__(self, arguments: argparse.Namespace, model: Path, folder: Path):
        agents = folder / "agents"
        agents.mkdir(parents=True, exist_ok=True)
        context = max(256, -(-(arguments.tokens + 64) // 256) * 256)
        (agents / "bench.toml").write_text(
            f'name = "bench"\ntask = "predict"\nmodel = "{model}"\nprompt = "{{text}}"\npriority = "normal"\n'
            f'keep_alive = "10m"\ncontext_length = {context}\nmax_tokens = {arguments.tokens}\n[sampling]\ntemperature = 0\n')
        self.path = str(folder / "kansod.sock")
        self.command = [arguments.kansod, "--socket", self.path, "--agents", str(agents), "--threads", str(arguments.threads),
                        "--cache-directory", str(folder / "cache"), "--state-directory", str(folder / "state"),
                        "--log-level", "warning"]
        if arguments.max_sequences is not None:
            self.command += ["--max-sequences", str(arguments.max_sequences)]
        self.errors_path = folder / "kansod.stderr"
        self.errors = open(self.errors_path, "wb")
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=self.errors)
        self.context = context

    def errors_tail(self) -> str:
        self.errors.flush()
        return self.errors_path.read_text(errors="replace")[-2000:].strip()

    def connect(self) -> Varlink:
        for _ in range(400):
            if self.process.poll() is not None:
                raise RuntimeError(f"kansod exited with status {self.process.returncode}: {self.errors_tail()}")
            try:
                client = Varlink(self.path, timeout=STREAM_TIMEOUT_SECONDS)
                client.call("org.varlink.service.GetInfo", {})
                return client
            except (OSError, RuntimeError):
                time.sleep(0.025)
        raise RuntimeError(f"kansod did not answer: {self.errors_tail()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()


def kanso_run(path: str, streams: int, tokens: int, first_story: int) -> dict:
    """One run of STREAMS streams released together; per-stream and aggregate figures."""
    clients = [Varlink(path, timeout=STREAM_TIMEOUT_SECONDS) for _ in range(streams)]
    barrier = threading.Barrier(streams)
    results: list[dict | None] = [None] * streams

    def stream(index: int) -> None:
        text = story(first_story + index)
        try:
            barrier.wait()
            start = time.perf_counter()
            first, last, final = clients[index].streamed("io.kanso.Agents.Predict",
                                                         {"agent": "bench", "text": text, "maxTokens": tokens})
            results[index] = {"start": start, "first": start + first, "end": start + last, "tokens": final.get("generatedTokens") or 0,
                              "stop_reason": final.get("stopReason"), "text": text}
        except Exception as error:  # noqa: BLE001 - reported with the run
            barrier.abort()
            results[index] = {"error": f"{type(error).__name__}: {error}", "text": text}

    threads = [threading.Thread(target=stream, args=(index,)) for index in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    failures = [result["error"] for result in results if "error" in result]
    if failures:
        raise RuntimeError(f"{len(failures)} of {streams} streams failed: {failures[0]}")
    start = min(result["start"] for result in results)
    end = max(result["end"] for result in results)
    total = sum(result["tokens"] for result in results)
    per_stream = []
    for result in results:
        rate = (result["tokens"] - 1) / (result["end"] - result["first"]) \
            if result["tokens"] > 1 and result["end"] > result["first"] else 0.0
        per_stream.append({"ttft_ms": (result["first"] - result["start"]) * 1000,
                           "end_ms": (result["end"] - start) * 1000, "tokens": result["tokens"],
                           "tokens_per_second": rate, "stop_reason": result["stop_reason"], "text": result["text"]})
    ttfts = [entry["ttft_ms"] for entry in per_stream]
    return {"aggregate_tokens_per_second": total / (end - start), "generated_tokens": total, "seconds": end - start,
            "per_stream_tokens_per_second_median": statistics.median(entry["tokens_per_second"] for entry in per_stream),
            "ttft_ms_p50": statistics.median(ttfts), "ttft_ms_max": max(ttfts), "streams": per_stream}


def kanso(arguments: argparse.Namespace, model: Path) -> tuple[dict[int, dict], str]:
    """Per stream count: the best run's figures (and every run's aggregate). Also kansod's command line."""
    figures: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kanso-batched-bench-") as folder:
        daemon = Daemon(arguments, model, Path(folder))
        try:
            client = daemon.connect()
            # The first load packs the weights and writes the cache; the model stays loaded (keep_alive 10m).
            client.streamed("io.kanso.Agents.Predict", {"agent": "bench", "text": story(0), "maxTokens": arguments.tokens})
            client.close()
            next_story = 1
            for streams in arguments.streams:
                runs = []
                for run in range(arguments.runs):
                    runs.append(kanso_run(daemon.path, streams, arguments.tokens, next_story))
                    next_story += streams
                    note(f"  kanso {model.name} streams {streams} run {run + 1}: "
                         f"{runs[-1]['aggregate_tokens_per_second']:.1f} t/s aggregate, "
                         f"TTFT max {runs[-1]['ttft_ms_max']:.0f} ms, load {load_average()}")
                best = max(runs, key=lambda entry: entry["aggregate_tokens_per_second"])
                best["runs_aggregate_tokens_per_second"] = [round(entry["aggregate_tokens_per_second"], 2) for entry in runs]
                figures[streams] = best
        finally:
            daemon.stop()
    return figures, shlex.join(daemon.command).replace(folder, "$TMP")


def prompt_tokens(model: Path) -> int | None:
    """The Kanso prompt's length in tokens with llama.cpp's tokenizer (in a child process: its log is noisy)."""
    process = subprocess.run([sys.executable, __file__, "--count-tokens", str(model)],
                             capture_output=True, text=True)
    if process.returncode != 0 or not process.stdout.strip():
        return None
    return int(process.stdout.split()[-1])


def count_tokens(model: str) -> None:
    """Runs in a child process: the median token count of the story prompts, BOS as the model adds it."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)
    counts = [len(llm.tokenize(story(number).encode(), add_bos=True)) for number in (1, 9, 10, 42, 99)]
    print(statistics.median_low(counts), flush=True)


TABLE_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+|inf|nan)\s*\|"
                       r"\s*([\d.]+)\s*\|\s*([\d.]+|inf|nan)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+|inf|nan)\s*\|\s*$")


def parse_batched_bench(output: str) -> dict[int, dict]:
    """Rows of llama-batched-bench's output by B: JSON lines (--output-format jsonl) or its markdown table."""
    rows: dict[int, dict] = {}
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{") and '"speed_tg"' in line:
            entry = json.loads(line)
            rows[int(entry["pl"])] = {"pp": entry["pp"], "tg": entry["tg"], "n_kv": entry["n_kv"], "t_pp": entry["t_pp"],
                                      "s_pp": entry["speed_pp"], "t_tg": entry["t_tg"], "s_tg": entry["speed_tg"],
                                      "t": entry["t"], "s": entry["speed"]}
        elif (match := TABLE_ROW.match(line)):
            values = match.groups()
            rows[int(values[2])] = {"pp": int(values[0]), "tg": int(values[1]), "n_kv": int(values[3]),
                                    "t_pp": float(values[4]), "s_pp": float(values[5]), "t_tg": float(values[6]),
                                    "s_tg": float(values[7]), "t": float(values[8]), "s": float(values[9])}
    return rows


def llama(arguments: argparse.Namespace, model: Path, prompt_length: int) -> tuple[dict[int, dict], str] | None:
    """llama-batched-bench's rows by B, the best S_TG of the runs; None when the tool is absent."""
    binary = Path(arguments.batched_bench)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print(f"# llama-batched-bench not found at {binary}: the llama.cpp side is skipped", flush=True)
        return None
    context = max(arguments.streams) * (prompt_length + arguments.tokens)
    context = -(-context // 256) * 256
    command = [str(binary), "-m", str(model), "-t", str(arguments.threads), "-c", str(context), "-b", "2048", "-ub", "512",
               "-npp", str(prompt_length), "-ntg", str(arguments.tokens),
               "-npl", ",".join(str(streams) for streams in arguments.streams), "--output-format", "jsonl"]
    runs: dict[int, list[dict]] = {}
    for run in range(arguments.runs):
        process = subprocess.run(command, capture_output=True, text=True)
        rows = parse_batched_bench(process.stdout + "\n" + process.stderr)
        if process.returncode != 0 or not rows:
            tail = (process.stderr or process.stdout)[-1500:].strip()
            raise RuntimeError(f"llama-batched-bench failed (status {process.returncode}): {shlex.join(command)}\n{tail}")
        for streams, row in rows.items():
            runs.setdefault(streams, []).append(row)
        note(f"  llama.cpp {model.name} run {run + 1}: " +
             ", ".join(f"B={streams} {row['s_tg']:.1f}" for streams, row in sorted(rows.items())) + f" t/s, load {load_average()}")
    best = {streams: {**max(rows, key=lambda row: row["s_tg"]), "runs_s_tg": [round(row["s_tg"], 2) for row in rows]}
            for streams, rows in runs.items()}
    missing = [streams for streams in arguments.streams if streams not in best]
    if missing:
        print(f"# llama-batched-bench gave no row for B = {missing} (context {context})", flush=True)
    return best, shlex.join(command)


def main() -> None:
    parser = argparse.ArgumentParser(description="Many streams on one model through kansod, beside llama-batched-bench")
    parser.add_argument("--models", nargs="+", help="GGUF files (default: SmolLM2-135M-Instruct.Q4_1.gguf from the model "
                        "folder and bench/out/llama-1b-q4_k_m.gguf)")
    parser.add_argument("--streams", nargs="+", type=int, default=[1, 2, 4, 8, 16], help="stream counts (default 1 2 4 8 16)")
    parser.add_argument("--tokens", type=int, default=128, help="tokens each stream generates (default 128)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the worker and of llama.cpp (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs per point, the best aggregate kept (default 3)")
    parser.add_argument("--max-sequences", type=int, nargs="?", const=16, default=None, metavar="N",
                        help="pass --max-sequences N (default N 16) to kansod; without it nothing is passed")
    parser.add_argument("--prompt-tokens", type=int, help="llama-batched-bench's -npp (default: the Kanso prompt's "
                        f"token count, or {FALLBACK_PROMPT_TOKENS} when it cannot be counted)")
    parser.add_argument("--kansod", default=str(ROOT / ".build" / "release" / "kansod"))
    parser.add_argument("--batched-bench", default=DEFAULT_BATCHED_BENCH)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "batched_streams.jsonl"),
                        help="JSON lines appended here (default bench/out/batched_streams.jsonl)")
    parser.add_argument("--count-tokens", metavar="MODEL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.count_tokens:
        count_tokens(arguments.count_tokens)
        return
    if any(streams < 1 for streams in arguments.streams) or arguments.tokens < 2 or arguments.runs < 1:
        parser.error("stream counts and runs must be at least 1, tokens at least 2")
    models = [Path(model).resolve() for model in arguments.models] if arguments.models else \
        [default_model_folder() / DEFAULT_MODELS[0], Path(DEFAULT_MODELS[1])]
    for model in models:
        if not model.is_file():
            parser.error(f"no model file at {model}")
    if not os.access(arguments.kansod, os.X_OK):
        parser.error(f"no kansod at {arguments.kansod} (swift build -c release --product kansod)")

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(arguments.kansod)))
    print(f"$ {shlex.join([Path(sys.executable).name] + sys.argv)}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, {arguments.threads} threads, "
          f"{arguments.tokens} tokens a stream, best aggregate of {arguments.runs}, commit {commit}, kansod built {built}, "
          f"max-sequences {arguments.max_sequences if arguments.max_sequences is not None else 'not passed'}, "
          f"load average {load_average()}", flush=True)
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for model in models:
        counted = prompt_tokens(model)
        prompt_length = arguments.prompt_tokens or counted or FALLBACK_PROMPT_TOKENS
        note(f"{model.name}: Kanso side (prompt of {counted if counted else '?'} tokens)")
        ours, kansod_command = kanso(arguments, model)
        note(f"{model.name}: llama.cpp side")
        theirs_result = llama(arguments, model, prompt_length)
        theirs, llama_command = theirs_result if theirs_result else ({}, None)

        print(f"\n## {model.name}\n")
        print(f"Kanso: `{kansod_command}`, prompts of ~{counted if counted else '?'} tokens. "
              + (f"llama.cpp: `{llama_command}`." if llama_command else "llama.cpp: skipped."))
        print()
        print("| streams | Kanso aggregate t/s | Kanso per-stream t/s (median) | Kanso TTFT p50 / max ms | "
              "aggregate ÷ single-stream | llama.cpp aggregate TG t/s | Kanso ÷ llama.cpp |")
        print("|" + "---|" * 7)
        single = ours.get(1, {}).get("aggregate_tokens_per_second")
        with open(out, "a") as raw:
            for streams in arguments.streams:
                point = ours[streams]
                aggregate = point["aggregate_tokens_per_second"]
                row = theirs.get(streams)
                scaling = f"{aggregate / single:.2f}" if single else "–"
                llama_text = f"{row['s_tg']:.1f}" if row else "–"
                ratio = f"{aggregate / row['s_tg']:.2f}" if row and row["s_tg"] > 0 else "–"
                print(f"| {streams} | {aggregate:.1f} | {point['per_stream_tokens_per_second_median']:.1f} | "
                      f"{point['ttft_ms_p50']:.0f} / {point['ttft_ms_max']:.0f} | {scaling} | {llama_text} | {ratio} |", flush=True)
                raw.write(json.dumps({
                    "measurement": "batched_streams", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "commit": commit, "model": model.name, "path": str(model), "streams": streams, "tokens": arguments.tokens,
                    "threads": arguments.threads, "runs": arguments.runs, "max_sequences": arguments.max_sequences,
                    "load": load_average(), "kansod_command": kansod_command, "kanso_prompt_tokens": counted,
                    "kanso": point, "aggregate_over_single": aggregate / single if single else None,
                    "llama_cpp_command": llama_command, "llama_cpp_prompt_tokens": prompt_length if llama_command else None,
                    "llama_cpp": row, "kanso_over_llama_cpp": aggregate / row["s_tg"] if row and row["s_tg"] > 0 else None,
                }) + "\n")
    print(f"\n# JSON lines appended to {out}", flush=True)


if __name__ == "__main__":
    main()
