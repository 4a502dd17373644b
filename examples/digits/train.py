#!/usr/bin/python3
"""Trains examples/digits/digits.yaml on scikit-learn's handwritten digits.

Builds the network of digits.yaml in PyTorch, with GhostNet's modules (the
same classes and state_dict names as tests/golden/ghostnet_ref.py, which
mirrors the official ghostnet_pytorch/ghostnet.py), trains it on the CPU,
deterministically, and writes next to this file:

  digits.safetensors       the trained weights, F32, by state_dict name
  test_images.u8           the test split: N x 8 x 8 bytes, values 0..16
  test_labels.u8           its labels: N bytes, 0..9
  pytorch_predictions.txt  PyTorch's prediction and logits per test image

Data: sklearn.datasets.load_digits() (1797 8x8 images, values 0..16, from
Debian's python3-sklearn; no download). The split is fixed, stratified and
needs no random numbers: of each digit's images, in the dataset's order, the
5th, 10th, 15th, ... are the test split (355 images, 34 to 36 per digit);
the other 1442 are the training split. test_images.u8 keeps the dataset's
order.

Input normalisation: x = (v / 16 - 0.5) / 0.5, one channel, 8x8.

Training: 40 epochs of AdamW (lr 4e-3, one-cycle schedule, weight decay
5e-4), batches of 64, cross-entropy with label smoothing 0.05, dropout 0.2
before the classifier, images shifted at random by up to one pixel. Seeded,
one thread, deterministic algorithms: the same machine writes the same
bytes. About 22 s of CPU time; reaches 354/355 = 99.72% on the test split.

Run with Debian's interpreter (python3-torch installs for it):
  /usr/bin/python3 examples/digits/train.py [--out DIR]
"""

import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

SEED = 0
EPOCHS = 40
BATCH = 64
LR = 4e-3
WEIGHT_DECAY = 5e-4
MEAN, STD = 0.5, 0.5
TEST_EVERY = 5        # every 5th image of each digit is a test image
NUM_CLASSES = 10

# (kernel, exp, out, se, stride), one inner list per stage: digits.yaml's table.
CFGS = [
    [[3, 32, 16, 0, 1]],
    [[3, 48, 24, 0, 2]],
    [[3, 72, 24, 0.25, 1],
     [3, 96, 32, 0.25, 1]],
]
STEM, LAST, HEAD = 16, 96, 128


# --- GhostNet's modules, as in tests/golden/ghostnet_ref.py ---------------

