#!/bin/sh
# GhostNet timing: build ghostcc, compile specs/ghostnet.yaml to C, build the
# generated code with a small demo program and run it (random weights: the
# classes mean nothing; the point is the pipeline and the time).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh build -DGHOSTCC_TESTS=OFF
rm -rf build/demo-model
./build/ghostcc specs/ghostnet.yaml --random-weights 1 -o build/demo-model
ls -l build/demo-model
echo "compiling the generated C..."
cc -std=c11 -O3 -march=native -Wall -Wextra -Werror -I build/demo-model \
  examples/demo/demo.c build/demo-model/*.c -lm -o build/demo
./build/demo
