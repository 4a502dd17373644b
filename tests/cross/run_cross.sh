#!/bin/sh
# The ARM64 workflow end to end (README: "Cross-compiling for a phone"):
#   run_cross.sh GHOSTCC_BUILD_DIR REPO_ROOT
# installs the built ghostcc into a temporary prefix, configures tests/cross
# with cmake/aarch64-linux-gnu.cmake against it, builds it with
# aarch64-linux-gnu-gcc and runs it under qemu-aarch64 through ctest.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 GHOSTCC_BUILD_DIR REPO_ROOT" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ghostcc-cross.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
  echo "run_cross: FAIL: $*" >&2
  exit 1
}

# Runs a command, its output in $tmp/log; shows the log if it fails.
logged() {
  if ! "$@" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    fail "$*"
  fi
}

logged cmake --install "$build" --prefix "$tmp/prefix"
logged cmake -S "$root/tests/cross" -B "$tmp/build" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
  -Dghostcc_DIR="$tmp/prefix/lib/cmake/ghostcc" -DCMAKE_BUILD_TYPE=Release
logged cmake --build "$tmp/build" -j 2
file_type=$(od -An -tx1 -j18 -N2 "$tmp/build/cross" | tr -d ' ')
[ "$file_type" = "b700" ] || fail "tests/cross built for ELF machine 0x$file_type, not aarch64 (0xb7)"
logged ctest --test-dir "$tmp/build" --output-on-failure -V
grep -E "max \|" "$tmp/log"
echo "run_cross: all passed"
