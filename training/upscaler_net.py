#!/usr/bin/env python3
"""pirec's learned upscaler: the one network definition shared by training, export and fixtures.

A small super-resolution network for flat-colour art (EDSR's shape at a tenth of its size,
ESPCN's sub-pixel output). It works at the low resolution and ends with a depth-to-space
("pixel shuffle") step; the names below are the ones pirec's engine reads
(Sources/PirecInference/Graph.swift, Graph.upscaler):

    head            Conv2d(3, W, 3)            reflection padding 1
    body.<i>.conv1  Conv2d(W, W, 3)            reflection padding 1, then ReLU
    body.<i>.conv2  Conv2d(W, W, 3)            reflection padding 1; the block adds its input
    tail            Conv2d(W, 3 * S * S, 3)    reflection padding 1, applied to body + head

each with `.weight` and `.bias`, for i in 0..B-1. Shapes (S the scale, 2 or 4):

    x [3, h, w] in [0, 1] -> head [W, h, w] -> body [W, h, w] -> tail [3 S^2, h, w]
    out = clamp(pixel_shuffle(tail + repeat_interleave(x, S^2), S), 0, 1)   [3, S h, S w]

Adding each input pixel to its S^2 sub-pixels before the shuffle is adding the nearest-
neighbour enlargement: the network predicts a correction to it. The safetensors metadata
holds arch="pirec-upscaler", scale, width, blocks.

Running this file prints each candidate size's parameters and FLOPs per low-resolution
pixel.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ARCH = "pirec-upscaler"
SCALES = (2, 4)


def conv3x3(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = conv3x3(width, width)
        self.conv2 = conv3x3(width, width)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class Upscaler(nn.Module):
    """x S (2 or 4) upscaler of width W with B residual blocks."""

    def __init__(self, scale=2, width=32, blocks=4):
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"scale {scale}, expected one of {SCALES}")
        self.scale, self.width, self.blocks = scale, width, blocks
        self.head = conv3x3(3, width)
        self.body = nn.Sequential(*[Block(width) for _ in range(blocks)])
        self.tail = conv3x3(width, 3 * scale * scale)

    def forward(self, x):
        h = self.head(x)
        y = self.tail(self.body(h) + h) + x.repeat_interleave(self.scale * self.scale, dim=1)
        return F.pixel_shuffle(y, self.scale).clamp(0, 1)

    def start_nearest(self):
        """The tail at zero: the network starts as the nearest-neighbour enlargement."""
        with torch.no_grad():
            self.tail.weight.zero_()
            self.tail.bias.zero_()
        return self


def expected_shapes(scale, width, blocks):
    """Every state_dict name of Upscaler(scale, width, blocks) with its shape, in order."""
    shapes = {"head.weight": (width, 3, 3, 3), "head.bias": (width,)}
    for i in range(blocks):
        for part in ("conv1", "conv2"):
            shapes[f"body.{i}.{part}.weight"] = (width, width, 3, 3)
            shapes[f"body.{i}.{part}.bias"] = (width,)
    shapes["tail.weight"] = (3 * scale * scale, width, 3, 3)
    shapes["tail.bias"] = (3 * scale * scale,)
    return shapes


def save_safetensors(state, path, scale, width, blocks, metadata=None, dtype=torch.float16):
    """Writes an Upscaler state_dict with the metadata the engine checks (arch, scale, width,
    blocks) plus `metadata` (free text), byte-reproducibly (pirec_net.write_safetensors)."""
    from pirec_net import write_safetensors

    tensors = {k: v.detach().to(dtype).contiguous().cpu() for k, v in state.items()}
    meta = {"arch": ARCH, "scale": str(scale), "width": str(width), "blocks": str(blocks)}
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    write_safetensors(tensors, path, meta)


def psnr(outputs, truth):
    """Per-picture PSNR in dB of uint8 arrays [N, H, W, C], as scikit-image computes it (data
    range 255), with the mean squared error floored at one sample off by one level: flat-
    colour tiles can come back exactly, and an infinite PSNR would make every mean infinite
    (the floor is 95 dB for a 128x128 RGB tile). Both training and evaluation report this."""
    n = outputs.shape[0]
    error = (outputs.astype(np.float64) - truth.astype(np.float64)) ** 2
    mse = np.maximum(error.reshape(n, -1).mean(1), 1.0 / error[0].size)
    return 10 * np.log10(255.0 ** 2 / mse)


def macs_per_pixel(scale, width, blocks):
    """Multiply-adds per low-resolution pixel (every layer is a 3x3 convolution)."""
    return 9 * (3 * width + 2 * blocks * width * width + width * 3 * scale * scale)


def main():
    for scale in SCALES:
        for width, blocks in ((16, 2), (24, 3), (32, 4), (48, 4), (64, 6)):
            n = sum(p.numel() for p in Upscaler(scale, width, blocks).parameters())
            print(f"x{scale} W={width} B={blocks}: {n / 1e3:.0f} k parameters, "
                  f"{2 * macs_per_pixel(scale, width, blocks) / 1e3:.0f} kFLOP per low-resolution pixel")


if __name__ == "__main__":
    main()
