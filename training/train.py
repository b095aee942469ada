#!/usr/bin/env python3
"""PI-REC's three-phase training, written here (PI-REC never released its own).

Phases (the paper's architecture figure), each a run of this script:
  imitation   input: ground truth covered by random free-form masks + edge -> ground truth
  generating  input: colour domain + edge -> ground truth (initialised from imitation)
  refinement  input: the frozen generator's output + edge -> ground truth (initialised from
              the generator); with --with-color the colour domain too (7 input channels);
              with --joint the generator is not frozen but trained with it, end to end
Each phase trains with a PatchGAN discriminator (spectral norm), carried over between
phases. Losses: L1 + adversarial (hinge) + discriminator feature matching, and with --ssim
a structural term, 1 - SSIM as evaluate.py measures it; no perceptual or style loss (they
need pretrained VGG weights, which we do not download).

Data: training/data/train.npz from training/dataset.py (inputs made by pirec's own
plugins and hand-drawn-style flat variants, four per picture, part of the pictures on
painted backgrounds), random variant and horizontal flip per sample. Runs on CPU (2
cores) or CUDA. An exponential moving average of the network's weights (EMA) is kept
beside it; that is what gets shipped.

Resumable two ways:
- within a machine, the run folder's `last.pt` (networks, EMA, optimisers, step) with
  --resume; checkpoints stay out of git;
- across machines, --resume-state DIR: DIR/PHASE.safetensors holds the network, its EMA
  and the discriminator once it has trained, in fp16 (6 MB for a 32x4 network and its
  EMA, 13 MB at 48x4, 5.5 MB more with a discriminator; the Adam moments are dropped and
  re-warmed over the first 200 steps), with the step, the training minutes and the
  network's shape in its metadata. It is written every --save-every steps and at the
  end; commit it when you stop (DIR is training/state in the repository).

    python3 training/train.py --phase generating --resume-state training/state --minutes 120 \
        --residual --init-safetensors models/emoji/generator.safetensors --crop 64 --crop-minutes 100

Use LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 on the CPU (steadier, faster).
"""

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pirec_net import Generator  # noqa: E402


class Discriminator(nn.Module):
    """PatchGAN (EdgeConnect's), spectral norm on every convolution; returns the patch
    logits and the intermediate features for feature matching."""

    def __init__(self, in_channels=3, width=64):
        super().__init__()
        sn = nn.utils.spectral_norm
        w = width
        self.layers = nn.ModuleList([
            nn.Sequential(sn(nn.Conv2d(in_channels, w, 4, 2, 1)), nn.LeakyReLU(0.2, True)),
            nn.Sequential(sn(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.2, True)),
            nn.Sequential(sn(nn.Conv2d(2 * w, 4 * w, 4, 2, 1)), nn.LeakyReLU(0.2, True)),
            nn.Sequential(sn(nn.Conv2d(4 * w, 8 * w, 4, 1, 1)), nn.LeakyReLU(0.2, True)),
            sn(nn.Conv2d(8 * w, 1, 4, 1, 1)),
        ])

    def forward(self, x):
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return x, features[:-1]