def _make_divisible(v, divisor=4, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
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


# --- The network of digits.yaml --------------------------------------------

class DigitsGhostNet(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, dropout=0.2):
        super().__init__()
        self.conv_stem = nn.Conv2d(1, STEM, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(STEM)
        self.act1 = nn.ReLU(inplace=True)
        chs = STEM
        stages = []
        for cfg in CFGS:
            layers = []
            for k, exp, out, se, s in cfg:
                layers.append(GhostBottleneck(chs, _make_divisible(exp),
                                              _make_divisible(out), k, s,
                                              se_ratio=se))
                chs = _make_divisible(out)
            stages.append(nn.Sequential(*layers))
        stages.append(nn.Sequential(ConvBnAct(chs, LAST, 1)))
        self.blocks = nn.Sequential(*stages)
        self.global_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.conv_head = nn.Conv2d(LAST, HEAD, 1, 1, 0, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        # Dropout acts in training only: nothing of it is in the spec.
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(HEAD, num_classes)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = self.global_pool(x)
        x = self.act2(self.conv_head(x))
        x = x.view(x.size(0), -1)
        return self.classifier(self.dropout(x))


# --- Data --------------------------------------------------------------------

def load_split():
    digits = load_digits()
    images = digits.images.astype(np.uint8)          # 0..16, exact
    labels = digits.target.astype(np.uint8)
    assert images.shape == (1797, 8, 8) and images.max() == 16
    # Per class, the 5th, 10th, 15th, ... image (in the dataset's order) is
    # a test image: a stratified split that needs no random numbers.
    rank = np.zeros(len(labels), dtype=np.int64)
    seen = np.zeros(NUM_CLASSES, dtype=np.int64)
    for i, c in enumerate(labels):
        rank[i] = seen[c]
        seen[c] += 1
    test = rank % TEST_EVERY == TEST_EVERY - 1
    return (images[~test], labels[~test]), (images[test], labels[test])


def normalise(images_u8):
    """The network's input: (v / 16 - mean) / std, as float32 N x 1 x 8 x 8.
    Every step is exact in float32, so C computing the same gets the same
    bits."""
    x = torch.from_numpy(images_u8.astype(np.float32)).unsqueeze(1)
    return (x / 16.0 - MEAN) / STD


def shifted_copies(x):
    """All nine shifts of x by up to one pixel in each direction (padding
    with the background), as a 9 x N x 1 x 8 x 8 tensor: the augmentation."""
    bg = (0.0 - MEAN) / STD
    padded = F.pad(x, (1, 1, 1, 1), value=bg)
    return torch.stack([padded[:, :, dy:dy + 8, dx:dx + 8]
                        for dy in range(3) for dx in range(3)])


# --- safetensors, written by hand (no safetensors package in Debian 12) ----

def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().contiguous().numpy().astype("<f4")
        raw = raw.tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * (-len(hdr) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for raw in blobs:
            f.write(raw)


# --- Training ----------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="output directory (default: next to this script)")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)

    (train_img, train_lbl), (test_img, test_lbl) = load_split()
    x_train, y_train = normalise(train_img), torch.from_numpy(train_lbl).long()
    x_test, y_test = normalise(test_img), torch.from_numpy(test_lbl).long()
    print(f"train {len(x_train)} images, test {len(x_test)} images")

    shifts = shifted_copies(x_train)
    model = DigitsGhostNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=LR,
                            weight_decay=WEIGHT_DECAY)
    steps = args.epochs * math.ceil(len(x_train) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR,
                                                total_steps=steps)

    start, start_cpu = time.monotonic(), time.process_time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for b in range(0, len(perm), BATCH):
            idx = perm[b:b + BATCH]
            xb = shifts[torch.randint(0, 9, (len(idx),), generator=gen), idx]
            loss = F.cross_entropy(model(xb), y_train[idx],
                                   label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.epochs:
            model.eval()
            with torch.no_grad():
                acc = (model(x_test).argmax(1) == y_test).float().mean()
            print(f"epoch {epoch + 1:3d}  loss {total / len(x_train):.4f}  "
                  f"test accuracy {100 * acc:.2f}%")
    train_s = time.monotonic() - start
    train_cpu = time.process_time() - start_cpu

    model.eval()
    with torch.no_grad():
        logits = model(x_test)
    pred = logits.argmax(1)
    correct = int((pred == y_test).sum())
    accuracy = 100.0 * correct / len(y_test)
    top2 = logits.topk(2, dim=1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    print(f"training: {train_s:.1f} s ({train_cpu:.1f} s CPU); test accuracy "
          f"{correct}/{len(y_test)} = {accuracy:.2f}%; smallest top-1/top-2 "
          f"logit margin {margin:.4f}")

    os.makedirs(args.out, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items()
             if v.is_floating_point()}          # not num_batches_tracked
    write_safetensors(os.path.join(args.out, "digits.safetensors"), state, {
        "model": "examples/digits/digits.yaml",
        "trained_by": "examples/digits/train.py",
        "seed": str(SEED), "epochs": str(args.epochs),
        "torch": torch.__version__,
        "test_accuracy": f"{correct}/{len(y_test)}"})
    test_img.tofile(os.path.join(args.out, "test_images.u8"))
    test_lbl.tofile(os.path.join(args.out, "test_labels.u8"))
    with open(os.path.join(args.out, "pytorch_predictions.txt"), "w") as f:
        f.write("# PyTorch's predictions for the digits test split "
                "(examples/digits/train.py)\n")
        f.write(f"# {correct}/{len(y_test)} correct = {accuracy:.2f}%\n")
        f.write("# index label prediction logits[0..9]\n")
        for i in range(len(y_test)):
            row = " ".join(f"{v:.9g}" for v in logits[i].tolist())
            f.write(f"{i} {int(y_test[i])} {int(pred[i])} {row}\n")
    print(f"wrote digits.safetensors, test_images.u8, test_labels.u8, "
          f"pytorch_predictions.txt into {args.out}")


if __name__ == "__main__":
    main()
