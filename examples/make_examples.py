#!/usr/bin/env python3
"""Writes the emoji examples `make run` uses (deterministic; run from the repo root).

- examples/emoji/NAME.png: held-out emoji (training never saw them, see
  training/heldout.txt) rendered as training/dataset.py renders them, used as photos.
- examples/sketch/NAME_e.png + NAME_c.png: pairs as a person would make them: a sketch
  drawn black on white with a wobbly, mouse-like stroke, and a flat colour file.
- Tests/Fixtures/emoji/: 8 held-out pictures with their edge map and colour domain at
  the `pirec` setting, and scikit-image's SSIM of each colour domain, for the test that
  runs the shipped models.
Needs training/data/heldout.npz (python3 training/dataset.py).
"""

import json
import math
import os

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = ["1f30a", "1f405", "1f429", "1f3a9"]  # water wave, tiger, poodle, top hat


def wobbly(draw, points, rng, width=2):
    """A polyline through `points` with the small jitter of a hand on a mouse."""
    path = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        steps = max(2, int(math.hypot(x1 - x0, y1 - y0) / 3))
        for i in range(steps):
            t = i / steps
            path.append((x0 + (x1 - x0) * t + rng.normal(0, 0.6), y0 + (y1 - y0) * t + rng.normal(0, 0.6)))
    path.append(points[-1])
    draw.line(path, fill=0, width=width, joint="curve")


def circle(cx, cy, r, n=40, start=0.0, end=2 * math.pi):
    return [(cx + r * math.cos(start + (end - start) * i / n), cy + r * math.sin(start + (end - start) * i / n))
            for i in range(n + 1)]


