#!/usr/bin/python3
"""End-to-end tests of the ghostcc command line.

The rule under test: bad input gives `FILE:LINE:COL: error: ...` on stderr
(wherever a location exists), exit status 1, nothing on stdout, and no file
left behind in the -o directory; good input exits 0 and writes exactly
NAME.h, NAME.c and NAME_weights.c, deterministically, as C that compiles.

Each bad spec is a file in cases/ whose first line is
`# expect: LINE:COL: message fragment`.

Usage: run_cli_tests.py --ghostcc PATH   (exit status 0 iff all pass)
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "golden"))
from safetensors_io import write_safetensors  # noqa: E402

CASES = HERE / "cases"
TINY = CASES / "tiny.yaml"
GHOSTNET = REPO / "specs" / "ghostnet.yaml"
GCC = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-c"]
OPTIONS = ["-o", "--name", "--weights", "--random-weights", "--width",
           "--resolution", "--set", "--emit", "--target", "--cpu", "--summary",
           "--dump-ir", "--help", "--version"]
RANDOM = ["--random-weights", "1"]


class Skip(Exception):
    pass


class Failure(Exception):
    def __init__(self, reason, stderr=""):
        super().__init__(reason)
        self.stderr = stderr


class Runner:
    def __init__(self, ghostcc, weights_dir):
        self.ghostcc = ghostcc
        self.weights = weights_dir

    def run(self, args, cwd):
        return subprocess.run([self.ghostcc, *map(str, args)], cwd=cwd,
                              capture_output=True, text=True,
                              errors="replace", timeout=120)

    def expect_failure(self, args, out, needles, cwd):
        """Runs ghostcc with `-o out` before args (so that args may end in an
        option lacking its value); it must exit 1 with every needle on
        stderr, print nothing on stdout and leave `out` as it was."""
        before = snapshot(out)
        r = self.run(["-o", out, *args], cwd)
        problems = []
        if r.returncode != 1:
            problems.append(f"exit status {r.returncode}, expected 1")
        if r.stdout:
            problems.append(f"stdout is not empty: {r.stdout[:200]!r}")
        problems += [f"stderr lacks {n!r}" for n in needles
                     if n not in r.stderr]
        problems += compare(before, snapshot(out))
        if problems:
            raise Failure("; ".join(problems), r.stderr)

    def expect_success(self, args, out, name, cwd):
        """Runs ghostcc with `-o out`; it must exit 0 and leave exactly the
        three generated files in `out`."""
        r = self.run([*args, "-o", out], cwd)
        if r.returncode != 0:
            raise Failure(f"exit status {r.returncode}, expected 0", r.stderr)
        files = sorted(p.name for p in Path(out).iterdir())
        want = sorted([f"{name}.h", f"{name}.c", f"{name}_weights.c"])
        if files != want:
            raise Failure(f"{out} holds {files}, expected {want}", r.stderr)


#
# Output directory state
#

def snapshot(path):
    """What is at `path`: None, a file as (bytes, mode, mtime), or a
    directory as a dict name -> snapshot (hidden entries included)."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return None
    if p.is_dir():
        return {c.name: snapshot(c) for c in p.iterdir()}
    st = p.stat()
    return (p.read_bytes(), st.st_mode, st.st_mtime_ns)


