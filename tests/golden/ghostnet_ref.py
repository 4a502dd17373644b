#!/usr/bin/python3
"""PyTorch GhostNet reference producing golden data for ghostcc.

The module structure and attribute names follow the official
Efficient-AI-Backbones ghostnet_pytorch/ghostnet.py (same as timm), so the
state_dict keys are those of a real GhostNet checkpoint.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (1000)
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

NUM_CLASSES = 1000
SE_GAIN = 4.0
# Relative tolerance used by harness.c (max|diff| <= RTOL * max|expected|).
HARNESS_RTOL = 1e-4

# (k, exp, c, se_ratio, s), one inner list per stage.
CFGS = [
    [[3, 16, 16, 0, 1]],
    [[3, 48, 24, 0, 2]],
    [[3, 72, 24, 0, 1]],
    [[5, 72, 40, 0.25, 2]],
    [[5, 120, 40, 0.25, 1]],
    [[3, 240, 80, 0, 2]],
    [[3, 200, 80, 0, 1],
     [3, 184, 80, 0, 1],
     [3, 184, 80, 0, 1],
     [3, 480, 112, 0.25, 1],
     [3, 672, 112, 0.25, 1]],
    [[5, 672, 160, 0.25, 2]],
    [[5, 960, 160, 0, 1],
     [5, 960, 160, 0.25, 1],
     [5, 960, 160, 0, 1],
     [5, 960, 160, 0.25, 1]],
]


def _make_divisible(v, divisor=4, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Never round down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def hard_sigmoid(x):
    return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):
    def __init__(self, in_chs, se_ratio=0.25, divisor=4):
        super().__init__()
        reduced_chs = _make_divisible(in_chs * se_ratio, divisor)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_reduce = nn.Conv2d(in_chs, reduced_chs, 1, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(reduced_chs, in_chs, 1, bias=True)

    def forward(self, x):
        x_se = self.avg_pool(x)
        x_se = self.conv_reduce(x_se)
        x_se = self.act1(x_se)
        x_se = self.conv_expand(x_se)
        return x * hard_sigmoid(x_se)


class ConvBnAct(nn.Module):
    def __init__(self, in_chs, out_chs, kernel_size, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size, stride,
                              kernel_size // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(out_chs)
        self.act1 = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act1(self.bn1(self.conv(x)))


class GhostModule(nn.Module):
    def __init__(self, inp, oup, kernel_size=1, ratio=2, dw_size=3, stride=1,
                 relu=True):
        super().__init__()
        self.oup = oup
        init_channels = math.ceil(oup / ratio)
        new_channels = init_channels * (ratio - 1)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(inp, init_channels, kernel_size, stride,
                      kernel_size // 2, bias=False),
            nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init_channels, new_channels, dw_size, 1, dw_size // 2,
                      groups=init_channels, bias=False),
            nn.BatchNorm2d(new_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )

    def forward(self, x):
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        out = torch.cat([x1, x2], dim=1)
        return out[:, :self.oup, :, :]


class GhostBottleneck(nn.Module):
    def __init__(self, in_chs, mid_chs, out_chs, dw_kernel_size=3, stride=1,
                 se_ratio=0.0):
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModule(in_chs, mid_chs, relu=True)
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid_chs, mid_chs, dw_kernel_size,
                                     stride=stride,
                                     padding=(dw_kernel_size - 1) // 2,
                                     groups=mid_chs, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid_chs)
        self.se = (SqueezeExcite(mid_chs, se_ratio=se_ratio)
                   if se_ratio is not None and se_ratio > 0.0 else None)
        self.ghost2 = GhostModule(mid_chs, out_chs, relu=False)
        if in_chs == out_chs and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_chs, in_chs, dw_kernel_size, stride=stride,
                          padding=(dw_kernel_size - 1) // 2, groups=in_chs,
                          bias=False),
                nn.BatchNorm2d(in_chs),
                nn.Conv2d(in_chs, out_chs, 1, stride=1, padding=0,
                          bias=False),
                nn.BatchNorm2d(out_chs),
            )

    def forward(self, x):
        residual = x
        x = self.ghost1(x)
        if self.stride > 1:
            x = self.bn_dw(self.conv_dw(x))
        if self.se is not None:
            x = self.se(x)
        x = self.ghost2(x)
        return x + self.shortcut(residual)


class GhostNet(nn.Module):
    def __init__(self, cfgs=CFGS, num_classes=NUM_CLASSES, width=1.0):
        super().__init__()
        output_channel = _make_divisible(16 * width, 4)
        self.conv_stem = nn.Conv2d(3, output_channel, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(output_channel)
        self.act1 = nn.ReLU(inplace=True)
        input_channel = output_channel

        stages = []
        for cfg in cfgs:
            layers = []
            for k, exp_size, c, se_ratio, s in cfg:
                output_channel = _make_divisible(c * width, 4)
                hidden_channel = _make_divisible(exp_size * width, 4)
                layers.append(GhostBottleneck(input_channel, hidden_channel,
                                              output_channel, k, s,
                                              se_ratio=se_ratio))
                input_channel = output_channel
            stages.append(nn.Sequential(*layers))
        # Official code reuses the last cfg's exp_size (960) here.
        output_channel = _make_divisible(exp_size * width, 4)
        stages.append(nn.Sequential(ConvBnAct(input_channel, output_channel, 1)))
        input_channel = output_channel
        self.blocks = nn.Sequential(*stages)

        output_channel = 1280
        self.global_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.conv_head = nn.Conv2d(input_channel, output_channel, 1, 1, 0,
                                   bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.classifier = nn.Linear(output_channel, num_classes)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = self.global_pool(x)
        x = self.act2(self.conv_head(x))
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def param_count(model):
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def init_weights(model, resolution, calib_batch=8):
    """Random weights that keep activations O(1) through the whole network,
    with non-trivial BatchNorm statistics.

    Kaiming init alone lets activations drift (residual sums, random BN
    stats), so the BN running stats are first calibrated to the real
    per-channel statistics of a random batch, then perturbed so that eval
    BN is a genuine affine op (not an identity-like normalisation).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in",
                                    nonlinearity="relu")
            if m.bias is not None:
                m.bias.normal_(0.0, 0.1)
        elif isinstance(m, nn.Linear):
            m.weight.normal_(0.0, 1.0 / math.sqrt(m.in_features))
            m.bias.normal_(0.0, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.1)

    # Kaiming leaves the SE gate input near 0 (gate ~0.5 everywhere); widen
    # it so hard_sigmoid's clamps at 0 and 1 are actually exercised.
    for m in model.modules():
        if isinstance(m, SqueezeExcite):
            m.conv_expand.weight.mul_(SE_GAIN)

    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: one batch sets the stats
    model.train()
    model(torch.randn(calib_batch, 3, resolution, resolution))
    for m in bns:
        std = m.running_var.sqrt()
        m.running_mean.add_(torch.randn_like(std) * 0.1 * std)
        m.running_var.mul_(torch.empty_like(std).uniform_(0.5, 2.0))
        m.momentum = 0.1
    model.eval()


