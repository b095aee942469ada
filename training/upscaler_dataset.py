#!/usr/bin/env python3
"""Build the upscaler's training set reproducibly from Debian's openclipart-svg.

    apt-get install --no-install-recommends openclipart-svg librsvg2-bin
    python3 training/upscaler_dataset.py [--write-split] [--force] [--out training/data/upscaler]
                                         [--limit N] [--tiles T]

Steps:

1. The SVG files under /usr/share/openclipart/svg: regular files sorted by path (the
   package's symbolic links only repeat files already there). Skipped before rendering:
   files over MAX_BYTES (huge traced pictures), files with an <image> (a raster photo,
   embedded or linked to a path that does not exist here), files with visible <text> or
   <flowRoot> (their look depends on the installed fonts), and all but FAMILY_CAP files
   of a generated family (FAMILIES: 1375 thin-line star polygons,
   shapes/stars/star_NptMstep.svg, 18% of the package; the first by sha256 of the path).
   These are the eligible files. Copies are rendered once: files equal up to their
   <metadata>, comments and white space are one drawing.
2. The split is by group, not by file: eligible files with the same file name (the
   package keeps a drawing in several folders, often with small edits) or the same
   drawing are one group. Groups are held out in order of the sha256 of their first path
   (relative to the openclipart folder) until HELDOUT_SHARE of the eligible files, and
   at least HELDOUT_MIN, are held out. It is computed over all files, whatever --limit
   says. The held-out list is training/upscaler_heldout.txt (every held-out path):
   checked when it exists, written with --write-split.
3. Each source is rendered by rsvg-convert (one process per file, TIMEOUT seconds at
   most) with its longer side RENDER px, aspect kept, composited on white, as RGB uint8.
   Skipped: renders that fail or time out, nearly empty ones (under MIN_INK of the pixels
   away from white: empty pages, gradient swatches), repeats of an earlier render, and
   training renders that look like a held-out one of the same size (32x32 grey thumbnails
   whose mean absolute difference is under NEAR_DUPLICATE of their mean darkness: colour
   variants, flags that differ in a detail).
4. HR tiles of TILE x TILE (renders with a side under TILE are padded with white): for
   training up to --tiles per picture at random positions, for held-out pictures the
   centre tile and up to HELDOUT_TILES - 1 random ones. A random tile is placed around a
   random drawn (non-white) pixel, so small drawings on large pages still give tiles; a
   tile is kept only if its pixel standard deviation is at least MIN_STD (not plain
   paper or one flat fill), with ATTEMPTS tries. The positions come from a generator
   seeded by SEED and the path, so a picture gets the same tiles in a --limit run as in
   the full build. Held-out tiles also
   get their x2 and x4 low-resolution versions, area averages: the mean of each 2x2 /
   4x4 block, rounded half up (computed exactly with numpy; Pillow's BOX resize rounds
   between its two passes). Training makes its LR (and degradations) on the fly.
5. Output: OUT/train.npz with hr [N,128,128,3] uint8 and names [N] (unicode, "PATH#i",
   PATH relative to the openclipart folder, i the tile index); OUT/heldout.npz with hr,
   lr2 [N,64,64,3], lr4 [N,32,32,3] (uint8) and names.

Licence: the drawings are in the public domain. /usr/share/doc/openclipart-svg/copyright
says "creative commons Public Domain Dedication", "Copyright-Only Dedication (based on
United States law) or Public Domain Certification": the dedicator "hereby either (a)
certifies that [...] the work of authorship identified is in the public domain [...] or
(b) hereby dedicates whatever copyright the dedicators holds in the work [...] to the
public domain", and "the Work may be freely reproduced, distributed, transmitted, used,
modified, built upon, or otherwise exploited by anyone for any purpose, commercial or
non-commercial".
"""

