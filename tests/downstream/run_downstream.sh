#!/bin/sh
# The CMake package end to end, as a user gets it:
#   run_downstream.sh GHOSTCC_BUILD_DIR REPO_ROOT [CMAKE_ARG...]
# installs the built ghostcc into a temporary prefix, configures a copy of
# tests/downstream against it (find_package(ghostcc), ghostcc_add_model),
# builds and runs it, then checks that the models are generated again exactly
# when their spec, weights or arguments change, that a model without weights
# is a configure-time error, and that a cross build runs the host ghostcc.
# CMAKE_ARGs go to the downstream configure (e.g. -G Ninja, -DCMAKE_C_FLAGS=).
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 GHOSTCC_BUILD_DIR REPO_ROOT [CMAKE_ARG...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$2" && pwd)
shift 2
jobs=$(nproc 2>/dev/null || echo 2)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ghostcc-downstream.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
  echo "run_downstream: FAIL: $*" >&2
  exit 1
}

# Runs a command, its output in $tmp/log; shows the log if it fails.
logged() {
  if ! "$@" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    fail "$*"
  fi
}

# The ghostcc: generating lines of the last build, as "target target ...".
generated() {
  sed -n 's/.*ghostcc: generating \([^ ]*\) .*/\1/p' "$tmp/log" | sort | tr '\n' ' '
}

# build WHAT EXPECTED: builds and checks which models were generated.
build() {
  logged cmake --build "$tmp/build" -j "$jobs"
  got=$(generated)
  [ "$got" = "$2" ] || { cat "$tmp/log" >&2; fail "$1: generated '$got', expected '$2'"; }
  echo "ok: $1: generated '${2% }'"
}

prefix=$tmp/prefix
logged cmake --install "$build" --prefix "$prefix"
[ -x "$prefix/bin/ghostcc" ] || fail "no $prefix/bin/ghostcc after install"
[ -f "$prefix/lib/cmake/ghostcc/ghostccConfig.cmake" ] || fail "no package config installed"

# A copy laid out like the repository (tests/downstream names
# ../../specs/ghostnet.yaml), so that touching the spec leaves the repo alone.
mkdir -p "$tmp/src/tests" "$tmp/src/specs"
cp -R "$root/tests/downstream" "$tmp/src/tests/downstream"
cp "$root/specs/ghostnet.yaml" "$tmp/src/specs/ghostnet.yaml"
src=$tmp/src/tests/downstream
spec=$tmp/src/specs/ghostnet.yaml

logged cmake -S "$src" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release "$@"
build "first build" "big_model small_model tiny tiny-copy "
exe=$(head -n 1 "$tmp/build/small_model.ghostcc-args")
[ "$exe" = "$prefix/bin/ghostcc" ] || fail "ran '$exe', not the installed ghostcc"

run() {
  "$tmp/build/downstream" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "downstream exited $?"; }
  cat "$tmp/out"
  for want in "$@"; do
    grep -q "^$want" "$tmp/out" || fail "no '$want' in the output"
  done
}
run "ghost_small: input 3x224x224, output 1000," \
    "ghost_big: input 3x160x160, output 1000," "tiny: output 1.5 3 10" \
    "tiny-copy: output 1.5 3 10"

build "nothing changed" ""

# Make compares times: let the clock move past the last generation.
sleep 1
touch "$spec"
build "spec touched" "big_model small_model "

sleep 1
touch "$src/tiny.safetensors"
build "weights touched" "tiny tiny-copy "

# New arguments (a reconfigure with another resolution) regenerate that model.
logged cmake "$tmp/build" -DSMALL_RESOLUTION=192
build "SMALL_RESOLUTION=192" "small_model "
run "ghost_small: input 3x192x192, output 1000," "ghost_big: input 3x160x160,"

# No weights: an error when configuring, naming the target and the fix.
mkdir -p "$tmp/noweights"
cat >"$tmp/noweights/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(noweights LANGUAGES C)
find_package(ghostcc REQUIRED)
ghostcc_add_model(net "$spec" WIDTH 0.5)
EOF
if cmake -S "$tmp/noweights" -B "$tmp/noweights/build" \
     -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/log" 2>&1; then
  fail "a model without weights configured"
fi
grep -q "ghostcc_add_model(net): no weights" "$tmp/log" ||
  { cat "$tmp/log" >&2; fail "no clear message for a model without weights"; }
echo "ok: no weights: configure error"

# A cross build (the host compiler posing as an aarch64 one): the package is
# found with the root path restricted to the target, and the generation runs
# the host ghostcc itself, not through the target's emulator (/bin/false).
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$tmp/build/CMakeCache.txt")
cat >"$tmp/cross.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER "$cc")
set(CMAKE_CROSSCOMPILING_EMULATOR /bin/false)
set(CMAKE_FIND_ROOT_PATH "$tmp/sysroot")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
mkdir -p "$tmp/sysroot"
logged cmake -S "$src" -B "$tmp/cross" -DCMAKE_TOOLCHAIN_FILE="$tmp/cross.cmake" \
  -Dghostcc_DIR="$prefix/lib/cmake/ghostcc"
grep -q 'CMAKE_CROSSCOMPILING "TRUE"' "$tmp"/cross/CMakeFiles/*/CMakeSystem.cmake ||
  fail "the cross configuration is not cross-compiling"
logged cmake --build "$tmp/cross" --target tiny
[ -f "$tmp/cross/tiny/tiny.c" ] || fail "cross build: tiny.c not generated"
echo "ok: cross build runs the host ghostcc"

echo "run_downstream: all passed"
