#!/usr/bin/env python3
"""Held-out figures of the learned upscaler against Lanczos and bicubic, through the Swift plugin.

    python3 training/upscaler_dataset.py        # training/data/upscaler/heldout.npz
    make build
    python3 training/evaluate_upscaler.py [--quick] [--scales 2,4] [--x2 FILE] [--x4 FILE]
                                          [--json models/upscaler/heldout.json] [--sheets models/upscaler]
                                          [--styled models/emoji/generator.safetensors]

For each scale it writes the held-out low-resolution tiles (exact area averages of the
128x128 renders, upscaler_dataset.py) as PNG files, runs `pirec run` once with three
pipelines of the upscaler plugin (filter lanczos3, filter bicubic, method learned with
MODELS/xS.safetensors, or the file given: an exported model or a training state file, whose
EMA is exported first) and reports mean PSNR and SSIM against the renders (per tile,
then averaged; scikit-image's SSIM, and PSNR with upscaler_net.psnr's floor for exact
tiles). Contact sheet per scale: low resolution | Lanczos | learned | ground truth, a
48x48 crop of 12 tiles at 4x zoom (nearest neighbour), in SHEETS/heldout-xS.png. With
--styled the low-resolution tiles are first remade by the generator (as
train_upscaler.py's --styled crops are), the pictures the chain hands the upscaler; the
sheets are then heldout-styled-xS.png.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upscaler_net import psnr  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
METHODS = {"bicubic": "{filter: bicubic}", "lanczos3": "{filter: lanczos3}",
           "learned": "{method: learned, model: MODEL, threads: 1}"}
ZOOM, CROP, ROWS = 4, 48, 12


def scores(outputs, truth):
    s = [structural_similarity(t, o, data_range=255, channel_axis=-1) for o, t in zip(outputs, truth)]
    return float(psnr(np.stack(outputs), truth).mean()), float(np.mean(s))


def stage_model(given, scale, work):
    """The model file to run: the one given (a state file's EMA exported first)."""
    from safetensors import safe_open

    with safe_open(given, "pt") as f:
        exported = "arch" in f.metadata()
    if exported:
        return os.path.abspath(given)
    from train_upscaler import export_state

    target = os.path.join(work, f"x{scale}.safetensors")
    export_state(given, target)
    return target


def run_scale(args, data, scale, model, work):
    """Figures per method and the outputs, for one scale."""
    lr, hr = data[f"lr{scale}"], data["hr"]
    picked = np.linspace(0, len(hr) - 1, 256).astype(int) if args.quick else np.arange(len(hr))
    if args.styled:
        # The reductions as the generator remakes them (train_upscaler.generator_styled).
        import torch
        from train import load_generator
        from train_upscaler import generator_styled

        net = load_generator(args.styled, "cpu")
        lr = lr.copy()
        for i in range(0, len(picked), 64):
            rows = picked[i:i + 64]
            lr[rows] = generator_styled(torch.from_numpy(lr[rows]).permute(0, 3, 1, 2).float() / 255, net, scale)
    folder = os.path.join(work, f"lr{scale}")
    os.makedirs(folder)
    for i in picked:
        Image.fromarray(lr[i]).save(os.path.join(folder, f"{i:05d}.png"))
    config = os.path.join(work, f"x{scale}.yaml")
    with open(config, "w") as f:
        f.write("workers: 2\npipelines:\n")
        for method, with_ in METHODS.items():
            f.write(f"  - name: {method}\n    chain:\n      - plugin: upscaler\n"
                    f"        with: {with_.replace('}', f', scale: {scale}}}').replace('MODEL', model)}\n")
    outputs, figures = {}, {}
    for method in METHODS:
        out = os.path.join(work, f"out{scale}-{method}")
        run = subprocess.run([args.pirec, "run", "--config", config, "--pipeline", method, folder, "-o", out],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"pirec run failed:\n{run.stderr[-2000:]}")
        outputs[method] = [np.asarray(Image.open(os.path.join(out, f"{i:05d}.png")).convert("RGB")) for i in picked]
        figures[method] = scores(outputs[method], hr[picked])
    if args.sheets:
        sheet(lr[picked], outputs["lanczos3"], outputs["learned"], hr[picked], scale,
              os.path.join(args.sheets, f"heldout{'-styled' if args.styled else ''}-x{scale}.png"))
    return figures, len(picked)


def sheet(lr, lanczos, learned, hr, scale, path):
    """Rows of low resolution | Lanczos | learned | ground truth: the 48x48 crop (of the HR
    tile) with the most edges, each at 4x zoom."""
    rows = []
    for i in np.linspace(0, len(hr) - 1, ROWS).astype(int):
        grey = hr[i].astype(np.float32).mean(-1)
        edges = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1]
        step = CROP // 2
        y, x = max(((y, x) for y in range(0, 128 - CROP + 1, step) for x in range(0, 128 - CROP + 1, step)),
                   key=lambda p: edges[p[0]:p[0] + CROP, p[1]:p[1] + CROP].sum())
        near = np.repeat(np.repeat(lr[i], scale, 0), scale, 1)
        panels = [a[y:y + CROP, x:x + CROP] for a in (near, lanczos[i], learned[i], hr[i])]
        rows.append(np.concatenate([np.repeat(np.repeat(p, ZOOM, 0), ZOOM, 1) for p in panels], 1))
    Image.fromarray(np.concatenate(rows, 0)).save(path, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "upscaler"))
    ap.add_argument("--data", default=os.path.join(HERE, "data", "upscaler", "heldout.npz"))
    ap.add_argument("--scales", default="2,4")
    ap.add_argument("--x2", help="x2 model or training state file (default MODELS/x2.safetensors)")
    ap.add_argument("--x4", help="x4 model or training state file (default MODELS/x4.safetensors)")
    ap.add_argument("--quick", action="store_true", help="256 of the held-out tiles")
    ap.add_argument("--styled", metavar="GENERATOR",
                    help="enlarge the reductions as this generator remakes them (what the chain hands the "
                         "upscaler), e.g. models/emoji/generator.safetensors")
    ap.add_argument("--sheets", help="folder for the contact sheets (none by default)")
    ap.add_argument("--json", help="also write the figures as JSON")
    args = ap.parse_args()
    data = np.load(args.data)
    work = tempfile.mkdtemp(prefix="pirec-upscaler-eval-")
    results = {}
    try:
        for scale in (int(s) for s in args.scales.split(",")):
            given = getattr(args, f"x{scale}") or os.path.join(args.models, f"x{scale}.safetensors")
            results[scale] = run_scale(args, data, scale, stage_model(given, scale, work), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("held-out tiles; PSNR (dB) / SSIM, mean")
    print("| scale | tiles | bicubic | Lanczos | learned | learned - Lanczos | learned - bicubic |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for scale, (f, count) in results.items():
        (bp, bs), (lp, ls), (op, os_) = f["bicubic"], f["lanczos3"], f["learned"]
        print(f"| x{scale} | {count} | {bp:.2f} / {bs:.4f} | {lp:.2f} / {ls:.4f} | {op:.2f} / {os_:.4f} "
              f"| {op - lp:+.2f} / {os_ - ls:+.4f} | {op - bp:+.2f} / {os_ - bs:+.4f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"x{s}": {"tiles": c, **{m: {"psnr": p, "ssim": q} for m, (p, q) in fig.items()}}
                       for s, (fig, c) in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
