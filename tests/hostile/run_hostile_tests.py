#!/usr/bin/python3
"""ghostcc against hostile and absurd input (tests/hostile/README.md).

  names/*     names from the spec, the weights file and --name that try to
              break out of comments, clash with C or with each other: the
              output compiles with gcc and clang -Werror -pedantic
  limits/*    absurd sizes: a clear error naming the limit, in seconds,
              nothing written
  output/*    -o with '..', missing parents, symlinks: written exactly where
              asked or not at all
  api/*       NAME_run's return codes for NULL and a misaligned arena
  threads/*   one model run from two threads with two arenas under
              ThreadSanitizer, results identical to a single run
  repro/*     byte-identical output whatever the directory, time, locale
              and key order in the weights file

Usage: run_hostile_tests.py --ghostcc PATH [--only SUBSTRING] [--keep]
Exit status 0 iff every test passes (a test may SKIP when a tool is
missing, e.g. ThreadSanitizer).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TINY = REPO / "tests" / "downstream" / "tiny.yaml"
# Every limit check must answer within this (the issue: seconds, not
# minutes); the test harness kills ghostcc after TIMEOUT.
LIMIT_SECONDS = 20
TIMEOUT = 60
# -pedantic but for the weights, which are one long string literal on
# purpose (it compiles much faster than float literals).
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
          "-Wno-overlength-strings"]


class Skip(Exception):
    pass


class Failure(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(reason)
        self.detail = detail


# --- helpers ------------------------------------------------------------

def safetensors(tensors, metadata=None):
    """tensors: list of (name, shape, floats) in file order, stored F32."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def raw_safetensors(header_bytes, data=b"", claimed_len=None):
    n = len(header_bytes) if claimed_len is None else claimed_len
    return struct.pack("<Q", n) + header_bytes + data


def values(n, seed):
    """Deterministic floats in [-0.5, 0.5) (an LCG, no numpy needed)."""
    out, x = [], seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(((x >> 40) / 2**24) - 0.5)
    return out


def snapshot(path):
    """Everything under path: names, kinds and contents."""
    p = Path(path)
    if p.is_symlink():
        return ("link", os.readlink(p))
    if p.is_dir():
        return {c.name: snapshot(c) for c in sorted(p.iterdir())}
    if p.exists():
        return ("file", p.read_bytes())
    return None


def compilers():
    """gcc and one clang, those that are installed."""
    found = []
    for group in (("gcc",), ("clang", "clang-19")):
        for cc in group:
            if shutil.which(cc):
                found.append(shutil.which(cc))
                break
    return found


def compile_c(files, cc, obj_dir, extra=()):
    for c in files:
        r = subprocess.run([cc, *CFLAGS, *extra, "-c", str(c), "-o",
                            str(Path(obj_dir) / (Path(c).name + ".o"))],
                           capture_output=True, text=True, errors="replace")
        if r.returncode != 0:
            raise Failure(f"{Path(cc).name} rejects {Path(c).name}",
                          r.stderr[-3000:])


class Runner:
    def __init__(self, ghostcc):
        self.ghostcc = ghostcc

    def run(self, args, cwd, env=None, timeout=TIMEOUT):
        start = time.monotonic()
        try:
            r = subprocess.run([self.ghostcc, *map(str, args)], cwd=cwd,
                               env=env, capture_output=True, text=True,
                               errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"ghostcc ran for more than {timeout} s: {args!r}"
                          [:300])
        r.seconds = time.monotonic() - start
        return r

    def ok(self, args, cwd, **kw):
        r = self.run(args, cwd, **kw)
        if r.returncode != 0:
            raise Failure(f"ghostcc failed: exit {r.returncode}", r.stderr)
        return r

    def fails(self, args, cwd, needles, watch=None, seconds=LIMIT_SECONDS):
        """ghostcc must exit 1 within `seconds` with every needle on
        stderr and leave `watch` (default: cwd) exactly as it was."""
        watch = watch or cwd
        before = snapshot(watch)
        r = self.run(args, cwd)
        problems = []
        if r.returncode != 1:
            problems.append(f"exit status {r.returncode}, expected 1")
        if r.seconds > seconds:
            problems.append(f"took {r.seconds:.1f} s, over {seconds} s")
        problems += [f"stderr lacks {n!r}" for n in needles
                     if n not in r.stderr]
        if "internal compiler error" in r.stderr or "Sanitizer" in r.stderr:
            problems.append("internal error or sanitizer report")
        if snapshot(watch) != before:
            problems.append("files changed")
        if problems:
            raise Failure("; ".join(problems), r.stderr[-2000:])
        return r


def spec_file(tmp, name, text):
    p = Path(tmp) / name
    p.write_text(text, encoding="utf-8")
    return p


# --- names --------------------------------------------------------------

# Layer names: comment terminators, escapes, newlines, trigraphs, C
# keywords and preprocessor text, non-ASCII, names equal but for case or
# punctuation. They are also the weight keys (NAME.weight, ...).
HOSTILE_LAYER_NAMES = [
    "x */ int evil = 1; /*",
    "*/",
    "a\nb\r\tc\x01",
    "back\\slash\\",
    "ünïcödé ✓ 名前",
    "\u202e\u2028\u00a0",
    "int",
    "return",
    "conv.1", "conv_1", "CONV.1", "conv-1", "Conv 1",
    "??/",
    "x*??/",
    "\"quoted\" 'single'",
    "// line",
    "#define int float",
    "%s%n%x",
    "$(rm -rf /)",
]


