#!/usr/bin/env python3
"""The real models through the daemon, beside llama.cpp on the same files (bench/README.md,
"Real models through the daemon").

Kanso: the release `kansod` on a private socket, one raw predict agent per model (temperature 0,
a context of 256, a packed-weight cache folder of its own, `--threads` per worker), driven over the
socket with plain Varlink (JSON + NUL) so that nothing else is timed:
- spin-up: Unload, then a streamed Predict of TEXT until its first piece (page cache warm; the
  worker's own load time is the `loadMilliseconds` Status then reports);
- warm TTFT: the model loaded, a streamed Predict of TEXT (a new text each run, so nothing of the
  prompt is reused) until its first piece;
- tokens/s: the same call's generated tokens after the first, over the time from the first piece
  to the last reply (64 tokens at most; fewer if the model ends its text).
llama.cpp (llama-cpp-python, built from the same vendored sources as the tools, in a child
process with the same thread count): load (the Llama object, file in the page cache), TTFT (load,
tokenize, prompt, first argmax), warm TTFT (the prompt again on the loaded model), and greedy
generation of 64 tokens one at a time.
Each side keeps the best of RUNS; the two alternate per model.

    swift build -c release --product kansod
    python3 bench/daemon_vs_llamacpp.py --runs 5     # the two models scripts/install-models.sh installs
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Once upon a time, there was a little robot who"
GENERATION_LENGTH = 64
CONTEXT_LENGTH = 256
DEFAULT_MODELS = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]


def default_model_folder() -> Path:
    if os.environ.get("KANSO_MODEL_DIR"):
        return Path(os.environ["KANSO_MODEL_DIR"])
    return Path("/var/lib/kanso/models") if os.getuid() == 0 else Path.home() / ".local/share/kanso/models"


class Varlink:
    """One connection to the daemon: calls, and streamed calls whose replies are timed."""

    def __init__(self, path: str, timeout: float | None = None):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(timeout)
        self.socket.connect(path)
        self.buffer = b""

    def close(self) -> None:
        self.socket.close()

    def send(self, method: str, parameters: dict, more: bool = False) -> None:
        message = {"method": method, "parameters": parameters}
        if more:
            message["more"] = True
        self.socket.sendall(json.dumps(message).encode() + b"\0")

    def receive(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise RuntimeError("the daemon closed the connection")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        reply = json.loads(message)
        if "error" in reply:
            raise RuntimeError(f"{reply['error']}: {reply.get('parameters')}")
        return reply

    def call(self, method: str, parameters: dict) -> dict:
        self.send(method, parameters)
        return self.receive()["parameters"]

    def streamed(self, method: str, parameters: dict) -> tuple[float, float, dict]:
        """Seconds to the first reply, to the last, and the last reply's parameters."""
        start = time.perf_counter()
        self.send(method, parameters, more=True)
        first = None
        while True:
            reply = self.receive()
            if first is None:
                first = time.perf_counter() - start
            if not reply.get("continues"):
                return first, time.perf_counter() - start, reply["parameters"]


