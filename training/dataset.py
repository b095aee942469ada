#!/usr/bin/env python3
"""Build the emoji training set reproducibly from Debian's fonts-noto-color-emoji.

    python3 training/dataset.py [--write-split] [--force] [--out training/data]
                                [--pirec .build/release/pirec] [--font FILE]

Steps (see the workplace recipe shared/recipes/emoji-dataset.md for the measured facts):

1. Every colour bitmap of the font's CBDT strike (ppem 109) is read with fontTools and
   named by its codepoint sequence (cmap for single codepoints, GSUB ligatures, lookup
   type 4, also inside extension lookups, type 7, ligatures of ligatures resolved
   recursively), as lowercase hex joined by "_". Exact-duplicate bitmaps are dropped,
   each image is composited on white, padded to a centred white square and resized to
   128x128 with Pillow's LANCZOS.
2. The split is by design, not by glyph: the design key is the sequence without skin
   tones, VS16, ZWJ and gender signs, with man / woman / person as one. Designs are held
   out in order of the sha256 of their key until at least HELDOUT_MIN glyphs are held
   out; flags (regional indicators, tag sequences) and keycaps are never held out.
   The held-out list is training/heldout.txt: checked when it exists, written with
   --write-split.
3. Painted backgrounds: BACKGROUND_SHARE of the training pictures are added again as
   NAME-bg, composited over a flat colour, sky and ground or a gradient (from the glyph's
   renders on white and on black), so painted regions are kept rather than bleached.
4. The network's inputs: V_TRAIN variants per training picture, drawn with a fixed seed.
   "quantized" ones are made by pirec's own plugins through the `pirec` CLI:
   edge-extractor (canny, sigma s) and color-quantizer (median m, colors K, final median
   f); "flat" ones are hand-drawn-style flat fills (flat_fill) of the picture. Either may
   have sketch-like edges (sketch_edges: short pieces dropped, lines dilated). Held-out
   pictures get one variant per named setting (HELDOUT_SETTINGS, for evaluate.py).
5. Output: OUT/train.npz and OUT/heldout.npz with images [N,128,128,3] uint8,
   edges [N,V,128,128] uint8 (0/1), colors [N,V,128,128,3] uint8, params [N,V,7]
   float32 (flat, sigma, median, K, final median, min_length, dilate) and names
   (unicode); heldout.npz also settings [V] (the setting names, in variant order).

The font is under the SIL Open Font License 1.1 (/usr/share/doc/fonts-noto-color-emoji/copyright).
"""

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split_file import check_split, output_paths, outputs_current  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
PPEM = 109
SIZE = 128
HELDOUT_MIN = 320
SPLIT_FILE = os.path.join(HERE, "heldout.txt")

# Hyperparameter confusion for training over PI-REC's own ranges scaled to 128 px, and
# the fixed held-out settings (training/evaluate.py reports each). A variant is
# (kind, sigma, median, K, final median, min_length, dilate): kind "quantized" is pirec's
# color-quantizer on the picture, kind "flat" is a hand-drawn-style colour domain (flat
# fills of the regions, see flat_fill) with sketch-like edges (short pieces dropped,
# lines optionally dilated by one pixel, as a mouse draws them).
V_TRAIN = 4
FLAT_PER_PICTURE = 1  # of the V_TRAIN variants, this many are "flat"
SIGMAS = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
MEDIANS = list(range(9, 38, 2))
KS = [2, 3, 4, 5, 6, 7, 8]
FINAL_MEDIANS = [1, 3, 5]
MIN_LENGTHS = [0, 8, 16, 32]
SEED = 20240607
HELDOUT_SETTINGS = {  # name: variant; the order is the held-out file's variant order
    "pirec": ("quantized", 2.5, 25, 4, 3, 0, 0),
    "pirec-k6": ("quantized", 2.5, 25, 6, 3, 0, 0),
    "fine": ("quantized", 2.0, 13, 4, 3, 0, 0),
    "mild": ("quantized", 2.0, 7, 6, 3, 0, 0),
    "flat": ("flat", 2.0, 0, 6, 1, 16, 1),
}
# Painted backgrounds: this share of the training pictures is also kept a second time
# composited onto a coloured background (flat, sky and ground, gradient), so the
# networks learn to keep colours the user paints instead of bleaching them to white.
BACKGROUND_SHARE = 0.4

