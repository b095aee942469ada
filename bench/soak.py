#!/usr/bin/env python3
"""Soak: pirecd with the shipped photo chain takes a steady stream of files for a long
time, with reloads every few minutes and bad files mixed in, while its resident memory,
open descriptors and threads are sampled. After the warm-up, RSS may grow by at most
--rss-growth percent. Descriptors and threads are counted at rest, where nothing is in
flight: once the warm-up has run, the stream pauses until its backlog has drained, and
again at the end; the count at the end may not exceed the one after the warm-up (a job
or a reload holds a file or two while it runs, so the samples under load blip by one and
say nothing about a leak). Every file must end as a result or, for the bad ones, in the
failed folder, and pirecd must exit 0 on SIGTERM. Exit status 1 when any of that
fails, so `make test` runs a short version (`--minutes 2`) as a test.

    python3 bench/soak.py [--minutes 30] [--warm-up 5] [--rate 3] [--workers 2]
                          [--reload-every 180] [--bad-every 25] [--plot soak.png]
                          [--pirec-dir .build/release]

The plot (optional, needs Pillow) draws the three curves against minutes.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """\
model_dir: {repo}/models
workers: {workers}
job_log: {root}/jobs.jsonl
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
        with: {{ sigma: 2.5 }}
      - plugin: color-quantizer
        with: {{ median: 25, colors: 4 }}
      - plugin: generator
        with: {{ model: emoji/generator.safetensors }}
      - plugin: refiner
        with: {{ model: emoji/refiner.safetensors }}
"""


def sample(pid):
    """(RSS in MiB, open descriptors, threads) of `pid`."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


def at_rest(pid):
    """(descriptors, threads) of an idle `pid`: the least over a second of samples, so a
    reload's or the inotify reader's momentary descriptor is not counted."""
    counts = []
    for _ in range(10):
        _, fds, threads = sample(pid)
        counts.append((fds, threads))
        time.sleep(0.1)
    return min(c[0] for c in counts), min(c[1] for c in counts)


