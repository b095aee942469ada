#!/usr/bin/env python3
"""Writes the emoji examples `make run` uses (deterministic; run from the repo root).

- examples/emoji/NAME.png: held-out emoji (training never saw them, see
  training/heldout.txt) rendered as training/dataset.py renders them, used as photos.
- examples/sketch/NAME_e.png + NAME_c.png: pairs as a person would make them: a sketch
  drawn black on white with a wobbly, mouse-like stroke, and a flat colour file.
- Tests/Fixtures/emoji/: 8 held-out pictures with their edge map and colour domain, for
  the test that runs the shipped models.
Needs training/data/heldout.npz (python3 training/dataset.py).
"""

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
    # Test fixtures: 8 held-out pictures evenly spread over the split, with the inputs the
    # networks get (edge map and colour domain made by pirec's plugins in dataset.py).
    fixtures = os.path.join(ROOT, "Tests", "Fixtures", "emoji")
    os.makedirs(fixtures, exist_ok=True)
    for i in np.linspace(0, len(names) - 1, 8).astype(int):
        name = names[i]
        Image.fromarray(data["images"][i]).save(os.path.join(fixtures, f"{name}.png"))
        Image.fromarray(data["edges"][i, 0] * 255).save(os.path.join(fixtures, f"{name}_e.png"))
        Image.fromarray(data["colors"][i, 0]).save(os.path.join(fixtures, f"{name}_c.png"))
    print("wrote examples/emoji, examples/sketch and Tests/Fixtures/emoji")


if __name__ == "__main__":
    main()