SKIN_TONES = set(range(0x1F3FB, 0x1F400))
VS16, ZWJ, KEYCAP = 0xFE0F, 0x200D, 0x20E3
GENDER = {0x2640, 0x2642}
PERSONS = {0x1F468, 0x1F469, 0x1F9D1}  # man, woman, person: one value in the design key
CHILDREN = {0x1F466, 0x1F467, 0x1F9D2}
BLACK_FLAG = 0x1F3F4

# Noto adds, for every ZWJ sequence, a right-to-left variant (nototools' get_rtl_seq:
# reversed, with skin tones moved, sometimes to a wrong place: "1F468 200D 1F48B 200D
# 2764 200D 1F3FB 1F468 1F3FC" for "1F468 1F3FB 200D 2764 200D 1F48B 200D 1F468 1F3FC")
# as a second ligature to the same glyph. The name uses the logical (Unicode) order:
# skin tones right after a base, starting with an adult rather than with one of the
# codepoints below (which only ever follow in Unicode's ZWJ sequences), ending with one
# of them, and the woman first in a woman-man couple.
TRAILING = GENDER | CHILDREN | {
    0x27A1, 0x2194, 0x2195,  # facing right, head shaking
    0x2620, 0x26A7, 0x1F308,  # pirate, transgender, rainbow flags
    0x1F4A5, 0x2744, 0x1F525, 0x1FA79, 0x2B1B, 0x1F32B, 0x1F7EB, 0x1F7E9,
    0x1F9BA, 0x1F5E8, 0x1F4A8, 0x1F4AB, 0xE007F,
}


def is_pua(cp):
    return 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000


def seq_name(seq):
    return "_".join("%x" % cp for cp in seq)


# ---------------------------------------------------------------------------------------
# 1. Glyphs


def misplaced_tones(seq):
    """Skin tones not right after a base (first, or after ZWJ / another tone)."""
    return sum(1 for i, cp in enumerate(seq)
               if cp in SKIN_TONES and (i == 0 or seq[i - 1] in SKIN_TONES or seq[i - 1] == ZWJ))


def logical_rank(seq):
    core = [cp for cp in seq if cp not in SKIN_TONES and cp != VS16 and cp != ZWJ]
    first, last = core[0], core[-1]
    first_rank = 0 if first in PERSONS else (2 if first in TRAILING else 1)
    last_rank = 0 if last in TRAILING else 1
    woman_first = 0 if first == 0x1F469 else 1
    return (misplaced_tones(seq), first_rank, last_rank, woman_first, seq)


def choose_sequence(seqs):
    """One sequence for a glyph reached by several: for ZWJ sequences the logical order
    (not Noto's right-to-left variant), otherwise (flags that share a picture, e.g.
    AU / HM) the smallest."""
    seqs = sorted(set(seqs))
    if len(seqs) == 1:
        return seqs[0]
    if any(ZWJ in s for s in seqs):
        return min(seqs, key=logical_rank)
    return seqs[0]


