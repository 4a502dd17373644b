#!/usr/bin/python3
"""End-to-end golden test of ghostcc against a PyTorch reference.

One configuration per run, for the network --model NAME (reference module
tests/golden/NAME_ref.py, default ghostnet):
  1. NAME_ref.generate(DIR, W, R, SEED, DTYPE, **SETS)
       -> weights.safetensors, input.bin, expected.bin
  2. ghostcc SPEC -o OUT --name model --weights ... --width W --resolution R
             [--emit obj] [--target TRIPLE] [--set NAME=VALUE ...]
             [GHOSTCC_ARG ...]
  3. CC -std=c11 -O2 -Wall -Wextra -Werror CFLAGS -I OUT OUT/*.c harness.c -lm
     (with --emit obj: OUT/model.o, the LLVM backend's object, for OUT/*.c)
  4. run the harness (compares logits, exit 0 on pass)
--target TRIPLE builds for another machine: for aarch64-linux-gnu on an
x86-64 host, CC defaults to aarch64-linux-gnu-gcc and the harness runs under
qemu-aarch64 -L /usr/aarch64-linux-gnu.
Each --set NAME=VALUE goes both to ghostcc (and the --interp-check program)
and, as NAME=VALUE, to the reference's generate() (e.g. --set groups=3 for
shufflenet_v1). --spec defaults to specs/NAME.yaml, or tests/golden/NAME.yaml
for a network that exists only for the tests.

Without --workdir a temporary directory is used, removed on success and kept
(path printed) on failure for debugging.
"""

import argparse
import glob
import importlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "specs")
# Importing the sibling modules must not litter the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402


def available_models():
    return sorted(f[:-len("_ref.py")] for f in os.listdir(HERE)
                  if f.endswith("_ref.py"))


def load_reference(name):
    """The module NAME_ref (tests/golden/NAME_ref.py)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or \
            not os.path.isfile(os.path.join(HERE, f"{name}_ref.py")):
        raise ValueError(f"no reference {name}_ref.py in {HERE} "
                         f"(available: {', '.join(available_models())})")
    return importlib.import_module(f"{name}_ref")


def parse_set(text):
    """NAME=VALUE -> (NAME, VALUE as int, float or string)."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    for conv in (int, float):
        try:
            return name, conv(value)
        except ValueError:
            pass
    return name, value


class GoldenFailure(Exception):
    pass


def cross_tools(triple):
    """(default C compiler, command prefix that runs its programs) for a
    --target triple: the host's own for its architecture, else the Debian
    cross compiler and qemu-user with the cross libc."""
    arch = triple.split("-")[0]
    if arch == platform.machine():
        return os.environ.get("CC", "cc"), []
    return f"{triple}-gcc", [f"qemu-{arch}", "-L", f"/usr/{triple}"]


def run(cmd, what):
    print("+ " + shlex.join(cmd), flush=True)
    try:
        rc = subprocess.run(cmd).returncode
    except OSError as e:
        raise GoldenFailure(f"{what}: cannot run {cmd[0]}: {e}") from e
    if rc != 0:
        raise GoldenFailure(f"{what} failed (exit status {rc})")