def yaml_quote(text):
    """A YAML double-quoted scalar for any string."""
    out = []
    for ch in text:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) in (0x7f, 0x2028, 0x2029, 0x85):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def hostile_layers():
    """(kind, name) in network order."""
    layers = []
    for i, name in enumerate(HOSTILE_LAYER_NAMES):
        layers.append(("conv", name, i % 2 == 1))
        if i % 5 == 0:
            layers.append(("batchnorm", name + " bn", False))
    layers.append(("linear", "fc */ }", True))
    return layers


def hostile_spec(model_name="hostile"):
    lines = [f"name: {yaml_quote(model_name)}", "input: [3, 6, 6]",
             "layers:"]
    for kind, name, bias in hostile_layers():
        if kind == "conv":
            lines.append(f"  - conv: {{name: {yaml_quote(name)}, out: 4, "
                         f"kernel: 1, bias: {'true' if bias else 'false'}}}")
        elif kind == "batchnorm":
            lines.append(f"  - batchnorm: {{name: {yaml_quote(name)}}}")
            lines.append("  - relu")
        else:
            lines += ["  - global_avgpool", "  - flatten",
                      f"  - linear: {{name: {yaml_quote(name)}, out: 3}}"]
    return "\n".join(lines) + "\n"


def hostile_weights():
    tensors, seed, shape_in = [], 1, 3
    for kind, name, bias in hostile_layers():
        if kind == "conv":
            tensors.append((f"{name}.weight", [4, shape_in, 1, 1],
                            values(4 * shape_in, seed)))
            if bias:
                tensors.append((f"{name}.bias", [4], values(4, seed + 1)))
            shape_in = 4
        elif kind == "batchnorm":
            for s in ("weight", "bias", "running_mean"):
                tensors.append((f"{name}.{s}", [4], values(4, seed)))
            tensors.append((f"{name}.running_var", [4],
                            [1.0 + abs(v) for v in values(4, seed)]))
        else:
            tensors.append((f"{name}.weight", [3, 4], values(12, seed)))
            tensors.append((f"{name}.bias", [3], values(3, seed)))
        seed += 2
    return tensors


