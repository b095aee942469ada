#!/usr/bin/env python3
"""Convert a PI-REC generator checkpoint (.pth) into pirec's .safetensors.

PI-REC saves its generators as `G_Model_gen_*.pth` (the generator) and
`R_Model_gen_*.pth` (the refiner): a dict whose `generator` entry is the
state_dict of the network in training/pirec_net.py. This script checks every
tensor name and shape against that network (width W and block count B are read
from the tensors), optionally changes the dtype, and writes the weights with
pirec's metadata.

    python3 training/convert_pth.py G_Model_gen_100000.pth generator.safetensors \\
        --dtype f16 --trained-size 256 --dataset celeba --phase 1 --steps 100000

Exit status 1, with a message naming the tensor, on a missing, unexpected or
misshapen tensor.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pirec_net import DTYPES, INPUT_CHANNELS, expected_shapes, save_safetensors  # noqa: E402

DEFAULT_TEXT = "PI-REC checkpoint"


class ConversionError(Exception):
    pass


def load_state_dict(path):
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - report any load failure plainly
        raise ConversionError(f"{path}: cannot load as a PyTorch checkpoint: {e}") from e
    if not isinstance(ckpt, dict):
        raise ConversionError(f"{path}: expected a dict with a 'generator' entry, "
                              f"found {type(ckpt).__name__}")
    if "generator" not in ckpt:
        keys = ", ".join(sorted(map(str, ckpt))[:10]) or "none"
        raise ConversionError(f"{path}: no 'generator' entry (keys: {keys})")
    state = ckpt["generator"]
    if not isinstance(state, dict):
        raise ConversionError(f"{path}: 'generator' is a {type(state).__name__}, not a state_dict")
    # Checkpoints saved from nn.DataParallel prefix every name with "module.".
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise ConversionError(f"{path}: entry {k!r} is a {type(v).__name__}, not a tensor")
    return state, ckpt


def infer_size(state):
    """(width, blocks) from encoder.1.weight and the middle.<i> names."""
    name = "encoder.1.weight"
    if name not in state:
        raise ConversionError(f"missing tensor {name} (expected shape [W, "
                              f"{INPUT_CHANNELS}, 7, 7]); cannot infer the width")
    shape = tuple(state[name].shape)
    if len(shape) != 4 or shape[1:] != (INPUT_CHANNELS, 7, 7):
        raise ConversionError(f"tensor {name}: expected shape [W, {INPUT_CHANNELS}, 7, 7], "
                              f"found {list(shape)}")
    width = shape[0]
    indices = set()
    for k in state:
        parts = k.split(".")
        if parts[0] == "middle" and len(parts) > 1 and parts[1].isdigit():
            indices.add(int(parts[1]))
    blocks = max(indices) + 1 if indices else 0
    if blocks == 0:
        raise ConversionError("no middle.<i>.* tensors: cannot infer the number of blocks")
    return width, blocks


def validate(state):
    """Check every name and shape; return (width, blocks) or raise ConversionError."""
    width, blocks = infer_size(state)
    want = expected_shapes(width, blocks)
    errors = []
    for name, shape in want.items():
        if name not in state:
            errors.append(f"missing tensor {name} (expected shape {list(shape)})")
        elif tuple(state[name].shape) != shape:
            errors.append(f"tensor {name}: expected shape {list(shape)}, "
                          f"found {list(state[name].shape)}")
        elif not state[name].is_floating_point():
            errors.append(f"tensor {name}: expected a floating-point tensor, "
                          f"found {state[name].dtype}")
    for name in state:
        if name not in want:
            errors.append(f"unexpected tensor {name} (shape {list(state[name].shape)}) "
                          f"for a generator of width {width} with {blocks} blocks")
    if errors:
        raise ConversionError("; ".join(errors) if len(errors) == 1 else
                              f"{len(errors)} problems:\n  " + "\n  ".join(errors))
    for name in want:
        if not torch.isfinite(state[name]).all():
            raise ConversionError(f"tensor {name}: holds NaN or infinite values")
    return width, blocks


def convert(src, dst, dtype="f32", trained_size="256", dataset=None, phase=None, steps=None):
    state, ckpt = load_state_dict(src)
    width, blocks = validate(state)
    target = DTYPES[dtype]
    if target == torch.float16:
        big = max(state[k].abs().max().item() for k in state)
        if big > 65504:
            raise ConversionError(f"a weight of magnitude {big:g} does not fit in F16; use bf16 or f32")
    if steps is None and isinstance(ckpt.get("iteration"), int):
        steps = str(ckpt["iteration"])       # PI-REC stores the iteration beside the weights
    meta = {
        "dataset": dataset if dataset is not None else DEFAULT_TEXT,
        "phase": phase if phase is not None else DEFAULT_TEXT,
        "steps": steps if steps is not None else DEFAULT_TEXT,
    }
    save_safetensors(state, dst, meta, target, width=width, blocks=blocks,
                     trained_size=trained_size)
    params = sum(v.numel() for v in state.values())
    return {"width": width, "blocks": blocks, "tensors": len(state), "parameters": params,
            "dtype": dtype, "bytes": Path(dst).stat().st_size, "metadata": meta}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="G_Model_gen_*.pth or R_Model_gen_*.pth")
    ap.add_argument("output", help="the .safetensors file to write")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32",
                    help="stored weight type (default f32)")
    ap.add_argument("--trained-size", default="256",
                    help="side of the training images (default 256)")
    ap.add_argument("--dataset", help=f'free text (default "{DEFAULT_TEXT}")')
    ap.add_argument("--phase", help=f'free text (default "{DEFAULT_TEXT}")')
    ap.add_argument("--steps", help="free text (default: the checkpoint's 'iteration' "
                    f'if it has one, else "{DEFAULT_TEXT}")')
    args = ap.parse_args(argv)
    if not args.trained_size.isdigit() or int(args.trained_size) <= 0:
        ap.error(f"--trained-size must be a positive integer, got {args.trained_size!r}")
    try:
        s = convert(args.checkpoint, args.output, args.dtype, args.trained_size,
                    args.dataset, args.phase, args.steps)
    except ConversionError as e:
        print(f"convert_pth: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.checkpoint} -> {args.output}")
    print(f"  pirec-generator width {s['width']}, {s['blocks']} blocks, "
          f"{s['tensors']} tensors, {s['parameters']:,} parameters")
    print(f"  stored as {s['dtype'].upper()}, {s['bytes']:,} bytes, trained_size {args.trained_size}")
    for k in ("dataset", "phase", "steps"):
        print(f"  {k}: {s['metadata'][k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
