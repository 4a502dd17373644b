#!/usr/bin/python3
"""End-to-end test of `ghostcc explore`.

MobileNetV1 over widths 0.25:1.0:0.25 x resolutions 128, 224: eight CSV rows
with the paper's figures at 1.0/224, a well-formed SVG with one line per
resolution; a variant the spec cannot take is an error row, not the end of
the run; bad options exit 1 and leave no CSV/SVG; one --bench run on a tiny
variant gives a positive latency and leaves no temporary directory.

Usage: run_explore_test.py --ghostcc PATH   (exit status 0 iff all pass)
"""

import argparse
import csv
import glob
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
MOBILENET = REPO / "specs" / "mobilenet_v1.yaml"
SHUFFLENET = REPO / "specs" / "shufflenet_v1.yaml"
SVG = "{http://www.w3.org/2000/svg}"

failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        if detail:
            print("     " + detail.replace("\n", "\n     "))
        failures.append(what)
    return cond


def run(ghostcc, args, env=None, timeout=900):
    return subprocess.run([ghostcc, "explore", *map(str, args)],
                          capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=env)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_grid(ghostcc, tmp):
    out_csv, out_svg = tmp / "grid" / "mobilenet.csv", tmp / "grid" / "m.svg"
    r = run(ghostcc, [MOBILENET, "--width", "0.25:1.0:0.25",
                      "--resolution", "128,224",
                      "--csv", out_csv, "--svg", out_svg])
    if not check(r.returncode == 0, "grid: exit 0",
                 f"exit {r.returncode}: {r.stderr.strip()[-500:]}"):
        return
    rows = read_csv(out_csv)
    check(len(rows) == 8, f"grid: 8 CSV rows (got {len(rows)})")
    check(all(not row["error"] for row in rows), "grid: no error rows")
    widths = sorted({float(row["width"]) for row in rows})
    check(widths == [0.25, 0.5, 0.75, 1.0], f"grid: widths {widths}")
    check(sorted({row["resolution"] for row in rows}) == ["128", "224"],
          "grid: resolutions 128, 224")
    full = [row for row in rows
            if float(row["width"]) == 1.0 and row["resolution"] == "224"]
    if check(len(full) == 1, "grid: one row at width 1.0, resolution 224"):
        check(int(full[0]["macs"]) == 568740352,
              f"grid: MACs at 1.0/224 = 568740352 (got {full[0]['macs']})")
        check(int(full[0]["params"]) == 4231976,
              f"grid: params at 1.0/224 = 4231976 (got {full[0]['params']})")
    for row in rows:
        for key in ("arena_bytes", "weight_bytes", "code_bytes",
                    "weights_source_bytes"):
            if not check(int(row[key]) > 0, f"grid: {key} > 0"):
                break
        check(float(row["compile_ms"]) > 0, "grid: compile_ms > 0")
        check(row["latency_ms"] == "", "grid: no latency without --bench")
    # MACs grow with width and resolution.
    for res in ("128", "224"):
        macs = [int(row["macs"]) for row in
                sorted((r for r in rows if r["resolution"] == res),
                       key=lambda r: float(r["width"]))]
        check(macs == sorted(macs) and len(set(macs)) == 4,
              f"grid: MACs increase with width at {res}")
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    data = [l for l in lines if l.split()[0].replace(".", "").isdigit()]
    check(len(data) == 8, f"grid: 8 table rows on stdout (got {len(data)})")
    check("[8/8] width 1.00 resolution 224" in r.stderr,
          "grid: progress lines on stderr")
    try:
        root = ET.parse(out_svg).getroot()
    except ET.ParseError as e:
        check(False, f"grid: SVG is well-formed XML ({e})")
        return
    check(root.tag == SVG + "svg", "grid: SVG root is <svg>")
    polylines = root.findall(f".//{SVG}polyline")
    check(len(polylines) == 2, f"grid: 2 polylines (got {len(polylines)})")
    for p in polylines:
        check(len(p.get("points", "").split()) == 4,
              "grid: 4 points per polyline")
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    check("resolution 128" in texts and "resolution 224" in texts,
          "grid: SVG legend names both resolutions")
    check("width" in texts and "MACs" in texts, "grid: SVG axis labels")


