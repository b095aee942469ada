#!/usr/bin/env python3
"""Write Tests/Fixtures/clipart/: held-out clip-art tiles for the shipped upscaler's test.

    python3 training/upscaler_dataset.py          # training/data/upscaler/heldout.npz
    python3 training/make_upscaler_fixtures.py

Twelve of the held-out tiles, evenly spread over heldout.npz (never trained on): NN.png
the 128x128 render, NN.x2.png and NN.x4.png its exact area-averaged 64x64 and 32x32
versions, and sources.txt naming each tile's SVG file (Debian's openclipart-svg, public
domain) and tile index. Deterministic: the same heldout.npz gives the same files.
"""

import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "Tests", "Fixtures", "clipart")
COUNT = 12


def main():
    data = np.load(os.path.join(HERE, "data", "upscaler", "heldout.npz"))
    os.makedirs(OUT, exist_ok=True)
    picked = np.linspace(0, len(data["hr"]) - 1, COUNT).astype(int)
    lines = ["# tile: source (openclipart-svg, /usr/share/openclipart/svg/...)#tile index"]
    for n, i in enumerate(picked):
        Image.fromarray(data["hr"][i]).save(os.path.join(OUT, f"{n:02d}.png"), optimize=True)
        Image.fromarray(data["lr2"][i]).save(os.path.join(OUT, f"{n:02d}.x2.png"), optimize=True)
        Image.fromarray(data["lr4"][i]).save(os.path.join(OUT, f"{n:02d}.x4.png"), optimize=True)
        lines.append(f"{n:02d}: {data['names'][i]}")
    with open(os.path.join(OUT, "sources.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{COUNT} tiles in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
