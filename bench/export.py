#!/usr/bin/python3
"""Golden data and ONNX export for one benchmark network.

Runs the PyTorch reference tests/golden/MODEL_ref.py exactly as the golden
test does (generate(out, width, resolution, seed, "F32", **params)), which
writes weights.safetensors, input.bin and expected.bin, and exports the very
same torch model (the weights as stored, eval mode) to OUT/model.onnx with
torch.onnx.export: batch 1, fixed shapes, input "input", output "output".

The model is taken from the reference by wrapping
golden_common.generate_from_model, which every reference calls with the
model it built, so the bench needs no per-network code.

Skips all work when OUT/stamp.json says the same configuration was already
exported from the same reference sources.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(os.path.dirname(HERE), "tests", "golden")
sys.dont_write_bytecode = True
sys.path.insert(0, GOLDEN)
import golden_common  # noqa: E402
import run_golden  # noqa: E402

OPSET = 17  # the newest torch 1.13 exports; the issue asks for >= 13


def sources_hash():
    """Hash of everything that decides the exported files."""
    h = hashlib.sha256()
    files = sorted(f for f in os.listdir(GOLDEN) if f.endswith(".py"))
    for f in files:
        h.update(f.encode())
        with open(os.path.join(GOLDEN, f), "rb") as fh:
            h.update(fh.read())
    with open(os.path.abspath(__file__), "rb") as fh:
        h.update(fh.read())
    h.update(torch.__version__.encode())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resolution", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[],
                    metavar="NAME=VALUE")
    args = ap.parse_args()

    params = dict(run_golden.parse_set(s) for s in args.set)
    config = {"model": args.model, "width": args.width,
              "resolution": args.resolution, "seed": args.seed,
              "params": params, "opset": OPSET, "sources": sources_hash()}
    out = os.path.abspath(args.out)
    stamp = os.path.join(out, "stamp.json")
    needed = ["weights.safetensors", "input.bin", "expected.bin",
              "model.onnx"]
    try:
        with open(stamp) as f:
            if json.load(f) == config and all(
                    os.path.isfile(os.path.join(out, n)) for n in needed):
                print(f"export: {args.model}: up to date in {out}")
                return 0
    except (OSError, ValueError):
        pass
    if os.path.exists(stamp):
        os.remove(stamp)

    captured = []
    original = golden_common.generate_from_model

    def capture(tag, model, *a, **kw):
        captured.append(model)
        return original(tag, model, *a, **kw)

    golden_common.generate_from_model = capture
    try:
        ref = run_golden.load_reference(args.model)
        ref.generate(out, args.width, args.resolution, args.seed, "F32",
                     **params)
    except ValueError as e:
        sys.exit(f"export: {args.model}: {e}")
    finally:
        golden_common.generate_from_model = original
    if len(captured) != 1:
        sys.exit(f"export: {args.model}: the reference did not call "
                 "golden_common.generate_from_model exactly once; cannot "
                 "get its torch model")
    model = captured[0].float().eval()

    x = torch.from_numpy(np.fromfile(os.path.join(out, "input.bin"),
                                     dtype="<f4"))
    x = x.reshape(1, 3, args.resolution, args.resolution)
    onnx_path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, x, onnx_path + ".tmp", opset_version=OPSET,
                          input_names=["input"], output_names=["output"],
                          do_constant_folding=True)
        y = model(x)[0].numpy()
    os.replace(onnx_path + ".tmp", onnx_path)
    # The float32 torch output, for information (expected.bin is float64).
    y.astype("<f4").tofile(os.path.join(out, "torch_f32.bin"))
    with open(stamp, "w") as f:
        json.dump(config, f, indent=1)
    print(f"export: {args.model}: wrote {onnx_path} (opset {OPSET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
