#!/usr/bin/env python3
"""PI-REC's generator: the one network definition shared by training and fixtures.

This module is the single source of truth for the generator's layout. Training,
the fixture generator (training/make_network_fixtures.py) and the checkpoint converter
(training/convert_pth.py) all import it, so the state_dict names below are the
names that pirec's inference engine reads from a .safetensors file:

    encoder.1   Conv2d(4, W, 7)                      after ReflectionPad2d(3)
    encoder.4   Conv2d(W, 2W, 4, stride 2, pad 1)    zero padding
    encoder.7   Conv2d(2W, 4W, 4, stride 2, pad 1)   zero padding
    middle.<i>.conv_block.1   Conv2d(4W, 4W, 3, dilation 2)   after ReflectionPad2d(2)
    middle.<i>.conv_block.5   Conv2d(4W, 4W, 3)                after ReflectionPad2d(1)
    decoder.2   Conv2d(4W, 2W, 3)                    after 2x bilinear upsample + ReflectionPad2d(1)
    decoder.5   ConvTranspose2d(2W, W, 4, stride 2, pad 1)   weight layout [in, out, kH, kW]
    decoder.9   Conv2d(W, 3, 7)                      after ReflectionPad2d(3)

each with `.weight` and `.bias`, for i in 0..B-1. Every InstanceNorm2d has
affine=False, track_running_stats=False and eps=1e-5 (so it holds no tensors),
and the output is u = (tanh(x) + 1) / 2, in [0, 1]. With `residual=True` (safetensors
metadata output="residual") the network predicts a correction to its RGB input instead:
clamp(rgb + (u * 2 - 1), 0, 1), i.e. the input plus tanh(x); with the last layer at zero
it passes its input through. Input: 4 channels, the colour domain (RGB in [0, 1]) and the
edge map (0/1); a refiner may take 7: the generator's picture, the edge map and the colour
domain after them (`encoder.1` is then Conv2d(7, W, 7)). The network is fully
convolutional; H and W should be multiples of 4 for the output to match the input
size (the encoder halves twice, the decoder doubles twice).

Running this file prints the parameter count and FLOPs of the default network
(W=64, B=8) at 256x256.
"""

import json
import os
import struct

import torch
import torch.nn as nn

ARCH = "pirec-generator"
INPUT_CHANNELS = 4


