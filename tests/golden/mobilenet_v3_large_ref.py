#!/usr/bin/python3
"""torchvision's mobilenet_v3_large as a golden reference for ghostcc: a thin wrapper
around torchvision_ref.py (which see), for run_golden.py --model mobilenet_v3_large."""

import os
import sys

# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchvision_ref  # noqa: E402


def generate(out_dir, width=1.0, resolution=224, seed=0, dtype="F32",
             **params):
    """Write the golden files into out_dir; return a dict of diagnostics."""
    return torchvision_ref.generate(out_dir, width, resolution, seed, dtype,
                                    model="mobilenet_v3_large", **params)


if __name__ == "__main__":
    torchvision_ref.main("mobilenet_v3_large")
