#!/bin/sh
# Benchmark: ghostcc's two backends (generated C, LLVM object) against ONNX
# Runtime, one core, batch 1.
#
# usage: bench/run.sh [--runs N] [--warmup N] [--round N] [NETWORK ...]
#
# NETWORK is a spec name (specs/NETWORK.yaml with a PyTorch reference
# tests/golden/NETWORK_ref.py); default: every spec that has a reference,
# GhostNet, MobileNetV1, ShuffleNetV1 and MobileNetV2 first. Each runs at its
# spec's default width and resolution (224 for the ImageNet networks).
#
# For each network, into build/bench/NETWORK/:
#   1. bench/export.py: the reference's weights, input and float64 logits,
#      and the same torch model exported to ONNX (model.onnx);
#   2. ghostcc SPEC --weights ... --cpu $GHOSTCC_CPU -o gen --name model,
#      then $CC $BENCH_CFLAGS gen/*.c bench/runner.c -> runner;
#   3. ghostcc ... --emit obj --cpu $GHOSTCC_CPU -o gen-llvm --name model
#      (LLVM at -O3), then $CC $BENCH_CFLAGS bench/runner.c gen-llvm/model.o
#      -> runner-llvm
# then bench/fma_probe.c measures the core's FMA peak and bench/bench.js
# times ONNX Runtime (onnxruntime-node, in-process) and the two runners
# (child processes) in alternating rounds, checks that the outputs agree
# and prints a table.
#
# Environment: GHOSTCC (a ghostcc binary; default: build it with
# scripts/build.sh), GHOSTCC_CPU (ghostcc's --cpu for both backends;
# default native: the kernels for this machine's best ISA), CC (default
# cc), BENCH_CFLAGS (default "-O3 -march=native", which must enable that
# ISA), PYTHON (default /usr/bin/python3, with torch).
set -eu
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/build/bench
runs=60
warmup=10
round=10
cc=${CC:-cc}
cflags=${BENCH_CFLAGS:--O3 -march=native}
cpu=${GHOSTCC_CPU:-native}
python=${PYTHON:-/usr/bin/python3}

die() { echo "bench: $*" >&2; exit 2; }

nets=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a value"; warmup=$2; shift 2 ;;
    --round) [ $# -ge 2 ] || die "--round needs a value"; round=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) nets="$nets $1"; shift ;;
  esac
done
for v in "$runs" "$warmup" "$round"; do
  case $v in ''|*[!0-9]*) die "--runs/--warmup/--round take a number" ;; esac
done
[ "$runs" -ge 50 ] || echo "bench: note: --runs $runs is below the 50 the benchmark calls for" >&2

