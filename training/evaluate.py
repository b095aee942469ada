#!/usr/bin/env python3
"""Evaluate the networks through the Swift chain on the held-out emoji, per named setting.

The held-out file (training/dataset.py) carries one input variant per setting, made by
pirec's own plugins (and, for `flat`, the hand-drawn-style fill):

    pirec     Canny sigma 2.5, median 25, K 4 (PI-REC's defaults): the headline
    pirec-k6  sigma 2.5, median 25, K 6
    fine      sigma 2, median 13, K 4
    mild      sigma 2, median 7, K 6 (the wave-1 models' setting)
    flat      flat fills of the regions, K 6, sigma 2 with pieces under 16 px dropped and
              lines dilated: what a person draws

For every setting it writes the pairs pirec takes (NAME_e.png, NAME_c.png), runs
`pirec run` once with generator + refiner (keep_intermediates: the generator's picture
is NAME.stage1.png) and reports mean PSNR and SSIM against the ground truth of the
colour domain, the generator and the refined output, and the gains over the colour
domain. Contact sheets (16 rows: edge | colour | generator | refined | ground truth) go
to MODELS/heldout-SETTING.png (or --sheets DIR), and one for the bundled drawn pairs (examples/sketch,
examples/pair through the sketch pipeline: sketch | colour | generator | refined) to
MODELS/sketches.png.

    python3 training/evaluate.py [--quick] [--settings pirec,flat] [--models models/emoji] [--ensemble flip]
                                 [--generator FILE] [--refiner FILE] [--json FILE] [--no-sheets]

--quick uses 64 of the 320 pictures (evenly spread), for checks during training;
--generator and --refiner take exported weights or training state files
(training/state/PHASE.safetensors, whose EMA is exported for the run), in place of the
models folder's.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKETCH_FOLDERS = [os.path.join(ROOT, "examples", "sketch"), os.path.join(ROOT, "examples", "pair")]
SIZE = 128


def scores(outputs, truth):
    p = [peak_signal_noise_ratio(t, o, data_range=255) for o, t in zip(outputs, truth)]
    s = [structural_similarity(t, o, data_range=255, channel_axis=-1) for o, t in zip(outputs, truth)]
    return float(np.mean(p)), float(np.mean(s))


def write_config(path, models, sketch_edges, ensemble="none"):
    """One pipeline, pairs through generator + refiner (each with `ensemble`); the drawn
    pairs' sketches are dark lines on paper, binarised as the shipped sketch pipeline does."""
    edge_step = "      - plugin: edge-extractor\n        with: {method: normalize}\n" if sketch_edges else ""
    with open(path, "w") as f:
        f.write(f"model_dir: {os.path.abspath(models)}\nworkers: 2\npipelines:\n"
                "  - name: refined\n    inputs: pair\n    keep_intermediates: true\n    chain:\n" + edge_step +
                f"      - plugin: generator\n        with: {{model: generator.safetensors, ensemble: {ensemble}}}\n"
                f"      - plugin: refiner\n        with: {{model: refiner.safetensors, ensemble: {ensemble}}}\n")


def run_chain(pirec, config, pairs, out):
    run = subprocess.run([pirec, "run", "--config", config, "--pipeline", "refined", pairs, "-o", out],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"pirec run failed:\n{run.stderr[-2000:]}")


def read(path):
    return np.asarray(Image.open(path).convert("RGB"))


def tile(a):
    a = np.asarray(a)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, -1)
    if a.shape[:2] != (SIZE, SIZE):
        a = np.asarray(Image.fromarray(a).resize((SIZE, SIZE), Image.LANCZOS))
    return a


def sheet(rows, path):
    grid = np.concatenate([np.concatenate([tile(t) for t in row], 1) for row in rows], 0)
    Image.fromarray(grid).save(path, optimize=True)


def evaluate_settings(args, data, work):
    settings = list(data["settings"])
    chosen = args.settings.split(",") if args.settings else settings
    unknown = sorted(set(chosen) - set(settings))
    if unknown:
        sys.exit(f"unknown settings {unknown}; the held-out file has {settings}")
    count = len(data["names"])
    picked = np.linspace(0, count - 1, 64).astype(int) if args.quick else np.arange(count)
    images, names = data["images"][picked], data["names"][picked]
    pairs = os.path.join(work, "pairs")
    os.makedirs(pairs)
    for setting in chosen:
        j = settings.index(setting)
        for name, e, c in zip(names, data["edges"][picked, j], data["colors"][picked, j]):
            Image.fromarray((e * 255).astype(np.uint8)).save(os.path.join(pairs, f"{setting}~{name}_e.png"))
            Image.fromarray(c).save(os.path.join(pairs, f"{setting}~{name}_c.png"))
    config = os.path.join(work, "pairs.yaml")
    write_config(config, args.models, sketch_edges=False, ensemble=args.ensemble)
    out = os.path.join(work, "out")
    run_chain(args.pirec, config, pairs, out)
    figures = {}
    for setting in chosen:
        j = settings.index(setting)
        colors = data["colors"][picked, j]
        generated = [read(os.path.join(out, f"{setting}~{n}.stage1.png")) for n in names]
        refined = [read(os.path.join(out, f"{setting}~{n}.png")) for n in names]
        base, gen, ref = scores(colors, images), scores(generated, images), scores(refined, images)
        figures[setting] = {"colour domain": base, "generator": gen, "refined": ref}
        if not args.no_sheets:
            rows = np.linspace(0, len(names) - 1, 16).astype(int)
            sheet([[data["edges"][picked[i], j] * 255, colors[i], generated[i], refined[i], images[i]]
                   for i in rows], os.path.join(args.sheets, f"heldout-{setting}.png"))
    return figures, len(names)


