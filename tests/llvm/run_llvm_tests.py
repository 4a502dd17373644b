#!/usr/bin/python3
"""The LLVM backend's outputs, beyond the golden tests' numbers:

  verify      --emit llvm and --emit bc pass LLVM's verifier (opt
              -passes=verify); the .ll carries the provenance; only
              NAME_run is defined with external linkage
  asm         --emit asm writes NAME.s defining the global NAME_run
  header      NAME.h is the C backend's, but for the options line
  repro       emitting twice (other directory, other cwd) gives identical
              .o and .ll bytes
  elf         --emit obj for x86_64-linux-gnu, aarch64-linux-gnu and
              aarch64-linux-android writes a relocatable ELF64 object for
              that machine, with NAME_run its only global symbol
  link        two LLVM objects (different networks) and a C-backend model
              in one program (two_models.c): each refuses NULL and a
              misaligned arena and runs

Usage: run_llvm_tests.py --ghostcc PATH --opt PATH [--cc CC] [--cflags F]
Exit status 0 iff every test passes.
"""

import argparse
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parent.parent / "specs"
# Small variants: these tests check files and linking, not numbers.
GHOSTNET = [str(SPECS / "ghostnet.yaml"), "--width", "0.5",
            "--resolution", "96", "--random-weights", "1"]
MOBILENET_V2 = [str(SPECS / "mobilenet_v2.yaml"), "--resolution", "96",
                "--random-weights", "2"]
SHUFFLENET_V2 = [str(SPECS / "shufflenet_v2.yaml"), "--width", "0.5",
                 "--resolution", "96", "--random-weights", "3"]
EM_X86_64, EM_AARCH64, ET_REL = 62, 183, 1


class Failure(Exception):
    pass


def run(cmd, cwd=None):
    print("+ " + shlex.join(str(c) for c in cmd), flush=True)
    try:
        p = subprocess.run([str(c) for c in cmd], cwd=cwd,
                           capture_output=True, text=True)
    except OSError as e:
        raise Failure(f"cannot run {cmd[0]}: {e}") from e
    if p.returncode != 0:
        raise Failure(f"{Path(str(cmd[0])).name} exited {p.returncode}:\n"
                      f"{p.stdout}{p.stderr}")
    return p.stdout


def ghostcc(args, spec_args, out, *extra, cwd=None):
    run([args.ghostcc] + spec_args + ["-o", out] + list(extra), cwd=cwd)
    return Path(out)


def external_definitions(ll_text):
    """Names of the functions and globals the .ll defines non-internally."""
    names = []
    for line in ll_text.splitlines():
        m = re.match(r"define\s+(.*?)@([\w.$]+)\(", line)
        if m and not re.search(r"\b(internal|private)\b", m.group(1)):
            names.append(m.group(2))
        m = re.match(r"@([\w.$]+)\s*=\s*(.*)", line)
        if m and not re.match(r"(internal|private|external)\b", m.group(2)):
            names.append(m.group(1))
    return names


def test_verify(args, tmp):
    out = ghostcc(args, GHOSTNET, tmp / "ll", "--emit", "llvm")
    files = sorted(p.name for p in out.iterdir())
    if files != ["ghostnet.h", "ghostnet.ll"]:
        raise Failure(f"--emit llvm wrote {files}")
    ll = out / "ghostnet.ll"
    run([args.opt, "-passes=verify", "-disable-output", ll])
    text = ll.read_text()
    if not re.search(r'!ghostcc\.provenance = .*\n(.*\n)*!\d+ = !\{!"Generated '
                     r'by ghostcc', text):
        raise Failure("no !ghostcc.provenance in the .ll")
    defined = external_definitions(text)
    if defined != ["ghostnet_run"]:
        raise Failure(f"external definitions: {defined}, expected only "
                      f"ghostnet_run")
    out = ghostcc(args, GHOSTNET, tmp / "bc", "--emit", "bc")
    run([args.opt, "-passes=verify", "-disable-output", out / "ghostnet.bc"])