import argparse
import hashlib
import io
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split_file import check_split, output_paths, outputs_current  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIPART = "/usr/share/openclipart/svg"
SPLIT_FILE = os.path.join(HERE, "upscaler_heldout.txt")
RENDER = 512
TILE = 128
SCALES = (2, 4)
TILES_TRAIN = 4
HELDOUT_TILES = 4
HELDOUT_SHARE = 0.05
HELDOUT_MIN = 150
MAX_BYTES = 1_000_000
TIMEOUT = 10  # seconds per rsvg-convert
MIN_INK = 0.005  # share of pixels away from white; thin outline maps have ~1%
INK_LEVEL = 8  # "away from white": some channel at least this far below 255
MIN_STD = 6.0  # a tile flatter than this is plain paper
ATTEMPTS = 8
NEAR_DUPLICATE = 0.1  # thumbnail difference / darkness; distinct drawings are >= 0.2
SEED = 20250115
FAMILIES = {"gramastar": re.compile(r"shapes/stars/star_\d+pt\d+step\.svg")}
FAMILY_CAP = 60

# Non-greedy up to the matching closing tag; tags inside (tspan, flowPara) are removed
# before looking for visible characters.
TEXT = re.compile(rb"<(?:svg:)?(text|flowRoot)\b.*?</(?:svg:)?\1\s*>", re.S)
TAG = re.compile(rb"<[^>]*>")
IMAGE = re.compile(rb"<(?:svg:)?image\b")
NOT_DRAWING = re.compile(rb"<metadata\b.*?</metadata\s*>|<!--.*?-->|\s+", re.S)


# ---------------------------------------------------------------------------------------
# 1. Files


def find_svgs(root):
    """Relative paths of the regular .svg files under root, sorted."""
    out = []
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            if f.endswith(".svg") and not os.path.islink(path):
                out.append(os.path.relpath(path, root))
    return sorted(out)


def precheck(data):
    """Why a file is skipped before rendering, or None."""
    if len(data) > MAX_BYTES:
        return "over %d bytes" % MAX_BYTES
    if IMAGE.search(data):
        return "raster <image>"
    if any(TAG.sub(b"", m.group(0)).strip() for m in TEXT.finditer(data)):
        return "visible text"
    return None


def over_family_cap(paths):
    """{path: family} for the members of a generated family beyond FAMILY_CAP."""
    out = {}
    for family, pattern in FAMILIES.items():
        members = sorted((p for p in paths if pattern.fullmatch(p)),
                         key=lambda p: hashlib.sha256(p.encode()).hexdigest())
        out.update((p, family) for p in members[FAMILY_CAP:])
    return out


# ---------------------------------------------------------------------------------------
# 2. Split by group