def sketch_sheet(args, work):
    """The bundled drawn pairs through the sketch pipeline: sketch | colour | generator | refined."""
    pairs = os.path.join(work, "sketch-pairs")
    os.makedirs(pairs)
    for folder in SKETCH_FOLDERS:
        for path in sorted(glob.glob(os.path.join(folder, "*_[ec].png"))):
            shutil.copy(path, pairs)
    config = os.path.join(work, "sketch.yaml")
    write_config(config, args.models, sketch_edges=True, ensemble=args.ensemble)
    out = os.path.join(work, "sketch-out")
    run_chain(args.pirec, config, pairs, out)
    rows = []
    for path in sorted(glob.glob(os.path.join(pairs, "*_e.png"))):
        name = os.path.basename(path)[:-len("_e.png")]
        rows.append([read(path), read(os.path.join(pairs, f"{name}_c.png")),
                     read(os.path.join(out, f"{name}.stage1.png")), read(os.path.join(out, f"{name}.png"))])
    target = os.path.join(args.sheets, "sketches.png")
    sheet(rows, target)
    return target, len(rows)


def stage_models(args, work):
    """A models folder with generator.safetensors and refiner.safetensors: the --models
    folder's, or the files given (a state file's EMA exported first)."""
    if not args.generator and not args.refiner:
        return args.models
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from safetensors import safe_open
    from export import export

    folder = os.path.join(work, "models")
    os.makedirs(folder)
    for role, given in (("generator", args.generator), ("refiner", args.refiner)):
        source = given or os.path.join(args.models, f"{role}.safetensors")
        target = os.path.join(folder, f"{role}.safetensors")
        with safe_open(source, "pt") as f:
            exported = "arch" in f.metadata()
        if exported:
            shutil.copy(source, target)
        else:
            export(source, target)
    return folder


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "emoji"),
                    help="folder with generator.safetensors and refiner.safetensors; sheets are written there")
    ap.add_argument("--data", default=os.path.join(ROOT, "training", "data", "heldout.npz"))
    ap.add_argument("--generator", help="generator weights or state file (default: MODELS/generator.safetensors)")
    ap.add_argument("--refiner", help="refiner weights or state file (default: MODELS/refiner.safetensors)")
    ap.add_argument("--settings", help="comma-separated settings (default: all)")
    ap.add_argument("--quick", action="store_true", help="64 of the held-out pictures")
    ap.add_argument("--sheets", help="folder for the contact sheets (default: MODELS)")
    ap.add_argument("--no-sheets", action="store_true", help="figures only")
    ap.add_argument("--json", default=None, help="also write the figures as JSON")
    ap.add_argument("--ensemble", default="none", choices=["none", "flip"],
                    help="the networks' test-time augmentation (the plugins' ensemble parameter)")
    args = ap.parse_args()
    data = np.load(args.data)
    if "settings" not in data:
        sys.exit(f"{args.data} has no named settings: rebuild it with python3 training/dataset.py --force")
    work = tempfile.mkdtemp(prefix="pirec-eval-")
    args.sheets = args.sheets or args.models
    if not args.no_sheets:
        os.makedirs(args.sheets, exist_ok=True)
    try:
        args.models = stage_models(args, work)
        figures, count = evaluate_settings(args, data, work)
        sketches = None if args.no_sheets else sketch_sheet(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"held-out pictures: {count}; PSNR (dB) / SSIM, mean")
    print("| setting | colour domain | generator | refined | refined - colour | refined - generator |")
    print("|---|---:|---:|---:|---:|---:|")
    for setting, f in figures.items():
        (bp, bs), (gp, gs), (rp, rs) = f["colour domain"], f["generator"], f["refined"]
        print(f"| {setting} | {bp:.2f} / {bs:.3f} | {gp:.2f} / {gs:.3f} | {rp:.2f} / {rs:.3f} "
              f"| {rp - bp:+.2f} / {rs - bs:+.3f} | {rp - gp:+.2f} / {rs - gs:+.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"count": count, "settings": {
                s: {k: {"psnr": p, "ssim": q} for k, (p, q) in v.items()} for s, v in figures.items()}}, f, indent=1)
    if not args.no_sheets:
        print(f"contact sheets (edge | colour | generator | refined | ground truth): "
              f"{os.path.join(args.sheets, 'heldout-SETTING.png')}")
        print(f"drawn pairs (sketch | colour | generator | refined), {sketches[1]} rows: {sketches[0]}")


if __name__ == "__main__":
    main()