def code_only(text):
    """C text without its comments and literals (a small lexer)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, i = text[i], i + 1
            while i < n and text[i] != q:
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def check_output_files(out, ident):
    want = sorted([f"{ident}.h", f"{ident}.c", f"{ident}_weights.c"])
    got = sorted(p.name for p in Path(out).iterdir())
    if got != want:
        raise Failure(f"wrote {got}, expected {want}")
    for f in Path(out).iterdir():
        text = f.read_bytes()
        if any(b > 0x7e or (b < 0x20 and b != 0x0a) for b in text):
            raise Failure(f"{f.name} has bytes outside printable ASCII")
        if b"??/" in text:
            raise Failure(f"{f.name} has a trigraph ??/")


def test_hostile_layer_names(r, tmp):
    """Hostile layer names (and so weight keys) with random and with real
    weights: compiles warning-free, comments stay comments."""
    spec = spec_file(tmp, "hostile.yaml", hostile_spec())
    w = Path(tmp) / "hostile.safetensors"
    # Reversed: the order of keys in the file must not matter either.
    w.write_bytes(safetensors(list(reversed(hostile_weights()))))
    runs = [("random", ["--random-weights", "3"]),
            ("weights", ["--weights", w])]
    for label, args in runs:
        out = Path(tmp) / f"out_{label}"
        r.ok([spec, *args, "-o", out], tmp)
        check_output_files(out, "hostile")
        for f in ("hostile.c", "hostile.h"):
            code = code_only((out / f).read_text())
            for bad in ("evil", "rm -rf", "#define int", "quoted", "*/"):
                if bad in code:
                    raise Failure(f"{f}: {bad!r} outside a comment")
        if label == "weights" and "x */ int evil" in (
                out / "hostile.c").read_text():
            raise Failure("a comment holds '*/'")
        for cc in compilers():
            compile_c(sorted(out.glob("*.c")), cc, tmp)
        # And it runs: a main that calls hostile_run.
        main = Path(tmp) / "main.c"
        main.write_text(API_HARNESS.replace("MODEL", "hostile")
                        .replace("PREFIX", "HOSTILE"))
        exe = Path(tmp) / f"api_{label}"
        cc = compilers()[0]
        res = subprocess.run([cc, *CFLAGS, "-O1", f"-I{out}", str(main),
                              *map(str, sorted(out.glob("*.c"))), "-lm",
                              "-o", str(exe)], capture_output=True,
                             text=True)
        if res.returncode != 0:
            raise Failure("harness does not build", res.stderr[-3000:])
        res = subprocess.run([str(exe)], capture_output=True, text=True,
                             timeout=60)
        if res.returncode != 0:
            raise Failure("harness failed", res.stdout + res.stderr)


# Model names and the identifier each must give (codegen/text.c): a plain
# name (lower-case letter, then lower-case letters, digits and single '_',
# not ending in '_') is kept; any other becomes a stem, "__" and 8 hex digits
# of the top half of its FNV-1a 64.
# Given with --name:
HOSTILE_MODEL_NAMES = {
    "int": "int", "return": "return", "x */ y": "x_y__a34216cc",
    "a\nb": "a_b__e5beb119", "back\\": "back__4e0ab382",
    "ünï": "n__8406649d", "ghr": "ghr", "ghr_conv2d": "ghr_conv2d",
    "math": "math", "_x": "x__09534e07", "9x": "m9x__08144a07",
    "": "m__cbf29ce4", "x??/": "x__f4320253",
    "../../etc/passwd": "etc_passwd__2bef2c0b", "main": "main",
    "NULL": "null__6fb485c5", "a__b": "a_b__14873483", "a_": "a__089c2907",
    "a;b": "a_b__e664bb19", "${x}": "x__830dc953", "[[x]]": "x__28a85de1",
}
# Given as the spec's name: names that differ only in case or punctuation.
SPEC_MODEL_NAMES = {
    "Net": "net__3741f219", "net": "net", "NET": "net__36d51219",
    "a-b": "a_b__e61ab319", "a_b": "a_b", "a.b": "a_b__e61d9919",
    "a b": "a_b__e63f9919",
}


def test_hostile_model_names(r, tmp):
    """Each name (--name or the spec's) gives exactly ID.h, ID.c,
    ID_weights.c in -o, ID as expected, and they compile with every
    compiler; all of them, names differing only in case or punctuation
    among them, have their headers included in one file and link into one
    program that runs each."""
    tiny = TINY.read_text()
    given = [(name, ident, ["--name", name])
             for name, ident in HOSTILE_MODEL_NAMES.items()]
    for i, (name, ident) in enumerate(SPEC_MODEL_NAMES.items()):
        spec = spec_file(tmp, f"spec{i}.yaml", tiny.replace(
            "name: tiny\n", f"name: {yaml_quote(name)}\n"))
        given.append((name, ident, [spec]))
    idents = [ident for _, ident, _ in given]
    if len({i.upper() for i in idents}) != len(given):
        raise Failure("test bug: two expected identifiers are equal")
    dirs = {}
    for i, (name, ident, args) in enumerate(given):
        out = Path(tmp) / f"m{i}"
        r.ok([*(args if args[0] != "--name" else [TINY, *args]),
              "--random-weights", "1", "-o", out], tmp)
        try:
            check_output_files(out, ident)
        except Failure as e:
            raise Failure(f"name {name!r}: {e}")
        dirs[ident] = out
    # Each with clang here, all of them with gcc in one program below.
    for cc in compilers()[1:]:
        for ident, out in dirs.items():
            compile_c(sorted(out.glob("*.c")), cc, tmp)
    # One program with all of them.
    linked = list(dirs)
    main = Path(tmp) / "all.c"
    lines = [f'#include "{dirs[ident].name}/{ident}.h"' for ident in linked]
    lines.append("#include <stdio.h>\n#include <stdlib.h>\n"
                 "int main(void) {\n  int bad = 0;\n")
    for ident in linked:
        m = ident.upper()
        lines.append(f"  {{ static _Alignas(64) unsigned char a[{m}_ARENA_BYTES];"
                     f" float x[{m}_INPUT_SIZE] = {{1, 2, 3, 4}}, y[{m}_OUTPUT_SIZE];"
                     f" bad |= {ident}_run(x, y, a) != {m}_OK; }}")
    lines.append('  if (bad) puts("a model failed");\n  return bad;\n}\n')
    main.write_text("\n".join(lines))
    exe = Path(tmp) / "all"
    srcs = [str(p) for i in linked for p in sorted(dirs[i].glob("*.c"))]
    res = subprocess.run([compilers()[0], *CFLAGS, f"-I{tmp}", str(main),
                          *srcs, "-lm", "-o", str(exe)], capture_output=True,
                         text=True, errors="replace")
    if res.returncode != 0:
        raise Failure("models do not link into one program",
                      res.stderr[-3000:])
    res = subprocess.run([str(exe)], capture_output=True, text=True)
    if res.returncode != 0:
        raise Failure("linked models failed", res.stdout + res.stderr)


def test_cmake_identifiers(r, tmp):
    """cmake/GhostccAddModel.cmake computes the same identifiers as ghostcc
    (it needs them for the output file names)."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise Skip("no cmake")
    expected = {**HOSTILE_MODEL_NAMES, **SPEC_MODEL_NAMES}
    script = Path(tmp) / "ids.cmake"
    # Each name in a file of its own: file(READ) gives its exact bytes.
    lines = [f'include("{REPO / "cmake" / "GhostccAddModel.cmake"}")']
    for i, name in enumerate(expected):
        (Path(tmp) / f"name{i}").write_bytes(name.encode())
        lines += [f'file(READ "{tmp}/name{i}" name)',
                  '_ghostcc_identifier("${name}" id)',
                  f'file(APPEND "{tmp}/ids" "${{id}}\\n")']
    script.write_text("\n".join(lines) + "\n")
    res = subprocess.run([cmake, "-P", str(script)], capture_output=True,
                         text=True, errors="replace")
    if res.returncode != 0:
        raise Failure("cmake -P failed", res.stderr)
    got = (Path(tmp) / "ids").read_text().split("\n")[:-1]
    wrong = [f"{name!r}: cmake {g!r}, ghostcc {want!r}"
             for (name, want), g in zip(expected.items(), got) if g != want]
    if len(got) != len(expected) or wrong:
        raise Failure("cmake and ghostcc disagree", "\n".join(wrong))


def test_names_in_messages(r, tmp):
    """A name holding a newline and a terminal escape, in an error message:
    one line, no control characters."""
    spec = spec_file(tmp, "esc.yaml", "name: x\ninput: [4, 1, 1]\nlayers:\n"
                     "  - flatten\n"
                     '  - linear: {name: "a\\e[31mRED\\nline", out: 3}\n')
    w = Path(tmp) / "w.safetensors"
    w.write_bytes(safetensors([("fc.weight", [3, 4], values(12, 1))]))
    res = r.fails([spec, "--weights", w, "-o", "out"], tmp,
                  ["has no tensor 'a?[31mRED?line.weight'"])
    if res.stderr.count("\n") != 1 or any(
            ord(c) < 0x20 for c in res.stderr.rstrip("\n")):
        raise Failure("message is not one plain line", repr(res.stderr))


def test_names_in_dumps(r, tmp):
    """Names holding newlines, ESC, BEL and the 8-bit CSI (U+009B) in
    --summary and --dump-ir: escaped, so one line per row and no control
    characters."""
    spec = spec_file(tmp, "esc.yaml", 'name: "Bad\\e[31m\\nname"\n'
                     "input: [4, 1, 1]\nlayers:\n  - flatten\n"
                     '  - linear: {name: "fc\\e]0;x\\a\\nforged \\\\ '
                     '\\u009b2J", out: 3}\n')
    for option, lines, escaped in (
            ("--summary", 7, "fc\\x1b]0;x\\x07\\nforged \\\\ \\u009b2J"),
            ("--dump-ir", 6, "graph Bad\\x1b[31m\\nname {")):
        res = r.ok([spec, "--random-weights", "1", option], tmp)
        out = res.stdout
        if escaped not in out:
            raise Failure(f"{option}: no {escaped!r}", out)
        if out.count("\n") != lines or any(
                ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f
                for c in out):
            raise Failure(f"{option}: a name forged a line or a control",
                          repr(out))


# --- limits -------------------------------------------------------------

def net(layers, inp="[3, 8, 8]", extra=""):
    return f"name: big\ninput: {inp}\n{extra}layers:\n" + "".join(
        f"  - {l}\n" for l in layers)


def limit_case(spec_text, needles, args=("--random-weights", "1"),
               binary=False):
    def test(r, tmp):
        spec = Path(tmp) / "spec.yaml"
        if binary:
            spec.write_bytes(spec_text() if callable(spec_text)
                             else spec_text)
        else:
            spec.write_text(spec_text() if callable(spec_text) else spec_text)
        out = Path(tmp) / "out"
        r.fails([spec, *args, "-o", out], tmp, needles)
    return test


def weights_case(make_file, needles):
    def test(r, tmp):
        w = Path(tmp) / "w.safetensors"
        w.write_bytes(make_file())
        r.fails([TINY, "--weights", w, "-o", Path(tmp) / "out"], tmp,
                needles)
    return test


def alias_bomb():
    # A table of 4096 one-row rows (no layers in its template) repeated
    # through an alias: nothing to lower, 4096 rows per alias.
    rows = "[" + ", ".join(["[1]"] * 4096) + "]"
    return ("name: bomb\ninput: [3, 8, 8]\nlayers:\n"
            "  - conv: {name: c, out: 4, kernel: 1}\n"
            f"  - &t {{table: {{columns: [repeat], rows: {rows}, "
            "layers: []}}\n" + "".join(["  - *t\n"] * 5000))


def alias_bomb_rows():
    # The same with one row repeated 4096 times, 100000 aliases.
    return ("name: bomb\ninput: [3, 8, 8]\nlayers:\n"
            "  - conv: {name: c, out: 4, kernel: 1}\n"
            "  - &t {table: {columns: [repeat], rows: [[4096]], layers: []}}\n"
            + "".join(["  - *t\n"] * 100000))


def select_bomb():
    # A 1000-value selection read once per alias of an empty table.
    sel = ", ".join(f"{i}: 0" for i in range(1000))
    return ("name: bomb\ninput: [3, 8, 8]\nparams: {k: 999}\nlayers:\n"
            "  - conv: {name: c, out: 4, kernel: 1}\n"
            f"  - &t {{table: {{columns: [repeat], rows: [], "
            f"first: {{by: k, {sel}}}, layers: []}}}}\n"
            + "".join(["  - *t\n"] * 100000))


def from_bomb():
    # 16000 layers whose `from` all name the first: each lookup walks
    # every name defined so far.
    layers = ["conv: {name: first, out: 1, kernel: 1}"]
    layers += [f"conv: {{name: l{i}, from: first, out: 1, kernel: 1}}"
               for i in range(16000)]
    return net(layers)


LIMIT_CASES = {
    "channels_1e9": limit_case(
        net(["conv: {name: c, out: 1000000000, kernel: 1}"]),
        ["exceed the limit of 1048576"]),
    "input_channels_1e9": limit_case(
        net(["relu"], inp="[1000000000, 8, 8]"),
        ["input dimension must be in [1, 16384]"]),
    "resolution_1e6": limit_case(
        net(["relu"]), ["resolution must be an integer in [1, 16384]"],
        args=("--random-weights", "1", "--resolution", "1000000")),
    "width_1e9": limit_case(
        net(["relu"]), ["width must be in (0, 100]"],
        args=("--random-weights", "1", "--width", "1e9")),
    "kernel_larger_than_input": limit_case(
        net(["conv: {name: c, out: 4, kernel: 9}"]),
        ["kernel 9x9 with padding 0x0 does not fit the 8x8 input"]),
    "kernel_1e9": limit_case(
        net(["conv: {name: c, out: 4, kernel: 1000000000}"]),
        ["kernel, stride and padding must be at most 65536"]),
    "padding_2e9": limit_case(
        net(["conv: {name: c, out: 4, kernel: 3, padding: 2000000000}"]),
        ["must be at most 65536"]),
    "int_overflow_channels": limit_case(
        net(["conv: {name: c, out: 99999999999999999999, kernel: 1}"]),
        ["exceed the limit of 1048576"]),
    "tensor_2e12_elements": limit_case(
        net(["relu"], inp="[16384, 16384, 16384]"),
        ["exceeds the limit of 1073741824 elements"]),
    "parameter_2e30_elements": limit_case(
        net(["flatten", "linear: {name: fc, out: 1048576}"],
            inp="[1024, 32, 32]"),
        ["more than 134217728 elements"]),
    "parameters_total": limit_case(
        net(["flatten"] + [f"linear: {{name: fc{i}, out: 4096}}"
                           for i in range(9)], inp="[4096, 1, 1]"),
        ["over the limit of 134217728"]),
    "layers_1e5": limit_case(
        lambda: net(["relu"] * 100000),
        ["network has more than 16384 layers"]),
    "layers_1e5_by_tables": limit_case(
        lambda: net(["conv: {name: c, out: 4, kernel: 1}"] + [
            "table: {columns: [repeat], rows: [[4096]], layers: [relu]}"] * 25),
        ["network has more than 16384 layers"]),
    "layers_1e5_conv": limit_case(
        lambda: net([f"conv: {{name: c{i}, out: 4, kernel: 1}}"
                     for i in range(100000)]),
        ["more than 262144 nodes"]),
    "table_rows": limit_case(
        net(["table: {columns: [repeat], rows: [[5000]], layers: [relu]}"]),
        ["repeat must be in [1, 4096]"]),
    "yaml_nesting_1e5": limit_case(
        lambda: "name: x\ninput: [1, 1, 1]\nlayers: " + "[" * 100000,
        ["the YAML nests more than 64 deep"]),
    "yaml_nodes_1e6": limit_case(
        lambda: "name: x\ninput: [1, 1, 1]\nlayers: [" + "1, " * 1000000
        + "1]", ["the YAML has more than 262144 nodes"]),
    "alias_bomb_table": limit_case(alias_bomb, ["steps to read"]),
    "alias_bomb_rows": limit_case(alias_bomb_rows, ["steps to read"]),
    "select_bomb": limit_case(select_bomb, ["steps to read"]),
    "select_values": limit_case(
        lambda: net(["conv: {name: c, out: {by: width, "
                     + ", ".join(f"{i}: 4" for i in range(2000)) + "}, "
                     "kernel: 1}"]),
        ["a selection has more than 1024 values"]),
    "select_cycle": limit_case(
        net(["conv: {name: c, out: &a {by: k, 1: *a}, kernel: 1}"],
            extra="params: {k: 1}\n"),
        ["selections nest more than 16 deep"]),
    "from_bomb": limit_case(from_bomb, ["steps to read"]),
    "layer_name_1e6": limit_case(
        lambda: net([f"conv: {{name: {'n' * 1000000}, out: 4, kernel: 1}}"]),
        ["name is longer than 512 characters"]),
    "model_name_1e4": limit_case(
        net(["relu"]), ["the model name is longer than 128 characters"],
        args=("--random-weights", "1", "--name", "m" * 10000)),
    "nul_in_name": limit_case(
        net(['conv: {name: "c\\0.weight", out: 4, kernel: 1}']),
        ["name contains a NUL character"]),
    "spec_17MB": limit_case(
        lambda: "# " + "x" * (17 << 20) + "\n",
        ["file is larger than the limit of 16777216 bytes"]),
    "weights_terabytes": weights_case(
        lambda: raw_safetensors(json.dumps({
            "fc.weight": {"dtype": "F32", "shape": [1000000, 1000000],
                          "data_offsets": [0, 4000000000000]},
            "fc.bias": {"dtype": "F32", "shape": [3],
                        "data_offsets": [0, 12]}}).encode(), b"\0" * 12),
        ["run past the end of the 12-byte data section"]),
    "weights_header_1TB": weights_case(
        lambda: raw_safetensors(b"{}", claimed_len=1 << 40),
        ["header length 1099511627776 exceeds the 100000000-byte limit"]),
    "weights_shape_overflow": weights_case(
        lambda: raw_safetensors(json.dumps({
            "fc.weight": {"dtype": "F32", "shape": [2**40, 2**40],
                          "data_offsets": [0, 0]}}).encode()),
        ["has too many elements"]),
    "weights_offsets_2e64": weights_case(
        lambda: raw_safetensors(json.dumps({
            "fc.weight": {"dtype": "F32", "shape": [3, 4],
                          "data_offsets": [0, 2**63 - 1]}}).encode()),
        ["run past the end"]),
    "weights_nested_json": weights_case(
        lambda: raw_safetensors(b"[" * 100000 + b"]" * 100000),
        ["header is not valid JSON"]),
}


def test_many_layers_in_limits(r, tmp):
    """16383 layers (just under the limit) compile in seconds."""
    layers = [f"conv: {{name: c{i}, out: 4, kernel: 1, bias: true}}"
              for i in range(16382)]
    spec = spec_file(tmp, "many.yaml", net(layers, inp="[4, 4, 4]"))
    res = r.ok([spec, "--random-weights", "1", "-o", Path(tmp) / "out"], tmp)
    if res.seconds > LIMIT_SECONDS:
        raise Failure(f"took {res.seconds:.1f} s")


# --- output -------------------------------------------------------------

def test_output_dotdot(r, tmp):
    """-o with '..' and '.' components: the files land exactly there and
    nowhere else."""
    root = Path(tmp) / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "out").mkdir()
    before = snapshot(root)
    r.ok([TINY, "--random-weights", "1", "-o", "a/b/../../out/./x/"], root)
    after = snapshot(root)
    want = dict(before)
    want["out"] = {"x": snapshot(root / "out" / "x")}
    if after != want or sorted(after["out"]["x"]) != [
            "tiny.c", "tiny.h", "tiny_weights.c"]:
        raise Failure(f"wrote {after!r:.300}")


