#!/usr/bin/env python3
"""pirecd throughput and drop-to-output latency, against `pirec run` on the same files.

A burst of N PNG files (128x128 emoji from examples/emoji, cycled under new names) is
copied into a running pirecd's inbox at once; the script polls the outbox and records
when each result appears. Throughput: files per second from the first drop to the last
output. Latency: output time minus drop time per file (median and 99th percentile).
The peer is the one-shot CLI, `pirec run` on the same N files with the same workers, in
the same run of this script: daemon/CLI is the ratio of files per second (above 1: the
daemon is faster).

    python3 bench/daemon.py [--files 500] [--workers 1,2] [--pipeline photo]
                            [--pirec-dir .build/release]

Needs the release build (`make build`).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """\
model_dir: {repo}/models
workers: {workers}
pipelines:
  - name: photo
    watch: {root}/inbox
    output: {root}/outbox
    failed: {root}/failed
    keep_inputs: false
    chain:
      - plugin: resize
        with: {{ fit: 128 }}
      - plugin: edge-extractor
        with: {{ sigma: 2 }}
      - plugin: color-quantizer
        with: {{ median: 7, colors: 6 }}
      - plugin: generator
        with: {{ model: emoji/generator.safetensors }}
      - plugin: refiner
        with: {{ model: emoji/refiner.safetensors }}
"""


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_daemon(args, workers, sources):
    root = tempfile.mkdtemp(prefix="pirecd-bench-")
    try:
        os.makedirs(root + "/inbox")
        with open(root + "/pirec.yaml", "w") as f:
            f.write(CONFIG.format(repo=REPO, root=root, workers=workers))
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
        seen = {}
        deadline = time.time() + 1200
        while len(seen) < args.files and time.time() < deadline:
            now = time.time()
            for entry in os.listdir(root + "/outbox"):
                if entry.endswith(".png") and entry[:-4] not in seen:
                    seen[entry[:-4]] = now
            if os.listdir(root + "/failed"):
                sys.exit("a job failed: " + str(os.listdir(root + "/failed")))
            time.sleep(0.005)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        if len(seen) < args.files:
            sys.exit(f"only {len(seen)} of {args.files} outputs appeared")
        first = min(dropped.values())
        total = max(seen.values()) - first
        latencies = [seen[n] - dropped[n] for n in dropped]
        return args.files / total, statistics.median(latencies), percentile(latencies, 99)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_cli(args, workers, sources):
    root = tempfile.mkdtemp(prefix="pirec-bench-")
    try:
        os.makedirs(root + "/in")
        for i in range(args.files):
            shutil.copyfile(sources[i % len(sources)], f"{root}/in/f{i:04d}.png")
        with open(root + "/pirec.yaml", "w") as f:
            f.write(CONFIG.format(repo=REPO, root=root, workers=workers))
        start = time.time()
        subprocess.run([args.pirec_dir + "/pirec", "run", "--config", root + "/pirec.yaml", "--pipeline",
                        "photo", root + "/in", "-o", root + "/out"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return args.files / (time.time() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--pirec-dir", default=os.path.join(REPO, ".build/release"))
    args = ap.parse_args()
    emoji = os.path.join(REPO, "examples/emoji")
    sources = sorted(os.path.join(emoji, f) for f in os.listdir(emoji) if f.endswith(".png"))
    print(f"# pirecd: photo chain (resize, Canny, colour domain, generator, refiner) at 128x128, "
          f"burst of {args.files} files\n")
    print(f"- CPU: {os.cpu_count()} logical CPUs; binaries: {args.pirec_dir}\n")
    print("| workers | pirecd files/s | pirec run files/s | daemon/CLI | latency median (s) | latency p99 (s) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for workers in [int(w) for w in args.workers.split(",")]:
        rate, median, p99 = run_daemon(args, workers, sources)
        cli = run_cli(args, workers, sources)
        print(f"| {workers} | {rate:.1f} | {cli:.1f} | {rate / cli:.2f} | {median:.2f} | {p99:.2f} |", flush=True)


if __name__ == "__main__":
    main()
