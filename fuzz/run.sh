#!/bin/sh
# Runs one libFuzzer target for a given time on its corpus.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#   fuzz/run.sh TARGET regress     # replay seeds, corpus and regressions once
#
# TARGET: spec, safetensors or frontend. The build directory is
# $GHOSTCC_FUZZ_BUILD (default: build-fuzz at the top of the repository):
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-19 -DGHOSTCC_FUZZ=ON \
#         -DGHOSTCC_TESTS=OFF && cmake --build build-fuzz -j2
# New inputs go to BUILD/fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET,
# fuzz/regressions/TARGET and, for spec and frontend, specs/ and
# tests/cli/cases/); crashes, leaks and timeouts to BUILD/fuzz/artifacts/.
# The exit status is libFuzzer's: 0 when nothing was found.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${GHOSTCC_FUZZ_BUILD:-$repo/build-fuzz}
if [ $# -lt 2 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
bin=$build/fuzz/fuzz_$target
case $target in
  spec) dict=$here/spec.dict; max_len=16384
        extra="$repo/specs $repo/tests/cli/cases" ;;
  frontend) dict=$here/spec.dict; max_len=65536
        extra="$repo/specs $repo/tests/cli/cases" ;;
  safetensors) dict=$here/safetensors.dict; max_len=16384; extra="" ;;
  *) echo "run.sh: unknown target '$target' (spec, safetensors, frontend)" >&2
     exit 2 ;;
esac
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is not built (see the top of this script)" >&2
  exit 2
fi
corpus=$build/fuzz/corpus/$target
artifacts=$build/fuzz/artifacts
mkdir -p "$corpus" "$artifacts"
dirs="$here/seeds/$target"
[ -d "$here/regressions/$target" ] && dirs="$dirs $here/regressions/$target"
# Leaks are errors; each input gets 10 s and 2 GiB before it counts as a
# hang or an out-of-memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ "$seconds" = regress ]; then
  # Every file once, nothing new written: what CI runs on each change.
  files=$(find $dirs $extra "$corpus" -type f 2>/dev/null)
  # shellcheck disable=SC2086
  exec "$bin" -timeout=10 -rss_limit_mb=2048 $files "$@"
fi
# shellcheck disable=SC2086
exec "$bin" "$corpus" $dirs $extra -dict="$dict" -max_len=$max_len \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$target-" "$@"