def test_output_missing_parents(r, tmp):
    """-o under a directory that does not exist: an error, nothing made."""
    r.fails([TINY, "--random-weights", "1", "-o", "no/such/dir"], tmp,
            ["cannot create output directory 'no/such/dir'"])


def test_output_empty(r, tmp):
    r.fails([TINY, "--random-weights", "1", "-o", ""], tmp,
            ["cannot create output directory"])


def test_output_symlink_file(r, tmp):
    """An output name taken by a symlink to a file elsewhere: refused, the
    file it points to untouched."""
    outside = Path(tmp) / "outside"
    outside.mkdir()
    victim = outside / "victim.h"
    victim.write_text("precious\n")
    out = Path(tmp) / "out"
    out.mkdir()
    (out / "tiny.h").symlink_to(victim)
    r.fails([TINY, "--random-weights", "1", "-o", out], tmp,
            ["it exists and is not a regular file"])
    if victim.read_text() != "precious\n":
        raise Failure("wrote through the symlink")


def test_output_symlink_dir(r, tmp):
    """-o naming a symlink to a directory writes into that directory (it
    is where the caller asked), and only there."""
    target = Path(tmp) / "real"
    target.mkdir()
    (Path(tmp) / "link").symlink_to(target)
    before = snapshot(tmp)
    r.ok([TINY, "--random-weights", "1", "-o", "link"], tmp)
    if sorted(p.name for p in target.iterdir()) != [
            "tiny.c", "tiny.h", "tiny_weights.c"]:
        raise Failure("not written into the directory the link names")
    after = snapshot(tmp)
    del after["real"], before["real"]
    if after != before:
        raise Failure("wrote elsewhere")