def kanso(arguments: argparse.Namespace, model: Path, folder: Path) -> dict:
    """The daemon's figures for one model, best of the runs."""
    agents = folder / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    (agents / "bench.toml").write_text(
        f'name = "bench"\ntask = "predict"\nmodel = "{model}"\nprompt = "{{text}}"\nkeep_alive = "10m"\n'
        f"context_length = {CONTEXT_LENGTH}\nmax_tokens = {GENERATION_LENGTH}\n[sampling]\ntemperature = 0\n")
    path = str(folder / "kansod.sock")
    daemon = subprocess.Popen([arguments.kansod, "--socket", path, "--agents", str(agents), "--threads", str(arguments.threads),
                               "--cache-directory", str(folder / "cache"), "--state-directory", str(folder / "state"),
                               "--log-level", "warning"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                client = Varlink(path)
                client.call("org.varlink.service.GetInfo", {})
                break
            except (OSError, RuntimeError):
                time.sleep(0.025)
        else:
            raise RuntimeError("kansod did not answer")
        # The first load packs the weights and writes the cache; later loads map it.
        client.streamed("io.kanso.Agents.Predict", {"agent": "bench", "text": TEXT, "maxTokens": 2})
        spin_up, loads, warm, rates = [], [], [], []
        for run in range(arguments.runs):
            client.call("io.kanso.Admin.Unload", {"agent": "bench"})
            while any(entry["path"] == str(model) and entry["state"] != "absent"
                      for entry in client.call("io.kanso.Admin.Status", {})["models"]):
                time.sleep(0.005)
            first, _, _ = client.streamed("io.kanso.Agents.Predict", {"agent": "bench", "text": TEXT, "maxTokens": 1})
            spin_up.append(first * 1000)
            status = client.call("io.kanso.Admin.Status", {})
            loads += [entry["loadMilliseconds"] for entry in status["models"] if entry["path"] == str(model)]
            first, last, final = client.streamed("io.kanso.Agents.Predict",
                                                 {"agent": "bench", "text": f"{TEXT} ({run})", "maxTokens": GENERATION_LENGTH})
            warm.append(first * 1000)
            if final["generatedTokens"] > 1 and last > first:
                rates.append((final["generatedTokens"] - 1) / (last - first))
        return {"load_ms": min(loads), "spin_up_ms": min(spin_up), "warm_ttft_ms": min(warm),
                "tokens_per_second": max(rates) if rates else 0.0}
    finally:
        daemon.terminate()
        daemon.wait()


def llama_worker(model: str, threads: int, runs: int) -> None:
    """Runs in a child process: llama.cpp's figures as one JSON line."""
    import numpy as np
    import llama_cpp

    with open(model, "rb") as handle:  # page cache warm, as on the Kanso side
        while handle.read(8 << 20):
            pass

    def logits(llm):
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))

    loads, ttfts, warm, rates = [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        llm = llama_cpp.Llama(model_path=model, n_ctx=CONTEXT_LENGTH, n_threads=threads, n_threads_batch=threads, verbose=False)
        loaded = time.perf_counter()
        prompt = llm.tokenize(TEXT.encode(), add_bos=True)
        llm.eval(prompt)
        token = int(np.argmax(logits(llm)))
        ttfts.append((time.perf_counter() - start) * 1000)
        loads.append((loaded - start) * 1000)
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        token = int(np.argmax(logits(llm)))
        warm.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for _ in range(GENERATION_LENGTH - 1):
            llm.eval([token])
            token = int(np.argmax(logits(llm)))
        rates.append((GENERATION_LENGTH - 1) / (time.perf_counter() - start))
        del llm
    print(json.dumps({"load_ms": min(loads), "ttft_ms": min(ttfts), "warm_ttft_ms": min(warm),
                      "tokens_per_second": max(rates), "version": llama_cpp.__version__}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="The real models through kansod, beside llama.cpp")
    parser.add_argument("--models", nargs="+", help="GGUF files (default: the two installed models)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kansod", default=str(ROOT / ".build" / "release" / "kansod"))
    parser.add_argument("--llama-worker", metavar="MODEL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.llama_worker:
        llama_worker(arguments.llama_worker, arguments.threads, arguments.runs)
        return
    models = [Path(model).resolve() for model in arguments.models] if arguments.models else \
        [default_model_folder() / name for name in DEFAULT_MODELS]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, {arguments.threads} threads, "
          f"best of {arguments.runs}, load average {' '.join(f'{value:.1f}' for value in os.getloadavg())}", flush=True)
    print("| file | load ms Kanso | load ms llama.cpp | spin-up TTFT ms Kanso | TTFT ms llama.cpp (load + prompt) | "
          "warm TTFT ms Kanso | warm TTFT ms llama.cpp | tokens/s Kanso | tokens/s llama.cpp | load average |")
    print("|" + "---|" * 10, flush=True)
    for model in models:
        with tempfile.TemporaryDirectory(prefix="kanso-daemon-bench-") as folder:
            ours = kanso(arguments, model, Path(folder))
        theirs = json.loads(subprocess.run([sys.executable, __file__, "--llama-worker", str(model), "--threads",
                                            str(arguments.threads), "--runs", str(arguments.runs)],
                                           capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(f"| {model.name} | {ours['load_ms']:.0f} | {theirs['load_ms']:.0f} | {ours['spin_up_ms']:.0f} | "
              f"{theirs['ttft_ms']:.0f} | {ours['warm_ttft_ms']:.0f} | {theirs['warm_ttft_ms']:.0f} | "
              f"{ours['tokens_per_second']:.1f} | {theirs['tokens_per_second']:.1f} | "
              f"{' '.join(f'{value:.1f}' for value in os.getloadavg())} |", flush=True)


if __name__ == "__main__":
    main()