def test_error_row(ghostcc, tmp):
    out_csv = tmp / "shuffle.csv"
    # Width 0.33 gives 19 channels, which 3 groups do not divide.
    r = run(ghostcc, [SHUFFLENET, "--width", "0.33,0.5",
                      "--resolution", "64", "--csv", out_csv])
    if not check(r.returncode == 0, "error row: exit 0 when some variant "
                 "compiles", f"exit {r.returncode}: {r.stderr.strip()[-500:]}"):
        return
    rows = read_csv(out_csv)
    check(len(rows) == 2, "error row: 2 rows")
    check(rows[0]["error"].startswith("error: ") and "groups" in
          rows[0]["error"] and rows[0]["macs"] == "",
          f"error row: width 0.33 is an error row ({rows[0]['error']!r})")
    check(not rows[1]["error"] and int(rows[1]["macs"]) > 0,
          "error row: width 0.5 still compiled")
    check("error: " in r.stdout, "error row: shown in the table")


def test_bad_input(ghostcc, tmp):
    d = tmp / "bad"
    d.mkdir()
    bad_spec = d / "bad.yaml"
    bad_spec.write_text("name: t\ninput: [3, 8, 8]\nlayers:\n"
                        "  - conv: {name: c, out: 4, kernel: 3, bogus: 1}\n")
    cases = [
        ("reversed range", [MOBILENET, "--width", "1.0:0.5:0.1"], "--width"),
        ("zero step", [MOBILENET, "--width", "0.5:1:0"], "--width"),
        ("not a range", [MOBILENET, "--width", "0.5:x:0.1"], "--width"),
        ("bad resolution", [MOBILENET, "--width", "1", "--resolution",
                            "128,abc"], "--resolution"),
        ("no width", [MOBILENET], "--width"),
        ("bad spec", [bad_spec, "--width", "1"], "bad.yaml:4:40: error:"),
        ("no variant compiles", [MOBILENET, "--width", "0.001"],
         "no variant compiled"),
    ]
    for name, args, expect in cases:
        r = run(ghostcc, [*args, "--csv", d / "x.csv", "--svg", d / "x.svg"])
        check(r.returncode == 1 and expect in r.stderr,
              f"bad input: {name}: exit 1, '{expect}'",
              f"exit {r.returncode}: {r.stderr.strip()[-500:]}")
        check(not (d / "x.csv").exists() and not (d / "x.svg").exists(),
              f"bad input: {name}: no CSV or SVG")
    leftovers = [p.name for p in d.iterdir() if p.name != "bad.yaml"]
    check(not leftovers, f"bad input: no temporaries left ({leftovers})")


def test_bench(ghostcc, tmp):
    bench_tmp = tmp / "benchtmp"
    bench_tmp.mkdir()
    out_csv = tmp / "bench.csv"
    env = dict(os.environ, TMPDIR=str(bench_tmp))
    r = run(ghostcc, [MOBILENET, "--width", "0.25", "--resolution", "128",
                      "--bench", "--csv", out_csv], env=env)
    if not check(r.returncode == 0, "bench: exit 0",
                 f"exit {r.returncode}: {r.stderr.strip()[-500:]}"):
        return
    rows = read_csv(out_csv)
    check(len(rows) == 1 and not rows[0]["error"],
          f"bench: one row, no error ({rows and rows[0]['error']})")
    row = rows[0]
    check(float(row["latency_ms"]) > 0, f"bench: latency {row['latency_ms']} "
          "ms > 0")
    check(float(row["cc_ms"]) > 0, "bench: cc_ms > 0")
    check(int(row["runs"]) >= 20, f"bench: at least 20 runs ({row['runs']})")
    check("latency" in r.stdout, "bench: latency column in the table")
    check(not list(bench_tmp.iterdir()),
          "bench: the temporary directory is removed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ghostcc", required=True)
    args = ap.parse_args()
    ghostcc = os.path.abspath(args.ghostcc)
    with tempfile.TemporaryDirectory(prefix="ghostcc-explore-test-") as t:
        tmp = Path(t)
        test_grid(ghostcc, tmp)
        test_error_row(ghostcc, tmp)
        test_bad_input(ghostcc, tmp)
        test_bench(ghostcc, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all explore checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
