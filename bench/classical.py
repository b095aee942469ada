#!/usr/bin/env python3
"""Benchmark pirec's classical plugins against reference libraries, in one run.

Ours: `pirec bench` (times only the plugin's `process`, after one warm-up run).
Peers: scikit-image, OpenCV and Pillow, timed here with time.perf_counter around
the call alone (one warm-up, then N runs). Every time is a median in milliseconds;
ours/peer < 1 means pirec is faster.

    python3 bench/classical.py [--sizes 256,1024] [--repeat N] [--cv-threads 1]
                               [--pirec .build/release/pirec] [--json FILE]
                               [--only canny] [--rounds R]

With --rounds R, each comparison runs R times, ours and the peer taking turns, and the
ratio is the median of the R per-round ratios: on a shared machine whose speed drifts
by tens of percent within a minute, a ratio from one round each can mislead.

Needs the release build (`make build`) and bench/requirements.txt.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import PIL
import skimage
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from skimage.feature import canny

from timing import time_peer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PIREC = os.path.join(ROOT, ".build", "release", "pirec")

KMEANS_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)

NOTES = [
    "Times are medians in milliseconds; ours/peer < 1 means pirec is faster.",
    "Ours is `pirec bench`: the plugin's `process` only, after one warm-up run "
    "(no PNG decoding or encoding). Peers: the library call only, after one warm-up.",
    "OpenCV's Canny does no smoothing of its own, so it is also shown after a "
    "Gaussian blur (sigma 2.5) to match scikit-image's and ours.",
    "`median 25`: our median is not callable alone; ours is median 25 + a trivial "
    "1-colour k-means (1 attempt, 1 iteration), so it is an upper bound on our "
    "median's time.",
    "`k-means K=3`: both run on the same image already median-25-blurred; ours also "
    "converts to and from 8 bits.",
    "`colour domain`: median 25 + k-means K=3 (8 attempts, 10 iterations, eps 1) + "
    "median 3; the peer includes building the quantized 8-bit image from the labels.",
]


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Ours:
    """Runs `pirec bench` and caches results, so one run of ours serves several peers."""

    def __init__(self, binary):
        self.binary = binary
        self.cache = {}

    def bench(self, plugin, params, png, repeat, round_=0):
        with_json = json.dumps(params, separators=(",", ":"))
        key = (plugin, with_json, png, repeat, round_)
        if key in self.cache:
            return self.cache[key]
        cmd = [self.binary, "bench", "--plugin", plugin, "--with", with_json,
               "--input", png, "--repeat", str(repeat)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        result = None
        if proc.returncode == 0:
            for line in reversed(proc.stdout.splitlines()):
                line = line.strip()
                if line.startswith("{"):
                    try:
                        result = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    break
        if result is None or "median_ms" not in result:
            msg = (proc.stderr.strip() or proc.stdout.strip()
                   or f"exit status {proc.returncode}")
            result = {"error": msg, "command": cmd}
            print(f"error: {' '.join(cmd)}: {msg}", file=sys.stderr)
        self.cache[key] = result
        return result


def make_images(sizes, folder):
    """Astronaut at each size (Pillow LANCZOS), plus its median-25 blur, as PNGs."""
    base = Image.fromarray(data.astronaut()).convert("RGB")
    images = {}
    for size in sizes:
        rgb = np.asarray(base.resize((size, size), Image.LANCZOS), dtype=np.uint8).copy()
        blurred = cv2.medianBlur(rgb, 25)
        png = os.path.join(folder, f"astronaut_{size}.png")
        blurred_png = os.path.join(folder, f"astronaut_{size}_median25.png")
        Image.fromarray(rgb).save(png)
        Image.fromarray(blurred).save(blurred_png)
        images[size] = {"rgb": rgb, "png": png, "blurred": blurred, "blurred_png": blurred_png}
    return images


def colour_domain_cv(img):
    """PI-REC's colour domain with OpenCV: median 25, k-means K=3, median 3."""
    blurred = cv2.medianBlur(img, 25)
    samples = blurred.reshape(-1, 3).astype(np.float32)
    _, labels, centers = cv2.kmeans(samples, 3, None, KMEANS_CRITERIA, 8,
                                    cv2.KMEANS_PP_CENTERS)
    quantized = np.clip(np.rint(centers), 0, 255).astype(np.uint8)[labels.ravel()]
    return cv2.medianBlur(quantized.reshape(img.shape), 3)


def comparisons(size, im, repeat_for, only=""):
    """(task, plugin, params, input png, peer name, peer callable, slow) for one size."""
    rgb = im["rgb"]
    gray_f = rgb2gray(rgb)
    gray_u8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    samples = im["blurred"].reshape(-1, 3).astype(np.float32)
    pil = Image.fromarray(rgb)

    edge = ("edge-extractor", {"sigma": 2.5}, im["png"])
    median = ("color-quantizer",
              {"median": 25, "colors": 1, "attempts": 1, "iterations": 1, "final_median": 1},
              im["png"])
    kmeans = ("color-quantizer", {"median": 1, "colors": 3, "final_median": 1},
              im["blurred_png"])
    domain = ("color-quantizer", {}, im["png"])
    resize = ("resize", {"fit": 128}, im["png"])

    rows = [
        ("canny sigma 2.5", edge, "skimage canny", lambda: canny(gray_f, sigma=2.5), True),
        ("canny sigma 2.5", edge, "cv2.Canny 50/100 (no blur)",
         lambda: cv2.Canny(gray_u8, 50, 100), False),
        ("canny sigma 2.5", edge, "cv2 GaussianBlur 2.5 + Canny",
         lambda: cv2.Canny(cv2.GaussianBlur(gray_u8, (0, 0), 2.5), 50, 100), False),
        ("median 25 (upper bound)", median, "cv2.medianBlur 25",
         lambda: cv2.medianBlur(rgb, 25), False),
        ("k-means K=3", kmeans, "cv2.kmeans PP x8",
         lambda: cv2.kmeans(samples, 3, None, KMEANS_CRITERIA, 8, cv2.KMEANS_PP_CENTERS), True),
        ("colour domain", domain, "cv2 median+kmeans+median",
         lambda: colour_domain_cv(rgb), True),
    ]
    if size > 128:
        rows += [
            ("resize fit 128", resize, "cv2.resize INTER_AREA",
             lambda: cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA), False),
            ("resize fit 128", resize, "Pillow resize BOX",
             lambda: pil.resize((128, 128), Image.BOX), False),
        ]
    for task, (plugin, params, png), peer, fn, slow in rows:
        if only and only not in task:
            continue
        yield task, plugin, params, png, peer, fn, repeat_for(size, slow)


