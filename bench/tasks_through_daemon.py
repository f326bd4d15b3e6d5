#!/usr/bin/env python3
"""The shipped specialist agents measured through a running kansod (issue 22).

Sends the labelled benchmark texts of bench/tasks to the agents over the daemon's socket with
the `varlink` package, as a client would, and prints classification accuracy, extraction field
accuracy (name, email, company; graded as bench/tasks/README.md says) and the client-side
latency of each call (p50/p99), with the latency of ~40-word tickets (30 to 50 words) apart.

    .build/release/kansod --socket /tmp/x.sock --agents agents &
    python3 bench/tasks_through_daemon.py --socket /tmp/x.sock [--classify ticket-triage] [--extract contact-extract] [--rounds 10]

The first call of each agent is made once before timing (it loads the model, and for a classify
agent with examples trains or reads its head); it is not counted in the latency.
"""
import argparse
import json
import os
import time

import varlink

HERE = os.path.dirname(os.path.abspath(__file__))


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(share * (len(ordered) - 1)))))
    return ordered[index]


def normalized(text):
    text = (text or "").strip().casefold()
    while text and text[-1] in ".,;":
        text = text[:-1].rstrip()
    return text


def field_right(item, answer, field):
    expected = item["value"].get(field)
    given = answer.get(field) if isinstance(answer, dict) else None
    if expected is None:
        return not normalized(given)
    accepted = [expected] + item.get("also_accept", {}).get(field, [])
    return normalized(given) in {normalized(value) for value in accepted}


def timed(call):
    start = time.perf_counter()
    reply = call()
    return reply, (time.perf_counter() - start) * 1000


def run_classify(agents, agent, items, rounds):
    agents.Classify(agent=agent, text=items[0]["text"])  # load (and head) outside the timing
    right, latencies, forty, escalated = 0, [], [], 0
    for item in items:
        reply, ms = timed(lambda: agents.Classify(agent=agent, text=item["text"]))
        right += reply["label"] == item["label"]
        escalated += bool(reply.get("escalatedFrom"))
        latencies.append(ms)
        if 30 <= len(item["text"].split()) <= 50 and not reply.get("escalatedFrom"):
            forty.append(ms)
    # The benchmark has few ~40-word tickets: time them again, `rounds` times over.
    for _ in range(rounds):
        for item in items:
            if 30 <= len(item["text"].split()) <= 50:
                reply, ms = timed(lambda: agents.Classify(agent=agent, text=item["text"]))
                if not reply.get("escalatedFrom"):
                    forty.append(ms)
    print(f"{agent}: classification accuracy {right / len(items):.3f} ({right}/{len(items)}), "
          f"{escalated} escalated; latency p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms; "
          f"30-50-word tickets answered without escalation ({len(forty)} calls): p50 {percentile(forty, 0.5):.1f} ms, "
          f"p99 {percentile(forty, 0.99):.1f} ms")


def run_extract(agents, agent, items, fields):
    agents.Extract(agent=agent, text=items[0]["text"])
    right, latencies = {field: 0 for field in fields}, []
    for item in items:
        reply, ms = timed(lambda: agents.Extract(agent=agent, text=item["text"]))
        latencies.append(ms)
        for field in fields:
            right[field] += field_right(item, reply["value"], field)
    total = sum(right.values())
    per_field = ", ".join(f"{field} {right[field] / len(items):.3f}" for field in fields)
    print(f"{agent}: field accuracy {total / (len(items) * len(fields)):.3f} ({total}/{len(items) * len(fields)}; {per_field}); "
          f"latency p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--classify", action="append", help="classify agent (default ticket-triage)")
    parser.add_argument("--extract", action="append", help="extract agent (default contact-extract)")
    parser.add_argument("--classify-data", default=os.path.join(HERE, "tasks", "ticket-triage.benchmark.jsonl"))
    parser.add_argument("--extract-data", default=os.path.join(HERE, "tasks", "contact-extract.benchmark.jsonl"))
    parser.add_argument("--fields", default="name,email,company")
    parser.add_argument("--rounds", type=int, default=10, help="extra timing rounds of the 30-50-word tickets")
    arguments = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print("load average before:", " ".join(handle.read().split()[:3]))
    with varlink.Client(address="unix:" + arguments.socket) as client, client.open("io.kanso.Agents") as agents:
        for agent in arguments.classify or ["ticket-triage"]:
            if agent != "none":
                run_classify(agents, agent, read_jsonl(arguments.classify_data), arguments.rounds)
        for agent in arguments.extract or ["contact-extract"]:
            if agent != "none":
                run_extract(agents, agent, read_jsonl(arguments.extract_data), arguments.fields.split(","))
    with open("/proc/loadavg") as handle:
        print("load average after:", " ".join(handle.read().split()[:3]))


if __name__ == "__main__":
    main()