def test_output_failed_run_leaves_nothing(r, tmp):
    """A run that fails late (weights) in a fresh -o: no directory left."""
    w = Path(tmp) / "w.safetensors"
    w.write_bytes(safetensors([("fc.weight", [3, 4], values(12, 1))]))
    r.fails([TINY, "--weights", w, "-o", "fresh"], tmp,
            ["has no tensor 'fc.bias'"])


# --- generated code -----------------------------------------------------

API_HARNESS = r"""
#include "MODEL.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  unsigned char *block = malloc(PREFIX_ARENA_BYTES + 2 * PREFIX_ARENA_ALIGN);
  unsigned char *arena = block + (PREFIX_ARENA_ALIGN -
      (uintptr_t)block % PREFIX_ARENA_ALIGN) % PREFIX_ARENA_ALIGN;
  static float in[PREFIX_INPUT_SIZE], out[PREFIX_OUTPUT_SIZE];
  for (int i = 0; i < PREFIX_INPUT_SIZE; i++)
    in[i] = (float)(i % 7) - 3.0f;
  int bad = 0;
  if (MODEL_run(NULL, out, arena) != PREFIX_ERR_NULL) bad |= 1;
  if (MODEL_run(in, NULL, arena) != PREFIX_ERR_NULL) bad |= 2;
  if (MODEL_run(in, out, NULL) != PREFIX_ERR_NULL) bad |= 4;
  for (int off = 1; off < PREFIX_ARENA_ALIGN; off += 7)
    if (MODEL_run(in, out, arena + off) != PREFIX_ERR_ALIGN) bad |= 8;
  if (PREFIX_OK != 0 || PREFIX_ERR_NULL == 0 || PREFIX_ERR_ALIGN == 0 ||
      PREFIX_ERR_NULL == PREFIX_ERR_ALIGN) bad |= 16;
  if (MODEL_run(in, out, arena) != PREFIX_OK) bad |= 32;
  for (int i = 0; i < PREFIX_OUTPUT_SIZE; i++)
    if (out[i] != out[i]) bad |= 64;  /* NaN */
  free(block);
  if (bad) printf("api check failed: %d\n", bad);
  return bad;
}
"""

