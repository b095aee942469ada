#!/usr/bin/env python3
"""pirecd throughput and drop-to-output latency, against `pirec run` on the same files.

A burst of N PNG files (128x128 emoji from examples/emoji, cycled under new names) is
copied into a running pirecd's inbox at once; the script polls the outbox and records
when each result appears. Throughput: files per second from the first drop to the last
output. Latency: output time minus drop time per file (median and 99th percentile).
The peer is the one-shot CLI, `pirec run` on the same N files with the same workers, in
the same run of this script: daemon/CLI is the ratio of files per second (above 1: the
daemon is faster). Then one file at a time into the idle daemon: the latency a lone
file sees.

Layouts are WORKERSxTHREADS: pirecd's workers, and the threads each of the chain's
networks (generator, refiner, upscaler) runs on. Rounds are interleaved (every layout
in each round) and the table gives medians over rounds, so a noisy minute hits every
layout alike. `--chain shipped` is the `photo` pipeline of etc/pirec/local.yaml (what
`make run` and the package run: PI-REC's colour domain, `ensemble: flip`, the learned x4);
`--chain mild` the lighter chain of the first measurement (median 7, no ensemble, no
upscaler).

    python3 bench/daemon.py [--files 500] [--layouts 1x1,2x1] [--chain mild|shipped]
                            [--rounds 1] [--single 10] [--pirec-dir .build/release]

Needs the release build (`make build`).
"""

import argparse
import copy
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = ("generator", "refiner", "upscaler")
MILD_CHAIN = [
    {"plugin": "resize", "with": {"fit": 128}},
    {"plugin": "edge-extractor", "with": {"sigma": 2}},
    {"plugin": "color-quantizer", "with": {"median": 7, "colors": 6}},
    {"plugin": "generator", "with": {"model": "emoji/generator.safetensors"}},
    {"plugin": "refiner", "with": {"model": "emoji/refiner.safetensors"}},
]


def shipped_chain():
    """The photo pipeline's chain as etc/pirec/local.yaml declares it."""
    with open(os.path.join(REPO, "etc", "pirec", "local.yaml")) as f:
        pipelines = yaml.safe_load(f)["pipelines"]
    return next(p for p in pipelines if p["name"] == "photo")["chain"]


def config_text(chain, root, workers, threads):
    """A pirecd configuration: one `photo` pipeline on ROOT's folders, each network step
    on `threads` threads."""
    steps = copy.deepcopy(chain)
    for step in steps:
        if step["plugin"] in NETWORKS:
            step.setdefault("with", {})["threads"] = threads
    return yaml.safe_dump({
        "model_dir": os.path.join(REPO, "models"), "workers": workers,
        "pipelines": [{"name": "photo", "watch": root + "/inbox", "output": root + "/outbox",
                       "failed": root + "/failed", "keep_inputs": False, "chain": steps}]}, sort_keys=False)


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def wait_for(root, names, deadline):
    """Polls the outbox until every name has its result; returns {name: time seen}."""
    seen = {}
    while len(seen) < len(names) and time.time() < deadline:
        now = time.time()
        for entry in os.listdir(root + "/outbox"):
            if entry.endswith(".png") and entry[:-4] in names and entry[:-4] not in seen:
                seen[entry[:-4]] = now
        if os.listdir(root + "/failed"):
            sys.exit("a job failed: " + str(os.listdir(root + "/failed")))
        time.sleep(0.005)
    if len(seen) < len(names):
        sys.exit(f"only {len(seen)} of {len(names)} outputs appeared")
    return seen


