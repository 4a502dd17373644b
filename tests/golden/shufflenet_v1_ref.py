#!/usr/bin/python3
"""PyTorch ShuffleNetV1 (Zhang et al. 2018) reference producing golden data
for ghostcc.

This is the variant ghostcc's spec follows (not megvii's):
  conv1 = Sequential(Conv2d(3, 24, 3, s2, p1, no bias), BN, ReLU), then
  MaxPool2d(3, 2, 1); three stages of 4 / 8 / 4 units, all in ONE flat
  nn.Sequential `units` (units.0 .. units.15), the first unit of each stage
  with stride 2; AdaptiveAvgPool2d(1), flatten, `fc` (Linear to 1000).
Stage output channels for groups g (times the scale factor s, as
int(c * s); the stem's 24 is not scaled):
  g=1: 144 288 576   g=2: 200 400 800   g=3: 240 480 960
  g=4: 272 544 1088  g=8: 384 768 1536
A unit (cin, cout, stride, g, first = units.0 only):
  mid = cout // 4; branch = cout - cin if stride 2 else cout
  gconv1 1x1 (groups 1 if first else g) -> bn1 -> ReLU
  -> channel shuffle with g groups (not in the first unit, nor for g=1)
  -> dw 3x3 stride (groups=mid) -> bn2 -> gconv2 1x1 (groups g) -> bn3
  stride 1: ReLU(x + branch)
  stride 2: ReLU(cat([AvgPool2d(3, 2, 1)(x), branch]))  (shortcut first)

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (1000)
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
from golden_common import NUM_CLASSES  # noqa: E402

STEM = 24
STAGE_UNITS = (4, 8, 4)
STAGE_CHANNELS = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
DEFAULT_GROUPS = 3


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return (x.view(n, groups, c // groups, h, w).transpose(1, 2)
            .reshape(n, c, h, w))


class ShuffleUnit(nn.Module):
    def __init__(self, index, cin, cout, stride, groups, first_unit):
        super().__init__()
        mid = cout // 4
        branch = cout - cin if stride == 2 else cout
        g1 = 1 if first_unit else groups
        where = (f"shufflenet_v1_ref: units.{index} (in {cin}, out {cout}, "
                 f"stride {stride}, groups {groups})")
        if stride == 1 and cin != cout:
            raise ValueError(f"{where}: a stride-1 unit needs in == out")
        if mid < 1 or branch < 1:
            raise ValueError(f"{where}: bottleneck {mid} / branch {branch} "
                             "channels; the scale factor is too small")
        checks = [("gconv1 input", cin, g1), ("gconv1 output", mid, g1),
                  ("gconv2 input" if first_unit or groups == 1
                   else "channel shuffle / gconv2 input", mid, groups),
                  ("gconv2 output", branch, groups)]
        for what, c, g in checks:
            if c % g:
                raise ValueError(f"{where}: {what} has {c} channels, not "
                                 f"divisible by {g} groups (bottleneck "
                                 f"{mid}, branch {branch}); this groups / "
                                 f"scale combination is not supported")
        self.stride = stride
        self.shuffle_groups = groups if (groups > 1 and not first_unit) else 1
        self.gconv1 = nn.Conv2d(cin, mid, 1, groups=g1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.dw = nn.Conv2d(mid, mid, 3, stride=stride, padding=1,
                            groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = nn.Conv2d(mid, branch, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch)

    def forward(self, x):
        b = F.relu(self.bn1(self.gconv1(x)))
        if self.shuffle_groups > 1:
            b = channel_shuffle(b, self.shuffle_groups)
        b = self.bn2(self.dw(b))
        b = self.bn3(self.gconv2(b))
        if self.stride == 1:
            return F.relu(x + b)
        # count_include_pad=True (PyTorch's default): border windows
        # divide by 9.
        shortcut = F.avg_pool2d(x, 3, stride=2, padding=1)
        return F.relu(torch.cat([shortcut, b], dim=1))


class ShuffleNetV1(nn.Module):
    def __init__(self, groups=DEFAULT_GROUPS, width=1.0,
                 num_classes=NUM_CLASSES):
        super().__init__()
        if groups not in STAGE_CHANNELS:
            raise ValueError(f"shufflenet_v1_ref: groups must be one of "
                             f"{sorted(STAGE_CHANNELS)}, got {groups}")
        if not width > 0:
            raise ValueError(f"shufflenet_v1_ref: scale factor (width) must "
                             f"be > 0, got {width}")
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, STEM, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(STEM), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        units = []
        cin = STEM
        for n_units, c in zip(STAGE_UNITS, STAGE_CHANNELS[groups]):
            cout = int(c * width)
            for i in range(n_units):
                units.append(ShuffleUnit(len(units), cin, cout,
                                         2 if i == 0 else 1, groups,
                                         first_unit=not units))
                cin = cout
        self.units = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.pool(self.units(x))
        return self.fc(x.flatten(1))


def build_model(width, resolution, seed, groups=DEFAULT_GROUPS):
    torch.manual_seed(seed)
    model = ShuffleNetV1(groups=groups, width=width)
    golden_common.init_weights(model, resolution)
    return model


def generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32",
             **params):
    """Write the golden files into out_dir; return a dict of diagnostics.
    `width` is the scale factor s; params: groups (default 3)."""
    p = golden_common.take_params("shufflenet_v1_ref", params,
                                  {"groups": (int, DEFAULT_GROUPS)})
    model = build_model(width, resolution, seed, p["groups"])
    return golden_common.generate_from_model(
        "shufflenet_v1_ref", model, out_dir, resolution, dtype,
        f"groups={p['groups']} width={width} resolution={resolution} "
        f"seed={seed}")


def main():
    ap = golden_common.arg_parser(__doc__)
    ap.add_argument("--groups", type=int, default=DEFAULT_GROUPS,
                    choices=sorted(STAGE_CHANNELS))
    args = ap.parse_args()
    try:
        generate(args.out, args.width, args.resolution, args.seed,
                 args.dtype, groups=args.groups)
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