def plot(path, samples, warm_up):
    from PIL import Image, ImageDraw

    width, height, pad = 900, 600, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    names = ["RSS MiB", "descriptors", "threads"]
    colors = [(200, 40, 40), (40, 120, 200), (40, 160, 60)]
    span = max(s[0] for s in samples) or 1
    panel = (height - 2 * pad) // 3
    for k in range(3):
        top = pad + k * panel
        values = [s[1 + k] for s in samples]
        lo, hi = min(values), max(values)
        hi = hi if hi > lo else lo + 1
        draw.rectangle([pad, top, width - pad, top + panel - 10], outline=(180, 180, 180))
        x_warm = pad + (width - 2 * pad) * warm_up / span
        draw.line([x_warm, top, x_warm, top + panel - 10], fill=(160, 160, 160))
        points = [(pad + (width - 2 * pad) * t / span, top + panel - 12 - (panel - 24) * (v - lo) / (hi - lo))
                  for t, v in zip((s[0] for s in samples), values)]
        draw.line(points, fill=colors[k], width=2)
        draw.text((pad + 5, top + 3), f"{names[k]}: {lo:.1f} .. {hi:.1f}", fill=colors[k])
    draw.text((pad, height - pad + 10), f"minutes 0 .. {span:.1f} (grey line: end of warm-up)", fill=(0, 0, 0))
    image.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warm-up", type=float, default=5, help="minutes before the growth checks start")
    ap.add_argument("--rate", type=float, default=3, help="files dropped per second")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reload-every", type=float, default=180, help="seconds between reloads")
    ap.add_argument("--bad-every", type=int, default=25, help="every Nth file is not a PNG")
    ap.add_argument("--sample-every", type=float, default=10, help="seconds between samples")
    ap.add_argument("--rss-growth", type=float, default=5, help="percent allowed after the warm-up (0: not checked)")
    ap.add_argument("--plot", help="write the curves to this PNG")
    ap.add_argument("--pirec-dir", default=os.path.join(REPO, ".build", "release"))
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix="pirec-soak-")
    for folder in ["inbox", "stage"]:
        os.makedirs(f"{root}/{folder}")
    with open(f"{root}/pirec.yaml", "w") as f:
        f.write(CONFIG.format(repo=REPO, workers=args.workers, root=root))
    log = open(f"{root}/pirecd.log", "w")
    daemon = subprocess.Popen([os.path.join(args.pirec_dir, "pirecd"), "--config", f"{root}/pirec.yaml",
                               "--control", f"{root}/run"], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.time() + 60
    while "ready" not in open(f"{root}/pirecd.log").read():
        if daemon.poll() is not None or time.time() > deadline:
            sys.exit("pirecd did not start:\n" + open(f"{root}/pirecd.log").read())
        time.sleep(0.1)

    sources = sorted(os.path.join(REPO, "examples", "emoji", n) for n in os.listdir(os.path.join(REPO, "examples", "emoji"))
                     if n.endswith(".png"))
    def ended():
        outs = len([n for n in os.listdir(f"{root}/outbox") if n.endswith(".png")]) if os.path.isdir(f"{root}/outbox") else 0
        failed = len([n for n in os.listdir(f"{root}/failed") if n.endswith(".png")]) if os.path.isdir(f"{root}/failed") else 0
        return outs, failed

    def drain(seconds):
        deadline = time.time() + seconds
        while sum(ended()) < dropped and time.time() < deadline:
            time.sleep(0.2)

    samples, dropped, bad, reloads = [], 0, 0, 0
    rest_after_warm_up = None
    start = time.time()
    paused = 0.0  # seconds the stream stood still for the count at rest; the clock skips them
    next_sample = next_reload = start
    next_reload += args.reload_every
    while time.time() - start - paused < args.minutes * 60:
        now = time.time()
        if rest_after_warm_up is None and now - start - paused > args.warm_up * 60:
            drain(120)
            rest_after_warm_up = at_rest(daemon.pid)
            stood = time.time() - now
            paused, next_sample, next_reload = paused + stood, next_sample + stood, next_reload + stood
            continue
        while dropped < (now - start - paused) * args.rate:
            name = f"f{dropped:06d}.png"
            stage = f"{root}/stage/{name}"
            if args.bad_every and dropped % args.bad_every == args.bad_every - 1:
                with open(stage, "wb") as f:
                    f.write(b"not a png at all")
                bad += 1
            else:
                shutil.copy(sources[dropped % len(sources)], stage)
            os.rename(stage, f"{root}/inbox/{name}")
            dropped += 1
        if now >= next_reload:
            os.kill(daemon.pid, signal.SIGHUP)
            reloads += 1
            next_reload += args.reload_every
        if now >= next_sample:
            samples.append(((now - start - paused) / 60, *sample(daemon.pid)))
            next_sample += args.sample_every
        if daemon.poll() is not None:
            sys.exit(f"pirecd died (status {daemon.returncode}):\n" + open(f"{root}/pirecd.log").read()[-4000:])
        time.sleep(0.02)

    # Let the backlog drain, count at rest, then stop.
    drain(300)
    samples.append(((time.time() - start - paused) / 60, *sample(daemon.pid)))
    rest_at_end = at_rest(daemon.pid)
    daemon.send_signal(signal.SIGTERM)
    status = daemon.wait(timeout=120)
    outs, failed = ended()

    warm = [s for s in samples if s[0] <= args.warm_up]
    after = [s for s in samples if s[0] > args.warm_up]
    problems = []
    if not warm or not after:
        problems.append("too short: no samples on both sides of the warm-up")
    else:
        base_rss = warm[-1][1]
        growth = (max(s[1] for s in after) - base_rss) / base_rss * 100
        if args.rss_growth and growth > args.rss_growth:
            problems.append(f"RSS grew {growth:.1f} % after the warm-up (limit {args.rss_growth} %)")
        for k, name in enumerate(["descriptors", "threads"]):
            if rest_at_end[k] > rest_after_warm_up[k]:
                problems.append(f"{name} at rest grew: {rest_after_warm_up[k]} after the warm-up, "
                                f"{rest_at_end[k]} at the end")
    if status != 0:
        problems.append(f"pirecd exited {status} on SIGTERM")
    if outs != dropped - bad or failed != bad:
        problems.append(f"{dropped} dropped ({bad} bad): {outs} results, {failed} failed")

    print(f"soak: {args.minutes} min, {dropped} files ({bad} bad), {reloads} reloads, {args.workers} workers, "
          f"{len(samples)} samples")
    print("| minute | RSS MiB | descriptors | threads |")
    print("|---|---|---|---|")
    for t, rss, fds, threads in samples:
        print(f"| {t:.1f} | {rss:.1f} | {fds} | {threads} |")
    if warm and after:
        print(f"after the warm-up ({args.warm_up} min): RSS {warm[-1][1]:.1f} -> max {max(s[1] for s in after):.1f} MiB "
              f"({growth:+.1f} %); at rest after the warm-up and at the end: descriptors "
              f"{rest_after_warm_up[0]} -> {rest_at_end[0]}, threads {rest_after_warm_up[1]} -> {rest_at_end[1]} "
              f"(under load at most {max(s[2] for s in after)} and {max(s[3] for s in after)})")
    if args.plot:
        plot(args.plot, samples, args.warm_up)
    shutil.rmtree(root, ignore_errors=True)
    for p in problems:
        print("FAILED: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