def compare(before, after, where="-o"):
    """Differences between two snapshots, as messages."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = [f"{where}: left behind '{n}'" for n in sorted(after.keys() -
                                                             before.keys())]
        out += [f"{where}: removed '{n}'" for n in sorted(before.keys() -
                                                         after.keys())]
        for n in sorted(before.keys() & after.keys()):
            out += compare(before[n], after[n], f"{where}/{n}")
        return out
    if before is None:
        return [f"{where}: created, did not exist before"]
    return [f"{where}: changed"]


#
# Weights files for tiny.yaml
#

def tiny_tensors():
    rng = np.random.default_rng(0)
    f32 = np.float32
    return {
        "conv1.weight": rng.standard_normal((4, 3, 3, 3)).astype(f32),
        "bn1.weight": rng.uniform(0.5, 1.5, 4).astype(f32),
        "bn1.bias": rng.standard_normal(4).astype(f32),
        "bn1.running_mean": rng.standard_normal(4).astype(f32),
        "bn1.running_var": rng.uniform(0.5, 2, 4).astype(f32),
        "bn1.num_batches_tracked": np.array(7, np.int64),
        "fc.weight": rng.standard_normal((5, 4)).astype(f32),
        "fc.bias": rng.standard_normal(5).astype(f32),
    }


def write_weights(d):
    """Writes good.safetensors and one broken variant per weights case."""
    good = tiny_tensors()

    def variant(name, changes):
        """good with `changes` applied; a value of None removes the key."""
        t = {**good, **changes}
        write_safetensors(d / name, {k: v for k, v in t.items()
                                     if v is not None})

    nan = good["fc.bias"].copy()
    nan[2] = np.nan
    variant("good.safetensors", {})
    variant("missing.safetensors", {"bn1.running_var": None})
    variant("shape.safetensors", {"fc.weight": np.zeros((4, 5), np.float32)})
    variant("dtype.safetensors", {"fc.weight": np.zeros((5, 4), np.int64)})
    variant("bias.safetensors", {"conv1.bias": np.zeros(4, np.float32)})
    variant("nan.safetensors", {"fc.bias": nan})
    data = (d / "good.safetensors").read_bytes()
    (d / "truncated.safetensors").write_bytes(data[:-10])
    (d / "garbage.safetensors").write_bytes(b"this is not safetensors\n" * 4)
    (d / "header_too_long.safetensors").write_bytes(
        struct.pack("<Q", len(data)) + data[8:])
    (d / "short.safetensors").write_bytes(b"\1\2\3")


#
# Test cases: functions (runner, tmp) that raise Failure
#

def spec_case(path):
    first = path.read_text().splitlines()[0]
    prefix = "# expect: "

    def test(r, tmp):
        if not first.startswith(prefix):
            raise Failure(f"{path.name}: first line is not '{prefix}...'")
        line, col, fragment = first[len(prefix):].split(":", 2)
        r.expect_failure([path, *RANDOM], tmp / "out",
                         [f"{path}:{line}:{col}: error:", fragment.strip()],
                         tmp)
    return test


def weights_case(file, needles_of):
    """needles_of(weights path) -> strings stderr must contain."""
    def test(r, tmp):
        w = r.weights / file
        r.expect_failure([TINY, "--weights", w], tmp / "out", needles_of(w),
                         tmp)
    return test


def at_tiny(line, col):
    return f"{TINY}:{line}:{col}: error:"


WEIGHTS_CASES = {
    "missing_tensor": weights_case("missing.safetensors", lambda w: [
        at_tiny(6, 5), f"{w} has no tensor 'bn1.running_var'"]),
    "wrong_shape": weights_case("shape.safetensors", lambda w: [
        at_tiny(10, 5),
        "tensor 'fc.weight' has shape [4, 5], expected [5, 4]"]),
    "wrong_dtype": weights_case("dtype.safetensors", lambda w: [
        at_tiny(10, 5), "tensor 'fc.weight' has dtype I64"]),
    "stray_bias": weights_case("bias.safetensors", lambda w: [
        at_tiny(5, 5), "tensor 'conv1.bias' but layer 'conv1' has no bias"]),
    "non_finite": weights_case("nan.safetensors", lambda w: [
        at_tiny(10, 5), "tensor 'fc.bias' holds a non-finite value"]),
    "truncated": weights_case("truncated.safetensors", lambda w: [
        f"{w}: error:", "truncated file?"]),
    "garbage": weights_case("garbage.safetensors", lambda w: [
        f"{w}: error:", "not a safetensors file?"]),
    "header_longer_than_file": weights_case(
        "header_too_long.safetensors", lambda w: [
            f"{w}: error:", "is larger than the", "bytes that follow it"]),
    "shorter_than_header_length": weights_case(
        "short.safetensors", lambda w: [f"{w}: error:", "too short"]),
    "no_such_file": weights_case("nosuch.safetensors", lambda w: [
        f"{w}: error:", "cannot open file: No such file"]),
}


def cli_case(args, needles):
    def test(r, tmp):
        r.expect_failure(args, tmp / "out", needles, tmp)
    return test


CLI_CASES = {
    "no_weights": cli_case([TINY], ["error: no weights"]),
    "weights_and_random_weights": cli_case(
        [TINY, "--weights", "w.safetensors", *RANDOM],
        ["error: --weights and --random-weights exclude each other"]),
    "unknown_option": cli_case([TINY, *RANDOM, "--frobnicate"],
                               ["error: unknown option '--frobnicate'"]),
    "width_zero": cli_case([TINY, *RANDOM, "--width", "0"],
                           ["error: width must be in (0, 100], got 0"]),
    "width_negative": cli_case([TINY, *RANDOM, "--width=-1"],
                               ["error: width must be in (0, 100], got -1"]),
    "resolution_zero": cli_case(
        [TINY, *RANDOM, "--resolution", "0"],
        ["error: resolution must be an integer in [1, 16384], got 0"]),
    "set_unknown_parameter": cli_case(
        [TINY, *RANDOM, "--set", "nosuch=1"],
        ["error:", "the spec has no parameter 'nosuch'"]),
    "set_not_a_number": cli_case(
        [TINY, *RANDOM, "--set", "width=abc"],
        ["error: parameter 'width' must be a number, got 'abc'"]),
    "negative_seed": cli_case(
        [TINY, "--random-weights", "-1"],
        ["error: --random-weights needs a non-negative integer"]),
    "option_without_value": cli_case(
        [TINY, "--random-weights"], ["error: --random-weights needs a value"]),
    "unknown_emit_kind": cli_case([TINY, *RANDOM, "--emit", "h"],
                                  ["error: --emit: unknown kind 'h'"]),
    "unknown_target": cli_case(
        [TINY, *RANDOM, "--target", "x86_64-apple-darwin"],
        ["error: --target: unsupported triple 'x86_64-apple-darwin'"]),
    "unknown_x86_cpu": cli_case(
        [TINY, *RANDOM, "--cpu", "pentium"],
        ["error: --cpu: unknown x86-64 CPU 'pentium'"]),
    "unknown_arm_cpu": cli_case(
        [TINY, *RANDOM, "--target", "aarch64-linux-gnu", "--cpu", "x86-64-v4"],
        ["error: --cpu: unknown aarch64 CPU 'x86-64-v4'"]),
    "native_for_another_machine": cli_case(
        [TINY, *RANDOM, "--target", "aarch64-linux-gnu", "--cpu", "native"],
        ["error: --cpu native: the host is not aarch64-linux-gnu"]),
    "no_spec": cli_case(RANDOM, ["usage: ghostcc SPEC"]),
    "two_specs": cli_case([TINY, TINY, *RANDOM],
                          ["error: more than one spec"]),
    "missing_spec_file": cli_case(["nosuch.yaml", *RANDOM],
                                  ["nosuch.yaml: error: cannot open file"]),
    "unknown_pass": cli_case([TINY, *RANDOM, "--no-fold_bm"],
                             ["error: --no-fold_bm: no pass 'fold_bm'"]),
    "unknown_dump_pass": cli_case([TINY, "--dump-ir=nosuch"],
                                  ["error: --dump-ir: no pass 'nosuch'"]),
    # The budget error names the layer whose output goes past it.
    "max_arena_too_small": cli_case(
        [TINY, *RANDOM, "--max-arena", "64"],
        ["tiny.yaml:", "error: the arena needs", "over --max-arena 64",
         "layer '"]),
    "ghostify_bad": cli_case([TINY, *RANDOM, "--ghostify", "ratio=1"],
                             ["error: ghostify ratio must be in [2, 64]"]),
}


def test_dump_ir_after_pass(r, tmp):
    """--dump-ir=PASS prints the IR after that pass, and the final IR of
    GhostNet has no BatchNorm, concat, slice or standalone activation."""
    res = r.run([GHOSTNET, "--dump-ir=fold_bn", "--dump-ir"], tmp)
    out = res.stdout
    if res.returncode != 0 or "; after fold_bn" not in out:
        raise Failure("no IR after fold_bn", res.stderr)
    final = out[out.rindex("graph ghostnet"):]
    for op in [" batchnorm ", " concat ", " slice ", " relu %"]:
        if op in final:
            raise Failure(f"final IR still has{op}")
    if " ghost_module " not in final:
        raise Failure("final IR has no fused ghost_module")


def test_passes_off_keep_patterns(r, tmp):
    """With every pass off, the lowered patterns stay."""
    off = [f"--no-{p}" for p in ["fold_bn", "fuse_activation", "fuse_ghost",
                                 "shuffle_remap", "fuse_se", "fuse_residual",
                                 "concat_in_place"]]
    res = r.run([GHOSTNET, *off, "--dump-ir"], tmp)
    if res.returncode != 0 or " batchnorm " not in res.stdout or \
            " concat " not in res.stdout:
        raise Failure("passes ran although turned off", res.stderr)


def test_help(r, tmp):
    res = r.run(["--help"], tmp)
    missing = [o for o in OPTIONS if o not in res.stdout]
    if res.returncode != 0 or missing or res.stderr:
        raise Failure(f"exit status {res.returncode}, options missing from "
                      f"--help: {missing}", res.stderr)


def test_version(r, tmp):
    res = r.run(["--version"], tmp)
    if res.returncode != 0 or not res.stdout.startswith("ghostcc "):
        raise Failure(f"exit status {res.returncode}, stdout "
                      f"{res.stdout!r}", res.stderr)


#
# Output errors
#

def test_output_is_regular_file(r, tmp):
    target = tmp / "afile"
    target.write_text("keep me\n")
    r.expect_failure([TINY, *RANDOM], target,
                     [f"output '{target}' exists and is not a directory"], tmp)


def read_only_dir(tmp):
    """A directory nobody may write to, with one file in it, or None. Root
    ignores the mode bits, so for root the directory is made immutable."""
    d = tmp / "ro"
    d.mkdir()
    (d / "keep.txt").write_text("keep me\n")
    d.chmod(0o555)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", d], capture_output=True)
    try:
        (d / "probe").touch()
    except OSError:
        return d
    (d / "probe").unlink()
    return None


def release_read_only_dir(tmp):
    d = tmp / "ro"
    if d.exists():
        subprocess.run(["chattr", "-i", d], capture_output=True)
        d.chmod(0o755)


def read_only_case(subdir, needle):
    """-o at (subdir None) or inside a read-only directory."""
    def test(r, tmp):
        d = read_only_dir(tmp)
        try:
            if d is None:
                raise Skip("cannot make a read-only directory here (root, "
                           "and chattr +i failed)")
            out = d / subdir if subdir else d
            r.expect_failure([TINY, *RANDOM], out, [f"error: {needle}"], tmp)
        finally:
            release_read_only_dir(tmp)
    return test


def name_taken_case(file):
    """A directory where one output file should go: the run must fail
    without replacing or adding any file."""
    def test(r, tmp):
        out = tmp / "out"
        (out / file).mkdir(parents=True)
        r.expect_failure([TINY, *RANDOM], out,
                         [f"error: cannot write '{out}/{file}'"], tmp)
    return test


def test_failure_keeps_earlier_output(r, tmp):
    out = tmp / "out"
    r.expect_success([TINY, *RANDOM], out, "tiny", tmp)
    r.expect_failure([TINY, "--weights", r.weights / "missing.safetensors"],
                     out, ["has no tensor 'bn1.running_var'"], tmp)
    r.expect_failure([CASES / "unknown_layer_type.yaml", *RANDOM,
                      "--name", "tiny"], out, ["unknown layer type"], tmp)


#
# Good input
#

def compile_c(out, obj_dir):
    """gcc -c every generated .c file; raises Failure on an error."""
    obj_dir.mkdir(exist_ok=True)
    for c in sorted(Path(out).glob("*.c")):
        res = subprocess.run([*GCC, c, "-o", obj_dir / (c.stem + ".o")],
                             capture_output=True, text=True, errors="replace")
        if res.returncode != 0:
            raise Failure(f"gcc failed on {c.name}", res.stderr)


def happy_case(spec, args, name):
    """Compiles twice into two directories: the C must compile cleanly and
    both runs must write the same bytes."""
    def test(r, tmp):
        first, second = tmp / "out1", tmp / "out2"
        r.expect_success([spec, *args], first, name, tmp)
        r.expect_success([spec, *args], second, name, tmp)
        compile_c(first, tmp / "obj")
        for f in sorted(first.iterdir()):
            if f.read_bytes() != (second / f.name).read_bytes():
                raise Failure(f"two runs wrote different {f.name}")
    return test


def test_summary_writes_nothing(r, tmp):
    res = r.run([TINY, "--summary"], tmp)
    if res.returncode != 0 or "conv1" not in res.stdout or \
            list(tmp.iterdir()):
        raise Failure(f"exit status {res.returncode}; cwd holds "
                      f"{[p.name for p in tmp.iterdir()]}", res.stderr)


def all_cases(weights_dir):
    good = weights_dir / "good.safetensors"
    cases = {f"spec/{p.stem}": spec_case(p)
             for p in sorted(CASES.glob("*.yaml")) if p != TINY}
    cases.update({f"weights/{k}": v for k, v in WEIGHTS_CASES.items()})
    cases.update({f"cli/{k}": v for k, v in CLI_CASES.items()})
    cases.update({
        "cli/help": test_help,
        "cli/version": test_version,
        "output/o_is_regular_file": test_output_is_regular_file,
        "output/o_is_read_only_dir": read_only_case(None, "cannot write"),
        "output/o_inside_read_only_dir": read_only_case(
            "out", "cannot create output directory"),
        "output/failure_keeps_earlier_output":
            test_failure_keeps_earlier_output,
        "good/tiny_weights_file": happy_case(TINY, ["--weights", good],
                                             "tiny"),
        "good/tiny_random_named": happy_case(
            TINY, ["--random-weights", "7", "--name", "small"], "small"),
        "good/ghostnet_random": happy_case(GHOSTNET, RANDOM, "ghostnet"),
        "good/summary_writes_nothing": test_summary_writes_nothing,
        "good/dump_ir_after_pass": test_dump_ir_after_pass,
        "good/passes_off_keep_patterns": test_passes_off_keep_patterns,
    })
    for f in ["tiny.h", "tiny.c", "tiny_weights.c"]:
        cases[f"output/name_taken_by_dir_{f}"] = name_taken_case(f)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ghostcc", required=True, type=Path)
    args = ap.parse_args()
    ghostcc = args.ghostcc.resolve()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ghostcc-cli-") as root:
        root = Path(root)
        weights_dir = root / "weights"
        weights_dir.mkdir()
        write_weights(weights_dir)
        runner = Runner(ghostcc, weights_dir)
        for i, (name, test) in enumerate(all_cases(weights_dir).items()):
            tmp = root / f"case{i}"
            tmp.mkdir()
            try:
                test(runner, tmp)
                print(f"{name}: PASS")
            except Skip as e:
                print(f"{name}: SKIP ({e})")
            except Failure as e:
                failed += 1
                print(f"{name}: FAIL: {e}")
                if e.stderr:
                    print("  stderr: " + e.stderr.rstrip().replace(
                        "\n", "\n          "))
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{failed} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
