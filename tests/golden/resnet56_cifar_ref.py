#!/usr/bin/python3
"""PyTorch ResNet-56 for CIFAR-10 (He et al., 2016) reference producing
golden data for ghostcc (specs/resnet56_cifar.yaml), optionally as
Ghost-ResNet-56.

state_dict names (torchvision's BasicBlock): conv1 (3x3, 16 channels, no
bias), bn1, ReLU; layer1..layer3 of nine BasicBlocks each (16, 32, 64
channels; stride 2 in the first block of layer2 and layer3):
  layerS.I.conv1 (3x3, stride), bn1, ReLU, conv2 (3x3), bn2,
  + the input, or downsample.0 (1x1 conv, stride, no bias) and
    downsample.1 (BN) when the shape changes; ReLU after the sum;
AdaptiveAvgPool2d(1), flatten, fc (Linear(64, 10)). Width multiplier: every
conv's channel count c becomes int(c * width), the stem's 16 included.

ghostify="ratio=S[,dw=D]" (ghostcc's --ghostify) replaces every ordinary
conv (groups 1, no bias, padding kernel // 2: all of them here, the 1x1
downsample convs included) except the stem conv1 by a GhostModule named
after the conv; see vgg16_cifar_ref.py.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (10)
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
from vgg16_cifar_ref import (CIFAR_CLASSES, CIFAR_RESOLUTION,  # noqa: E402
                             OrdinaryConvs, cifar_main, generate_cifar,
                             ghostify_text, scaled, take_cifar_params)

TAG = "resnet56_cifar_ref"
STEM = 16
# (channels, stride of the first block) per stage; nine blocks each.
STAGES = [(16, 1), (32, 2), (64, 2)]
BLOCKS = 9


class BasicBlock(nn.Module):
    def __init__(self, conv, cin, cout, stride):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv(cout, cout, 3)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(conv(cin, cout, 1, stride),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(h + shortcut)


class ResNet56(nn.Module):
    def __init__(self, width=1.0, num_classes=CIFAR_CLASSES, ghostify=None):
        super().__init__()
        conv = OrdinaryConvs(ghostify)
        cin = scaled(TAG, STEM, width)
        self.conv1 = conv(3, cin, 3)
        self.bn1 = nn.BatchNorm2d(cin)
        for s, (c, stride) in enumerate(STAGES):
            cout = scaled(TAG, c, width)
            blocks = []
            for i in range(BLOCKS):
                blocks.append(BasicBlock(conv, cin, cout,
                                         stride if i == 0 else 1))
                cin = cout
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def build_model(width, resolution, seed, ghostify=None):
    torch.manual_seed(seed)
    model = ResNet56(width=width, ghostify=ghostify)
    golden_common.init_weights(model, resolution)
    return model


def generate(out_dir, width=1.0, resolution=CIFAR_RESOLUTION, seed=0,
             dtype="F32", **params):
    """Write the golden files into out_dir; return a dict of diagnostics.
    params: ghostify ("ratio=S[,dw=D]", default None: plain ResNet-56)."""
    ghostify = take_cifar_params(TAG, params)
    model = build_model(width, resolution, seed, ghostify)
    return generate_cifar(
        TAG, model, out_dir, resolution, dtype,
        f"ghostify={ghostify_text(ghostify)} width={width} "
        f"resolution={resolution} seed={seed}")


if __name__ == "__main__":
    cifar_main(__doc__, generate)