THREADS_HARNESS = r"""
#include "model.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS = 3 };
static float input[MODEL_INPUT_SIZE];

typedef struct {
  unsigned char *arena;
  float out[RUNS][MODEL_OUTPUT_SIZE];
  int status;
} Job;

static void *work(void *p) {
  Job *j = p;
  for (int r = 0; r < RUNS; r++)
    j->status |= model_run(input, j->out[r], j->arena);
  return NULL;
}

static unsigned char *new_arena(void) {
  size_t bytes = (MODEL_ARENA_BYTES + MODEL_ARENA_ALIGN - 1) /
                 MODEL_ARENA_ALIGN * MODEL_ARENA_ALIGN;
  unsigned char *a = aligned_alloc(MODEL_ARENA_ALIGN, bytes);
  memset(a, 0xA5, bytes);  /* not zeroed: nothing may read stale bytes */
  return a;
}

int main(void) {
  for (int i = 0; i < MODEL_INPUT_SIZE; i++)
    input[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  static Job solo, jobs[2];
  solo.arena = new_arena();
  work(&solo);
  pthread_t t[2];
  for (int k = 0; k < 2; k++) {
    jobs[k].arena = new_arena();
    if (pthread_create(&t[k], NULL, work, &jobs[k]) != 0)
      return 3;
  }
  for (int k = 0; k < 2; k++)
    pthread_join(t[k], NULL);
  int bad = solo.status | jobs[0].status | jobs[1].status;
  for (int k = 0; k < 2; k++)
    for (int r = 0; r < RUNS; r++)
      if (memcmp(jobs[k].out[r], solo.out[0], sizeof solo.out[0]) != 0) {
        printf("thread %d run %d differs from the single-threaded run\n",
               k, r);
        bad = 1;
      }
  free(solo.arena);
  free(jobs[0].arena);
  free(jobs[1].arena);
  return bad;
}
"""