def read_glyphs(font_path):
    """{name: (sequence, png bytes)} for every colour bitmap, and stats."""
    from fontTools.ttLib import TTFont

    font = TTFont(font_path)
    strikes = font["CBLC"].strikes
    index = [i for i, s in enumerate(strikes) if s.bitmapSizeTable.ppemX == PPEM]
    if not index:
        raise SystemExit("no CBDT strike at ppem %d in %s" % (PPEM, font_path))
    strike = font["CBDT"].strikeData[index[0]]

    # Single codepoints from the cmap (a glyph may also have a private-use codepoint:
    # a real sequence is preferred to that).
    single = defaultdict(list)
    for cp, g in font.getBestCmap().items():
        single[g].append(cp)

    # Ligatures, type 4 directly or inside extension lookups (type 7).
    ligatures = defaultdict(list)
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            kind = lookup.LookupType
            if kind == 7:
                kind, sub = sub.ExtSubTable.LookupType, sub.ExtSubTable
            if kind != 4:
                continue
            for first, ligs in sub.ligatures.items():
                for lig in ligs:
                    ligatures[lig.LigGlyph].append([first] + list(lig.Component))

    memo = {}

    def sequences(glyph, stack=()):
        """All codepoint sequences that reach a glyph (components may be ligatures)."""
        if glyph in memo:
            return memo[glyph]
        if glyph in stack:
            return []
        cps = [cp for cp in single.get(glyph, []) if not is_pua(cp)]
        out = [(cp,) for cp in cps]
        for comps in ligatures.get(glyph, []):
            parts = [sequences(c, stack + (glyph,)) for c in comps]
            if all(parts):
                # one sequence per component (its chosen one) keeps this finite
                out.append(tuple(cp for p in parts for cp in choose_sequence(p)))
        if not out:
            out = [(cp,) for cp in single.get(glyph, [])]  # private use only
        memo[glyph] = out
        return out

    glyphs, stats = {}, {"bitmaps": len(strike), "unmapped": [], "pua_only": []}
    for glyph, bitmap in strike.items():
        seqs = sequences(glyph)
        if not seqs:
            stats["unmapped"].append(glyph)
            continue
        seq = choose_sequence(seqs)
        if len(seq) == 1 and is_pua(seq[0]):
            stats["pua_only"].append(glyph)
        name = seq_name(seq)
        if name in glyphs:
            raise SystemExit("two glyphs named %s" % name)
        data = bitmap.data
        fmt = type(bitmap).__name__
        if fmt.endswith("_17"):
            png = data[5 + 4:]  # smallGlyphMetrics (5) + uint32 length
        elif fmt.endswith("_18"):
            png = data[8 + 4:]  # bigGlyphMetrics (8) + uint32 length
        elif fmt.endswith("_19"):
            png = data[4:]
        else:
            raise SystemExit("unexpected CBDT format %s for %s" % (fmt, glyph))
        glyphs[name] = (seq, png)
    return glyphs, stats