def groups_of(paths, drawing_key):
    """Union of same file name and same drawing: {path: group id (its first path)}."""
    parent = {p: p for p in paths}

    def find(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    first = {}
    for p in paths:
        for key in (("name", os.path.basename(p)), ("drawing", drawing_key[p])):
            if key in first:
                a, b = sorted((find(p), find(first[key])))
                parent[b] = a
            else:
                first[key] = p
    return {p: find(p) for p in paths}


def choose_heldout(paths, group):
    members = defaultdict(list)
    for p in paths:
        members[group[p]].append(p)
    target = max(HELDOUT_MIN, round(HELDOUT_SHARE * len(paths)))
    held = []
    for g in sorted(members, key=lambda g: hashlib.sha256(g.encode()).hexdigest()):
        if len(held) >= target:
            break
        held.extend(members[g])
    return sorted(held)


# ---------------------------------------------------------------------------------------
# 3. Rendering


def render(path):
    """RGB uint8 render with the longer side RENDER on white, or (None, why)."""
    cmd = ["rsvg-convert", "--width", str(RENDER), "--height", str(RENDER), "--keep-aspect-ratio",
           "--background-color", "white", path]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if r.returncode != 0 or not r.stdout:
        return None, "rsvg-convert failed"
    try:
        im = Image.open(io.BytesIO(r.stdout)).convert("RGB")
    except OSError:
        return None, "unreadable PNG"
    img = np.asarray(im, dtype=np.uint8)
    if (img.min(axis=2) <= 255 - INK_LEVEL).mean() < MIN_INK:
        return None, "nearly empty"
    return img, None


def thumbnail(img):
    return np.asarray(Image.fromarray(img).convert("L").resize((32, 32), Image.BOX), np.float32)


def looks_alike(a, b):
    darkness = 255 - (a.mean() + b.mean()) / 2
    return np.abs(a - b).mean() < NEAR_DUPLICATE * max(darkness, 1.0)


# ---------------------------------------------------------------------------------------
# 4. Tiles


def pad_to_tile(img):
    h, w, _ = img.shape
    if h >= TILE and w >= TILE:
        return img
    H, W = max(h, TILE), max(w, TILE)
    out = np.full((H, W, 3), 255, np.uint8)
    y, x = (H - h) // 2, (W - w) // 2
    out[y:y + h, x:x + w] = img
    return out


def cut_tiles(img, count, rng, centre):
    """Up to `count` non-plain tiles: the centre one first if asked, then random ones."""
    img = pad_to_tile(img)
    h, w, _ = img.shape
    drawn = np.argwhere(img.min(axis=2) <= 255 - INK_LEVEL)
    tiles = []
    if centre:
        y, x = (h - TILE) // 2, (w - TILE) // 2
        tile = img[y:y + TILE, x:x + TILE]
        if tile.std() >= MIN_STD:
            tiles.append(tile)
    while len(tiles) < count:
        for _ in range(ATTEMPTS):
            py, px = drawn[rng.integers(len(drawn))]
            y = rng.integers(max(0, py - TILE + 1), min(py, h - TILE) + 1)
            x = rng.integers(max(0, px - TILE + 1), min(px, w - TILE) + 1)
            tile = img[y:y + TILE, x:x + TILE]
            if tile.std() >= MIN_STD:
                tiles.append(tile)
                break
        else:
            break  # mostly paper: fewer tiles from this picture
    return [t.copy() for t in tiles[:count]]


def downscale(hr, factor):
    """Area average over factor x factor blocks, rounded half up. Not Pillow's BOX: it
    resizes in two passes rounding to uint8 in between, one level off in ~4% of values."""
    n, size = len(hr), TILE // factor
    blocks = hr.reshape(n, size, factor, size, factor, 3).astype(np.float32)
    return np.floor(blocks.mean(axis=(2, 4)) + 0.5).astype(np.uint8)  # exact: power-of-2 counts


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data", "upscaler"), help="output folder (git-ignored)")
    ap.add_argument("--write-split", action="store_true", help="write training/upscaler_heldout.txt")
    ap.add_argument("--force", action="store_true", help="rebuild even when the outputs are current")
    ap.add_argument("--limit", type=int, help="render only the first N drawings (a quick test; the split still covers all)")
    ap.add_argument("--tiles", type=int, default=TILES_TRAIN, help="training tiles per picture")
    args = ap.parse_args()

    outputs = output_paths(args.out)
    if outputs_current(outputs, __file__, args.force or args.write_split):
        return
    if not os.path.isdir(CLIPART):
        raise SystemExit("no %s: apt-get install openclipart-svg librsvg2-bin" % CLIPART)

    t0 = time.time()
    paths = find_svgs(CLIPART)
    skipped = defaultdict(list)  # why: paths
    drawing_key, eligible = {}, []
    capped = over_family_cap(paths)
    for p in paths:
        with open(os.path.join(CLIPART, p), "rb") as f:
            data = f.read()
        why = precheck(data) or (capped[p] + " family over %d" % FAMILY_CAP if p in capped else None)
        if why:
            skipped[why].append(p)
            continue
        drawing_key[p] = hashlib.sha256(NOT_DRAWING.sub(b"", data)).hexdigest()
        eligible.append(p)

    group = groups_of(eligible, drawing_key)
    held = choose_heldout(eligible, group)
    check_split(SPLIT_FILE, held, args.write_split, "paths")
    held_set = set(held)

    # One source per drawing (its first path); copies are counted, not rendered.
    sources, seen_drawings = [], set()
    for p in eligible:
        if drawing_key[p] in seen_drawings:
            skipped["copy of an earlier file"].append(p)
        else:
            seen_drawings.add(drawing_key[p])
            sources.append(p)
    if args.limit:
        sources = sources[:args.limit]

    # Held-out sources first, so that training renders can be compared with them.
    order = sorted(sources, key=lambda p: (p not in held_set, p))
    t1 = time.time()
    seen_renders, held_thumbs = set(), defaultdict(list)  # render shape: thumbnails
    tiles = {"train": ([], []), "heldout": ([], [])}  # (hr, names)
    pictures = Counter()
    for i, p in enumerate(order):
        if i and i % 500 == 0:
            print("  %d / %d rendered, %.0f s" % (i, len(order), time.time() - t1), flush=True)
        img, why = render(os.path.join(CLIPART, p))
        if img is None:
            skipped[why].append(p)
            continue
        digest = hashlib.sha256(img.tobytes()).digest() + bytes(str(img.shape), "ascii")
        if digest in seen_renders:
            skipped["same render as an earlier file"].append(p)
            continue
        seen_renders.add(digest)
        side = "heldout" if p in held_set else "train"
        thumb = thumbnail(img)
        if side == "heldout":
            held_thumbs[img.shape].append(thumb)
        elif any(looks_alike(thumb, t) for t in held_thumbs[img.shape]):
            skipped["looks like a held-out render"].append(p)
            continue
        rng = np.random.default_rng([SEED, int(hashlib.sha256(p.encode()).hexdigest()[:16], 16)])
        cut = cut_tiles(img, HELDOUT_TILES if side == "heldout" else args.tiles, rng, side == "heldout")
        if not cut:
            skipped["no tile with drawing"].append(p)
            continue
        pictures[side] += 1
        tiles[side][0].extend(cut)
        tiles[side][1].extend("%s#%d" % (p, j) for j in range(len(cut)))
    t2 = time.time()

    os.makedirs(args.out, exist_ok=True)
    arrays = {}
    for side, (hr, names) in tiles.items():
        hr = np.stack(hr) if hr else np.zeros((0, TILE, TILE, 3), np.uint8)  # a small --limit
        arrays[side] = {"hr": hr, "names": np.array(names, dtype=str)}
    for s in SCALES:
        arrays["heldout"]["lr%d" % s] = downscale(arrays["heldout"]["hr"], s)
    for path, side in zip(outputs, ("train", "heldout")):
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, **arrays[side])
        os.replace(tmp, path)
    t3 = time.time()

    print()
    print("SVG files: %d regular (%s), eligible %d, held-out list %d paths in %d groups"
          % (len(paths), CLIPART, len(eligible), len(held), len({group[p] for p in held})))
    print("sources rendered: %d%s" % (len(order), " (--limit %d)" % args.limit if args.limit else ""))
    for why, skipped_paths in sorted(skipped.items(), key=lambda item: -len(item[1])):
        print("  skipped, %s: %d (e.g. %s)" % (why, len(skipped_paths), ", ".join(skipped_paths[:3])))
    for side, path in zip(("train", "heldout"), outputs):
        a = arrays[side]
        print("%s: %d pictures, %d tiles, %s; %s (%.1f MB)"
              % (side, pictures[side], len(a["names"]),
                 ", ".join("%s %s" % (k, list(v.shape)) for k, v in a.items() if k != "names"),
                 path, os.path.getsize(path) / 1e6))
    print("time: %.1f s (files and split %.1f, rendering and tiles %.1f, saving %.1f)"
          % (t3 - t0, t1 - t0, t2 - t1, t3 - t2))


if __name__ == "__main__":
    main()
