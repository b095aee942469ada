#!/usr/bin/env python3
"""Generate Tests/Fixtures/network/: PyTorch references for pirec's inference engine.

Run from the repository root:

    pip install -r training/requirements.txt
    python3 training/make_network_fixtures.py

Deterministic: every random draw is seeded, PyTorch runs on one CPU thread, and
the safetensors headers are written with sorted keys, so two runs with the
pinned versions give byte-identical files (the script prints their sha256).

Writes (see Tests/Fixtures/network/README.md for every tensor):
  small.safetensors       W=8, B=2 generator, seed 1, F32
  small_bf16.safetensors  the same weights stored as BF16
  small_f16.safetensors   the same weights stored as F16
  wide.safetensors        W=64, B=1 generator, seed 2, F16
  refiner7.safetensors    W=8, B=2 refiner with 7 inputs (picture, edge, colour), seed 3, F32
  cases.safetensors       inputs and PyTorch outputs of small, wide and refiner7 (F32), and
                          of the shipped generator (models/emoji, trained) on real128:
                          rerun this script when the shipped generator changes
  ops.safetensors         per-op inputs, parameters and outputs (F32)
  upscaler_x2.safetensors W=8, B=2 learned upscaler (training/upscaler_net.py), x2, seed 4, F32
  upscaler_x4.safetensors W=8, B=1 learned upscaler, x4, seed 5, F16
  upscaler_cases.safetensors  their inputs and PyTorch outputs (F32)
"""

import copy
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file
from skimage.color import rgb2gray
from skimage.feature import canny

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pirec_net import Generator, save_safetensors, write_safetensors  # noqa: E402
from upscaler_net import Upscaler  # noqa: E402
from upscaler_net import save_safetensors as save_upscaler  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "Tests" / "Fixtures" / "network"
CHELSEA = ROOT / "Tests" / "Fixtures" / "classical" / "chelsea.png"
SHIPPED = ROOT / "models" / "emoji" / "generator.safetensors"

# The last convolution (decoder.9) feeds tanh directly; every other one is
# followed by InstanceNorm, so only its scale matters. PyTorch's default init
# gives pre-tanh values with a standard deviation of about 0.4: outputs span
# about 0.03..0.995 with a standard deviation of 0.16, not saturated. Scaling by
# 2 saturated 2-3% of the small model's outputs (> 0.98 or < 0.02), so the
# default init is kept (scale 1).
FINAL_CONV_SCALE = 1.0

KMEANS_K = 4
KMEANS_SEED = 12345
KMEANS_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
KMEANS_ATTEMPTS = 8


def make_generator(width, blocks, seed, in_channels=4):
    torch.manual_seed(seed)
    model = Generator(width, blocks, in_channels).eval()
    with torch.no_grad():
        model.decoder[9].weight.mul_(FINAL_CONV_SCALE)
        model.decoder[9].bias.mul_(FINAL_CONV_SCALE)
    return model


def rounded_copy(model, dtype):
    """A float32 model whose weights are `model`'s rounded to `dtype` and back."""
    rounded = copy.deepcopy(model).eval()
    rounded.load_state_dict({k: v.to(dtype).to(torch.float32) for k, v in model.state_dict().items()})
    return rounded


def seeded_rand(shape, seed, low=0.0, high=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float32) * (high - low) + low


def seeded_randn(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float32)


def real_input(size=128):
    """PI-REC's two domains of a real picture as a [1, 4, size, size] tensor."""
    im = Image.open(CHELSEA).convert("RGB").resize((size, size), Image.LANCZOS)
    rgb = np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    # Colour domain: median 7, k-means K=4 (seeded), median 3.
    blurred = cv2.medianBlur(rgb, 7)
    samples = blurred.reshape(-1, 3).astype(np.float32)
    cv2.setRNGSeed(KMEANS_SEED)
    _, labels, centers = cv2.kmeans(samples, KMEANS_K, None, KMEANS_CRITERIA,
                                    KMEANS_ATTEMPTS, cv2.KMEANS_PP_CENTERS)
    quant = np.clip(np.rint(centers[labels.reshape(-1)]), 0, 255).astype(np.uint8)
    colour = cv2.medianBlur(np.ascontiguousarray(quant.reshape(rgb.shape)), 3)
    # Edge domain: scikit-image Canny, sigma 2, on the grey image.
    edge = canny(rgb2gray(rgb), sigma=2).astype(np.float32)
    x = np.concatenate([colour.astype(np.float32).transpose(2, 0, 1) / 255.0,
                        edge[None]], axis=0)[None]
    return torch.from_numpy(np.ascontiguousarray(x))