def build_model(width, resolution, seed):
    torch.manual_seed(seed)
    model = GhostNet(width=width)
    init_weights(model, resolution)
    return model


def generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32"):
    """Write the golden files into out_dir; return a dict of diagnostics."""
    os.makedirs(out_dir, exist_ok=True)
    model = build_model(width, resolution, seed)

    # The C side sees the weights rounded to the stored dtype: compute the
    # reference from exactly those values.
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.from_numpy(
                    safetensors_io.round_to_dtype(t.numpy(), dtype)))
    x = torch.randn(1, 3, resolution, resolution)

    # Golden logits in float64 so they carry no float32 rounding of their
    # own; the float32 result shows how far plain f32 math lands from them.
    with torch.no_grad():
        logits32 = model(x)[0].numpy()
        logits = model.double()(x.double())[0].numpy()
        model.float()

    state = model.state_dict()
    # Checkpoints saved by safetensors.torch carry {"format": "pt"}; keep it
    # so the loader is exercised on a "__metadata__" entry.
    safetensors_io.write_safetensors(
        os.path.join(out_dir, "weights.safetensors"), state, dtype=dtype,
        metadata={"format": "pt"})
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, "input.bin"))
    logits.astype("<f4").tofile(os.path.join(out_dir, "expected.bin"))

    order = np.argsort(logits)[::-1]
    max_abs = float(np.abs(logits).max())
    info = {
        "params": param_count(model),
        "max_abs_logit": max_abs,
        "top1": int(order[0]),
        "top1_gap": float(logits[order[0]] - logits[order[1]]),
        "f32_vs_f64": float(np.abs(logits32 - logits).max()),
    }
    print(f"ghostnet_ref: width={width} resolution={resolution} seed={seed} "
          f"dtype={dtype} params={info['params']} "
          f"({info['params'] / 1e6:.2f}M)")
    print(f"ghostnet_ref: max|logit|={max_abs:.4g} top1={info['top1']} "
          f"gap to top2={info['top1_gap']:.4g} "
          f"torch f32 vs f64 max diff={info['f32_vs_f64']:.3g} "
          f"({info['f32_vs_f64'] / max_abs:.2g} relative)")
    if max_abs <= 1e-3:
        print("ghostnet_ref: WARNING: degenerate logits (max|logit| <= 1e-3)")
    # An output within tolerance can only flip the argmax if the gap is
    # below 2x the tolerance; demand a comfortable 10x margin.
    if info["top1_gap"] <= 10 * HARNESS_RTOL * max_abs:
        print("ghostnet_ref: WARNING: ambiguous top-1 (gap to top-2 <= "
              "10x the harness tolerance); try another --seed")
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=safetensors_io.FLOAT_DTYPES,
                    default="F32", help="storage dtype of float weights")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    generate(args.out, args.width, args.resolution, args.seed, args.dtype)


if __name__ == "__main__":
    main()
