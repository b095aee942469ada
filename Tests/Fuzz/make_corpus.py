#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, Tests/Fuzz/corpus/TARGET/, and their dictionaries.

    python3 Tests/Fuzz/make_corpus.py

Small valid and near-valid inputs, made by references we did not write (Pillow for PNG,
safetensors for model files) plus the shipped configurations. libFuzzer grows its own
corpus from these in a scratch folder (`make fuzz`); only minimised inputs of fixed
crashes are committed, under Tests/Fuzz/regressions/TARGET/.
"""

import io
import json
import shutil
import struct
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import save

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fuzz" / "corpus"


def png_seeds():
    rng = np.random.default_rng(1)

    def encode(image, **options):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        return buffer.getvalue()

    seeds = {
        "gray8.png": encode(Image.fromarray(rng.integers(0, 256, (4, 5), np.uint8), "L")),
        "rgb8.png": encode(Image.fromarray(rng.integers(0, 256, (3, 4, 3), np.uint8), "RGB")),
        "rgba8.png": encode(Image.fromarray(rng.integers(0, 256, (4, 3, 4), np.uint8), "RGBA")),
        "gray16.png": encode(Image.fromarray(rng.integers(0, 65536, (3, 3), np.uint16))),
        "palette.png": encode(Image.fromarray(rng.integers(0, 256, (6, 6, 3), np.uint8), "RGB").quantize(4)),
        "big-rgb.png": encode(Image.fromarray(rng.integers(0, 256, (9, 9, 3), np.uint8), "RGB"), compress_level=0),
        "gray-alpha.png": encode(Image.fromarray(rng.integers(0, 256, (2, 2, 2), np.uint8), "LA")),
    }
    rgb = seeds["rgb8.png"]
    seeds["truncated.png"] = rgb[:len(rgb) // 2]
    broken = bytearray(rgb)
    broken[-5] ^= 0xFF  # the IEND chunk's CRC
    seeds["bad-crc.png"] = bytes(broken)
    return seeds


def configuration_seeds():
    seeds = {p.name: p.read_bytes() for p in sorted((ROOT / "etc" / "pirec").glob("*.yaml"))}
    seeds["tiny.yaml"] = b"pipelines:\n  - name: up\n    chain:\n      - plugin: upscaler\n        with: { scale: 2 }\n"
    seeds["pair.yaml"] = (b"workers: 2\npipelines:\n  - name: sketch\n    inputs: pair\n"
                          b"    pair_suffixes: { edge: _s, color: _f }\n    chain:\n"
                          b"      - plugin: generator\n        with: { model: g.safetensors, threads: 2 }\n")
    seeds["bad-value.yaml"] = b"pipelines:\n  - name: x\n    chain:\n      - plugin: edge-extractor\n        with: { sigma: -1 }\n"
    seeds["anchors.yaml"] = b"a: &a { plugin: resize }\npipelines:\n  - name: y\n    chain: [*a, *a]\n"
    return seeds


def safetensors_seeds():
    f32 = np.arange(6, dtype=np.float32).reshape(2, 3)
    f16 = np.ones((1, 2, 2, 2), np.float16)
    seeds = {
        "one-f32.safetensors": save({"w": f32}),
        "two-f16.safetensors": save({"a": f16, "b": f16[0, 0]}, metadata={"phase": "seed"}),
        "metadata-only.safetensors": save({"x": np.zeros(0, np.float32)}, metadata={"arch": "pirec-generator"}),
        "generator-header.safetensors": save({"encoder.1.bias": np.zeros(8, np.float32)}, metadata={
            "arch": "pirec-generator", "width": "8", "blocks": "1", "input_channels": "4"}),
    }
    header = json.dumps({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    seeds["offsets-past-end.safetensors"] = struct.pack("<Q", len(header)) + header + b"\0" * 4
    return seeds


def names_seeds():
    return {
        "default.txt": b"_e\n_c\ncat_e.png\ncat_c.png\ndog.png\n_e.png\n",
        "custom.txt": b"-sketch\n-fill\nhouse-sketch.png\nhouse-fill.png\nhouse-sketch\n",
        "unicode.txt": "_e\n_c\nкот_e.png\n猫_c.PNG\nsub/dir/a_e.png\n.hidden_e.png\na.b_e.tar.png\n".encode(),
    }


DICTIONARIES = {
    "png": ["\x89PNG\r\n\x1a\n", "IHDR", "IDAT", "IEND", "PLTE", "tRNS", "gAMA", "iCCP", "sBIT", "acTL", "zTXt"],
    "configuration": ["pipelines:", "name:", "chain:", "plugin:", "with:", "inputs: pair", "pair_suffixes:",
                      "watch:", "output:", "failed:", "workers:", "max_pixels:", "queue:", "timeout:", "&a", "*a",
                      "!!str", "{ }", "[ ]", "- ", ": "],
    "safetensors": ['"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"F32"', '"F16"', '"BF16"',
                    '"pirec-generator"', '"input_channels"', '"encoder.1.weight"'],
}


def dictionary_entry(word):
    """A libFuzzer dictionary line: the word quoted, other than printable ASCII as \\xNN."""
    def escape(b):
        c = chr(b)
        return c if 32 <= b < 127 and c not in '"\\' else "\\x%02X" % b
    return '"' + "".join(escape(b) for b in word.encode("latin-1")) + '"'


def main():
    for target, seeds in (("png", png_seeds()), ("configuration", configuration_seeds()),
                          ("safetensors", safetensors_seeds()), ("names", names_seeds())):
        folder = OUT / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
        print(f"{folder.relative_to(ROOT)}: {len(seeds)} files, {sum(map(len, seeds.values()))} bytes")
    for target, words in DICTIONARIES.items():
        path = ROOT / "Tests" / "Fuzz" / f"{target}.dict"
        path.write_text("".join(dictionary_entry(w) + "\n" for w in words))
        print(f"{path.relative_to(ROOT)}: {len(words)} words")


if __name__ == "__main__":
    main()
