#!/bin/sh
# Every test: unit tests, bad-input tests and golden tests against PyTorch,
# first in a normal build, then under AddressSanitizer + UBSan.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/build.sh build -DGHOSTCC_TESTS=ON
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")
./scripts/build.sh build-asan -DGHOSTCC_TESTS=ON -DGHOSTCC_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  ctest --output-on-failure --no-tests=error -j "$jobs")
echo "all tests passed"