def check_not_trivial(name, y):
    lo, hi = y.min().item(), y.max().item()
    mean, std = y.mean().item(), y.std().item()
    print(f"  {name:28s} min {lo:.3f} max {hi:.3f} mean {mean:.3f} std {std:.3f}")
    assert 0.0 <= lo and hi <= 1.0, name
    assert 0.2 < mean < 0.8 and std > 0.05, f"{name}: output is trivially flat"
    saturated = ((y < 0.02) | (y > 0.98)).float().mean().item()
    assert saturated < 0.005, f"{name}: {saturated:.1%} of the output saturates"


def model_cases(prefix, model, real, seed=101):
    """A 7-input model's real input repeats the colour domain after the edge (as the
    picture it refines)."""
    cases = {}
    n = model.in_channels
    inputs = {
        "random32": seeded_rand((1, n, 32, 32), seed),
        "random36x44": seeded_rand((1, n, 36, 44), seed + 1),
        "real128": real if n == 4 else torch.cat([real, real[:, :3]], 1),
    }
    with torch.no_grad():
        for case, x in inputs.items():
            y = model(x)
            assert y.shape == (1, 3, x.shape[2], x.shape[3]), (case, y.shape)
            check_not_trivial(f"{prefix}.{case}.output", y)
            cases[f"{prefix}.{case}.input"] = x
            cases[f"{prefix}.{case}.output"] = y
    return cases


def op_cases():
    """Per-op inputs, parameters and outputs; also their parameters as metadata."""
    t = {}
    meta = {}

    def add(name, params, **tensors):
        for k, v in tensors.items():
            t[f"{name}.{k}"] = v
        meta[name] = params

    seed = iter(range(1000, 2000))

    for name, shape, pad in (("reflect_pad3", (1, 3, 5, 7), 3),
                             ("reflect_pad1", (1, 2, 4, 4), 1),
                             ("reflect_pad2", (1, 2, 6, 5), 2)):
        x = seeded_randn(shape, next(seed))
        add(name, f"ReflectionPad2d({pad})", input=x, output=F.pad(x, (pad,) * 4, mode="reflect"))

    def conv(name, shape, wshape, stride=1, padding=0, dilation=1):
        x = seeded_randn(shape, next(seed))
        w = seeded_randn(wshape, next(seed)) * 0.3
        b = seeded_randn((wshape[0],), next(seed))
        y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
        add(name, f"Conv2d stride={stride} padding={padding} (zeros) dilation={dilation}",
            input=x, weight=w, bias=b, output=y)

    conv("conv7", (1, 4, 11, 13), (5, 4, 7, 7))
    conv("conv4s2", (1, 3, 12, 10), (6, 3, 4, 4), stride=2, padding=1)
    conv("conv3d2", (1, 4, 9, 11), (4, 4, 3, 3), dilation=2)
    conv("conv3", (1, 5, 8, 9), (7, 5, 3, 3))

    x = seeded_randn((1, 6, 5, 7), next(seed))
    w = seeded_randn((6, 3, 4, 4), next(seed)) * 0.3
    b = seeded_randn((3,), next(seed))
    y = F.conv_transpose2d(x, w, b, stride=2, padding=1)
    assert y.shape == (1, 3, 10, 14), y.shape
    add("convT4s2", "ConvTranspose2d stride=2 padding=1 output_padding=0 dilation=1; "
        "weight [in, out, kH, kW]", input=x, weight=w, bias=b, output=y)

    # Instance norm: per-channel means from -3 to 5 and scales from 0.01 to 10.
    means = torch.tensor([-3.0, 0.0, 0.5, 2.0, 5.0]).view(1, 5, 1, 1)
    scales = torch.tensor([0.01, 1.0, 0.2, 10.0, 3.0]).view(1, 5, 1, 1)
    x = seeded_randn((1, 5, 6, 7), next(seed)) * scales + means
    add("inorm", "InstanceNorm2d eps=1e-5 affine=False track_running_stats=False",
        input=x, output=F.instance_norm(x, eps=1e-5))

    for name, shape in (("upsample", (1, 3, 5, 7)), ("upsample1x1", (1, 2, 1, 1))):
        x = seeded_randn(shape, next(seed))
        y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        add(name, "Upsample scale_factor=2 bilinear align_corners=False", input=x, output=y)

    x = seeded_randn((1, 3, 4, 5), next(seed))
    add("relu", "ReLU", input=x, output=F.relu(x))
    x = seeded_rand((1, 3, 4, 5), next(seed), -4.0, 4.0)
    add("tanh_out", "(tanh(x) + 1) / 2", input=x, output=(torch.tanh(x) + 1) / 2)
    # Sizes both Winograd tiles divide (outputs 16 x 40 and, dilated, 16 x 48: 10 and 12
    # F(4x4) tiles a row, so both the 8-tile and the one-tile transforms run), at channel
    # counts the engine runs as Winograd.
    conv("wino3", (1, 32, 18, 42), (24, 32, 3, 3))
    conv("wino3d2", (1, 32, 20, 52), (24, 32, 3, 3), dilation=2)
    for name, shape, scale in (("depth_to_space2", (1, 12, 3, 5), 2), ("depth_to_space4", (1, 32, 2, 3), 4)):
        x = seeded_randn(shape, next(seed))
        add(name, f"PixelShuffle({scale})", input=x, output=F.pixel_shuffle(x, scale))
    # A stride-2 convolution on rows wide enough for im2col's 16-sample vector gather.
    conv("conv4s2wide", (1, 4, 6, 70), (6, 4, 4, 4), stride=2, padding=1)
    return t, meta


