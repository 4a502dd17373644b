#!/bin/sh
# Every test: unit tests, bad-input tests and golden tests against PyTorch,
# first in a normal build, then under AddressSanitizer + UBSan; then the
# fuzz targets briefly.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/build.sh build -DGHOSTCC_TESTS=ON
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")
./scripts/build.sh build-asan -DGHOSTCC_TESTS=ON -DGHOSTCC_SANITIZE=ON
# Under the sanitizers, all but the aarch64 runs (their programs are built
# by the cross compiler, without sanitizers, and ran above) and the AVX2
# repeats (the AVX-512 ones cover the SIMD kernels).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  ctest --output-on-failure --no-tests=error -j "$jobs" -E "aarch64|x86-64-v3")
# The fuzz targets: their seeds and regressions, then 60 s each (libFuzzer).
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-19 -DGHOSTCC_FUZZ=ON \
  -DGHOSTCC_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"
ctest --test-dir build-fuzz/fuzz --output-on-failure --no-tests=error
echo "all tests passed"
