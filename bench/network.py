#!/usr/bin/env python3
"""Benchmark pirec's inference engine against PyTorch and ONNX Runtime, in one run.

The full-width PI-REC generator (W=64, B=8) with seeded random weights, batch 1, at each
size: ours through `pirec bench --plugin generator` (the plugin's `process` only: the
network plus packing the frame's images into a tensor and back), PyTorch (eval,
inference_mode) and ONNX Runtime (the same weights exported to ONNX), all on the same
number of threads. Prints medians, achieved GFLOP/s and ours/peer ratios, then the peak
RSS of the pirec process at --rss-size. Where the CPU has AVX512_BF16, ours also runs with
`precision: bf16` and PyTorch under bf16 autocast, and the table gives the PSNR of ours
bf16 against ours fp32 (8-bit outputs, random weights: the benchmark's quality gate). With several --coretypes, ours runs once per
OPENBLAS_CORETYPE ("auto" lets pirec choose, as in production). Last, where a job's time
goes: every step of the shipped photo chain (etc/pirec/local.yaml, the models `make run`
uses) through `pirec bench` at 128x128, each step as configured (one thread a network, as
each of pirecd's workers runs it), and with `precision: bf16` on the networks that take it.

    python3 bench/network.py [--sizes 128,256,512] [--repeat 5] [--rounds 3] [--threads 2]
                             [--coretypes auto,Haswell,SkylakeX] [--threadings engine,openblas]
                             [--rss-size 1024] [--baseline OTHER_BUILD/pirec]

The machines are shared and noisy, so each size is measured in --rounds rounds, each
timing every contestant in turn (median of --repeat runs); the table shows the median
over rounds.

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
import onnxruntime as ort
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))
from pirec_net import Generator, count_flops, save_safetensors  # noqa: E402
from timing import median_ms  # noqa: E402
from daemon import shipped_chain  # noqa: E402


def has_bf16():
    with open("/proc/cpuinfo") as f:
        return " avx512_bf16" in f.read()


def ours(pirec, model, png, threads, repeat, coretype, threading="engine", precision=None, output=None):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype != "auto":
        env["OPENBLAS_CORETYPE"] = coretype
    step = {"model": model, "threads": threads, "threading": threading}
    if precision:  # (a baseline build from before the parameter takes none)
        step["precision"] = precision
    cmd = [pirec, "bench", "--plugin", "generator", "--input", png, "--repeat", str(repeat),
           "--with", json.dumps(step)] + (["--output", output] if output else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pirec bench failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"))
    ap.add_argument("--sizes", default="128,256,512")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--coretypes", default="auto")
    ap.add_argument("--threadings", default="engine")
    ap.add_argument("--precisions", default="fp32,bf16" if has_bf16() else "fp32",
                    help="ours in each (bf16: the Winograd products in bfloat16, where the CPU has AVX512_BF16)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rss-size", type=int, default=1024)
    ap.add_argument("--chain-repeat", type=int, default=10, help="runs per step of the photo chain (0: skip it)")
    ap.add_argument("--baseline", help="another pirec build (e.g. the previous commit's, its plugins "
                                       "beside it) timed in the same rounds: ours/baseline")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = [(c, t, p) for p in args.precisions.split(",") for c in args.coretypes.split(",")
                for t in args.threadings.split(",")]

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = Generator(64, 8).eval()
    work = tempfile.mkdtemp(prefix="pirec-bench-")
    weights = os.path.join(work, "generator.safetensors")
    save_safetensors(model, weights, {"trained_size": "256", "dataset": "random", "phase": "benchmark",
                                      "steps": "0"}, torch.float32)
    rng = np.random.default_rng(0)

    print("# pirec inference engine vs PyTorch and ONNX Runtime\n")
    print(f"- PI-REC generator W=64, B=8, batch 1, {args.threads} threads everywhere; per size "
          f"{args.rounds} rounds, each timing every contestant (median of {args.repeat} runs after a "
          f"warm-up); the table shows medians over rounds")
    print(f"- torch {torch.__version__}, onnxruntime {ort.__version__}")
    print()
    names = [f"ours {c}/{t}/{p}" for c, t, p in variants]
    bf16 = next((n for n, v in zip(names, variants) if v[2] == "bf16"), None)
    cols = " | ".join(f"{n} (ms) | GFLOP/s" for n in names)
    base_cols = " baseline (ms) | ours/baseline |" if args.baseline else ""
    bf16_cols = " ours bf16/PyTorch bf16 | ours bf16/PyTorch | bf16 vs fp32 PSNR (dB) |" if bf16 else ""
    print(f"| size | GFLOP | {cols} | PyTorch (ms) | PyTorch bf16 autocast (ms) | ONNX Runtime (ms) | ours/PyTorch | "
          f"ours/ORT |{bf16_cols}{base_cols}")
    print("|---" * (7 + 2 * len(variants) + (3 if bf16 else 0) + (2 if args.baseline else 0)) + "|")
    for size in sizes:
        png = os.path.join(work, f"input{size}.png")
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(png)
        counts = count_flops(model, size, size)
        gflop = sum(counts.values()) / 1e9
        x = torch.rand(1, 4, size, size)
        onnx_path = os.path.join(work, f"generator{size}.onnx")
        torch.onnx.export(model, (x,), onnx_path, opset_version=17, dynamo=False,
                          input_names=["x"], output_names=["y"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        rounds = {"torch": [], "torch_bf16": [], "ort": [], "baseline": [], **{n: [] for n in names}}
        cores = {}
        for _ in range(args.rounds):
            with torch.inference_mode():
                rounds["torch"].append(median_ms(lambda: model(x), args.repeat))
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    rounds["torch_bf16"].append(median_ms(lambda: model(x), args.repeat))
            rounds["ort"].append(median_ms(lambda: session.run(None, feed), args.repeat))
            for n, (c, t, p) in zip(names, variants):
                r = ours(args.pirec, weights, png, args.threads, args.repeat, c, t, p,
                         output=os.path.join(work, f"{n.replace('/', '-').replace(' ', '-')}-{size}.png"))
                rounds[n].append(r["median_ms"])
                cores[n] = r["openblas_coretype"] or "default"
            if args.baseline:
                rounds["baseline"].append(ours(args.baseline, weights, png, args.threads, args.repeat,
                                               *variants[0][:2])["median_ms"])
        med = {k: statistics.median(v) for k, v in rounds.items() if v}
        cells = " | ".join(f"{med[n]:.0f} ({cores[n]}) | {gflop / med[n] * 1000:.0f}" for n in names)
        first = med[names[0]]
        bf16_cells = ""
        if bf16:
            # The quality gate on random full-width weights: ours bf16 against ours fp32, 8-bit.
            a, b = (np.asarray(Image.open(os.path.join(work, f"{n.replace('/', '-').replace(' ', '-')}-{size}.png")),
                               dtype=np.float64) for n in (names[0], bf16))
            psnr = 10 * np.log10(255 ** 2 / max(np.mean((a - b) ** 2), 1e-10))
            bf16_cells = (f" {med[bf16] / med['torch_bf16']:.2f} | {med[bf16] / med['torch']:.2f} | {psnr:.1f} |")
        print(f"| {size} | {gflop:.1f} | {cells} | {med['torch']:.0f} | {med['torch_bf16']:.0f} | {med['ort']:.0f} | "
              f"{first / med['torch']:.2f} | {first / med['ort']:.2f} |{bf16_cells}"
              + (f" {med['baseline']:.0f} | {first / med['baseline']:.2f} |" if args.baseline else ""), flush=True)
    png = os.path.join(work, f"input{args.rss_size}.png")
    Image.fromarray(rng.integers(0, 256, (args.rss_size, args.rss_size, 3), dtype=np.uint8)).save(png)
    r = ours(args.pirec, weights, png, args.threads, 1, *variants[0])
    print(f"\nPeak RSS of pirec at {args.rss_size}x{args.rss_size} ({names[0]}): "
          f"{r['peak_rss_mb']:.0f} MB (time {r['median_ms']:.0f} ms)")
    print("\nRatios use the first variant listed (ours/peer < 1: pirec is faster).")
    if args.chain_repeat:
        chain_table(args, work)


def bench_step(pirec, step, png, repeat):
    """Median ms of one chain step through `pirec bench`, its model path made absolute."""
    parameters = dict(step.get("with", {}))
    if "model" in parameters:
        parameters["model"] = os.path.join(ROOT, "models", parameters["model"])
    out = subprocess.run([pirec, "bench", "--plugin", step["plugin"], "--input", png, "--repeat", str(repeat),
                          "--with", json.dumps(parameters)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pirec bench {step['plugin']} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]


def chain_table(args, work):
    """Each step of the shipped photo chain on a 128x128 emoji, medians over rounds."""
    chain = shipped_chain()
    png = os.path.join(work, "emoji.png")
    emoji = sorted(f for f in os.listdir(os.path.join(ROOT, "examples", "emoji")) if f.endswith(".png"))[0]
    Image.open(os.path.join(ROOT, "examples", "emoji", emoji)).convert("RGB").resize((128, 128)).save(png)
    networks = {"generator", "refiner"}
    bf16 = has_bf16()
    rounds = {i: ([], []) for i in range(len(chain))}
    for _ in range(args.rounds):
        for i, step in enumerate(chain):
            rounds[i][0].append(bench_step(args.pirec, step, png, args.chain_repeat))
            if bf16 and step["plugin"] in networks:
                faster = dict(step, **{"with": dict(step.get("with", {}), precision="bf16")})
                rounds[i][1].append(bench_step(args.pirec, faster, png, args.chain_repeat))
    times = [statistics.median(fp32) for fp32, _ in rounds.values()]
    total = sum(times)
    print(f"\nThe shipped photo chain (etc/pirec/local.yaml) at 128x128, one step at a time "
          f"(`pirec bench`, median of {args.chain_repeat} runs, median over {args.rounds} rounds):\n")
    print("| step | parameters | ms | share of the job | ms with precision: bf16 |")
    print("|---|---|---:|---:|---:|")
    for (i, step), ms in zip(enumerate(chain), times):
        with_bf16 = f"{statistics.median(rounds[i][1]):.1f}" if rounds[i][1] else ""
        print(f"| {step['plugin']} | `{json.dumps(step.get('with', {}))}` | {ms:.1f} | {ms / total:.0%} | {with_bf16} |")
    print(f"| all | | {total:.1f} | 100% | |")


if __name__ == "__main__":
    main()