def main():
    data = np.load(os.path.join(ROOT, "training", "data", "heldout.npz"))
    names = list(data["names"])
    for name in PHOTOS:
        Image.fromarray(data["images"][names.index(name)]).save(os.path.join(ROOT, "examples", "emoji", f"{name}.png"))

    rng = np.random.default_rng(7)
    # A smiling face.
    sketch, color = Image.new("L", (128, 128), 255), Image.new("RGB", (128, 128), "white")
    d, c = ImageDraw.Draw(sketch), ImageDraw.Draw(color)
    c.ellipse((14, 14, 114, 114), fill=(250, 200, 40))
    c.ellipse((40, 42, 52, 58), fill=(90, 60, 20)); c.ellipse((76, 42, 88, 58), fill=(90, 60, 20))
    c.chord((36, 54, 92, 98), 20, 160, fill=(150, 40, 40))
    wobbly(d, circle(64, 64, 50), rng)
    wobbly(d, circle(46, 50, 7), rng); wobbly(d, circle(82, 50, 7), rng)
    wobbly(d, circle(64, 72, 26, start=0.3, end=math.pi - 0.3), rng)
    sketch.save(os.path.join(ROOT, "examples", "sketch", "smile_e.png"))
    color.save(os.path.join(ROOT, "examples", "sketch", "smile_c.png"))
    # A red apple with a leaf.
    sketch, color = Image.new("L", (128, 128), 255), Image.new("RGB", (128, 128), "white")
    d, c = ImageDraw.Draw(sketch), ImageDraw.Draw(color)
    c.ellipse((22, 34, 106, 116), fill=(210, 30, 40))
    c.polygon([(64, 36), (86, 14), (96, 24), (70, 38)], fill=(60, 160, 50))
    c.line([(62, 38), (58, 18)], fill=(100, 60, 30), width=4)
    wobbly(d, circle(64, 75, 42), rng)
    wobbly(d, [(64, 36), (86, 14), (96, 24), (70, 38), (64, 36)], rng)
    wobbly(d, [(62, 38), (58, 18)], rng)
    sketch.save(os.path.join(ROOT, "examples", "sketch", "apple_e.png"))
    color.save(os.path.join(ROOT, "examples", "sketch", "apple_c.png"))
    # A ball: red and white halves with a blue band.
    sketch, color = Image.new("L", (128, 128), 255), Image.new("RGB", (128, 128), "white")
    d, c = ImageDraw.Draw(sketch), ImageDraw.Draw(color)
    c.ellipse((18, 18, 110, 110), fill=(230, 40, 40))
    c.chord((18, 18, 110, 110), 0, 180, fill=(245, 245, 245))
    c.rectangle((18, 58, 110, 70), fill=(40, 90, 220))
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).ellipse((18, 18, 110, 110), fill=255)
    color = Image.composite(color, Image.new("RGB", (128, 128), "white"), mask)
    wobbly(d, circle(64, 64, 46), rng)
    wobbly(d, [(19, 58), (109, 58)], rng); wobbly(d, [(19, 70), (109, 70)], rng)
    sketch.save(os.path.join(ROOT, "examples", "sketch", "ball_e.png"))
    color.save(os.path.join(ROOT, "examples", "sketch", "ball_c.png"))
    # A heart.
    sketch, color = Image.new("L", (128, 128), 255), Image.new("RGB", (128, 128), "white")
    d, c = ImageDraw.Draw(sketch), ImageDraw.Draw(color)
    outline = [(64 + 40 * math.sin(t) ** 3 * 1.1, 60 - (30 * math.cos(t) - 12 * math.cos(2 * t)
                                                         - 5 * math.cos(3 * t) - 2 * math.cos(4 * t)) * 1.2)
               for t in np.linspace(0, 2 * math.pi, 60)]
    c.polygon(outline, fill=(220, 30, 80))
    wobbly(d, outline, rng)
    sketch.save(os.path.join(ROOT, "examples", "sketch", "heart_e.png"))
    color.save(os.path.join(ROOT, "examples", "sketch", "heart_c.png"))
    # A house under a blue sky on green grass: painted backgrounds must stay painted.
    sketch, color = Image.new("L", (128, 128), 255), Image.new("RGB", (128, 128), (110, 170, 235))
    d, c = ImageDraw.Draw(sketch), ImageDraw.Draw(color)
    c.rectangle((0, 96, 127, 127), fill=(70, 170, 60))
    c.rectangle((30, 58, 98, 104), fill=(240, 220, 170))
    c.polygon([(24, 60), (64, 24), (104, 60)], fill=(190, 50, 40))
    c.rectangle((56, 78, 72, 104), fill=(120, 70, 30))
    c.rectangle((38, 66, 50, 78), fill=(250, 240, 120)); c.rectangle((78, 66, 90, 78), fill=(250, 240, 120))
    c.ellipse((96, 8, 118, 30), fill=(255, 210, 40))
    wobbly(d, [(0, 96), (30, 96)], rng); wobbly(d, [(98, 96), (127, 96)], rng)
    wobbly(d, [(30, 60), (30, 104), (98, 104), (98, 60)], rng)
    wobbly(d, [(24, 60), (64, 24), (104, 60), (24, 60)], rng)
    wobbly(d, [(56, 104), (56, 78), (72, 78), (72, 104)], rng)
    wobbly(d, [(38, 66), (50, 66), (50, 78), (38, 78), (38, 66)], rng)
    wobbly(d, [(78, 66), (90, 66), (90, 78), (78, 78), (78, 66)], rng)
    wobbly(d, circle(107, 19, 11), rng)
    sketch.save(os.path.join(ROOT, "examples", "sketch", "house_e.png"))
    color.save(os.path.join(ROOT, "examples", "sketch", "house_c.png"))
    # Test fixtures: 8 held-out pictures evenly spread over the split, with the inputs the
    # networks get at the `pirec` setting (PI-REC's: Canny sigma 2.5, median 25, K 4; made
    # by pirec's plugins in dataset.py), and scikit-image's SSIM of each colour domain,
    # which the test's own SSIM must reproduce.
    from skimage.metrics import structural_similarity

    j = list(data["settings"]).index("pirec")
    fixtures = os.path.join(ROOT, "Tests", "Fixtures", "emoji")
    os.makedirs(fixtures, exist_ok=True)
    ssim = {}
    for i in np.linspace(0, len(names) - 1, 8).astype(int):
        name = names[i]
        Image.fromarray(data["images"][i]).save(os.path.join(fixtures, f"{name}.png"))
        Image.fromarray(data["edges"][i, j] * 255).save(os.path.join(fixtures, f"{name}_e.png"))
        Image.fromarray(data["colors"][i, j]).save(os.path.join(fixtures, f"{name}_c.png"))
        ssim[name] = float(structural_similarity(data["images"][i], data["colors"][i, j], data_range=255,
                                                 channel_axis=-1))
    with open(os.path.join(fixtures, "ssim.json"), "w") as f:
        json.dump({"reference": "skimage.metrics.structural_similarity(truth, colour, data_range=255, "
                                "channel_axis=-1), scikit-image 0.26.0", "colour_domain": ssim}, f, indent=1,
                  sort_keys=True)
        f.write("\n")
    print("wrote examples/emoji, examples/sketch and Tests/Fixtures/emoji")


if __name__ == "__main__":
    main()