def test_api_return_codes(r, tmp):
    """NULL input, output or arena: NAME_ERR_NULL; an arena off the 64-byte
    alignment: NAME_ERR_ALIGN; both documented in the header."""
    out = Path(tmp) / "out"
    r.ok([REPO / "specs" / "resnet56_cifar.yaml", "--random-weights", "2",
          "--width", "0.25", "--name", "model", "-o", out], tmp)
    header = (out / "model.h").read_text()
    for doc in ("MODEL_ERR_NULL 1", "MODEL_ERR_ALIGN 2", "MODEL_OK 0",
                "Return codes of model_run"):
        if doc not in header:
            raise Failure(f"header does not document {doc!r}")
    main = Path(tmp) / "main.c"
    main.write_text(API_HARNESS.replace("MODEL", "model")
                    .replace("PREFIX", "MODEL"))
    exe = Path(tmp) / "api"
    for cc in compilers()[:1]:
        res = subprocess.run([cc, *CFLAGS, "-O1", f"-I{out}", str(main),
                              str(out / "model.c"),
                              str(out / "model_weights.c"), "-lm", "-o",
                              str(exe)], capture_output=True, text=True)
        if res.returncode != 0:
            raise Failure("harness does not build", res.stderr[-3000:])
        res = subprocess.run([str(exe)], capture_output=True, text=True,
                             timeout=120)
        if res.returncode != 0:
            raise Failure("return codes wrong", res.stdout + res.stderr)


def tsan_compiler(tmp):
    probe = Path(tmp) / "probe.c"
    probe.write_text("#include <pthread.h>\nint main(void){return 0;}\n")
    for cc in compilers():
        res = subprocess.run([cc, "-fsanitize=thread", str(probe), "-o",
                              str(Path(tmp) / "probe"), "-pthread"],
                             capture_output=True)
        if res.returncode == 0 and subprocess.run(
                [str(Path(tmp) / "probe")], capture_output=True
                ).returncode == 0:
            return cc
    return None


def test_two_threads_tsan(r, tmp):
    """GhostNet (small) run from two threads at once with two arenas,
    under ThreadSanitizer: no report, and every result bit-identical to a
    single-threaded run."""
    cc = tsan_compiler(tmp)
    if cc is None:
        raise Skip("no compiler with a working -fsanitize=thread")
    out = Path(tmp) / "out"
    r.ok([REPO / "specs" / "ghostnet.yaml", "--random-weights", "5",
          "--width", "0.25", "--resolution", "32", "--set",
          "num_classes=10", "--name", "model", "-o", out], tmp)
    main = Path(tmp) / "threads.c"
    main.write_text(THREADS_HARNESS)
    exe = Path(tmp) / "threads"
    res = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror",
                          "-O1", "-g", "-fsanitize=thread", "-pthread",
                          f"-I{out}", str(main), str(out / "model.c"),
                          str(out / "model_weights.c"), "-lm", "-o",
                          str(exe)], capture_output=True, text=True)
    if res.returncode != 0:
        raise Failure("harness does not build", res.stderr[-3000:])
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1:exitcode=66")
    res = subprocess.run([str(exe)], capture_output=True, text=True,
                         timeout=600, env=env)
    if res.returncode != 0 or "ThreadSanitizer" in res.stderr:
        raise Failure(f"exit {res.returncode}", res.stdout +
                      res.stderr[-3000:])


# --- reproducibility ----------------------------------------------------

REPRO_SPEC = """name: repro
input: [3, 8, 8]
layers:
  - conv: {name: features.0, out: 8, kernel: 3, padding: 1, stride: 2}
  - batchnorm: {name: features.1, eps: 0.001}
  - hard_swish
  - conv: {name: features.3, out: 8, kernel: 3, padding: 1, groups: 8}
  - batchnorm: {name: features.4, eps: 0.00001}
  - relu6
  - avgpool: {kernel: 2}
  - global_avgpool
  - flatten
  - linear: {name: classifier, out: 5}
"""


def repro_tensors():
    t = [("features.0.weight", [8, 3, 3, 3], values(216, 1))]
    for bn, seed in (("features.1", 2), ("features.4", 3)):
        t += [(f"{bn}.weight", [8], values(8, seed)),
              (f"{bn}.bias", [8], values(8, seed + 10)),
              (f"{bn}.running_mean", [8], values(8, seed + 20)),
              (f"{bn}.running_var", [8],
               [1 + abs(v) for v in values(8, seed + 30)]),
              (f"{bn}.num_batches_tracked", [1], [0.0])]
    t += [("features.3.weight", [8, 1, 3, 3], values(72, 4)),
          ("classifier.weight", [5, 8], values(40, 5)),
          ("classifier.bias", [5], values(5, 6))]
    return t


def decimal_comma_locale(tmp):
    """An environment with a decimal-comma LC_ALL: de_DE.UTF-8 if
    installed, else compiled with localedef into a private LOCPATH; None
    if neither works."""
    probe = ["/usr/bin/python3", "-c",
             "import locale; locale.setlocale(locale.LC_ALL, '');"
             "print(locale.localeconv()['decimal_point'])"]
    for name in ("de_DE.UTF-8", "de_DE.utf8"):
        env = dict(os.environ, LC_ALL=name)
        res = subprocess.run(probe, env=env, capture_output=True, text=True)
        if res.stdout.strip() == ",":
            return env, name
    if shutil.which("localedef"):
        locpath = Path(tmp) / "locales"
        locpath.mkdir(exist_ok=True)
        subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8",
                        str(locpath / "de_DE.UTF-8")], capture_output=True)
        env = dict(os.environ, LOCPATH=str(locpath), LC_ALL="de_DE.UTF-8")
        res = subprocess.run(probe, env=env, capture_output=True, text=True)
        if res.stdout.strip() == ",":
            return env, "de_DE.UTF-8 (localedef into LOCPATH)"
    return None, None