class ResnetBlock(nn.Module):
    def __init__(self, dim, dilation=2):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation),
            nn.Conv2d(dim, dim, 3, padding=0, dilation=dilation),
            nn.InstanceNorm2d(dim, track_running_stats=False),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, padding=0, dilation=1),
            nn.InstanceNorm2d(dim, track_running_stats=False),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class Generator(nn.Module):
    """PI-REC generator of width W (default 64) with B residual blocks (default 8)."""

    def __init__(self, width=64, blocks=8, in_channels=INPUT_CHANNELS, residual=False):
        super().__init__()
        w = width
        self.residual = residual
        self.width = width
        self.blocks = blocks
        self.in_channels = in_channels
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, w, 7, padding=0),
            nn.InstanceNorm2d(w, track_running_stats=False),
            nn.ReLU(True),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.InstanceNorm2d(2 * w, track_running_stats=False),
            nn.ReLU(True),
            nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1),
            nn.InstanceNorm2d(4 * w, track_running_stats=False),
            nn.ReLU(True),
        )
        self.middle = nn.Sequential(*[ResnetBlock(4 * w, 2) for _ in range(blocks)])
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.ReflectionPad2d(1),
            nn.Conv2d(4 * w, 2 * w, 3, padding=0),
            nn.InstanceNorm2d(2 * w, track_running_stats=False),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),
            nn.InstanceNorm2d(w, track_running_stats=False),
            nn.ReLU(True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(w, 3, 7, padding=0),
        )

    def forward(self, x):
        u = (torch.tanh(self.decoder(self.middle(self.encoder(x)))) + 1) / 2
        if self.residual:
            # The engine computes exactly this (GeneratorModel.run).
            return torch.clamp(x[:, :3] + (u * 2 - 1), 0, 1)
        return u

    def start_residual(self):
        """Turns a trained direct generator into a residual one that starts as the identity
        on its RGB input: the last layer's weights and bias are zeroed."""
        self.residual = True
        with torch.no_grad():
            self.decoder[9].weight.zero_()
            self.decoder[9].bias.zero_()

    def as_colour_refiner(self):
        """A 7-input residual refiner (picture, edge, colour domain) started from this
        generator, as PI-REC starts its refiner from the generator: it reads the edge and
        the colour domain with the generator's weights, so its features are the
        generator's own; the picture's weights start at zero and the last layer is zeroed,
        so it starts by passing the generator's picture through and learns what to add."""
        refiner = Generator(self.width, self.blocks, 7, residual=True)
        state = {k: v.detach().clone() for k, v in self.state_dict().items()}
        first = state["encoder.1.weight"]  # [W, 4, 7, 7]: RGB, edge
        grown = torch.zeros(first.shape[0], 7, *first.shape[2:])
        grown[:, 3] = first[:, 3]
        grown[:, 4:7] = first[:, :3]
        state["encoder.1.weight"] = grown
        refiner.load_state_dict(state)
        refiner.start_residual()
        return refiner

    def widened(self, width, in_channels=None):
        """This network at a larger width (and with more input channels), computing the same
        function: the new channels come after the old ones with fresh random weights into
        them and zero weights out of them, so every old channel (and the output) is
        unchanged while the new ones learn; new inputs start ignored. Instance norm has no
        affine part, so new blocks cannot start as the identity; only the width grows."""
        in_channels = in_channels or self.in_channels
        if width < self.width or in_channels < self.in_channels:
            raise ValueError(f"cannot shrink a width-{self.width}, {self.in_channels}-input network "
                             f"to {width}, {in_channels}")
        wide = Generator(width, self.blocks, in_channels, self.residual)
        old = self.state_dict()
        with torch.no_grad():
            for name, new in wide.state_dict().items():
                before = old[name]
                if before.dim() == 1:
                    new[:before.shape[0]] = before
                    continue
                # Conv2d weights are [out, in, k, k]; ConvTranspose2d's are [in, out, k, k].
                transposed = isinstance(wide.get_submodule(name.rsplit(".", 1)[0]), nn.ConvTranspose2d)
                o, i = (1, 0) if transposed else (0, 1)
                n_out, n_in = before.shape[o], before.shape[i]
                kept = [slice(None)] * 4
                kept[o], kept[i] = slice(0, n_out), slice(0, n_in)
                new[tuple(kept)] = before
                ignored = [slice(None)] * 4
                ignored[o], ignored[i] = slice(0, n_out), slice(n_in, None)
                new[tuple(ignored)] = 0
        return wide


def expected_shapes(width, blocks, in_channels=INPUT_CHANNELS):
    """Every state_dict name of Generator(width, blocks) with its shape, in order."""
    w = width
    shapes = {}

    def conv(name, cout, cin, k):
        shapes[f"{name}.weight"] = (cout, cin, k, k)
        shapes[f"{name}.bias"] = (cout,)

    conv("encoder.1", w, in_channels, 7)
    conv("encoder.4", 2 * w, w, 4)
    conv("encoder.7", 4 * w, 2 * w, 4)
    for i in range(blocks):
        conv(f"middle.{i}.conv_block.1", 4 * w, 4 * w, 3)
        conv(f"middle.{i}.conv_block.5", 4 * w, 4 * w, 3)
    conv("decoder.2", 2 * w, 4 * w, 3)
    shapes["decoder.5.weight"] = (2 * w, w, 4, 4)   # ConvTranspose2d: [in, out, kH, kW]
    shapes["decoder.5.bias"] = (w,)
    conv("decoder.9", 3, w, 7)
    return shapes


DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def write_safetensors(tensors, path, metadata=None):
    """safetensors.torch.save_file with a byte-reproducible header.

    safetensors keeps the metadata in a hash map, so its key order (and the
    file's bytes) changes from run to run. This writes the same file with the
    header's keys sorted: the tensor data and offsets are untouched, so any
    safetensors reader reads it as it would save_file's.
    """
    from safetensors.torch import save

    blob = save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text += " " * (-len(text) % 8)          # data starts 8-byte aligned, as save_file does
    raw = text.encode("ascii")
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.write(blob[8 + n:])
    os.replace(tmp, path)


