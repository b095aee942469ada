#!/usr/bin/env python3
"""How much error bfloat16 operands add to a 3x3 convolution, per Winograd tiling and
choice of interpolation points: the question that decides whether `precision: bf16` can
use tiles larger than F(2x2, 3x3) (issue 14).

A 3x3 convolution of C post-ReLU channels (the engine's case: instance norm then ReLU)
into K channels with trained-like weights (variance 1 / 9C) is computed four ways in
float64: directly (the reference), and by Winograd with the transformed weights U and
transformed input V rounded to bf16 (round to nearest even) and their products summed
exactly, as vdpbf16ps sums them in fp32. The table gives the RMS error relative to the
output's RMS, with direct bf16 (im2col with bf16 operands) for scale, and the products
per output (the arithmetic bf16 would halve).

The transforms come from the points by Toom-Cook: A^T's columns are the points' powers
(and infinity's), G's rows the points' powers over the products of their differences,
and B^T is solved for so that the tiling computes the convolution exactly; any point set
can be tried with --points.

    python3 bench/winograd_bf16.py [--channels 256] [--points "0,1,-1,0.5,-2"]
"""

import argparse

import numpy as np

R = 3  # the kernel size


def bf16(a):
    """float32 rounded to bfloat16 (nearest, ties to even), back as float64."""
    bits = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def transforms(points):
    """A^T (m x n), G (n x 3) and B^T (n x n) of F(m, 3) on the finite points given plus
    infinity (n = m + 2 = len(points) + 1)."""
    n = len(points) + 1
    m = n - R + 1
    at, g = np.zeros((m, n)), np.zeros((n, R))
    for i, a in enumerate(points):
        at[:, i] = [a ** j for j in range(m)]
        g[i] = [a ** k / np.prod([a - b for b in points if b != a]) for k in range(R)]
    at[m - 1, n - 1] = g[n - 1, R - 1] = 1
    # y_k = sum_j g_j d_(k+j) = sum_i at[k, i] (G g)_i (B^T d)_i for every g and d: linear in B^T.
    rows, rhs = [], []
    for k in range(m):
        for j in range(R):
            for t in range(n):
                coefficient = np.zeros((n, n))
                coefficient[:, t] = at[k] * g[:, j]
                rows.append(coefficient.ravel())
                rhs.append(float(t == k + j))
    bt = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0].reshape(n, n)
    if not np.allclose(np.array(rows) @ bt.ravel(), rhs, atol=1e-9):
        raise ValueError(f"points {points} give no exact F({m}, 3)")
    return at, g, bt


def relative_error(rows_points, cols_points, channels, outputs=64, tiles=64, seed=0):
    """RMS error of bf16 Winograd F(m1 x m2, 3x3) relative to the output's RMS."""
    a1, g1, b1 = transforms(rows_points)
    a2, g2, b2 = transforms(cols_points)
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.standard_normal((channels, tiles, b1.shape[0], b2.shape[0])), 0)
    w = rng.standard_normal((outputs, channels, R, R)) / np.sqrt(R * R * channels)
    u = np.einsum("ij,kcjl,ml->kcim", g1, w, g2)
    v = np.einsum("ij,ctjl,ml->ctim", b1, x, b2)
    y = np.einsum("ij,ktjl,ml->ktim", a1, np.einsum("kcab,ctab->ktab", bf16(u), bf16(v)), a2)
    m1, m2 = a1.shape[0], a2.shape[0]
    reference, direct = np.zeros((outputs, tiles, m1, m2)), np.zeros((outputs, tiles, m1, m2))
    for p in range(m1):
        for q in range(m2):
            patch = x[:, :, p:p + R, q:q + R]
            reference[:, :, p, q] = np.einsum("kcij,ctij->kt", w, patch)
            direct[:, :, p, q] = np.einsum("kcij,ctij->kt", bf16(w), bf16(patch))
    scale = np.sqrt(np.mean(reference ** 2))
    rms = lambda e: np.sqrt(np.mean((e - reference) ** 2)) / scale  # noqa: E731
    return rms(y), rms(direct), b1.shape[0] * b2.shape[0] / (m1 * m2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=256, help="input channels (the residual blocks' at W=64)")
    ap.add_argument("--points", help="also try F(m x m) on these finite points, comma-separated")
    args = ap.parse_args()
    f2 = [0, 1, -1]
    canonical, best = [0, 1, -1, 2, -2], [0, 1, -1, 0.5, -2]
    tilings = [("F(2x2), points 0, +-1 (today's bf16 path)", f2, f2),
               ("F(3x3), points 0, +-1, 1/2", [0, 1, -1, 0.5], [0, 1, -1, 0.5]),
               ("F(4x4), points 0, +-1, +-2 (the fp32 path's)", canonical, canonical),
               ("F(4x4), points 0, +-1, +-1/2", [0, 1, -1, 0.5, -0.5], [0, 1, -1, 0.5, -0.5]),
               ("F(4x4), points 0, +-1, 1/2, -2", best, best),
               ("F(4x2), points 0, +-1, +-2 by 0, +-1", canonical, f2),
               ("F(4x2), points 0, +-1, 1/2, -2 by 0, +-1", best, f2)]
    if args.points:
        points = [float(p) for p in args.points.split(",")]
        tilings.append((f"F({len(points) - 1}x{len(points) - 1}), points {args.points}", points, points))
    print(f"3x3 convolution, {args.channels} post-ReLU input channels, bf16 operands, exact sums\n")
    print("| tiling | products per output | relative RMS error | x direct bf16's |")
    print("|---|---:|---:|---:|")
    for name, rows, cols in tilings:
        error, direct, products = relative_error(rows, cols, args.channels)
        print(f"| {name} | {products:.2f} | {error:.2e} | {error / direct:.1f} |")
    print(f"| direct (im2col) | 9.00 | {direct:.2e} | 1.0 |")


if __name__ == "__main__":
    main()