def make_upscaler(scale, width, blocks, seed):
    """PyTorch's default initialisation after manual_seed(seed), the tail scaled by 0.2 so the
    correction it adds to the nearest-neighbour enlargement stays mostly inside [0, 1] (at
    full scale a third of the outputs clamp, and a clamped output tests nothing)."""
    torch.manual_seed(seed)
    net = Upscaler(scale, width, blocks).eval()
    with torch.no_grad():
        net.tail.weight.mul_(0.2)
        net.tail.bias.mul_(0.2)
    return net


def upscaler_cases(real):
    """The two fixture upscalers on a random input of odd size and on the real picture's RGB,
    whole and (x4) a 48x40 corner of it."""
    info = {"dataset": "random", "steps": "0"}
    x2 = make_upscaler(2, 8, 2, seed=4)
    x4 = make_upscaler(4, 8, 1, seed=5)
    save_upscaler(x2.state_dict(), OUT / "upscaler_x2.safetensors", 2, 8, 2, info, torch.float32)
    save_upscaler(x4.state_dict(), OUT / "upscaler_x4.safetensors", 4, 8, 1, info, torch.float16)
    x4_ref = rounded_copy(x4, torch.float16)
    for fname, model, dtype in (("upscaler_x2.safetensors", x2, torch.float32),
                                ("upscaler_x4.safetensors", x4, torch.float16)):
        back = load_file(str(OUT / fname))
        for k, v in model.state_dict().items():
            assert torch.equal(back[k], v.to(dtype)), (fname, k)
    rgb = real[:, :3]
    cases = {}
    with torch.no_grad():
        for prefix, model, inputs in (
                ("upscaler_x2", x2, {"random13x10": seeded_rand((1, 3, 13, 10), 201, 0.1, 0.9), "real128": rgb}),
                ("upscaler_x4", x4_ref, {"random9x7": seeded_rand((1, 3, 9, 7), 202, 0.1, 0.9),
                                         "real48x40": rgb[:, :, :48, :40].contiguous()})):
            for case, x in inputs.items():
                y = model(x)
                clamped = ((y == 0) | (y == 1)).float().mean().item()
                print(f"  {prefix}.{case}.output  {tuple(y.shape)}  clamped {clamped:.1%}")
                assert clamped < 0.05, f"{prefix}.{case}: {clamped:.1%} of the output clamps"
                cases[f"{prefix}.{case}.input"] = x
                cases[f"{prefix}.{case}.output"] = y
    return cases