def golden(args, workdir):
    ref_dir = os.path.join(workdir, "golden")
    out_dir = os.path.join(workdir, "gen")
    harness = os.path.join(workdir, "harness")
    weights = os.path.join(ref_dir, "weights.safetensors")

    params = dict(parse_set(s) for s in args.set)
    if args.ghostify:
        params["ghostify"] = args.ghostify
    shown = "".join(f", {k}={v!r}" for k, v in params.items())
    print(f"+ {args.model}_ref.generate({ref_dir!r}, width={args.width}, "
          f"resolution={args.resolution}, seed={args.seed}, "
          f"dtype={args.dtype!r}{shown})", flush=True)
    try:
        args.reference.generate(ref_dir, float(args.width), args.resolution,
                                args.seed, args.dtype, **params)
    except ValueError as e:
        raise GoldenFailure(f"reference: {e}") from e

    sets = args.set  # as typed: ghostcc parses the values itself
    ghostify = ["--ghostify", args.ghostify] if args.ghostify else []
    if args.interp_check:
        run([args.interp_check, args.spec, weights, args.width,
             str(args.resolution), os.path.join(ref_dir, "input.bin"),
             os.path.join(ref_dir, "expected.bin")] + sets
            + ([f"ghostify={args.ghostify}"] if args.ghostify else []),
            "reference interpreter against PyTorch")

    # Stale sources from an earlier run in a reused --workdir would be
    # compiled in by the OUT/*.c glob.
    shutil.rmtree(out_dir, ignore_errors=True)
    target = ["--target", args.target] if args.target else []
    run([args.ghostcc, args.spec, "-o", out_dir, "--name", "model",
         "--weights", weights, "--width", args.width,
         "--resolution", str(args.resolution), "--emit", args.emit]
        + target + [a for s in sets for a in ("--set", s)] + ghostify
        + args.ghostcc_arg,
        "ghostcc")
    if args.emit == "obj":
        sources = glob.glob(os.path.join(out_dir, "model.o"))
    else:
        sources = sorted(glob.glob(os.path.join(out_dir, "*.c")))
    if not os.path.isfile(os.path.join(out_dir, "model.h")) or not sources:
        raise GoldenFailure(f"ghostcc produced no model.h / model.o or *.c "
                            f"in {out_dir}")

    run(shlex.split(args.cc) + ["-std=c11", "-O2", "-Wall", "-Wextra",
                                "-Werror"]
        + shlex.split(args.cflags) + ["-I", out_dir] + sources
        + [os.path.join(HERE, "harness.c"), "-lm", "-o", harness],
        "compiling generated model + harness")

    run(args.runner + [harness, os.path.join(ref_dir, "input.bin"),
                       os.path.join(ref_dir, "expected.bin")],
        "golden comparison")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ghostcc", required=True, help="ghostcc binary")
    ap.add_argument("--model", default="ghostnet",
                    help="reference tests/golden/MODEL_ref.py (default "
                         "ghostnet; available: "
                         + ", ".join(available_models()) + ")")
    ap.add_argument("--spec", help="YAML spec (default specs/MODEL.yaml)")
    ap.add_argument("--set", action="append", default=[],
                    metavar="NAME=VALUE",
                    help="spec parameter, passed to ghostcc as --set "
                         "NAME=VALUE and to the reference's generate() "
                         "(repeatable)")
    # Kept as a string so ghostcc gets exactly what the user typed.
    ap.add_argument("--width", default="1.0")
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--emit", choices=["c", "obj"], default="c",
                    help="the C backend (default) or the LLVM backend's "
                         "object file")
    ap.add_argument("--target", help="ghostcc --target TRIPLE; another "
                    "architecture builds with TRIPLE-gcc and runs under "
                    "qemu")
    ap.add_argument("--cc", help="C compiler (default: $CC or cc, or "
                    "TRIPLE-gcc for another architecture's --target)")
    ap.add_argument("--cflags", default="", help="extra compiler flags")
    ap.add_argument("--workdir", help="keep all files here")
    ap.add_argument("--ghostcc-arg", action="append", default=[],
                    help="extra ghostcc option, e.g. --ghostcc-arg=--no-fold_bn"
                         " (repeatable)")
    ap.add_argument("--ghostify", help="ratio=S[,dw=D]: compile and build "
                    "the reference with ghost modules for ordinary convs")
    ap.add_argument("--interp-check",
                    help="also check ghostcc's reference interpreter with "
                         "this program (tests/golden/interp_check.c)")
    ap.add_argument("--dtype", choices=safetensors_io.FLOAT_DTYPES,
                    default="F32", help="storage dtype of float weights")
    # argparse takes a lone value like "-DNDEBUG" for an option; glue each
    # --cflags to its value so callers need not remember "--cflags=...".
    argv = sys.argv[1:]
    for i in range(len(argv) - 1):
        if argv[i] == "--cflags":
            argv[i:i + 2] = ["--cflags=" + argv[i + 1]]
            break
    args = ap.parse_args(argv)
    default_cc, args.runner = (cross_tools(args.target) if args.target
                               else (os.environ.get("CC", "cc"), []))
    args.cc = args.cc or default_cc
    try:
        float(args.width)
    except ValueError:
        ap.error(f"--width: not a number: {args.width!r}")
    for s in args.set:
        try:
            name = parse_set(s)[0]
        except argparse.ArgumentTypeError as e:
            ap.error(f"--set: {e}")
        if name in ("width", "resolution"):
            ap.error(f"--set {name}=...: use --{name}")
    try:
        args.reference = load_reference(args.model)
    except ValueError as e:
        ap.error(f"--model: {e}")
    if args.spec is None:
        # A network of specs/, or one that exists only for the tests.
        candidates = [os.path.join(d, f"{args.model}.yaml")
                      for d in (SPECS, HERE)]
        args.spec = next((c for c in candidates if os.path.isfile(c)), None)
        if args.spec is None:
            ap.error(f"no --spec given and none of {', '.join(candidates)}")

    config = " ".join([f"model={args.model}", f"emit={args.emit}"]
                      + ([f"target={args.target}"] if args.target else [])
                      + args.set
                      + ([f"ghostify={args.ghostify}"] if args.ghostify else [])
                      + [f"width={args.width}",
                         f"resolution={args.resolution}",
                         f"seed={args.seed}", f"dtype={args.dtype}"])
    workdir = os.path.abspath(args.workdir or
                              tempfile.mkdtemp(prefix="ghostcc-golden-"))
    os.makedirs(workdir, exist_ok=True)
    try:
        golden(args, workdir)
    except GoldenFailure as e:
        print(f"golden: FAIL ({config}): {e}; files kept in {workdir}",
              file=sys.stderr)
        return 1
    if not args.workdir:
        shutil.rmtree(workdir)
    print(f"golden: PASS ({config})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