def fmt_ms(value):
    if value is None:
        return "error"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pirec", default=DEFAULT_PIREC,
                    help="pirec binary (default: %(default)s); plugins are found beside it")
    ap.add_argument("--sizes", default="256,1024",
                    help="comma-separated square image sizes (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs per measurement (default: 10; 5 for the slow tasks "
                         "at sizes of 1024 and above)")
    ap.add_argument("--cv-threads", type=int, default=1,
                    help="cv2.setNumThreads (default: %(default)s, as pirec uses one "
                         "thread per job)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    ap.add_argument("--only", default="", help="only the tasks whose name holds this text (e.g. canny)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each comparison this many times, taking turns; the ratio is "
                         "the median of the per-round ratios (default: %(default)s)")
    args = ap.parse_args()

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes: not a list of integers: {args.sizes!r}")
    if not sizes or any(s < 8 for s in sizes):
        ap.error("--sizes: each size must be at least 8")
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.repeat is not None and args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if not (os.path.isfile(args.pirec) and os.access(args.pirec, os.X_OK)):
        ap.error(f"no pirec binary at {args.pirec} (run `make build` or pass --pirec)")

    def repeat_for(size, slow):
        if args.repeat is not None:
            return args.repeat
        return 5 if (slow and size >= 1024) else 10

    cv2.setNumThreads(args.cv_threads)
    header = {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "skimage": skimage.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
        "pirec": os.path.abspath(args.pirec),
    }
    print("# pirec classical plugins vs reference libraries\n")
    print(f"- CPU: {header['cpu']} ({header['cpus']} logical CPUs)")
    print(f"- OpenCV {header['opencv']}, {header['opencv_threads']} thread(s); "
          f"scikit-image {header['skimage']}; numpy {header['numpy']}; "
          f"Pillow {header['pillow']}; Python {header['python']}")
    print(f"- pirec: {header['pirec']} (one thread per job)")
    for note in NOTES:
        print(f"- {note}")
    if args.rounds > 1:
        print(f"- {args.rounds} rounds per comparison, ours and the peer taking turns: times are "
              "medians over the rounds, ours/peer the median of the per-round ratios, "
              "with their range.")
    print()
    if args.rounds > 1:
        print("| size | task | ours (ms) | peer | peer (ms) | ours/peer | range |")
        print("|---|---|---:|---|---:|---:|---|")
    else:
        print("| size | task | ours (ms) | peer | peer (ms) | ours/peer |")
        print("|---|---|---:|---|---:|---:|")
    sys.stdout.flush()

    ours = Ours(args.pirec)
    results = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="pirec-bench-") as folder:
        images = make_images(sizes, folder)
        for size in sizes:
            for task, plugin, params, png, peer, fn, repeat in comparisons(
                    size, images[size], repeat_for, args.only):
                rounds = []
                for round_ in range(args.rounds):
                    # Its own run of ours per peer and round, so each ratio pairs neighbours in time.
                    mine = ours.bench(plugin, params, png, repeat, (peer, round_) if args.rounds > 1 else 0)
                    theirs = time_peer(fn, repeat)
                    rounds.append((mine, theirs))
                mine_ms = [m.get("median_ms") for m, _ in rounds]
                # A failure of ours fails this row (and the exit status), not the rows after it.
                row_failed = any(v is None for v in mine_ms)
                failed |= row_failed
                ours_ms = None if row_failed else statistics.median(mine_ms)
                ratios = [] if row_failed else [m / t["median_ms"] for m, (_, t) in zip(mine_ms, rounds)]
                ratio = statistics.median(ratios) if ratios else None
                mine = dict(rounds[-1][0], median_ms=ours_ms, rounds=mine_ms)
                theirs = dict(rounds[-1][1], median_ms=statistics.median(t["median_ms"] for _, t in rounds),
                              rounds=[t["median_ms"] for _, t in rounds])
                results.append({
                    "size": size, "task": task, "repeat": repeat,
                    "ours": {"plugin": plugin, "with": params,
                             "input": os.path.basename(png), **mine},
                    "peer": {"name": peer, **theirs},
                    "ratio": ratio, "ratios": ratios,
                })
                spread = f" {min(ratios):.2f}-{max(ratios):.2f} |" if args.rounds > 1 and ratios else (
                    " |" if args.rounds > 1 else "")
                print(f"| {size} | {task} | {fmt_ms(ours_ms)} | {peer} | "
                      f"{fmt_ms(theirs['median_ms'])} | "
                      f"{'error' if ratio is None else f'{ratio:.2f}'} |{spread}")
                sys.stdout.flush()

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"header": header, "notes": NOTES, "results": results}, f, indent=2)
            f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