def free_form_masks(n, size, rng):
    """Random brush strokes (1 = covered), as the free-form masks of inpainting work."""
    import cv2
    masks = np.zeros((n, size, size), np.float32)
    for i in range(n):
        m = np.zeros((size, size), np.uint8)
        for _ in range(rng.integers(1, 5)):
            x, y = rng.integers(0, size, 2)
            for _ in range(rng.integers(2, 8)):
                angle = rng.uniform(0, 2 * math.pi)
                length = rng.integers(size // 16, size // 4)
                nx = int(np.clip(x + length * math.cos(angle), 0, size - 1))
                ny = int(np.clip(y + length * math.sin(angle), 0, size - 1))
                cv2.line(m, (int(x), int(y)), (nx, ny), 1, int(rng.integers(size // 20, size // 8)))
                x, y = nx, ny
        masks[i] = m
    return torch.from_numpy(masks)[:, None]


class Batches:
    """Random training batches: ground truth, edge and colour domain in [0, 1]."""

    def __init__(self, path, batch, rng):
        data = np.load(path)
        self.images, self.edges, self.colors = data["images"], data["edges"], data["colors"]
        self.pictures = None  # the frozen generator's pictures of every variant (run_through)
        self.batch, self.rng = batch, rng

    def __len__(self):
        return len(self.images)

    def next(self):
        idx = self.rng.integers(0, len(self.images), self.batch)
        var = self.rng.integers(0, self.edges.shape[1], self.batch)
        gt = torch.from_numpy(self.images[idx]).permute(0, 3, 1, 2).float() / 255
        edge = torch.from_numpy(self.edges[idx, var]).float()[:, None]
        color = torch.from_numpy(self.colors[idx, var]).permute(0, 3, 1, 2).float() / 255
        batch = [gt, edge, color]
        if self.pictures is not None:
            batch.append(torch.from_numpy(self.pictures[idx, var]).permute(0, 3, 1, 2).float() / 255)
        flip = torch.from_numpy(self.rng.random(self.batch) < 0.5)
        for t in batch:
            t[flip] = t[flip].flip(-1)
        return batch

    def keep(self, count, rng):
        """Only `count` pictures, drawn at random (all their variants)."""
        if count and count < len(self.images):
            idx = np.sort(rng.choice(len(self.images), count, replace=False))
            self.images, self.edges, self.colors = self.images[idx], self.edges[idx], self.colors[idx]

    def run_through(self, network, device, chunk=32):
        """Makes `network`'s picture of every variant (edge + colour, whole 128x128
        pictures as at run time; 8-bit as the engine's PNG outputs), once, as `pictures`:
        the refinement phase then trains at the speed of the generating phase instead of
        running the frozen generator at every step."""
        n, v = self.colors.shape[:2]
        out = np.empty_like(self.colors)
        with torch.no_grad():
            for j in range(v):
                for i in range(0, n, chunk):
                    color = torch.from_numpy(self.colors[i:i + chunk, j]).permute(0, 3, 1, 2).float() / 255
                    edge = torch.from_numpy(self.edges[i:i + chunk, j]).float()[:, None]
                    picture = network(torch.cat([color, edge], 1).to(device))
                    out[i:i + chunk, j] = (picture.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        self.pictures = out


def ssim(a, b, window=7):
    """Mean SSIM of images in [0, 1] as scikit-image's structural_similarity computes it
    (evaluate.py's measure): a uniform 7x7 window, sample covariances (N / (N - 1)),
    K1 0.01, K2 0.03, averaged over the windows that lie inside the picture and over the
    channels. Differentiable, so 1 - ssim is a loss."""
    mean = lambda t: F.avg_pool2d(t, window, stride=1)  # noqa: E731
    n = window * window
    mu_a, mu_b = mean(a), mean(b)
    var_a = (mean(a * a) - mu_a * mu_a) * n / (n - 1)
    var_b = (mean(b * b) - mu_b * mu_b) * n / (n - 1)
    cov = (mean(a * b) - mu_a * mu_b) * n / (n - 1)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.mean()


def update_ema(ema, net, step, decay):
    """One step of the exponential moving average of net's weights; its memory is short for
    the first steps (decay (1 + step) / (10 + step)), so it follows a fresh network."""
    with torch.no_grad():
        d = min(decay, (1 + step) / (10 + step))
        for e, p in zip(ema.parameters(), net.parameters()):
            e.lerp_(p, 1 - d)


STATE_PREFIXES = ("net", "ema", "disc")
WARMUP_STEPS = 200  # re-warm Adam after resuming from a state file (its moments are not kept)


def save_state(path, nets, meta, ema_only=False):
    """nets: {prefix: module}; fp16 tensors, metadata as strings (pirec_net's writer). A
    discriminator that never trained (meta gan_steps 0) is left out: it is its random start.
    With ema_only the trained copy is left out too (a wide generator's two copies would pass
    the state's 25 MB); resuming then continues both copies from the EMA."""
    from pirec_net import write_safetensors

    if not int(meta.get("gan_steps", 0)):
        nets = {k: v for k, v in nets.items() if k != "disc"}
    if ema_only:
        nets = {k: v for k, v in nets.items() if k != "net"}
    tensors = {f"{prefix}.{k}": v.detach().to(torch.float16).cpu()
               for prefix, net in nets.items() for k, v in net.state_dict().items()}
    write_safetensors(tensors, path, {k: str(v) for k, v in meta.items()})


def load_state(path):
    """A file written by save_state as the dict a run's last.pt holds (float32 tensors;
    no optimiser moments)."""
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
        parts = {p: {} for p in STATE_PREFIXES}
        for key in f.keys():
            prefix, name = key.split(".", 1)
            parts[prefix][name] = f.get_tensor(key).float()
    return {"generator": parts["net"] or parts["ema"], "ema": parts["ema"], "discriminator": parts["disc"] or None,
            "gan_steps": int(meta.get("gan_steps", 0)),
            "phase": meta["phase"], "step": int(meta["step"]), "seconds": float(meta["seconds"]),
            "width": int(meta["width"]), "blocks": int(meta["blocks"]), "residual": meta["residual"] == "True",
            "in_channels": int(meta.get("in_channels", 4))}


def network_of(state):
    """An untrained Generator of a checkpoint's (last.pt's or a state file's) shape."""
    return Generator(state["width"], state["blocks"], state.get("in_channels", 4), residual=state.get("residual", False))


def load_checkpoint(path, device="cpu"):
    """A run's last.pt or a state file (.safetensors), as last.pt's dict."""
    return load_state(path) if path.endswith(".safetensors") else torch.load(path, map_location=device)


def load_generator(path, device):
    """A frozen generator from a run's last.pt or a state file (their EMA when they have
    one), or from exported weights (.safetensors with the engine's metadata)."""
    from safetensors import safe_open

    exported = False
    if path.endswith(".safetensors"):
        with safe_open(path, "pt") as f:
            meta = f.metadata()
        exported = "arch" in meta
    if exported:
        from safetensors.torch import load_file
        net = Generator(int(meta["width"]), int(meta["blocks"]), int(meta.get("input_channels", 4)),
                        residual=meta.get("output") == "residual")
        net.load_state_dict({k: v.float() for k, v in load_file(path).items()})
    else:
        state = load_checkpoint(path, device)
        net = network_of(state)
        net.load_state_dict(state.get("ema") or state["generator"])
    net = net.to(device).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def portable_args(args):
    """The run's arguments with paths relative to the working folder, so a committed state
    file names no machine's folders."""
    out = dict(vars(args))
    for key in ("data", "run", "resume_state", "generator", "init", "init_safetensors"):
        if out.get(key) and os.path.isabs(out[key]):
            out[key] = os.path.relpath(out[key])
    return out


def learning_rate(args, seconds):
    """The step's learning rate: constant, a drop to a third after --lr-drop-minutes, or a
    cosine from --lr down to --lr-end between --lr-from-minutes and --minutes of training."""
    if args.lr_end is not None:
        begin = args.lr_from_minutes * 60
        t = min(1.0, max(0.0, seconds - begin) / (args.minutes * 60 - begin))
        return args.lr_end + (args.lr - args.lr_end) * 0.5 * (1 + math.cos(math.pi * t))
    if args.lr_drop_minutes and seconds >= args.lr_drop_minutes * 60:
        return args.lr / 3
    return args.lr


class JointGenerator:
    """The generator trained end to end behind the refiner (--joint): the network and its
    EMA from the generating phase's checkpoint or state file, its own Adam, and its own
    step and minute counts, which go on from the generator's (so its state file says how
    long the generator has trained in all)."""

    def __init__(self, source, target, device):
        state = load_checkpoint(source, device)
        self.net = network_of(state).to(device)
        self.net.load_state_dict(state["generator"])
        self.ema = copy.deepcopy(self.net).eval()
        self.ema.load_state_dict(state.get("ema") or state["generator"])
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-5, betas=(0.0, 0.9))
        self.step_count, self.seconds = state["step"], state["seconds"]
        self.file = target
        print(f"generator trained with the refiner (end to end) from {source}: width {self.net.width}, "
              f"step {self.step_count}, {self.seconds / 60:.1f} min", flush=True)

    def resume(self, checkpoint):
        """Continues from a joint run's last.pt."""
        self.net.load_state_dict(checkpoint["joint_generator"])
        self.ema.load_state_dict(checkpoint["joint_ema"])
        self.opt.load_state_dict(checkpoint["joint_opt"])
        self.step_count, self.seconds = checkpoint["joint_step"], checkpoint["joint_seconds"]

    def step(self, decay):
        self.opt.step()
        update_ema(self.ema, self.net, self.step_count, decay)
        self.step_count += 1

    def checkpoint(self):
        return {"joint_generator": self.net.state_dict(), "joint_ema": self.ema.state_dict(),
                "joint_opt": self.opt.state_dict(), "joint_step": self.step_count, "joint_seconds": self.seconds}

    def save_state(self, args):
        """Writes the generator to the state folder's generating.safetensors, as the
        generating phase would."""
        if not self.file:
            return
        save_state(self.file, {"net": self.net, "ema": self.ema}, ema_only=args.state_ema_only, meta={
            "phase": "generating", "step": self.step_count, "seconds": f"{self.seconds:.1f}",
            "width": self.net.width, "blocks": self.net.blocks, "in_channels": self.net.in_channels,
            "residual": self.net.residual, "gan_steps": 0,
            "args": json.dumps(portable_args(args), sort_keys=True)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phase", required=True, choices=["imitation", "generating", "refinement"])
    ap.add_argument("--run", help="run folder (last.pt); default training/runs/PHASE")
    ap.add_argument("--resume-state", metavar="DIR",
                    help="continue from DIR/PHASE.safetensors when it exists, and write it back there")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "data", "train.npz"))
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--widen", type=int, default=None, metavar="W",
                    help="grow the loaded network (its EMA) to width W computing the same function "
                         "(pirec_net.Generator.widened), then train on; Adam re-warms")
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--lr-end", type=float, default=None,
                    help="cosine decay from --lr to this by --minutes (instead of a constant rate)")
    ap.add_argument("--lr-from-minutes", type=float, default=0,
                    help="start the cosine here (a run resumed for a new stage, e.g. after --widen)")
    ap.add_argument("--lr-drop-minutes", type=float, default=None,
                    help="drop the learning rate to a third after this many minutes")
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay per step")
    ap.add_argument("--minutes", type=float, default=30, help="stop after this much training time")
    ap.add_argument("--steps", type=int, default=None, help="or after this many steps in all")
    ap.add_argument("--init", help="checkpoint to start the generator and discriminator from")
    ap.add_argument("--init-safetensors",
                    help="start the generator from exported weights (e.g. models/emoji/generator.safetensors), "
                         "to continue from shipped models when the checkpoints are gone")
    ap.add_argument("--generator",
                    help="refinement: the trained generator (last.pt, a state file or exported .safetensors); "
                         "default with --resume-state: DIR/generating.safetensors")
    ap.add_argument("--with-color", action="store_true",
                    help="refinement: the refiner reads the colour domain too (7 input channels: "
                         "picture, edge, colour); a 4-input network loaded is grown, its new inputs "
                         "starting ignored")
    ap.add_argument("--from-generator", action="store_true",
                    help="refinement, a new run: start the refiner from the frozen generator itself "
                         "(its width; pirec_net.Generator.as_colour_refiner) instead of a network of its own")
    ap.add_argument("--refine-pictures", type=int, default=0,
                    help="refinement: train on this many of the pictures (0: all), so the generator's "
                         "pictures of them are made in minutes (about 30 a second on 2 cores)")
    ap.add_argument("--joint", type=float, default=0.0, metavar="WEIGHT",
                    help="refinement: train the generator too, end to end (the refiner reads the "
                         "generator's picture of each batch as it learns; no pictures made in advance), "
                         "its own loss weighted WEIGHT beside the refiner's; both networks' states are "
                         "written back (DIR/generating.safetensors beside DIR/refinement.safetensors)")
    ap.add_argument("--joint-lr", type=float, default=0.5,
                    help="with --joint: the generator's learning rate as a share of the refiner's")
    ap.add_argument("--resume", action="store_true", help="continue the run folder's last.pt")
    ap.add_argument("--residual", action="store_true",
                    help="predict a correction to the RGB input (output = input + tanh); started from a "
                         "direct generator (--init), its last layer is zeroed so training starts at the input")
    ap.add_argument("--l1", type=float, default=1.0)
    ap.add_argument("--ssim", type=float, default=0.0,
                    help="weight of 1 - SSIM (scikit-image's, as evaluate.py measures) beside L1: "
                         "it punishes speckle in flat areas, which L1 barely sees")
    ap.add_argument("--adv", type=float, default=0.01)
    ap.add_argument("--fm", type=float, default=0.1)
    ap.add_argument("--gan-after-minutes", type=float, default=0,
                    help="L1 alone (no discriminator, faster steps) until this many minutes, then "
                         "L1 + adversarial + feature matching")
    ap.add_argument("--crop", type=int, default=None,
                    help="train on random square crops of this size (about 4x more pictures a "
                         "second at 64 than at 128), until --crop-minutes")
    ap.add_argument("--crop-minutes", type=float, default=None,
                    help="after this many minutes train on whole pictures (the size used at run time)")
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--state-ema-only", action="store_true",
                    help="keep only the EMA copy in --resume-state's file (half its size)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def step_seconds(start, cpu_start):
        """Training time of a step. On the CPU: the process's CPU time over its threads, so
        a run niced under builds and tests counts only the time it really computed (and a
        SIGSTOP pause nothing); on CUDA the wall time, at most 30 s (a pause)."""
        wall = time.time() - start
        if device.type == "cuda":
            return min(wall, 30.0)
        return min(wall, (time.process_time() - cpu_start) / args.threads)

    rng = np.random.default_rng(args.seed)
    # Paths as given or relative to the working folder, so logs name no machine's folders.
    run = args.run or os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", args.phase))
    os.makedirs(run, exist_ok=True)
    last = os.path.join(run, "last.pt")
    state_file = os.path.join(args.resume_state, f"{args.phase}.safetensors") if args.resume_state else None

    in_channels = 7 if args.with_color else 4
    if (args.with_color or args.from_generator) and args.phase != "refinement":
        sys.exit("--with-color and --from-generator are for the refinement phase")
    if args.from_generator and not args.with_color:
        sys.exit("--from-generator makes a refiner that reads the colour domain: add --with-color")
    if args.joint and args.phase != "refinement":
        sys.exit("--joint is for the refinement phase")
    if args.joint and args.from_generator:
        sys.exit("--from-generator starts a new refiner from a frozen generator; --joint trains an existing one")
    frozen = None
    joint = None  # with --joint: the trained generator, its EMA, optimiser, state file and counters
    if args.phase == "refinement":
        source = args.generator or (os.path.join(args.resume_state, "generating.safetensors")
                                    if args.resume_state else None)
        if not source:
            sys.exit("refinement needs --generator (the trained generating phase) or --resume-state")
        if args.joint:
            # Written back to the state folder (never to a --generator elsewhere), and
            # continued from there once it exists.
            target = os.path.join(args.resume_state, "generating.safetensors") if args.resume_state else None
            joint = JointGenerator(target if target and os.path.exists(target) else source, target, device)
        else:
            frozen = load_generator(source, device)
            print(f"refining the pictures of {source}")
    net = Generator(args.width, args.blocks, in_channels, residual=args.residual).to(device)
    disc = Discriminator().to(device)
    step, trained_seconds, warm_from, gan_steps = 0, 0.0, None, 0
    ema_state = None
    if args.resume and os.path.exists(last):
        state = torch.load(last, map_location=device)
        net = network_of(state).to(device)
        net.load_state_dict(state["generator"])
        disc.load_state_dict(state["discriminator"])
        ema_state = state.get("ema")
        step, trained_seconds, gan_steps = state["step"], state["seconds"], state.get("gan_steps", 0)
        if joint is not None:
            joint.resume(state)
        print(f"resumed {last} at step {step} ({trained_seconds / 60:.1f} min)")
    elif state_file and os.path.exists(state_file):
        state = load_state(state_file)
        net = network_of(state).to(device)
        net.load_state_dict(state["generator"])
        if state["discriminator"]:
            disc.load_state_dict(state["discriminator"])
        ema_state = state["ema"]
        step, trained_seconds, gan_steps = state["step"], state["seconds"], state["gan_steps"]
        warm_from = step
        print(f"resumed {state_file} at step {step} ({trained_seconds / 60:.1f} min); Adam re-warms "
              f"over {WARMUP_STEPS} steps")
    else:
        if args.init:
            state = torch.load(args.init, map_location=device)
            net.load_state_dict(state["generator"])
            disc.load_state_dict(state["discriminator"])
            # A residual network starts as the identity: from a direct generator, and for the
            # refinement phase always (so the refiner starts by keeping the generator's picture).
            if args.residual and (not state.get("residual", False) or args.phase == "refinement"):
                net.start_residual()
                print("residual output: last layer zeroed, so training starts from the input itself")
            print(f"initialised from {args.init} ({state['phase']}, step {state['step']})")
        if args.init_safetensors:
            from safetensors.torch import load_file
            weights = {k: v.float() for k, v in load_file(args.init_safetensors).items()}
            net = Generator(args.width, args.blocks, weights["encoder.1.weight"].shape[1],
                            residual=args.residual).to(device)
            net.load_state_dict(weights)
            print(f"generator initialised from {args.init_safetensors}")
        if args.from_generator:
            net = frozen.as_colour_refiner().to(device)
            warm_from = step  # trained weights: Adam warms up before taking full steps
            print(f"refiner started from the generator (width {net.width}): its features, the "
                  f"picture's weights and the last layer at zero, so it starts as the identity")
    rng = np.random.default_rng(args.seed + step)
    ema = copy.deepcopy(net).eval()
    if ema_state is not None:
        ema.load_state_dict(ema_state)
    if (args.widen or 0) > net.width or in_channels > net.in_channels:
        # Both copies start from the EMA (the better network), grown.
        width = max(args.widen or 0, net.width)
        print(f"grown from width {net.width}, {net.in_channels} inputs to {width}, {in_channels}: "
              f"the same function, new channels learn")
        net = ema.widened(width, in_channels).to(device)
        ema = copy.deepcopy(net).eval()
        warm_from = step
    args.width, args.blocks = net.width, net.blocks
    for p in ema.parameters():
        p.requires_grad_(False)
    opt_g = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr * 0.1, betas=(0.0, 0.9))
    if args.resume and os.path.exists(last):
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
    elif joint is not None and warm_from is None:
        warm_from = step  # the generator's Adam moments start empty: warm up

    data = Batches(args.data, args.batch, rng)
    if frozen is not None:
        # The generator sees whole pictures, as at run time (instance norm statistics of a
        # crop differ); the refiner may then train on crops of its output. This counts as
        # training time.
        start, cpu_start = time.time(), time.process_time()
        data.keep(args.refine_pictures, np.random.default_rng(args.seed))
        data.run_through(frozen, device)
        spent = step_seconds(start, cpu_start)
        trained_seconds += spent
        print(f"the generator's pictures of {data.colors.shape[0]} x {data.colors.shape[1]} variants: "
              f"{spent:.0f} s", flush=True)

    def save():
        state = {"generator": net.state_dict(), "discriminator": disc.state_dict(), "ema": ema.state_dict(),
                 "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                 "seconds": trained_seconds, "phase": args.phase, "width": args.width, "residual": net.residual,
                 "blocks": args.blocks, "in_channels": net.in_channels, "gan_steps": gan_steps,
                 "args": vars(args)}
        if joint is not None:
            state.update(joint.checkpoint())
        torch.save(state, last + ".tmp")
        os.replace(last + ".tmp", last)
        if state_file:
            os.makedirs(args.resume_state, exist_ok=True)
            save_state(state_file, {"net": net, "ema": ema, "disc": disc}, ema_only=args.state_ema_only, meta={
                "phase": args.phase, "step": step, "seconds": f"{trained_seconds:.1f}", "width": args.width,
                "blocks": args.blocks, "in_channels": net.in_channels, "residual": net.residual,
                "gan_steps": gan_steps,
                "args": json.dumps(portable_args(args), sort_keys=True)})
            if joint is not None:
                joint.save_state(args)

    print(f"phase {args.phase}: width {args.width}, {args.blocks} blocks, {len(data)} pictures, "
          f"batch {args.batch}, device {device}", flush=True)
    window = time.time()
    seen = 0
    loss_d = adv = fm = torch.zeros(())
    while True:
        if args.steps is not None and step >= args.steps:
            break
        if trained_seconds >= args.minutes * 60:
            break
        lr = learning_rate(args, trained_seconds)
        if warm_from is not None:
            lr *= min(1.0, (step - warm_from + 1) / WARMUP_STEPS)
        for group in opt_g.param_groups:
            group["lr"] = lr
        for group in opt_d.param_groups:
            group["lr"] = lr * 0.1
        if joint is not None:
            for group in joint.opt.param_groups:
                group["lr"] = lr * args.joint_lr
        start, cpu_start = time.time(), time.process_time()
        gt, edge, color, *picture = (t.to(device) for t in data.next())
        if args.phase == "imitation":
            mask = free_form_masks(args.batch, gt.shape[-1], rng).to(device)
            rgb = gt * (1 - mask) + mask
        elif args.phase == "refinement" and joint is None:
            rgb = picture[0]  # the frozen generator's picture (Batches.run_through)
        else:
            rgb = color
        cropping = args.crop and (args.crop_minutes is None or trained_seconds < args.crop_minutes * 60)
        if cropping and args.crop < gt.shape[-1]:
            y, x = (int(v) for v in rng.integers(0, gt.shape[-1] - args.crop + 1, 2))
            gt, rgb, edge, color = (t[..., y:y + args.crop, x:x + args.crop] for t in (gt, rgb, edge, color))
        if joint is not None:
            rgb = joint.net(torch.cat([color, edge], 1))  # the generator's picture, with its gradient
        # The network's input channels: RGB, edge, and for a 7-input refiner the colour domain.
        inputs = torch.cat([rgb, edge, color] if net.in_channels == 7 else [rgb, edge], 1)
        fake = net(inputs)
        l1 = F.l1_loss(fake, gt)
        gan = trained_seconds >= args.gan_after_minutes * 60

        if gan:
            # Discriminator: hinge loss.
            opt_d.zero_grad(set_to_none=True)
            real_logits, _ = disc(gt)
            fake_logits, _ = disc(fake.detach())
            loss_d = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
            loss_d.backward()
            opt_d.step()
            gan_steps += 1

        # Generator: L1 (+ structure) (+ adversarial + feature matching).
        opt_g.zero_grad(set_to_none=True)
        loss_g = args.l1 * l1
        if args.ssim:
            structure = ssim(fake, gt)
            loss_g = loss_g + args.ssim * (1 - structure)
        if joint is not None:
            own = args.l1 * F.l1_loss(rgb, gt) + (args.ssim * (1 - ssim(rgb, gt)) if args.ssim else 0)
            loss_g = loss_g + args.joint * own
            joint.opt.zero_grad(set_to_none=True)
        if gan:
            fake_logits, fake_features = disc(fake)
            with torch.no_grad():
                _, real_features = disc(gt)
            adv = -fake_logits.mean()
            fm = sum(F.l1_loss(f, r) for f, r in zip(fake_features, real_features))
            loss_g = loss_g + args.adv * adv + args.fm * fm
        loss_g.backward()
        opt_g.step()
        update_ema(ema, net, step, args.ema)
        if joint is not None:
            joint.step(args.ema)

        step += 1
        seen += args.batch
        spent = step_seconds(start, cpu_start)
        trained_seconds += spent
        if joint is not None:
            joint.seconds += spent
        if step % args.save_every == 0:
            save()
        if time.time() - window >= 30:
            rate = seen / (time.time() - window)
            print(f"[{args.phase}] step {step} {trained_seconds / 60:5.1f} min | L1 {l1.item():.4f} "
                  + (f"SSIM {structure.item():.4f} " if args.ssim else "")
                  + f"adv {adv.item():+.3f} fm {fm.item():.4f} D {loss_d.item():.3f} | lr {lr:.1e} | "
                  f"{rate:.1f} img/s", flush=True)
            window, seen = time.time(), 0
    save()
    print(f"saved {last} at step {step} ({trained_seconds / 60:.1f} min)"
          + (f" and {state_file}" if state_file else ""), flush=True)


if __name__ == "__main__":
    main()
