#!/usr/bin/python3
"""Writes the seed corpora in fuzz/seeds/ (run it again after changing it).

  seeds/spec/         small specs using every layer type and spec feature
                      (fuzz/run.sh adds specs/ and tests/cli/cases/ too)
  seeds/safetensors/  small weights files: every dtype, metadata, scalars,
                      empty tensors
  seeds/frontend/     specs/*.yaml shrunk with a "#!" options line, random
                      weights; small specs followed by matching weights

Standard library only; deterministic.
"""

import json
import random
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEEDS = HERE / "seeds"
MARK = b"\n#@weights@\n"


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes), in file order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def floats(rng, shape, lo=-0.5, hi=0.5):
    return [rng.uniform(lo, hi) for _ in range(count(shape))]


def f32_tensors(rng, shapes):
    out = {}
    for name, shape in shapes.items():
        lo, hi = (0.5, 1.5) if name.endswith("running_var") else (-0.5, 0.5)
        out[name] = ("F32", shape, f32(floats(rng, shape, lo, hi)))
    return out


SMALL_SPECS = {
    "conv_bn_pool": ("""name: small
input: [3, 8, 8]
layers:
  - conv: {name: c1, out: 4, kernel: 3, padding: 1, stride: 2}
  - batchnorm: {name: bn1}
  - relu6
  - maxpool: {kernel: 2}
  - global_avgpool
  - flatten
  - linear: {name: fc, out: 3}
""", {"c1.weight": [4, 3, 3, 3], "bn1.weight": [4], "bn1.bias": [4],
      "bn1.running_mean": [4], "bn1.running_var": [4],
      "fc.weight": [3, 4], "fc.bias": [3]}),
    "ghost": ("""name: ghosty
input: [4, 6, 6]
layers:
  - ghost_module: {name: g, out: 8, ratio: 2, dw: 3, relu: true}
  - squeeze_excite: {name: se, ratio: 0.25, divisor: 4}
  - ghost_bottleneck: {name: gb, exp: 16, out: 8, kernel: 3, se: 0.25}
  - global_avgpool
  - flatten
""", None),
    "residual": ("""name: res
input: [4, 5, 5]
layers:
  - conv: {name: a, out: 4, kernel: 1}
  - hard_swish
  - conv: {name: b, out: 4, kernel: 3, padding: 1, groups: 4, bias: true}
  - add: {name: sum, from: [b, input], act: relu}
  - channel_shuffle: {groups: 2}
  - avgpool: {kernel: 3, stride: 2, padding: 1, count_include_pad: false}
""", {"a.weight": [4, 4, 1, 1], "b.weight": [4, 1, 3, 3], "b.bias": [4]}),
    "concat_slice": ("""name: cat
input: [4, 4, 4]
layers:
  - slice: {name: lo, begin: 0, end: 2}
  - slice: {name: hi, from: input, begin: 2, end: 4}
  - conv: {name: p, from: hi, out: 2, kernel: 1, scale: false}
  - concat: {from: [lo, p]}
  - hard_sigmoid
  - mul: {name: m, from: [input, gate]}
""", None),
    "table": ("""name: tab
input: [3, 16, 16]
params: {groups: 2}
width: 0.5
channel_rounding: {mode: make_divisible, divisor: 4}
layers:
  - conv: {name: stem, out: 16, kernel: 3, stride: 2, padding: 1}
  - table:
      columns: [out, stride, repeat]
      stages:
        - [[&o {by: groups, 1: 16, 2: 24}, 2, 1], [*o, 1, 2]]
      layers: &t
        - conv: {name: "blk.{n}.dw", depthwise: true, kernel: 3, stride: $stride, padding: 1}
        - conv: {name: "blk.{6*n+1}.pw", out: $out, kernel: 1}
        - relu
  - global_avgpool
""", None),
}

# The "gate" of concat_slice needs a (C,1,1) value: fix the spec up.
SMALL_SPECS["concat_slice"] = (SMALL_SPECS["concat_slice"][0].replace(
    "  - hard_sigmoid\n  - mul: {name: m, from: [input, gate]}\n",
    "  - global_avgpool: {name: pooled}\n  - hard_sigmoid: {name: gate}\n"
    "  - mul: {name: m, from: [input, gate]}\n"), None)


def write(dir_, name, data):
    dir_.mkdir(parents=True, exist_ok=True)
    (dir_ / name).write_bytes(data)


def main():
    rng = random.Random(1)
    # Weights files.
    st = SEEDS / "safetensors"
    write(st, "tiny.safetensors", (REPO / "tests/downstream/tiny.safetensors")
          .read_bytes())
    half = struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0)
    bf16 = b"".join(struct.pack("<f", v)[2:] for v in (1.0, -3.5, 1e-3, 7.0))
    write(st, "dtypes.safetensors", safetensors({
        "a.f32": ("F32", [2, 2], f32([1, 2, 3, 4])),
        "a.f16": ("F16", [4], half),
        "a.bf16": ("BF16", [2, 2], bf16),
        "a.f64": ("F64", [2], struct.pack("<2d", 1.5, -2.25)),
        "a.i64": ("I64", [], struct.pack("<q", 7)),
        "a.i32": ("I32", [1], struct.pack("<i", -1)),
        "a.i16": ("I16", [1], struct.pack("<h", 3)),
        "a.i8": ("I8", [2], b"\x01\xff"),
        "a.u8": ("U8", [2], b"\x01\xff"),
        "a.bool": ("BOOL", [1], b"\x01"),
        "empty": ("F32", [0, 3], b""),
    }, metadata={"format": "pt", "note": "seed"}))
    write(st, "special.safetensors", safetensors({
        "x": ("F32", [3], struct.pack("<3I", 0x7f800000, 0x7fc00000, 1)),
        "y": ("F16", [2], struct.pack("<2H", 0x7c00, 0x0001)),
    }))
    write(st, "bn.safetensors", safetensors(f32_tensors(rng, {
        "features.1.weight": [8], "features.1.bias": [8],
        "features.1.running_mean": [8], "features.1.running_var": [8],
        "features.1.num_batches_tracked": [],
        "features.0.weight": [8, 3, 3, 3]})))
    # Specs.
    for name, (text, _) in SMALL_SPECS.items():
        write(SEEDS / "spec", f"{name}.yaml", text.encode())
    write(SEEDS / "spec", "options.yaml",
          b"#! width=0.5 resolution=12 no-fold_bn ghostify=2,3 name=x-y\n"
          + SMALL_SPECS["conv_bn_pool"][0].encode())
    # The front half: real specs, small, random weights.
    fe = SEEDS / "frontend"
    for spec in sorted((REPO / "specs").glob("*.yaml")):
        width = "0.5" if "shufflenet_v2" in spec.name else "0.25"
        head = f"#! width={width} resolution=32 num_classes=10\n".encode()
        if "mobilenet_v1" in spec.name:
            head = head.replace(b"\n", b" no-fuse_activation ghostify=2,3\n")
        write(fe, spec.name, head + spec.read_bytes())
    # Small specs, with weights where they need only a few.
    for name, (text, shapes) in SMALL_SPECS.items():
        data = text.encode()
        if shapes:
            data += MARK + safetensors(f32_tensors(rng, shapes))
        write(fe, f"{name}.bin", data)
    tiny = (REPO / "tests/downstream/tiny.yaml").read_bytes()
    write(fe, "tiny.bin", tiny + MARK +
          (REPO / "tests/downstream/tiny.safetensors").read_bytes())


if __name__ == "__main__":
    main()