def test_asm(args, tmp):
    out = ghostcc(args, GHOSTNET, tmp / "asm", "--emit", "asm")
    text = (out / "ghostnet.s").read_text()
    if not re.search(r"\.globl\s+ghostnet_run\b", text) or \
            not re.search(r"^ghostnet_run:", text, re.M):
        raise Failure("ghostnet.s does not define the global ghostnet_run")


def without_provenance(header):
    """The header after its leading comment."""
    return header.split("*/", 1)[1]


def test_header(args, tmp):
    c = ghostcc(args, GHOSTNET, tmp / "hc")
    obj = ghostcc(args, GHOSTNET, tmp / "ho", "--emit", "obj")
    if without_provenance((c / "ghostnet.h").read_text()) != \
            without_provenance((obj / "ghostnet.h").read_text()):
        raise Failure("NAME.h differs between --emit c and --emit obj")


def test_repro(args, tmp):
    for kind, ext in (("obj", "o"), ("llvm", "ll")):
        a = ghostcc(args, GHOSTNET, tmp / f"r1{ext}", "--emit", kind)
        other = tmp / "elsewhere"
        other.mkdir(exist_ok=True)
        b = ghostcc(args, GHOSTNET, tmp / f"r2{ext}", "--emit", kind,
                    cwd=other)
        if (a / f"ghostnet.{ext}").read_bytes() != \
                (b / f"ghostnet.{ext}").read_bytes():
            raise Failure(f"two runs gave different ghostnet.{ext}")


def global_symbols(obj):
    out = run(["nm", "-g", "--defined-only", obj])
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def test_elf(args, tmp):
    for triple, machine in (("x86_64-linux-gnu", EM_X86_64),
                            ("aarch64-linux-gnu", EM_AARCH64),
                            ("aarch64-linux-android", EM_AARCH64)):
        out = ghostcc(args, GHOSTNET, tmp / f"elf-{triple}", "--emit", "obj",
                      "--target", triple)
        obj = out / "ghostnet.o"
        head = obj.read_bytes()[:64]
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            raise Failure(f"{triple}: not a little-endian ELF64 file")
        e_type, e_machine = struct.unpack_from("<HH", head, 16)
        if e_type != ET_REL or e_machine != machine:
            raise Failure(f"{triple}: ELF type {e_type}, machine {e_machine}; "
                          f"expected {ET_REL}, {machine}")
        symbols = global_symbols(obj)
        if symbols != ["ghostnet_run"]:
            raise Failure(f"{triple}: global symbols {symbols}")


def test_link(args, tmp):
    first = ghostcc(args, GHOSTNET, tmp / "first", "--name", "first",
                    "--emit", "obj")
    second = ghostcc(args, MOBILENET_V2, tmp / "second", "--name", "second",
                     "--emit", "obj")
    third = ghostcc(args, SHUFFLENET_V2, tmp / "third", "--name", "third")
    exe = tmp / "two_models"
    run(shlex.split(args.cc) + ["-std=c11", "-O2", "-Wall", "-Wextra",
                                "-Werror"] + shlex.split(args.cflags)
        + ["-I", first, "-I", second, "-I", third, HERE / "two_models.c",
           first / "first.o", second / "second.o"]
        + sorted(third.glob("*.c")) + ["-lm", "-o", exe])
    print(run([exe]), end="")


TESTS = [("verify", test_verify), ("asm", test_asm), ("header", test_header),
         ("repro", test_repro), ("elf", test_elf), ("link", test_link)]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ghostcc", required=True)
    ap.add_argument("--opt", required=True, help="LLVM 19's opt")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default="", help="extra flags for the program")
    args = ap.parse_args()
    # test_repro runs ghostcc from another directory.
    args.ghostcc = os.path.abspath(args.ghostcc)
    failed = []
    for name, test in TESTS:
        with tempfile.TemporaryDirectory(prefix=f"ghostcc-llvm-{name}-") as d:
            try:
                test(args, Path(d))
                print(f"PASS {name}", flush=True)
            except Failure as e:
                print(f"FAIL {name}: {e}", flush=True)
                failed.append(name)
    print(f"{len(TESTS) - len(failed)}/{len(TESTS)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
