#!/usr/bin/env python3
"""Train pirec's learned upscaler (training/upscaler_net.py) on the clip-art tiles.

    python3 training/upscaler_dataset.py            # training/data/upscaler/{train,heldout}.npz
    nice -n 19 python3 training/train_upscaler.py --scale 2 --minutes 40 --threads 2
    python3 training/train_upscaler.py --scale 2 --export models/upscaler/x2.safetensors

Each step takes a batch of random high-resolution crops of the training tiles (random
flips and quarter turns), makes their low-resolution versions as the held-out set's are
made (the mean of each SxS block, rounded to 8 bits) and trains on L1. A share of the
crops (--blur) is softened with a Gaussian blur before the reduction, so pictures that
are softer than an exact reduction (the generator's) are enlarged without their blur
being copied. Another share (--styled) pairs the clean render with its reduction passed
through the shipped generator (StyledPairs): the pictures the chain really hands the
upscaler, so it learns to enlarge those. The learning rate follows a cosine from --lr to
--lr-end over --minutes of training time (the process's CPU time over its threads, as
train.py counts it), and an exponential moving average of the weights is kept and
exported.

Resumable: the run folder's last.pt keeps everything (Adam's moments too); the state file
training/state/upscaler-xS.safetensors (fp16 network and EMA, a fresh machine's starting
point, committed) is written beside it. A run started again with a larger --minutes
continues from the state file, or from last.pt with --resume. Every --check-minutes the
EMA's mean PSNR on the held-out tiles is printed beside Lanczos's (Pillow's), a quick
PyTorch-side look; the figures that count are training/evaluate_upscaler.py's, through the
Swift plugin.
"""

import argparse
import copy
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import WARMUP_STEPS, load_state, portable_args, save_state, update_ema  # noqa: E402
from upscaler_net import Upscaler, psnr, save_safetensors  # noqa: E402

DATA = os.path.join(HERE, "data", "upscaler")
DATASET = ("openclipart-svg (Debian 12), public domain, rendered with librsvg2-bin's rsvg-convert at 512 px on "
           "white, 128x128 tiles; held-out drawings in training/upscaler_heldout.txt")


def reduce(hr, scale):
    """The low-resolution version of [N, 3, H, W] pictures in [0, 1]: the mean of each
    scale x scale block, rounded to 8 bits (upscaler_dataset.py's held-out reduction)."""
    return torch.floor(F.avg_pool2d(hr, scale) * 255 + 0.5) / 255


