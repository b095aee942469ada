#!/usr/bin/env python3
"""Benchmark the learned upscaler: ours against Lanczos and against the same network in PyTorch.

Per scale (x2: 128 -> 256, x4: 128 -> 512), in one run: the upscaler plugin with `method:
learned` through `pirec bench --plugin upscaler` (the plugin's `process`: packing the
frame's image into a tensor, the network in tiles, and back), the same plugin with
Lanczos-3, and PyTorch running the same weights (training/upscaler_net.py, eval,
inference_mode), all on the same number of threads. The machines are shared and noisy:
each scale is measured in --rounds rounds, each timing every contestant in turn (median of
--repeat runs); the table shows medians over rounds and ours/peer ratios. Then the peak RSS
of pirec enlarging a --rss-size picture x4 (tiles keep it bounded).

    python3 bench/upscaler.py [--x2 FILE] [--x4 FILE] [--size 128] [--rounds 3] [--repeat 5]
                              [--threads 2] [--rss-size 1024]

Needs the release build (`make build`) and training/requirements.txt.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))
from upscaler_net import Upscaler, macs_per_pixel  # noqa: E402
from timing import median_ms  # noqa: E402

PICTURE = os.path.join(ROOT, "examples", "astronaut_128x128.png")


def ours(pirec, step, png, repeat):
    out = subprocess.run([pirec, "bench", "--plugin", "upscaler", "--input", png, "--repeat", str(repeat),
                          "--with", json.dumps(step)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pirec bench failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load(path):
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    net = Upscaler(int(meta["scale"]), int(meta["width"]), int(meta["blocks"])).eval()
    net.load_state_dict({k: v.float() for k, v in load_file(path).items()})
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"))
    ap.add_argument("--x2", default=os.path.join(ROOT, "models", "upscaler", "x2.safetensors"))
    ap.add_argument("--x4", default=os.path.join(ROOT, "models", "upscaler", "x4.safetensors"))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rss-size", type=int, default=1024)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="pirec-bench-upscaler-")
    png = os.path.join(work, f"input{args.size}.png")
    Image.open(PICTURE).convert("RGB").resize((args.size, args.size), Image.LANCZOS).save(png)
    x = torch.from_numpy(np.asarray(Image.open(png), dtype=np.float32) / 255).permute(2, 0, 1)[None].contiguous()

    print("# pirec's learned upscaler vs Lanczos and PyTorch\n")
    print(f"- {args.size}x{args.size} RGB input, batch 1, {args.threads} threads everywhere; per scale "
          f"{args.rounds} rounds, each timing every contestant (median of {args.repeat} runs after a "
          f"warm-up); the table shows medians over rounds; torch {torch.__version__}")
    print()
    print("| scale | network | GFLOP | ours learned (ms) | GFLOP/s | ours Lanczos (ms) | PyTorch (ms) "
          "| ours/PyTorch | learned/Lanczos |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for scale, path in ((2, args.x2), (4, args.x4)):
        net = load(path)
        gflop = 2 * macs_per_pixel(scale, net.width, net.blocks) * args.size ** 2 / 1e9
        learned = {"method": "learned", "model": os.path.abspath(path), "scale": scale, "threads": args.threads}
        lanczos = {"filter": "lanczos3", "scale": scale}
        rounds = {"learned": [], "lanczos": [], "torch": []}
        for _ in range(args.rounds):
            rounds["learned"].append(ours(args.pirec, learned, png, args.repeat)["median_ms"])
            rounds["lanczos"].append(ours(args.pirec, lanczos, png, args.repeat)["median_ms"])
            with torch.inference_mode():
                rounds["torch"].append(median_ms(lambda: net(x), args.repeat))
        med = {k: statistics.median(v) for k, v in rounds.items()}
        print(f"| x{scale} ({args.size} -> {args.size * scale}) | W={net.width}, B={net.blocks} | {gflop:.2f} "
              f"| {med['learned']:.1f} | {gflop / med['learned'] * 1000:.0f} | {med['lanczos']:.1f} "
              f"| {med['torch']:.1f} | {med['learned'] / med['torch']:.2f} | {med['learned'] / med['lanczos']:.1f} |",
              flush=True)
    big = os.path.join(work, f"input{args.rss_size}.png")
    Image.open(PICTURE).convert("RGB").resize((args.rss_size, args.rss_size), Image.LANCZOS).save(big)
    r = ours(args.pirec, {"method": "learned", "model": os.path.abspath(args.x4), "scale": 4,
                          "threads": args.threads}, big, 1)
    print(f"\nPeak RSS of pirec enlarging {args.rss_size}x{args.rss_size} to {4 * args.rss_size}x{4 * args.rss_size} "
          f"(learned x4, in tiles): {r['peak_rss_mb']:.0f} MB (time {r['median_ms']:.0f} ms)")


if __name__ == "__main__":
    main()
