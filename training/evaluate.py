#!/usr/bin/env python3
"""Evaluate the shipped networks through the Swift chain on the held-out emoji.

For every held-out picture it writes the pair pirec takes (NAME_e.png: the edge map,
NAME_c.png: the colour domain, both made by pirec's plugins in training/dataset.py),
runs `pirec run` with the generator alone and with generator + refiner, and reports mean
PSNR and SSIM against the ground truth for (a) the colour domain itself, (b) the
generator, (c) generator + refiner. Writes a contact sheet of 16 rows (edge | colour |
generator | refined | ground truth).

    python3 training/evaluate.py [--models models/emoji] [--sheet models/emoji/heldout.png]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scores(outputs, truth):
    p = [peak_signal_noise_ratio(t, o, data_range=255) for o, t in zip(outputs, truth)]
    s = [structural_similarity(t, o, data_range=255, channel_axis=-1) for o, t in zip(outputs, truth)]
    return float(np.mean(p)), float(np.mean(s))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "emoji"))
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data", "heldout.npz"))
    ap.add_argument("--sheet", default=None, help="contact sheet PNG (default: MODELS/heldout.png)")
    ap.add_argument("--json", default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    data = np.load(args.data)
    images, edges, colors, names = data["images"], data["edges"][:, 0], data["colors"][:, 0], data["names"]
    work = tempfile.mkdtemp(prefix="pirec-eval-")
    pairs = os.path.join(work, "pairs")
    os.makedirs(pairs)
    for name, e, c in zip(names, edges, colors):
        Image.fromarray((e * 255).astype(np.uint8)).save(os.path.join(pairs, f"{name}_e.png"))
        Image.fromarray(c).save(os.path.join(pairs, f"{name}_c.png"))
    config = os.path.join(work, "pirec.yaml")
    with open(config, "w") as f:
        f.write(f"model_dir: {os.path.abspath(args.models)}\nworkers: 2\npipelines:\n"
                "  - name: generator\n    inputs: pair\n    chain:\n"
                "      - plugin: generator\n        with: {model: generator.safetensors}\n"
                "  - name: refined\n    inputs: pair\n    chain:\n"
                "      - plugin: generator\n        with: {model: generator.safetensors}\n"
                "      - plugin: refiner\n        with: {model: refiner.safetensors}\n")
    results = {}
    for pipeline in ["generator", "refined"]:
        out = os.path.join(work, pipeline)
        run = subprocess.run([args.pirec, "run", "--config", config, "--pipeline", pipeline, pairs, "-o", out],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"pirec run failed:\n{run.stderr[-2000:]}")
        results[pipeline] = [np.asarray(Image.open(os.path.join(out, f"{n}.png")).convert("RGB")) for n in names]
    figures = {
        "colour domain": scores(colors, images),
        "generator": scores(results["generator"], images),
        "generator + refiner": scores(results["refined"], images),
    }
    print(f"held-out pictures: {len(images)}")
    print("| output | PSNR (dB) | SSIM |\n|---|---:|---:|")
    for k, (p, s) in figures.items():
        print(f"| {k} | {p:.2f} | {s:.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: {"psnr": p, "ssim": s} for k, (p, s) in figures.items()} | {"count": len(images)}, f, indent=1)
    rows = np.linspace(0, len(images) - 1, 16).astype(int)
    sheet = np.full((16 * 128, 5 * 128, 3), 255, np.uint8)
    for r, i in enumerate(rows):
        tiles = [np.repeat(edges[i][..., None] * 255, 3, -1).astype(np.uint8), colors[i],
                 results["generator"][i], results["refined"][i], images[i]]
        for c, t in enumerate(tiles):
            sheet[r * 128:(r + 1) * 128, c * 128:(c + 1) * 128] = t
    path = args.sheet or os.path.join(args.models, "heldout.png")
    Image.fromarray(sheet).save(path, optimize=True)
    print(f"contact sheet (edge | colour | generator | refined | ground truth): {path}")


if __name__ == "__main__":
    main()