def run_daemon(args, layout, sources):
    """A burst of args.files files, then args.single files one at a time, through one
    pirecd: (files/s, burst latency median, p99, lone-file latency median)."""
    workers, threads = layout
    root = tempfile.mkdtemp(prefix="pirecd-bench-")
    try:
        os.makedirs(root + "/inbox")
        with open(root + "/pirec.yaml", "w") as f:
            f.write(config_text(args.chain, root, workers, threads))
        log = open(root + "/pirecd.log", "w")
        daemon = subprocess.Popen([args.pirec_dir + "/pirecd", "--config", root + "/pirec.yaml",
                                   "--control", root + "/run"], stderr=log, stdout=log)
        deadline = time.time() + 60
        while "ready" not in open(root + "/pirecd.log").read():
            if time.time() > deadline or daemon.poll() is not None:
                sys.exit("pirecd did not start:\n" + open(root + "/pirecd.log").read())
            time.sleep(0.05)
        dropped = {}
        for i in range(args.files):
            name = f"f{i:04d}"
            dropped[name] = time.time()
            shutil.copyfile(sources[i % len(sources)], f"{root}/inbox/{name}.png")
        seen = wait_for(root, set(dropped), time.time() + 1200)
        lone = []
        for i in range(args.single):
            name = f"s{i:04d}"
            dropped_at = time.time()
            shutil.copyfile(sources[i % len(sources)], f"{root}/inbox/{name}.png")
            lone.append(wait_for(root, {name}, time.time() + 60)[name] - dropped_at)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        first = min(dropped.values())
        total = max(seen.values()) - first
        latencies = [seen[n] - dropped[n] for n in dropped]
        return (args.files / total, statistics.median(latencies), percentile(latencies, 99),
                statistics.median(lone) if lone else float("nan"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_cli(args, layout, sources):
    workers, threads = layout
    root = tempfile.mkdtemp(prefix="pirec-bench-")
    try:
        os.makedirs(root + "/in")
        for i in range(args.files):
            shutil.copyfile(sources[i % len(sources)], f"{root}/in/f{i:04d}.png")
        with open(root + "/pirec.yaml", "w") as f:
            f.write(config_text(args.chain, root, workers, threads))
        start = time.time()
        subprocess.run([args.pirec_dir + "/pirec", "run", "--config", root + "/pirec.yaml", "--pipeline",
                        "photo", root + "/in", "-o", root + "/out"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return args.files / (time.time() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def parse_layout(text):
    workers, _, threads = text.partition("x")
    return int(workers), int(threads or 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--layouts", default="1x1,2x1", help="WORKERSxTHREADS, comma-separated")
    ap.add_argument("--chain", default="mild", choices=["mild", "shipped"])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--single", type=int, default=10, help="lone files dropped one at a time after the burst")
    ap.add_argument("--pirec-dir", default=os.path.join(REPO, ".build/release"))
    args = ap.parse_args()
    chain_name = args.chain
    args.chain = shipped_chain() if args.chain == "shipped" else MILD_CHAIN
    layouts = [parse_layout(t) for t in args.layouts.split(",")]
    emoji = os.path.join(REPO, "examples/emoji")
    sources = sorted(os.path.join(emoji, f) for f in os.listdir(emoji) if f.endswith(".png"))
    print(f"# pirecd: the {chain_name} photo chain ({', '.join(s['plugin'] for s in args.chain)}) on 128x128 "
          f"emoji, bursts of {args.files} files, {args.single} lone files, {args.rounds} rounds\n")
    print(f"- CPU: {os.cpu_count()} logical CPUs; binaries: {args.pirec_dir}\n")
    results = {layout: [] for layout in layouts}
    for _ in range(args.rounds):
        for layout in layouts:
            results[layout].append(run_daemon(args, layout, sources) + (run_cli(args, layout, sources),))
    print("| workers x threads | pirecd files/s | pirec run files/s | daemon/CLI | burst latency median (s) "
          "| burst latency p99 (s) | lone file latency (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (workers, threads), runs in results.items():
        rate, median, p99, lone, cli = (statistics.median(column) for column in zip(*runs))
        print(f"| {workers}x{threads} | {rate:.2f} | {cli:.2f} | {rate / cli:.2f} | {median:.2f} | {p99:.2f} "
              f"| {lone:.3f} |", flush=True)


if __name__ == "__main__":
    main()
