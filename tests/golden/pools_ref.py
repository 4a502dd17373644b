#!/usr/bin/python3
"""PyTorch reference for tests/golden/pools.yaml: a conv, then every kind of
pooling ghostcc schedules differently, then a linear classifier.
  conv  Conv2d(3, 16, 3, padding=1) + ReLU          33x33
        AvgPool2d(3, 2, 1)                          17x17
        AvgPool2d(5, 1, 2) + ReLU                   17x17
        AvgPool2d(3, 1, 1, count_include_pad=False) 17x17
        AvgPool2d(2)                                 8x8
        MaxPool2d(3, 2, 1)                           4x4
  fc    Linear(16 * 4 * 4, 10)
Resolution fixed at 33, width 1.0 only.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype)
  input.bin            raw little-endian f32, NCHW 1x3x33x33
  expected.bin         raw little-endian f32 logits (10)
"""

import os
import sys

import torch
import torch.nn as nn

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
from vgg16_cifar_ref import generate_cifar  # noqa: E402

RESOLUTION = 33


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pools = nn.Sequential(
            nn.AvgPool2d(3, 2, 1),
            nn.AvgPool2d(5, 1, 2), nn.ReLU(),
            nn.AvgPool2d(3, 1, 1, count_include_pad=False),
            nn.AvgPool2d(2),
            nn.MaxPool2d(3, 2, 1))
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = self.pools(torch.relu(self.conv(x)))
        return self.fc(x.flatten(1))


def generate(out_dir, width=1.0, resolution=RESOLUTION, seed=0, dtype="F32",
             **params):
    """Write the golden files into out_dir; return a dict of diagnostics."""
    tag = "pools_ref"
    golden_common.take_params(tag, params, {})
    if width != 1.0 or resolution != RESOLUTION:
        raise ValueError(f"{tag}: width 1.0 and resolution {RESOLUTION} only")
    torch.manual_seed(seed)
    model = Pools()
    golden_common.init_weights(model, resolution)
    model.eval()
    return generate_cifar(tag, model, out_dir, resolution, dtype,
                          f"seed={seed}")


def main():
    ap = golden_common.arg_parser(__doc__)
    ap.set_defaults(resolution=RESOLUTION)
    args = ap.parse_args()
    try:
        generate(args.out, args.width, args.resolution, args.seed, args.dtype)
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
