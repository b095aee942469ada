#!/usr/bin/env python3
"""Export a training checkpoint as the fp16 safetensors pirec ships.

    python3 training/export.py training/state/generating.safetensors models/emoji/generator.safetensors
    python3 training/export.py training/runs/generating/last.pt models/emoji/generator.safetensors

The checkpoint is a state file (train.py --resume-state) or a run's last.pt; what is
exported is the network's EMA (--raw: the trained weights themselves).

The metadata holds what the engine reads (arch, width, blocks, input_channels,
trained_size) and what a reader of the model card wants (dataset, phase, steps, minutes,
git commit).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pirec_net import save_safetensors  # noqa: E402
from train import load_checkpoint  # noqa: E402

DATASET = ("fonts-noto-color-emoji 2.042 (Debian 12), SIL Open Font License 1.1; emoji 128x128 on white and "
           "on painted backgrounds, PI-REC hyperparameter-confusion and flat-fill variants; split in "
           "training/heldout.txt")


def export(checkpoint, output, dtype="f16", raw=False, trained_size="128"):
    """Writes the checkpoint's EMA (raw: its trained weights) to `output`; the state dict."""
    state = load_checkpoint(checkpoint)
    weights = state["generator"] if raw or state.get("ema") is None else state["ema"]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        commit = ""
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    save_safetensors(weights, output, {
        "dataset": DATASET, "phase": state["phase"], "steps": str(state["step"]),
        "minutes": f"{state['seconds'] / 60:.1f}", "git_commit": commit,
        "weights": "trained" if weights is state["generator"] else "EMA",
        **({"output": "residual"} if state.get("residual") else {}),
    }, dtype=dtype, width=state["width"], blocks=state["blocks"], trained_size=trained_size)
    return state


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("output")
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--trained-size", default="128")
    ap.add_argument("--raw", action="store_true", help="the trained weights, not their moving average")
    args = ap.parse_args()
    state = export(args.checkpoint, args.output, args.dtype, args.raw, args.trained_size)
    print(f"{args.output}: {state['phase']}, width {state['width']}, {state['blocks']} blocks, "
          f"step {state['step']}, {os.path.getsize(args.output) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
