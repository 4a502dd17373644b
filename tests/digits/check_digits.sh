#!/bin/sh
# The trained digits network, end to end: compiles examples/digits/digits.yaml
# with the committed weights, builds examples/digits/digits_demo.c against
# the generated C and classifies the committed test split. Fails unless every
# test image gets PyTorch's prediction (pytorch_predictions.txt) and the
# accuracy is at least 97%. Needs no Python.
#   check_digits.sh --ghostcc PATH [--cc CC] [--cflags "FLAGS"]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
ghostcc="" cc=${CC:-cc} cflags=""
while [ $# -gt 0 ]; do
  case $1 in
    --ghostcc) ghostcc=$2; shift 2 ;;
    --cc) cc=$2; shift 2 ;;
    --cflags) cflags=$2; shift 2 ;;
    --cflags=*) cflags=${1#--cflags=}; shift ;;
    *) echo "check_digits.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$ghostcc" ] || { echo "usage: check_digits.sh --ghostcc PATH [--cc CC] [--cflags FLAGS]" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
digits=$root/examples/digits
"$ghostcc" "$digits/digits.yaml" --weights "$digits/digits.safetensors" \
  -o "$tmp/model"
# shellcheck disable=SC2086
"$cc" -std=c11 -O2 -Wall -Wextra -Werror $cflags -I "$tmp/model" \
  "$digits/digits_demo.c" "$tmp/model"/*.c -lm -o "$tmp/digits_demo"

status=0
"$tmp/digits_demo" "$digits" >"$tmp/out.txt" || status=$?
cat "$tmp/out.txt"
if [ "$status" -ne 0 ]; then
  echo "FAIL: digits_demo exited with $status (a prediction differs from PyTorch's?)" >&2
  exit 1
fi
# "accuracy (generated C): 354/355 = 99.72%"
line=$(grep '^accuracy (generated C):' "$tmp/out.txt") ||
  { echo "FAIL: no accuracy line" >&2; exit 1; }
correct=$(echo "$line" | sed 's|.*: \([0-9]*\)/\([0-9]*\) .*|\1|')
total=$(echo "$line" | sed 's|.*: \([0-9]*\)/\([0-9]*\) .*|\2|')
if [ $((correct * 100)) -lt $((total * 97)) ]; then
  echo "FAIL: accuracy $correct/$total is below 97%" >&2
  exit 1
fi
grep -q "^predictions identical to PyTorch's: $total/$total" "$tmp/out.txt" ||
  { echo "FAIL: predictions differ from PyTorch's" >&2; exit 1; }
echo "PASS: $correct/$total correct, every prediction identical to PyTorch's"