def to_image(png, matte=(255, 255, 255)):
    """Composite on `matte`, pad to a centred square of it, LANCZOS to SIZE: RGB uint8."""
    im = Image.open(io.BytesIO(png)).convert("RGBA")
    under = Image.new("RGBA", im.size, matte + (255,))
    im = Image.alpha_composite(under, im).convert("RGB")
    w, h = im.size
    side = max(w, h)
    square = Image.new("RGB", (side, side), matte)
    square.paste(im, ((side - w) // 2, (side - h) // 2))
    return np.asarray(square.resize((SIZE, SIZE), Image.LANCZOS), dtype=np.uint8)


def background(rng):
    """A painted background, float [SIZE, SIZE, 3] in 0..255: a flat colour, sky over
    ground, or a soft gradient, in the saturated and pastel colours people fill with."""
    def colour():
        hue, sat, val = rng.random(), rng.uniform(0.25, 0.9), rng.uniform(0.45, 1.0)
        return np.array(Image.new("HSV", (1, 1), (int(hue * 255), int(sat * 255), int(val * 255)))
                        .convert("RGB").getpixel((0, 0)), np.float64)
    kind = rng.integers(3)
    y = np.linspace(0, 1, SIZE)[:, None, None]
    if kind == 0:
        return np.broadcast_to(colour(), (SIZE, SIZE, 3)).astype(np.float64)
    top, bottom = colour(), colour()
    if kind == 1:
        horizon = rng.uniform(0.55, 0.85)
        t = (y >= horizon).astype(np.float64)
    else:
        x = np.linspace(0, 1, SIZE)[None, :, None]
        angle = rng.uniform(0, np.pi)
        t = np.clip(np.cos(angle) * y + np.sin(angle) * x, 0, 1)
        t = np.broadcast_to(t, (SIZE, SIZE, 1))
    return top * (1 - t) + bottom * t


def on_background(on_white, on_black, bg):
    """The glyph over `bg` from its renders on white and on black (both LANCZOS-resized:
    linear, so on_white - on_black is 255 times the resized transparency)."""
    w, b = on_white.astype(np.float64), on_black.astype(np.float64)
    return np.clip(np.rint(b + (w - b) * bg / 255), 0, 255).astype(np.uint8)


def flat_fill(image, k, seed):
    """A hand-drawn-style colour domain: felzenszwalb regions, each filled with its median
    colour, then k-means (OpenCV's) down to K flat colours. No blur, so region borders
    stay where the picture's are, as in a flat colour file a person fills."""
    import cv2
    from skimage.segmentation import felzenszwalb

    from scipy import ndimage

    labels = felzenszwalb(image, scale=200, sigma=0.6, min_size=40)
    regions = np.arange(labels.max() + 1)
    medians = np.stack([ndimage.median(image[..., c], labels, regions) for c in range(3)], 1)
    filled = medians.astype(image.dtype)[labels]
    pixels = filled.reshape(-1, 3).astype(np.float32)
    cv2.setRNGSeed(seed)
    k = min(k, len(np.unique(pixels, axis=0)))
    _, idx, centres = cv2.kmeans(pixels, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0),
                                 3, cv2.KMEANS_PP_CENTERS)
    return np.clip(np.rint(centres), 0, 255).astype(np.uint8)[idx[:, 0]].reshape(image.shape)


def sketch_edges(edges, min_length, dilate):
    """Canny edges as a person draws them: pieces under min_length pixels dropped
    (8-connected), lines optionally one pixel thicker."""
    from scipy import ndimage

    out = edges.astype(bool)
    if min_length:
        labels, n = ndimage.label(out, structure=np.ones((3, 3)))
        sizes = ndimage.sum(out, labels, range(1, n + 1))
        out = np.isin(labels, 1 + np.flatnonzero(sizes >= min_length))
    if dilate:
        out = ndimage.binary_dilation(out, structure=ndimage.generate_binary_structure(2, 1))
    return out.astype(np.uint8)


# ---------------------------------------------------------------------------------------
# 2. Split by design


def design_key(seq):
    core = []
    for cp in seq:
        if cp in SKIN_TONES or cp in GENDER or cp in (VS16, ZWJ):
            continue
        core.append(0x1F9D1 if cp in PERSONS else cp)
    return seq_name(core) if core else seq_name(seq)


def is_flag_or_keycap(seq):
    if KEYCAP in seq:
        return True
    if any(0x1F1E6 <= cp <= 0x1F1FF for cp in seq):
        return True
    return BLACK_FLAG in seq and any(0xE0000 <= cp <= 0xE007F for cp in seq)


def choose_heldout(seqs):
    """Held-out names: whole designs, smallest sha256 of the key first."""
    designs = defaultdict(list)
    for name, seq in seqs.items():
        designs[design_key(seq)].append(name)
    eligible = [k for k, names in designs.items()
                if not any(is_flag_or_keycap(seqs[n]) for n in names)]
    eligible.sort(key=lambda k: hashlib.sha256(k.encode()).hexdigest())
    held = []
    for k in eligible:
        if len(held) >= HELDOUT_MIN:
            break
        held.extend(designs[k])
    return sorted(held), designs


# ---------------------------------------------------------------------------------------
# 3. Inputs through pirec


def fmt_sigma(s):
    return ("%g" % s).replace(".", "_")


def edge_pipeline(sigma):
    return "edge_s" + fmt_sigma(sigma)


def color_pipeline(median, k, final):
    return "color_m%d_k%d_f%d" % (median, k, final)


def write_config(path, edge_sigmas, color_settings, workers):
    lines = ["# Generated by training/dataset.py: one pipeline per parameter combination.",
             "workers: %d" % workers, "pipelines:"]
    for s in sorted(edge_sigmas):
        lines += ["  - name: %s" % edge_pipeline(s),
                  "    output_slot: edge",
                  "    chain:",
                  "      - plugin: edge-extractor",
                  "        with: { method: canny, sigma: %.1f }" % s]
    for m, k, f in sorted(color_settings):
        lines += ["  - name: %s" % color_pipeline(m, k, f),
                  "    output_slot: color",
                  "    chain:",
                  "      - plugin: color-quantizer",
                  "        with: { median: %d, colors: %d, final_median: %d }" % (m, k, f)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_pipeline(pirec, config, pipeline, names, png_dir, work):
    """Run one pipeline on a folder holding the given names' PNGs; {name: array}."""
    src = os.path.join(work, "in_" + pipeline)
    out = os.path.join(work, "out_" + pipeline)
    os.makedirs(src)
    for n in names:
        os.link(os.path.join(png_dir, n + ".png"), os.path.join(src, n + ".png"))
    cmd = [pirec, "run", "--config", config, "--pipeline", pipeline, src, "-o", out]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise SystemExit("pirec failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout[-4000:]))
    result = {}
    for n in names:
        with Image.open(os.path.join(out, n + ".png")) as im:
            result[n] = np.asarray(im)
    shutil.rmtree(src)
    shutil.rmtree(out)
    return result


def make_inputs(pirec, images, params, work, workers):
    """params: {name: [variant, ...]} (variants as in HELDOUT_SETTINGS). Returns
    {(name, j): edge} and {(name, j): colour} for every variant j, and the pipeline count."""
    png_dir = os.path.join(work, "png")
    os.makedirs(png_dir)
    for n, img in images.items():
        Image.fromarray(img).save(os.path.join(png_dir, n + ".png"))
    by_sigma, by_color = defaultdict(set), defaultdict(set)
    for n, variants in params.items():
        for kind, s, m, k, f, _, _ in variants:
            by_sigma[s].add(n)
            if kind == "quantized":
                by_color[(m, k, f)].add(n)
    config = os.path.join(work, "pirec.yaml")
    write_config(config, by_sigma, by_color, workers)
    canny, quantized = {}, {}
    for s in sorted(by_sigma):
        for n, a in run_pipeline(pirec, config, edge_pipeline(s), sorted(by_sigma[s]), png_dir, work).items():
            if a.ndim == 3:
                a = a[..., 0]
            vals = np.unique(a)
            if not set(vals.tolist()) <= {0, 255}:
                raise SystemExit("edge map of %s is not binary: %s" % (n, vals[:10]))
            canny[(n, s)] = (a == 255).astype(np.uint8)
    for m, k, f in sorted(by_color):
        for n, a in run_pipeline(pirec, config, color_pipeline(m, k, f), sorted(by_color[(m, k, f)]),
                                 png_dir, work).items():
            if a.ndim == 2:
                a = np.repeat(a[..., None], 3, axis=2)
            quantized[(n, m, k, f)] = a[..., :3].astype(np.uint8)
    edge_out, color_out = {}, {}
    for n, variants in params.items():
        for j, (kind, s, m, k, f, length, dilate) in enumerate(variants):
            edge_out[(n, j)] = sketch_edges(canny[(n, s)], length, dilate)
            color_out[(n, j)] = (quantized[(n, m, k, f)] if kind == "quantized"
                                 else flat_fill(images[n], k, SEED + j))
    return edge_out, color_out, len(by_sigma) + len(by_color)


def variant_row(variant):
    kind, *numbers = variant
    return [float(kind == "flat")] + [float(x) for x in numbers]


def assemble(names, images, params, edge_out, color_out):
    n, v = len(names), len(params[names[0]])
    out = {
        "images": np.stack([images[x] for x in names]),
        "edges": np.zeros((n, v, SIZE, SIZE), np.uint8),
        "colors": np.zeros((n, v, SIZE, SIZE, 3), np.uint8),
        # per variant: flat (0/1), sigma, median, K, final median, min_length, dilate
        "params": np.zeros((n, v, 7), np.float32),
        "names": np.array(names, dtype=str),
    }
    for i, x in enumerate(names):
        for j, variant in enumerate(params[x]):
            out["edges"][i, j] = edge_out[(x, j)]
            out["colors"][i, j] = color_out[(x, j)]
            out["params"][i, j] = variant_row(variant)
    return out


def baseline(data, j):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    ps, ss = [], []
    for img, col in zip(data["images"], data["colors"][:, j]):
        ps.append(peak_signal_noise_ratio(img, col, data_range=255))
        ss.append(structural_similarity(img, col, data_range=255, channel_axis=-1))
    return float(np.mean(ps)), float(np.mean(ss))


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data"), help="output folder (git-ignored)")
    ap.add_argument("--pirec", default=os.path.join(ROOT, ".build", "release", "pirec"), help="the pirec binary")
    ap.add_argument("--font", default=FONT)
    ap.add_argument("--workers", type=int, default=2, help="pirec workers (jobs at once)")
    ap.add_argument("--write-split", action="store_true", help="write training/heldout.txt")
    ap.add_argument("--force", action="store_true", help="rebuild even when the outputs are current")
    ap.add_argument("--work", help="work folder for the PNGs (default: a temporary one, removed)")
    args = ap.parse_args()

    outputs = output_paths(args.out)
    if outputs_current(outputs, __file__, args.force or args.write_split):
        return
    if not os.access(args.pirec, os.X_OK):
        raise SystemExit("no pirec binary at %s (build it, or pass --pirec)" % args.pirec)

    t0 = time.time()
    glyphs, stats = read_glyphs(args.font)
    if stats["unmapped"]:
        print("warning: %d bitmaps with no codepoint sequence, skipped: %s"
              % (len(stats["unmapped"]), stats["unmapped"][:10]))
    if stats["pua_only"]:
        print("warning: %d bitmaps reached only by a private-use codepoint: %s"
              % (len(stats["pua_only"]), stats["pua_only"][:10]))

    # Drop exact duplicates (the same PNG bytes), keeping the first name in sorted order.
    seen, seqs, pngs, dups = {}, {}, {}, []
    for name in sorted(glyphs):
        seq, png = glyphs[name]
        h = hashlib.sha256(png).hexdigest()
        if h in seen:
            dups.append((name, seen[h]))
            continue
        seen[h] = name
        seqs[name], pngs[name] = seq, png
    names = sorted(seqs)
    images = {n: to_image(pngs[n]) for n in names}

    # Split.
    held, designs = choose_heldout(seqs)
    check_split(SPLIT_FILE, held, args.write_split, "names")
    held_set = set(held)
    train = [n for n in names if n not in held_set]
    train_designs = {design_key(seqs[n]) for n in train}
    held_designs = {design_key(seqs[n]) for n in held}
    both = train_designs & held_designs
    if both:
        raise SystemExit("designs on both sides of the split: %s" % sorted(both)[:10])
    print("split check: no design on both sides (%d train designs, %d held-out designs)"
          % (len(train_designs), len(held_designs)))

    # Painted backgrounds: a fixed share of the training pictures again, as NAME-bg.
    rng = np.random.default_rng(SEED)
    for n in list(train):
        if rng.random() < BACKGROUND_SHARE:
            painted = n + "-bg"
            images[painted] = on_background(images[n], to_image(pngs[n], (0, 0, 0)), background(rng))
            train.append(painted)
    train.sort()

    # Variants: V_TRAIN per training picture from a fixed seed, in name order (the last
    # FLAT_PER_PICTURE of them flat); the held-out settings in their fixed order.
    def pick(values):
        return values[rng.integers(len(values))]

    params = {}
    for n in train:
        params[n] = []
        for j in range(V_TRAIN):
            flat = j >= V_TRAIN - FLAT_PER_PICTURE
            sketchy = flat or rng.random() < 0.25
            params[n].append(("flat" if flat else "quantized", float(pick(SIGMAS)), 0 if flat else int(pick(MEDIANS)),
                              int(pick(KS)), 1 if flat else int(pick(FINAL_MEDIANS)),
                              int(pick(MIN_LENGTHS)) if sketchy else 0, int(sketchy and rng.random() < 0.5)))
    for n in held:
        params[n] = list(HELDOUT_SETTINGS.values())

    t1 = time.time()
    work = args.work or tempfile.mkdtemp(prefix="pirec-dataset-")
    try:
        if args.work:
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
        edge_out, color_out, npipes = make_inputs(os.path.abspath(args.pirec), images, params,
                                                  work, args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t2 = time.time()

    os.makedirs(args.out, exist_ok=True)
    train_data = assemble(train, images, params, edge_out, color_out)
    held_data = assemble(held, images, params, edge_out, color_out)
    held_data["settings"] = np.array(list(HELDOUT_SETTINGS), dtype=str)
    for path, data in ((outputs[0], train_data), (outputs[1], held_data)):
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, **data)
        os.replace(tmp, path)
    t3 = time.time()

    nflags = sum(is_flag_or_keycap(s) for s in seqs.values())
    print()
    print("font: %s (CBDT ppem %d)" % (args.font, PPEM))
    print("glyph bitmaps: %d, duplicates removed: %d, images: %d (flags and keycaps: %d)"
          % (stats["bitmaps"], len(dups), len(names), nflags))
    print("designs: %d (train %d, held out %d)" % (len(designs), len(train_designs), len(held_designs)))
    print("train: %d images (%d on painted backgrounds) x %d variants; held out: %d images x %d settings"
          % (len(train), sum(n.endswith("-bg") for n in train), V_TRAIN, len(held), len(HELDOUT_SETTINGS)))
    print("pirec pipelines run: %d" % npipes)
    print("time: %.1f s (glyphs %.1f, pirec %.1f, saving %.1f)" % (t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    for j, setting in enumerate(HELDOUT_SETTINGS):
        print("trivial baseline, held-out colour domain vs image, %s: PSNR %.2f dB, SSIM %.3f"
              % ((setting,) + baseline(held_data, j)))
    print("wrote %s" % ", ".join(outputs))


if __name__ == "__main__":
    main()
