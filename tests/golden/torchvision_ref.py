#!/usr/bin/python3
"""torchvision's mobile networks as golden references for ghostcc.

The reference IS torchvision: the model classes of torchvision.models
(Debian's python3-torchvision), so the state_dict keys are exactly those of
a torchvision checkpoint and the forward pass is an implementation written
independently of ghostcc. Models (--model):
  mobilenet_v2        torchvision.models.mobilenet_v2(width_mult=width)
                      (width <= 1.0: specs/mobilenet_v2.yaml keeps the last
                      1280 channels unscaled, torchvision widens them above 1)
  mobilenet_v3_large  torchvision.models.mobilenet_v3_large(width_mult=width)
  shufflenet_v2       torchvision.models.shufflenet_v2_x{0_5,1_0,1_5,2_0}
                      (width 0.5, 1.0, 1.5 or 2.0)
Random weights (golden_common.init_weights: O(1) activations, BatchNorm
statistics calibrated on a random batch and perturbed; MobileNetV3's SE
gates widened so hard_sigmoid saturates), eval mode (Dropout is the
identity), logits in float64.

run_golden.py --model NAME loads NAME_ref.py: mobilenet_v2_ref.py,
mobilenet_v3_large_ref.py and shufflenet_v2_ref.py are thin wrappers around
generate(..., model=NAME) here.

Writes into --out:
  weights.safetensors  full state_dict (floats as --dtype, num_batches_tracked I64)
  input.bin            raw little-endian f32, NCHW 1x3xRxR
  expected.bin         raw little-endian f32 logits (1000)
"""

import os
import sys

import torch

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
from golden_common import NUM_CLASSES  # noqa: E402

# Kaiming leaves the SE gate input near 0 (gate ~0.5 everywhere); widen it so
# hard_sigmoid's clamps at 0 and 1 are actually exercised.
SE_GAIN = 4.0

SHUFFLENET_V2_WIDTHS = {0.5: "x0_5", 1.0: "x1_0", 1.5: "x1_5", 2.0: "x2_0"}
MODELS = ("mobilenet_v2", "mobilenet_v3_large", "shufflenet_v2")


def _torchvision():
    try:
        import torchvision.models
        import torchvision.ops
    except ImportError as e:
        raise ValueError(f"torchvision_ref: cannot import torchvision ({e}); "
                         "install Debian's python3-torchvision") from None
    return torchvision


def make_model(name, width):
    """The torchvision model `name` at `width`, with torchvision's init."""
    tv = _torchvision()
    if not width > 0:
        raise ValueError(f"torchvision_ref: width must be > 0, got {width}")
    if name == "mobilenet_v2":
        return tv.models.mobilenet_v2(width_mult=width,
                                      num_classes=NUM_CLASSES)
    if name == "mobilenet_v3_large":
        return tv.models.mobilenet_v3_large(width_mult=width,
                                            num_classes=NUM_CLASSES)
    if name == "shufflenet_v2":
        suffix = SHUFFLENET_V2_WIDTHS.get(float(width))
        if suffix is None:
            raise ValueError(
                f"torchvision_ref: shufflenet_v2 comes in widths "
                f"{', '.join(str(w) for w in SHUFFLENET_V2_WIDTHS)}, "
                f"got {width}")
        return getattr(tv.models, f"shufflenet_v2_{suffix}")(
            num_classes=NUM_CLASSES)
    raise ValueError(f"torchvision_ref: unknown model {name!r} (known: "
                     f"{', '.join(MODELS)})")


def _widen_se_gates(model):
    se_class = _torchvision().ops.SqueezeExcitation
    for m in model.modules():
        if isinstance(m, se_class):
            m.fc2.weight.mul_(SE_GAIN)


def build_model(name, width, resolution, seed):
    torch.manual_seed(seed)
    model = make_model(name, width)
    golden_common.init_weights(model, resolution, adjust=_widen_se_gates)
    return model


def generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32",
             model=None, **params):
    """Write the golden files for torchvision's `model` into out_dir; return
    a dict of diagnostics. The models take no extra parameters: any in
    `params` is an error."""
    if model is None:
        raise ValueError("torchvision_ref: give model= one of "
                         + ", ".join(MODELS))
    tag = f"{model}_ref (torchvision)"
    golden_common.take_params(tag, params, {})
    net = build_model(model, width, resolution, seed)
    return golden_common.generate_from_model(
        tag, net, out_dir, resolution, dtype,
        f"width={width} resolution={resolution} seed={seed}")


def main(model=None):
    ap = golden_common.arg_parser(__doc__)
    if model is None:
        ap.add_argument("--model", required=True, choices=MODELS)
    args = ap.parse_args()
    try:
        generate(args.out, args.width, args.resolution, args.seed,
                 args.dtype, model=model or args.model)
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
