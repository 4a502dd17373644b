#!/usr/bin/python3
"""PyTorch MobileNetV1 (Howard et al. 2017) reference producing golden data
for ghostcc.

state_dict names: one nn.Sequential `features` (features.0 stem conv,
features.1 BN, features.2 ReLU; then per depthwise-separable block
i = 0..12: features.{3+6i} depthwise 3x3 conv, {4+6i} BN, {5+6i} ReLU,
{6+6i} pointwise 1x1 conv, {7+6i} BN, {8+6i} ReLU), then global average
pool, flatten and `fc` (Linear to 1000). All convs are bias-free.
Width multiplier alpha: every channel count c becomes int(c * alpha) (plain
truncation), the stem's 32 and the last 1024 included.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (1000)
"""

import os
import sys

import torch
import torch.nn as nn

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
from golden_common import NUM_CLASSES  # noqa: E402

STEM = 32
# (out channels, stride) of the 13 depthwise-separable blocks.
BODY = ([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
        + [(512, 1)] * 5 + [(1024, 2), (1024, 1)])


def scaled(c, width):
    return int(c * width)


class MobileNetV1(nn.Module):
    def __init__(self, width=1.0, num_classes=NUM_CLASSES):
        super().__init__()
        if not width > 0:
            raise ValueError(f"mobilenet_v1_ref: width must be > 0, "
                             f"got {width}")
        cin = scaled(STEM, width)
        if cin < 1:
            raise ValueError(f"mobilenet_v1_ref: width {width} leaves the "
                             f"stem with {cin} channels")
        layers = [nn.Conv2d(3, cin, 3, stride=2, padding=1, bias=False),
                  nn.BatchNorm2d(cin), nn.ReLU()]
        for cout, stride in BODY:
            cout = scaled(cout, width)
            layers += [
                nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin,
                          bias=False),
                nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(),
            ]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(x.flatten(1))


def build_model(width, resolution, seed):
    torch.manual_seed(seed)
    model = MobileNetV1(width=width)
    golden_common.init_weights(model, resolution)
    return model


def generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32",
             **params):
    """Write the golden files into out_dir; return a dict of diagnostics.
    MobileNetV1 has no extra parameters: any in `params` is an error."""
    golden_common.take_params("mobilenet_v1_ref", params, {})
    model = build_model(width, resolution, seed)
    return golden_common.generate_from_model(
        "mobilenet_v1_ref", model, out_dir, resolution, dtype,
        f"width={width} resolution={resolution} seed={seed}")


def main():
    args = golden_common.arg_parser(__doc__).parse_args()
    try:
        generate(args.out, args.width, args.resolution, args.seed,
                 args.dtype)
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