explicit=yes
if [ -z "$nets" ]; then
  explicit=no
  for n in ghostnet mobilenet_v1 shufflenet_v1 mobilenet_v2; do
    if [ -f "specs/$n.yaml" ]; then nets="$nets $n"; fi
  done
  for f in specs/*.yaml; do
    n=$(basename "$f" .yaml)
    case " $nets " in *" $n "*) ;; *) nets="$nets $n" ;; esac
  done
fi

todo=""
for n in $nets; do
  case $n in *[!A-Za-z0-9_]*) die "bad network name '$n'" ;; esac
  [ -f "specs/$n.yaml" ] || die "no specs/$n.yaml"
  if [ ! -f "tests/golden/${n}_ref.py" ]; then
    [ "$explicit" = no ] || die "$n: no PyTorch reference tests/golden/${n}_ref.py"
    echo "bench: $n: skipped (no tests/golden/${n}_ref.py)"
    continue
  fi
  todo="$todo $n"
done
[ -n "$todo" ] || die "no network to time"

# Tools.
command -v node >/dev/null || die "node not found (Debian: nodejs)"
"$python" -c 'import torch' 2>/dev/null ||
  die "$python cannot import torch (Debian: python3-torch; ./scripts/setup.sh)"
if [ ! -d bench/node_modules/onnxruntime-node ]; then
  echo "bench: installing onnxruntime-node into bench/node_modules (npm ci)"
  # The package's postinstall would fetch CUDA binaries from outside npm;
  # the CPU library is inside the package (bench/.npmrc says skip, too).
  (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund) ||
    die "npm ci failed"
fi
if [ -n "${GHOSTCC:-}" ]; then
  ghostcc=$GHOSTCC
else
  echo "bench: building ghostcc (scripts/build.sh)"
  ./scripts/build.sh >/dev/null || die "building ghostcc failed"
  ghostcc=$root/build/ghostcc
fi
[ -x "$ghostcc" ] || die "no ghostcc at $ghostcc"
mkdir -p "$out"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# prepare NAME DIR: everything but the timing; output goes to DIR/prepare.log,
# whose last line says which step failed.
prepare() {
  name=$1 dir=$2 spec=$root/specs/$1.yaml
  res=$(sed -n 's/^resolution:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$spec" | head -n 1)
  [ -n "$res" ] || { echo "no top-level resolution: in $spec"; return 1; }
  "$python" "$root/bench/export.py" --model "$name" --out "$dir" --resolution "$res" ||
    { echo "bench/export.py failed"; return 1; }
  rm -rf "$dir/gen" "$dir/runner" "$dir/gen-llvm" "$dir/runner-llvm"
  macs=$("$ghostcc" "$spec" --resolution "$res" --summary |
         sed -n 's/^total: .*, \([0-9][0-9]*\) MACs.*/\1/p')
  [ -n "$macs" ] || { echo "no 'total: ... MACs' line in ghostcc --summary"; return 1; }

  "$ghostcc" "$spec" --weights "$dir/weights.safetensors" --resolution "$res" \
    --cpu "$cpu" -o "$dir/gen" --name model ||
    { echo "C runner: ghostcc (C backend, --cpu $cpu) failed"; return 1; }
  # shellcheck disable=SC2086
  $cc $cflags -I "$dir/gen" "$dir"/gen/*.c "$root/bench/runner.c" -lm -o "$dir/runner" ||
    { echo "C runner: $cc $cflags on gen/*.c + bench/runner.c failed"; return 1; }

  "$ghostcc" "$spec" --weights "$dir/weights.safetensors" --resolution "$res" \
    --emit obj --cpu "$cpu" -o "$dir/gen-llvm" --name model ||
    { echo "LLVM runner: ghostcc --emit obj --cpu $cpu failed"; return 1; }
  # The object carries its own code generation; BENCH_CFLAGS only builds
  # the harness around it.
  # shellcheck disable=SC2086
  $cc $cflags -I "$dir/gen-llvm" "$root/bench/runner.c" "$dir/gen-llvm/model.o" -lm \
    -o "$dir/runner-llvm" ||
    { echo "LLVM runner: linking bench/runner.c with gen-llvm/model.o failed"; return 1; }
  {
    printf '{"name": %s, "macs": %s, "resolution": %s, ' "$(json_str "$name")" "$macs" "$res"
    printf '"cc": %s, "cflags": %s, "cpu": %s}\n' \
      "$(json_str "$cc")" "$(json_str "$cflags")" "$(json_str "$cpu")"
  } >"$dir/bench.json"
}

dirs=""
failed=""
for n in $todo; do
  dir=$out/$n
  mkdir -p "$dir"
  printf 'bench: %s: exporting, compiling...' "$n"
  if (prepare "$n" "$dir") >"$dir/prepare.log" 2>&1; then
    echo " ok"
    dirs="$dirs $dir"
  else
    echo " FAILED: $(tail -n 1 "$dir/prepare.log")"
    echo "  last lines of $dir/prepare.log:"
    tail -n 15 "$dir/prepare.log" | sed 's/^/  /'
    failed="$failed $n"
  fi
done

# The core's FMA peak.
$cc -std=c11 -O3 -march=native bench/fma_probe.c -o "$out/fma_probe" ||
  die "cannot compile bench/fma_probe.c"
probe=$("$out/fma_probe")
peak=$(printf '%s\n' "$probe" | sed -n 's/^peak_gflops=\([0-9.]*\).*/\1/p')
probe_desc=$(printf '%s\n' "$probe" | sed -n 's/^peak_gflops=[0-9.]* \(isa=[^ ]* lanes=[^ ]*\).*/\1/p')

status=0
if [ -n "$dirs" ]; then
  echo "bench: FMA probe: $probe"
  # shellcheck disable=SC2086
  node bench/bench.js --runs "$runs" --warmup "$warmup" --round "$round" \
    --peak "$peak" --probe "$probe_desc, $cc -std=c11 -O3 -march=native" \
    --json "$out/results.json" $dirs || status=1
else
  echo "bench: no network to time"
  status=1
fi
if [ -n "$failed" ]; then
  echo "bench: could not prepare:$failed (see build/bench/NAME/prepare.log)"
  status=1
fi
exit $status