def save_safetensors(model_or_state, path, metadata=None, dtype=torch.float32,
                     width=None, blocks=None, trained_size="256"):
    """Write a Generator's state_dict to `path` in safetensors format.

    `model_or_state` is a Generator or a state_dict (then give width and blocks).
    `dtype` is a torch dtype or "f32"/"f16"/"bf16". The metadata always holds
    arch="pirec-generator", width, blocks, input_channels (4, or 7 for a refiner that also
    reads the colour domain; from encoder.1's weight) and trained_size;
    `metadata` adds or overrides keys (free text: dataset, phase, steps). Every
    value is stored as a string. The bytes are those of safetensors.torch.save_file
    with the header's keys sorted (see write_safetensors), so they are reproducible.
    """
    if isinstance(dtype, str):
        dtype = DTYPES[dtype]
    residual = False
    if isinstance(model_or_state, nn.Module):
        state = model_or_state.state_dict()
        width = getattr(model_or_state, "width", width)
        blocks = getattr(model_or_state, "blocks", blocks)
        residual = getattr(model_or_state, "residual", False)
    else:
        state = model_or_state
    if width is None or blocks is None:
        raise ValueError("save_safetensors: width and blocks are needed with a state_dict")
    tensors = {k: v.detach().to(dtype).contiguous().cpu() for k, v in state.items()}
    meta = {
        "arch": ARCH,
        "width": str(width),
        "blocks": str(blocks),
        "input_channels": str(state["encoder.1.weight"].shape[1]),
        "trained_size": str(trained_size),
        "dataset": "",
        "phase": "",
        "steps": "",
    }
    if residual:
        meta["output"] = "residual"
    for k, v in (metadata or {}).items():
        meta[k] = str(v)
    write_safetensors(tensors, path, meta)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def count_flops(model, height=256, width=256):
    """FLOPs of one forward pass on a [1, 4, height, width] input, per layer kind.

    Convolutions count a multiply-add as 2 FLOPs (bias adds included as 1 per
    output); instance norm, ReLU, residual adds, upsampling and the output
    tanh are counted roughly (a few FLOPs per element) and reported apart.
    """
    counts = {"conv": 0, "conv_transpose": 0, "other": 0}
    hooks = []

    def hook(mod, inp, out):
        x = inp[0]
        if isinstance(mod, nn.ConvTranspose2d):
            cin, cout = mod.in_channels, mod.out_channels
            kh, kw = mod.kernel_size
            counts["conv_transpose"] += 2 * cin * cout * kh * kw * x.shape[2] * x.shape[3] \
                + out.numel()
        elif isinstance(mod, nn.Conv2d):
            cin, cout = mod.in_channels, mod.out_channels
            kh, kw = mod.kernel_size
            counts["conv"] += 2 * cin * kh * kw * out.numel() + out.numel()
        elif isinstance(mod, nn.InstanceNorm2d):
            counts["other"] += 5 * out.numel()   # mean, variance, subtract, scale
        elif isinstance(mod, (nn.ReLU,)):
            counts["other"] += out.numel()
        elif isinstance(mod, nn.Upsample):
            counts["other"] += 7 * out.numel()   # 4 taps: 4 mul + 3 add
        elif isinstance(mod, ResnetBlock):
            counts["other"] += out.numel()       # residual add

    for m in model.modules():
        hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, model.in_channels, height, width))
        counts["other"] += 3 * out.numel()       # tanh, +1, /2
    finally:
        for h in hooks:
            h.remove()
    return counts


def main():
    torch.set_num_threads(1)
    model = Generator(64, 8).eval()
    n = count_parameters(model)
    c = count_flops(model, 256, 256)
    conv = c["conv"] + c["conv_transpose"]
    print("PI-REC generator, width 64, 8 residual blocks, input 4x256x256")
    print(f"  parameters:            {n:,} ({n / 1e6:.2f} M)")
    print(f"  state_dict tensors:    {len(model.state_dict())}")
    print(f"  conv FLOPs:            {c['conv'] / 1e9:.2f} G")
    print(f"  conv-transpose FLOPs:  {c['conv_transpose'] / 1e9:.2f} G")
    print(f"  norm/act/other FLOPs:  {c['other'] / 1e9:.2f} G")
    print(f"  total (multiply-add = 2 FLOPs): {(conv + c['other']) / 1e9:.1f} GFLOP"
          f" ({conv / 2e9:.1f} G multiply-adds in convolutions)")


if __name__ == "__main__":
    main()