def save(tensors, path, metadata):
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in sorted(tensors.items())}
    write_safetensors(tensors, path, metadata)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(0)
    OUT.mkdir(parents=True, exist_ok=True)

    small = make_generator(8, 2, seed=1)
    wide = make_generator(64, 1, seed=2)
    refiner7 = make_generator(8, 2, seed=3, in_channels=7)
    info = {"dataset": "random", "phase": "fixture", "steps": "0"}
    save_safetensors(small, OUT / "small.safetensors", {**info, "trained_size": "128"}, torch.float32)
    save_safetensors(small, OUT / "small_bf16.safetensors", {**info, "trained_size": "128"}, torch.bfloat16)
    save_safetensors(small, OUT / "small_f16.safetensors", {**info, "trained_size": "128"}, torch.float16)
    save_safetensors(wide, OUT / "wide.safetensors", {**info, "trained_size": "128"}, torch.float16)
    save_safetensors(refiner7, OUT / "refiner7.safetensors", {**info, "trained_size": "128"}, torch.float32)
    # wide's references use exactly the weights that the F16 file holds.
    wide_ref = rounded_copy(wide, torch.float16)

    # Reading back must give the weights that the references use.
    for fname, model, dtype in (("small.safetensors", small, torch.float32),
                                ("small_bf16.safetensors", small, torch.bfloat16),
                                ("small_f16.safetensors", small, torch.float16),
                                ("wide.safetensors", wide, torch.float16),
                                ("refiner7.safetensors", refiner7, torch.float32)):
        back = load_file(str(OUT / fname))
        sd = model.state_dict()
        assert list(sorted(back)) == list(sorted(sd)), fname
        for k, v in sd.items():
            assert back[k].dtype == dtype, (fname, k)
            assert torch.equal(back[k], v.to(dtype)), (fname, k)

    print("model outputs:")
    real = real_input(128)
    cases = {}
    cases.update(model_cases("small", small, real))
    cases.update(model_cases("wide", wide_ref, real.clone()))
    cases.update(model_cases("refiner7", refiner7, real.clone(), seed=103))
    with torch.no_grad():
        x = cases["small.random32.input"]
        enc = small.encoder(x)
        mid = small.middle(enc)
        cases["small.random32.encoder"] = enc
        cases["small.random32.middle"] = mid
        assert torch.equal((torch.tanh(small.decoder(mid)) + 1) / 2, cases["small.random32.output"])
    # The shipped generator: trained weights at full depth, so the Winograd transforms'
    # rounding is checked on the weights users run, not only on random ones.
    with safe_open(str(SHIPPED), "pt") as f:
        meta = f.metadata()
    shipped = Generator(int(meta["width"]), int(meta["blocks"]), residual=meta.get("output") == "residual").eval()
    shipped.load_state_dict({k: v.float() for k, v in load_file(str(SHIPPED)).items()})
    with torch.no_grad():
        cases["shipped.real128.output"] = shipped(real)
    check_not_trivial("shipped.real128.output", cases["shipped.real128.output"])
    save(cases, OUT / "cases.safetensors", {
        "shipped": f"{SHIPPED.relative_to(ROOT)} (W={meta['width']}, B={meta['blocks']}, F16 weights; "
                   f"input: small.real128.input)",
        "small": "small.safetensors (F32 weights)",
        "wide": "wide.safetensors (F16 weights, computed in F32)",
        "refiner7": "refiner7.safetensors (F32 weights; real128 is real128's 4 channels and its colour again)",
        "real128": "Tests/Fixtures/classical/chelsea.png, LANCZOS 128x128; colour = medianBlur 7, "
                   "kmeans K=4, medianBlur 3, /255; edge = canny(rgb2gray, sigma=2)",
        "torch": torch.__version__,
    })

    save(upscaler_cases(real), OUT / "upscaler_cases.safetensors", {
        "upscaler_x2": "upscaler_x2.safetensors (F32 weights)",
        "upscaler_x4": "upscaler_x4.safetensors (F16 weights, computed in F32)",
        "real128": "cases.safetensors' real128, its RGB (the colour domain)",
        "torch": torch.__version__,
    })

    ops, ops_meta = op_cases()
    save(ops, OUT / "ops.safetensors", {**ops_meta, "torch": torch.__version__})

    print("files:")
    total = 0
    for p in sorted(OUT.glob("*.safetensors")):
        size = p.stat().st_size
        total += size
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        print(f"  {p.relative_to(ROOT)}  {size:>9,} bytes  sha256 {digest}")
    print(f"  total {total:,} bytes")


if __name__ == "__main__":
    main()