def test_reproducible(r, tmp):
    """Two runs: other directory, relative vs absolute paths, a second
    later, another time zone, a decimal-comma locale, the weights file's
    keys in reverse order with metadata: byte-identical files, whose
    provenance names the version, the options and content hashes and
    nothing about paths or time."""
    tmp = Path(tmp)
    a, b = tmp / "dir_alpha_7731", tmp / "dir_beta_9917" / "deeper_5501"
    a.mkdir()
    b.mkdir(parents=True)
    (a / "net.yaml").write_text(REPRO_SPEC)
    (b / "net.yaml").write_text(REPRO_SPEC)
    (a / "w.safetensors").write_bytes(safetensors(repro_tensors()))
    (b / "w.safetensors").write_bytes(safetensors(
        list(reversed(repro_tensors())),
        metadata={"format": "pt", "saved": time.ctime()}))
    if (a / "w.safetensors").read_bytes() == (b / "w.safetensors").read_bytes():
        raise Failure("test bug: the weights files should differ")
    args = ["--width", "1.0", "--no-fuse_ghost"]
    env1 = dict(os.environ, LC_ALL="C", TZ="UTC")
    r.ok(["net.yaml", "--weights", "w.safetensors", *args, "-o", "out"], a,
         env=env1)
    time.sleep(1.1)
    env2, locale_name = decimal_comma_locale(tmp)
    note = ""
    if env2 is None:
        env2 = dict(os.environ, LC_ALL="C.UTF-8")
        note = " (no decimal-comma locale: C.UTF-8)"
    env2 = dict(env2, TZ="Asia/Kolkata", SOURCE_DATE_EPOCH="1")
    r.ok([b / "net.yaml", "--weights", b / "w.safetensors", *args, "-o",
          tmp / "out2"], tmp / "dir_beta_9917", env=env2)
    out1, out2 = a / "out", tmp / "out2"
    names = sorted(p.name for p in out1.iterdir())
    if names != sorted(p.name for p in out2.iterdir()):
        raise Failure("different files")
    for n in names:
        x, y = (out1 / n).read_bytes(), (out2 / n).read_bytes()
        if x != y:
            at = next(i for i in range(min(len(x), len(y))) if x[i] != y[i])
            raise Failure(f"{n} differs at byte {at}{note}",
                          f"{x[max(0, at - 80):at + 80]!r}\n"
                          f"{y[max(0, at - 80):at + 80]!r}")
    text = (out1 / "repro.h").read_text()
    head = text[:text.index("*/")]
    for want in ("ghostcc 0.1.0", "options:", "--width 1.0",
                 "--no-fuse_ghost", "--weights w.safetensors", "fnv1a64"):
        if want not in head:
            raise Failure(f"provenance lacks {want!r}", head)
    for leak in (str(tmp), "alpha_7731", "beta_9917", "deeper_5501",
                 os.getcwd()):
        if len(leak) > 3 and leak in head:
            raise Failure(f"provenance names {leak!r}", head)
    # --random-weights too, from two directories.
    r.ok([a / "net.yaml", "--random-weights", "9", "-o", a / "r1"], a,
         env=env1)
    r.ok([b / "net.yaml", "--random-weights", "9", "-o", b / "r2"], b,
         env=env2)
    for n in names:
        if (a / "r1" / n).read_bytes() != (b / "r2" / n).read_bytes():
            raise Failure(f"random weights: {n} differs")
    if note:
        raise Skip("identical, but" + note)
    return locale_name


# --- driver -------------------------------------------------------------

def all_tests():
    tests = {
        "names/layer_names": test_hostile_layer_names,
        "names/model_names": test_hostile_model_names,
        "names/cmake_identifiers": test_cmake_identifiers,
        "names/in_messages": test_names_in_messages,
        "names/in_dumps": test_names_in_dumps,
    }
    for name, test in LIMIT_CASES.items():
        tests[f"limits/{name}"] = test
    tests["limits/many_layers_within_limits"] = test_many_layers_in_limits
    tests.update({
        "output/dotdot": test_output_dotdot,
        "output/missing_parents": test_output_missing_parents,
        "output/empty": test_output_empty,
        "output/symlink_file": test_output_symlink_file,
        "output/symlink_dir": test_output_symlink_dir,
        "output/failed_run_leaves_nothing":
            test_output_failed_run_leaves_nothing,
        "api/return_codes": test_api_return_codes,
        "threads/two_threads_tsan": test_two_threads_tsan,
        "repro/byte_identical": test_reproducible,
    })
    return tests


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ghostcc", required=True)
    ap.add_argument("--only", default="",
                    help="run the tests whose name contains this")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directories")
    args = ap.parse_args()
    runner = Runner(os.path.abspath(args.ghostcc))
    failed = 0
    for name, test in all_tests().items():
        if args.only not in name:
            continue
        tmp = tempfile.mkdtemp(prefix="ghostcc-hostile-")
        start = time.monotonic()
        try:
            extra = test(runner, tmp)
            took = time.monotonic() - start
            print(f"{name}: PASS ({took:.1f} s)" +
                  (f" [{extra}]" if extra else ""), flush=True)
        except Skip as e:
            print(f"{name}: SKIP ({e})", flush=True)
        except Failure as e:
            failed += 1
            print(f"{name}: FAIL: {e}", flush=True)
            if e.detail:
                print("    " + e.detail.strip().replace("\n", "\n    "))
        finally:
            if args.keep:
                print(f"    kept {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    print("all passed" if not failed else f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
