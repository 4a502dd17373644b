#!/bin/sh
# The main job: build ghostcc, compile the trained digits network
# (examples/digits/digits.yaml with the committed weights) to C, build a small
# demo program against the generated code and classify the whole test split
# of scikit-learn's handwritten digits: accuracy, confusion matrix, a few
# digits drawn in the terminal, us per image, and the check that every
# prediction is PyTorch's. Then classify a PNG of a digit with
# examples/classify. Needs neither Python nor training.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh build -DGHOSTCC_TESTS=OFF
cflags="-std=c11 -O3 -march=native -Wall -Wextra -Werror"

rm -rf build/digits-model build/classify-model
./build/ghostcc examples/digits/digits.yaml \
  --weights examples/digits/digits.safetensors -o build/digits-model
# shellcheck disable=SC2086
cc $cflags -I build/digits-model examples/digits/digits_demo.c \
  build/digits-model/*.c -lm -o build/digits_demo
./build/digits_demo examples/digits

echo
echo "examples/classify on a PNG of a digit (dark ink on white, 32x32):"
./build/ghostcc examples/digits/digits.yaml \
  --weights examples/digits/digits.safetensors --name model \
  -o build/classify-model
# shellcheck disable=SC2086
cc $cflags -I build/classify-model examples/classify/classify.c \
  build/classify-model/*.c -lm -o build/classify
./build/classify --invert --labels examples/digits/labels.txt -k 3 --show \
  examples/digits/samples/7.png