def gaussian_blur(x, sigma):
    """Separable Gaussian blur of [N, C, H, W] with per-picture sigma [N], reflection at borders."""
    radius = 3
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-(t[None] ** 2) / (2 * sigma[:, None] ** 2))
    k = k / k.sum(1, keepdim=True)                     # [N, 7]
    n, c, h, w = x.shape
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect").reshape(1, n * c, h + 2 * radius, w + 2 * radius)
    kernels = k.repeat_interleave(c, 0)                # [N C, 7]
    y = F.conv2d(y, kernels[:, None, None, :], groups=n * c)
    y = F.conv2d(y, kernels[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


class Tiles:
    """Random augmented HR crops of the training tiles, as [N, 3, crop, crop] in [0, 1]."""

    def __init__(self, path, rng):
        self.hr = np.load(path)["hr"]
        self.rng = rng

    def batch(self, size, crop):
        idx = self.rng.integers(0, len(self.hr), size)
        side = self.hr.shape[1]
        y, x = self.rng.integers(0, side - crop + 1, 2)
        return self.augment(torch.from_numpy(self.hr[idx, y:y + crop, x:x + crop]))[0]

    def augment(self, *batches):
        """The same random quarter turn and mirror of each [N, H, W, 3] uint8 batch, as
        [N, 3, H, W] in [0, 1]."""
        turns, mirror = int(self.rng.integers(0, 4)), bool(self.rng.integers(0, 2))
        out = []
        for b in batches:
            t = torch.rot90(b.permute(0, 3, 1, 2).float() / 255, turns, (2, 3))
            out.append(torch.flip(t, (3,)) if mirror else t)
        return out


def generator_styled(colour, net, scale):
    """Low-resolution pictures [N, 3, h, w] in [0, 1] as the generator `net` remakes them
    from themselves as colour domain and their Canny edges (sigma 2 / scale), as uint8
    [N, h, w, 3]."""
    from skimage.color import rgb2gray
    from skimage.feature import canny

    edges = torch.from_numpy(np.stack([
        canny(rgb2gray(c.permute(1, 2, 0).numpy()), sigma=2.0 / scale) for c in colour])).float()
    with torch.no_grad():
        picture = net(torch.cat([colour, edges[:, None]], 1))
    return (picture.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


class StyledPairs:
    """Training tiles whose low-resolution version went through the shipped generator (the
    reduction as its colour domain, its Canny edges as the edge map): the pictures the chain
    hands the upscaler, paired with the clean render. Made once per scale and generator and
    kept in DATA/styled-xS-HASH.npz (`count` tiles drawn with `seed`; HASH: the start of the
    generator file's SHA-256, so a new generator makes new pictures)."""

    def __init__(self, tiles, scale, data, generator, count=4000, seed=7):
        self.tiles, self.scale = tiles, scale
        with open(generator, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        path = os.path.join(data, f"styled-x{scale}-{digest}.npz")
        if not os.path.exists(path):
            self.make(path, generator, count, seed)
        saved = np.load(path)
        self.index, self.lr = saved["index"], saved["lr"]

    def make(self, path, generator, count, seed):
        from train import load_generator

        start = time.process_time()
        net = load_generator(generator, "cpu")
        index = np.sort(np.random.default_rng(seed).choice(len(self.tiles.hr), count, replace=False))
        side = self.tiles.hr.shape[1] // self.scale
        lr = np.empty((count, side, side, 3), np.uint8)
        for i in range(0, count, 64):
            hr = torch.from_numpy(self.tiles.hr[index[i:i + 64]]).permute(0, 3, 1, 2).float() / 255
            lr[i:i + 64] = generator_styled(reduce(hr, self.scale), net, self.scale)
        tmp = path + ".tmp.npz"
        np.savez(tmp, index=index, lr=lr)
        os.replace(tmp, path)
        print(f"{path}: {count} tiles through {generator} at x{self.scale}, "
              f"{time.process_time() - start:.0f} s of CPU", flush=True)

    def batch(self, size, crop):
        """HR crops [N, 3, crop, crop] and their styled low-resolution crops, aligned."""
        pick = self.tiles.rng.integers(0, len(self.index), size)
        s, side = self.scale, self.tiles.hr.shape[1]
        y, x = (s * int(v) for v in self.tiles.rng.integers(0, (side - crop) // s + 1, 2))
        hr = torch.from_numpy(self.tiles.hr[self.index[pick], y:y + crop, x:x + crop])
        lr = torch.from_numpy(self.lr[pick, y // s:(y + crop) // s, x // s:(x + crop) // s])
        return self.tiles.augment(hr, lr)


def learning_rate(args, seconds):
    t = min(1.0, seconds / (args.minutes * 60))
    return args.lr_end + (args.lr - args.lr_end) * 0.5 * (1 + math.cos(math.pi * t))


def check(net, heldout, scale):
    """Mean PSNR of the network and of Pillow's Lanczos on the held-out tiles."""
    from PIL import Image

    lr, hr = heldout[f"lr{scale}"], heldout["hr"]
    with torch.no_grad():
        x = torch.from_numpy(lr).permute(0, 3, 1, 2).float() / 255
        out = torch.cat([net(x[i:i + 64]) for i in range(0, len(x), 64)])
    ours = (out * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    side = hr.shape[1]
    lanczos = np.stack([np.asarray(Image.fromarray(p).resize((side, side), Image.LANCZOS)) for p in lr])
    return psnr(ours, hr).mean(), psnr(lanczos, hr).mean()


def export(output, ema, step, seconds, crop):
    """Writes the EMA network as fp16 safetensors with the engine's metadata."""
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    save_safetensors(ema.state_dict(), output, ema.scale, ema.width, ema.blocks, {
        "dataset": DATASET, "steps": step, "minutes": f"{seconds / 60:.1f}", "weights": "EMA", "loss": "L1",
        "trained_size": str(crop // ema.scale)})
    print(f"{output}: x{ema.scale}, width {ema.width}, {ema.blocks} blocks, step {step}, {seconds / 60:.1f} min, "
          f"{os.path.getsize(output) / 1e3:.0f} kB")


def export_state(state_file, output):
    """Exports a state file's EMA (evaluate_upscaler.py's --x2/--x4 given a state file)."""
    from safetensors import safe_open

    with safe_open(state_file, "pt") as f:
        meta = f.metadata()
    scale = int(meta["scale"])
    saved = load_state(state_file)
    ema = Upscaler(scale, saved["width"], saved["blocks"])
    ema.load_state_dict(saved["ema"] or saved["generator"])
    export(output, ema, saved["step"], saved["seconds"], json.loads(meta["args"])["crop"] or default_crop(scale))


def default_crop(scale):
    """HR crop side: low-resolution crops of 48 (x2) and 32 (x4)."""
    return 96 if scale == 2 else 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, choices=(2, 4), required=True)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--run", help="run folder (last.pt); default training/runs/upscaler-xS")
    ap.add_argument("--resume-state", default=os.path.relpath(os.path.join(HERE, "state")),
                    help="continue from DIR/upscaler-xS.safetensors when it exists, and write it back there")
    ap.add_argument("--resume", action="store_true", help="continue the run folder's last.pt (Adam's moments too)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=None, help="HR crop side (default 96 at x2, 128 at x4)")
    ap.add_argument("--blur", type=float, default=0.2, help="share of crops blurred before the reduction")
    ap.add_argument("--styled", type=float, default=0.0,
                    help="share of crops whose low-resolution version went through the generator (StyledPairs)")
    ap.add_argument("--generator", default=os.path.relpath(os.path.join(HERE, "..", "models", "emoji", "generator.safetensors")),
                    help="the generator that styles those crops")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-end", type=float, default=1e-5)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--check-minutes", type=float, default=5)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--export", metavar="FILE", help="write the state's EMA as fp16 safetensors and stop")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    name = f"upscaler-x{args.scale}"
    run = args.run or os.path.relpath(os.path.join(HERE, "runs", name))
    last = os.path.join(run, "last.pt")
    state_file = os.path.join(args.resume_state, f"{name}.safetensors")
    crop = args.crop or default_crop(args.scale)

    step, seconds, ema_state, opt_state = 0, 0.0, None, None
    net = Upscaler(args.scale, args.width, args.blocks).start_nearest()
    if args.resume and os.path.exists(last):
        saved = torch.load(last)
        net = Upscaler(args.scale, saved["width"], saved["blocks"])
        net.load_state_dict(saved["net"])
        step, seconds, ema_state, opt_state = saved["step"], saved["seconds"], saved["ema"], saved["opt"]
        print(f"resumed {last} at step {step} ({seconds / 60:.1f} min)")
    elif os.path.exists(state_file):
        saved = load_state(state_file)
        net = Upscaler(args.scale, saved["width"], saved["blocks"])
        net.load_state_dict(saved["generator"])
        step, seconds, ema_state = saved["step"], saved["seconds"], saved["ema"]
        print(f"resumed {state_file} at step {step} ({seconds / 60:.1f} min); Adam re-warms over {WARMUP_STEPS} steps")
    warm_from = None if opt_state is not None else step
    ema = copy.deepcopy(net).eval()
    if ema_state:
        ema.load_state_dict(ema_state)
    for p in ema.parameters():
        p.requires_grad_(False)
    args.width, args.blocks = net.width, net.blocks

    if args.export:
        export(args.export, ema, step, seconds, crop)
        return

    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    rng = np.random.default_rng(args.seed + step)
    tiles = Tiles(os.path.join(args.data, "train.npz"), rng)
    styled = StyledPairs(tiles, args.scale, args.data, args.generator) if args.styled else None
    heldout = np.load(os.path.join(args.data, "heldout.npz"))
    os.makedirs(run, exist_ok=True)

    def save():
        torch.save({"net": net.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                    "seconds": seconds, "width": net.width, "blocks": net.blocks, "args": vars(args)}, last + ".tmp")
        os.replace(last + ".tmp", last)
        os.makedirs(args.resume_state, exist_ok=True)
        save_state(state_file, {"net": net, "ema": ema}, meta={
            "phase": name, "step": step, "seconds": f"{seconds:.1f}", "width": net.width, "blocks": net.blocks,
            "scale": args.scale, "residual": False, "args": json.dumps(portable_args(args), sort_keys=True)})

    print(f"{name}: width {net.width}, {net.blocks} blocks, {len(tiles.hr)} tiles, crop {crop}, "
          f"batch {args.batch}, {args.threads} threads", flush=True)
    window, seen, losses = time.time(), 0, []
    next_check = (seconds // (args.check_minutes * 60) + 1) * args.check_minutes * 60
    while seconds < args.minutes * 60:
        lr = learning_rate(args, seconds)
        if warm_from is not None:
            lr *= min(1.0, (step - warm_from + 1) / WARMUP_STEPS)
        for group in opt.param_groups:
            group["lr"] = lr
        wall, cpu = time.time(), time.process_time()
        n_styled = int(rng.binomial(args.batch, args.styled)) if styled else 0
        hr = tiles.batch(args.batch - n_styled, crop)
        blurred = torch.from_numpy(rng.random(len(hr)) < args.blur)
        if blurred.any():
            sigma = torch.from_numpy(rng.uniform(0.3, 0.3 + 0.4 * args.scale, len(hr))).float()
            hr_soft = gaussian_blur(hr, sigma)
            source = torch.where(blurred[:, None, None, None], hr_soft, hr)
        else:
            source = hr
        small = reduce(source, args.scale)
        if n_styled:
            styled_hr, styled_lr = styled.batch(n_styled, crop)
            hr, small = torch.cat([hr, styled_hr]), torch.cat([small, styled_lr])
        out = net(small)
        loss = F.l1_loss(out, hr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        update_ema(ema, net, step, args.ema)
        step += 1
        seen += args.batch
        losses.append(loss.item())
        seconds += min(time.time() - wall, (time.process_time() - cpu) / args.threads)
        if step % args.save_every == 0:
            save()
        if time.time() - window >= 60:
            print(f"[{name}] step {step} {seconds / 60:6.1f} min | L1 {np.mean(losses):.4f} | lr {lr:.1e} | "
                  f"{seen / (time.time() - window):.0f} crops/s", flush=True)
            window, seen, losses = time.time(), 0, []
        if seconds >= next_check:
            ours, lanczos = check(ema, heldout, args.scale)
            print(f"[{name}] held-out at {seconds / 60:.1f} min: EMA {ours:.2f} dB, Lanczos {lanczos:.2f} dB "
                  f"({ours - lanczos:+.2f})", flush=True)
            next_check += args.check_minutes * 60
    save()
    ours, lanczos = check(ema, heldout, args.scale)
    print(f"[{name}] done: step {step}, {seconds / 60:.1f} min; held-out EMA {ours:.2f} dB, Lanczos {lanczos:.2f} dB "
          f"({ours - lanczos:+.2f})", flush=True)


if __name__ == "__main__":
    main()
