"""Code shared by the PyTorch golden references (NAME_ref.py).

Every reference module exposes

    generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32",
             **params) -> dict of diagnostics

writing into out_dir:
  weights.safetensors  full state_dict (floats as dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (NUM_CLASSES)

`params` are the model's extra spec parameters (run_golden.py --set
NAME=VALUE); values may arrive as strings and are converted by
take_params().
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

NUM_CLASSES = 1000
# Relative tolerance used by harness.c (max|diff| <= RTOL * max|expected|).
HARNESS_RTOL = 1e-4


def param_count(model):
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model, resolution):
    """Multiply-adds of all Conv2d and Linear layers for one image (BN,
    activations, pools, adds and the bias adds are not counted)."""
    total = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += out.numel() * (m.in_channels // m.groups) * k

    def linear_hook(m, inp, out):
        total[0] += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        # Zeros, not randn: counting must not consume the seeded RNG.
        model(torch.zeros(1, 3, resolution, resolution,
                          dtype=next(model.parameters()).dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return total[0]


@torch.no_grad()
def init_weights(model, resolution, calib_batch=8, adjust=None):
    """Random weights that keep activations O(1) through the whole network,
    with non-trivial BatchNorm statistics.

    Kaiming init alone lets activations drift (residual sums, random BN
    stats), so the BN running stats are first calibrated to the real
    per-channel statistics of a random batch, then perturbed so that eval
    BN is a genuine affine op (not an identity-like normalisation).
    `adjust(model)` runs after the random init, before the calibration.
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

    if adjust is not None:
        adjust(model)

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


def take_params(tag, params, known):
    """Convert the extra parameters: known maps NAME -> (type, default).
    Unknown names raise ValueError (so a typo in --set is not ignored)."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"{tag}: unknown parameter(s) {', '.join(unknown)}"
                         + (f" (known: {', '.join(sorted(known))})"
                            if known else " (this model takes none)"))
    out = {}
    for name, (typ, default) in known.items():
        v = params.get(name, default)
        try:
            out[name] = typ(v)
        except (TypeError, ValueError):
            raise ValueError(f"{tag}: parameter {name}: not a valid "
                             f"{typ.__name__}: {v!r}") from None
    return out


def generate_from_model(tag, model, out_dir, resolution, dtype, config):
    """Round the weights to `dtype`, draw the input from the (seeded) torch
    RNG, compute the float64 logits and write the golden files.  `config`
    is a human-readable description printed with the diagnostics.
    Returns a dict of diagnostics."""
    os.makedirs(out_dir, exist_ok=True)

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
    if logits.shape != (NUM_CLASSES,):
        raise RuntimeError(f"{tag}: logits of shape {logits.shape}, "
                           f"expected ({NUM_CLASSES},)")

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
        "macs": count_macs(model, resolution),
        "max_abs_logit": max_abs,
        "logit_std": float(logits.std()),
        "top1": int(order[0]),
        "top1_gap": float(logits[order[0]] - logits[order[1]]),
        "f32_vs_f64": float(np.abs(logits32 - logits).max()),
        "finite": bool(np.isfinite(logits).all()),
    }
    print(f"{tag}: {config} dtype={dtype} "
          f"params={info['params']} ({info['params'] / 1e6:.2f}M) "
          f"MACs={info['macs']} ({info['macs'] / 1e6:.1f}M)")
    print(f"{tag}: max|logit|={max_abs:.4g} std={info['logit_std']:.4g} "
          f"top1={info['top1']} gap to top2={info['top1_gap']:.4g} "
          f"torch f32 vs f64 max diff={info['f32_vs_f64']:.3g} "
          f"({info['f32_vs_f64'] / max(max_abs, 1e-30):.2g} relative)")
    warn_degenerate(tag, info)
    return info


def warn_degenerate(tag, info):
    """Print a WARNING for golden data that would make a weak test."""
    max_abs = info["max_abs_logit"]
    if not info["finite"]:
        print(f"{tag}: WARNING: non-finite logits")
        return
    if max_abs <= 1e-3:
        print(f"{tag}: WARNING: degenerate logits (max|logit| <= 1e-3)")
        return
    # Nearly constant logits: the tolerance (relative to max|logit|) would
    # swamp the differences between classes.
    if info["logit_std"] <= 0.01 * max_abs:
        print(f"{tag}: WARNING: nearly constant logits (std <= 1% of "
              f"max|logit|)")
    # An output within tolerance can only flip the argmax if the gap is
    # below 2x the tolerance; demand a comfortable 10x margin.
    if info["top1_gap"] <= 10 * HARNESS_RTOL * max_abs:
        print(f"{tag}: WARNING: ambiguous top-1 (gap to top-2 <= "
              "10x the harness tolerance); try another --seed")
    # Plain float32 arithmetic should use only a small part of the budget.
    if info["f32_vs_f64"] > 0.1 * HARNESS_RTOL * max_abs:
        print(f"{tag}: WARNING: torch float32 is already more than 10% of "
              "the harness tolerance away from the float64 reference")


def arg_parser(doc):
    """The CLI common to all references; callers add their own options."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=safetensors_io.FLOAT_DTYPES,
                    default="F32", help="storage dtype of float weights")
    ap.add_argument("--out", required=True)
    return ap
