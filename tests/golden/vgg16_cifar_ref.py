#!/usr/bin/python3
"""PyTorch VGG-16 (with BatchNorm) for CIFAR-10 reference producing golden
data for ghostcc (specs/vgg16_cifar.yaml), optionally as Ghost-VGG-16.

state_dict names: one nn.Sequential `features` of 13 3x3 convs (padding 1,
no bias), each followed by BN and ReLU, with MaxPool2d(2) after each of the
five stages (at indices 6, 13, 23, 33, 43), then flatten and `classifier`
(Linear(512, 10) at 32x32). Width multiplier: every conv's channel count c
becomes int(c * width) (plain truncation), the first included.

ghostify="ratio=S[,dw=D]" (ghostcc's --ghostify; d defaults to 3) replaces
every ordinary conv (groups 1, no bias, padding kernel // 2) except the
network's first by a GhostModule of the same output width, named after the
conv (relu=False; the BN and ReLU that followed the conv stay):
  NAME.primary_conv.0     conv, ceil(out/S) channels, same kernel and stride
  NAME.primary_conv.1     BN
  NAME.cheap_operation.0  depthwise DxD conv, ceil(out/S)*(S-1) channels
  NAME.cheap_operation.1  BN
  output = cat(primary, cheap)[:, :out]
The helpers for that (parse_ghostify, OrdinaryConvs) are shared with
resnet56_cifar_ref.py.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (10)
"""

import inspect
import os
import re
import sys

import torch
import torch.nn as nn

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
from ghostnet_ref import GhostModule  # noqa: E402

CIFAR_CLASSES = 10
CIFAR_RESOLUTION = 32
# Output channels of the convs per stage; a max pool ends each stage.
STAGES = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512],
          [512, 512, 512]]


def parse_ghostify(tag, value):
    """None (no ghostify) or "ratio=S[,dw=D]" -> None or (S, D), with
    ghostcc's defaults and limits."""
    if value is None or value == "":
        return None
    m = re.fullmatch(r"ratio=(-?\d+)(?:,dw=(-?\d+))?", str(value))
    if not m:
        raise ValueError(f"{tag}: ghostify expects ratio=S[,dw=D], "
                         f"got {value!r}")
    ratio = int(m.group(1))
    dw = int(m.group(2)) if m.group(2) is not None else 3
    if not 2 <= ratio <= 64:
        raise ValueError(f"{tag}: ghostify ratio must be in [2, 64], "
                         f"got {ratio}")
    if not (1 <= dw <= 15 and dw % 2 == 1):
        raise ValueError(f"{tag}: ghostify dw must be an odd kernel size up "
                         f"to 15, got {dw}")
    return ratio, dw


def take_cifar_params(tag, params):
    """The parameters of the CIFAR references: ghostify (default None)."""
    p = golden_common.take_params(
        tag, params,
        {"ghostify": (lambda v: None if v is None else str(v), None)})
    return parse_ghostify(tag, p["ghostify"])


class OrdinaryConvs:
    """Makes the network's ordinary convs (groups 1, no bias, padding
    kernel // 2) in ghostcc's order: under ghostify=(S, D) every one but the
    first becomes a GhostModule(cin, cout, kernel, S, D, stride, relu=False)."""

    def __init__(self, ghostify):
        self.ghostify = ghostify
        self.count = 0

    def __call__(self, cin, cout, kernel, stride=1):
        self.count += 1
        if self.ghostify is None or self.count == 1:
            return nn.Conv2d(cin, cout, kernel, stride, kernel // 2,
                             bias=False)
        ratio, dw = self.ghostify
        return GhostModule(cin, cout, kernel, ratio, dw, stride, relu=False)


def scaled(tag, c, width):
    if not width > 0:
        raise ValueError(f"{tag}: width must be > 0, got {width}")
    v = int(c * width)
    if v < 1:
        raise ValueError(f"{tag}: {c} channels at width {width} leave fewer "
                         "than one channel")
    return v


def ghostify_text(ghostify):
    return ("off" if ghostify is None
            else f"ratio={ghostify[0]},dw={ghostify[1]}")


def cifar_main(doc, generate):
    """The command line of a CIFAR reference: golden_common's options and
    --ghostify, then generate(out, width, resolution, seed, dtype,
    ghostify=...)."""
    ap = golden_common.arg_parser(doc)
    ap.set_defaults(resolution=CIFAR_RESOLUTION)
    ap.add_argument("--ghostify", metavar="ratio=S[,dw=D]",
                    help="build the ghost variant (as ghostcc --ghostify)")
    args = ap.parse_args()
    try:
        generate(args.out, args.width, args.resolution, args.seed,
                 args.dtype, ghostify=args.ghostify)
    except ValueError as e:
        sys.exit(f"error: {e}")


def generate_cifar(tag, model, out_dir, resolution, dtype, config):
    """golden_common.generate_from_model for 10 classes."""
    gen = golden_common.generate_from_model
    if "num_classes" in inspect.signature(gen).parameters:
        return gen(tag, model, out_dir, resolution, dtype, config,
                   num_classes=CIFAR_CLASSES)
    # generate_from_model checks the logits against the module's
    # NUM_CLASSES (1000, ImageNet) and takes no num_classes yet.
    saved = golden_common.NUM_CLASSES
    golden_common.NUM_CLASSES = CIFAR_CLASSES
    try:
        return gen(tag, model, out_dir, resolution, dtype, config)
    finally:
        golden_common.NUM_CLASSES = saved


class VGG16(nn.Module):
    def __init__(self, width=1.0, resolution=CIFAR_RESOLUTION,
                 num_classes=CIFAR_CLASSES, ghostify=None):
        super().__init__()
        tag = "vgg16_cifar_ref"
        conv = OrdinaryConvs(ghostify)
        layers = []
        cin, size = 3, resolution
        for stage in STAGES:
            for c in stage:
                cout = scaled(tag, c, width)
                layers += [conv(cin, cout, 3), nn.BatchNorm2d(cout),
                           nn.ReLU()]
                cin = cout
            layers.append(nn.MaxPool2d(2))
            size //= 2
        if size < 1:
            raise ValueError(f"{tag}: resolution {resolution} is too small "
                             "for five 2x2 max pools")
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin * size * size, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def build_model(width, resolution, seed, ghostify=None):
    torch.manual_seed(seed)
    model = VGG16(width=width, resolution=resolution, ghostify=ghostify)
    golden_common.init_weights(model, resolution)
    return model


def generate(out_dir, width=1.0, resolution=CIFAR_RESOLUTION, seed=0,
             dtype="F32", **params):
    """Write the golden files into out_dir; return a dict of diagnostics.
    params: ghostify ("ratio=S[,dw=D]", default None: plain VGG-16)."""
    ghostify = take_cifar_params("vgg16_cifar_ref", params)
    model = build_model(width, resolution, seed, ghostify)
    return generate_cifar(
        "vgg16_cifar_ref", model, out_dir, resolution, dtype,
        f"ghostify={ghostify_text(ghostify)} width={width} "
        f"resolution={resolution} seed={seed}")


if __name__ == "__main__":
    cifar_main(__doc__, generate)
