"""What training/dataset.py and training/upscaler_dataset.py share: the committed held-out
list (one entry a line), written with --write-split, otherwise checked against the split
the builder computed; and whether a build's outputs are current."""

import os


def check_split(path, held, write, unit):
    """`held`: the computed held-out entries, sorted; `unit` names them in messages."""
    if write:
        old = open(path).read() if os.path.exists(path) else None
        new = "".join(n + "\n" for n in held)
        if old != new:
            with open(path, "w") as f:
                f.write(new)
            print("wrote %s (%d %s)%s" % (path, len(held), unit, "" if old is None else ", changed"))
        else:
            print("%s unchanged" % path)
    elif os.path.exists(path):
        committed = [line.strip() for line in open(path) if line.strip()]
        if committed != held:
            a, b = set(committed), set(held)
            raise SystemExit("split differs from %s: %d only there, %d only computed (e.g. %s); "
                             "rerun with --write-split if intended"
                             % (path, len(a - b), len(b - a), sorted(a ^ b)[:5]))
        print("split matches %s" % path)
    else:
        print("note: %s does not exist; --write-split writes it" % path)


def output_paths(out):
    """A build's outputs: OUT/train.npz and OUT/heldout.npz."""
    return [os.path.join(out, f) for f in ("train.npz", "heldout.npz")]


def outputs_current(outputs, builder, rebuild):
    """True (and says so) when `outputs` exist and are newer than the `builder` script,
    unless `rebuild` (--force or --write-split)."""
    built = os.path.getmtime(os.path.abspath(builder))
    if rebuild or not all(os.path.exists(p) and os.path.getmtime(p) > built for p in outputs):
        return False
    print("outputs are current (%s); --force rebuilds" % ", ".join(outputs))
    return True
