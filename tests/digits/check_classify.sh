#!/bin/sh
# examples/classify on image files: compiles the digits network as `model`,
# builds classify.c against it, classifies the committed sample PNGs and
# JPEG / grey+alpha re-encodings of them (made by write_image.c), and checks
# that bad files and bad options fail with a clear message.
#   check_classify.sh --ghostcc PATH [--cc CC] [--cflags "FLAGS"]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
ghostcc="" cc=${CC:-cc} cflags=""
while [ $# -gt 0 ]; do
  case $1 in
    --ghostcc) ghostcc=$2; shift 2 ;;
    --cc) cc=$2; shift 2 ;;
    --cflags) cflags=$2; shift 2 ;;
    --cflags=*) cflags=${1#--cflags=}; shift ;;
    *) echo "check_classify.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$ghostcc" ] || { echo "usage: check_classify.sh --ghostcc PATH [--cc CC] [--cflags FLAGS]" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
digits=$root/examples/digits
"$ghostcc" "$digits/digits.yaml" --weights "$digits/digits.safetensors" \
  --name model -o "$tmp/model"
# shellcheck disable=SC2086
"$cc" -std=c11 -O2 -Wall -Wextra -Werror $cflags -I "$tmp/model" \
  "$root/examples/classify/classify.c" "$tmp/model"/*.c -lm -o "$tmp/classify"
# The helper is built without $cflags: stb_image_write's JPEG encoder
# overflows int shifts, which UBSan reports; it is not what is tested.
"$cc" -std=c11 -O2 -Wall -Wextra -Werror \
  "$root/tests/digits/write_image.c" -lm -o "$tmp/write_image"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Scale, mean and std come from digits.yaml's preprocess (model.h); the
# samples are dark on white.
set -- --invert --labels "$digits/labels.txt"

# expect_class DIGIT FILE [options]: the top class is DIGIT.
expect_class() {
  want=$1 file=$2
  shift 2
  if ! "$tmp/classify" "$@" -k 3 "$file" >"$tmp/out" 2>"$tmp/err"; then
    fail "$file: exit status $? ($(cat "$tmp/err"))"
    return
  fi
  top=$(grep -m1 '^  1\. class ' "$tmp/out" | awk '{print $3}')
  if [ "$top" != "$want" ]; then
    fail "$file: top class '$top', expected $want"
    cat "$tmp/out" >&2
  fi
}

# expect_error TEXT FILE [options]: exit status 1, TEXT on stderr.
expect_error() {
  want=$1 file=$2
  shift 2
  status=0
  "$tmp/classify" "$@" "$file" >"$tmp/out" 2>"$tmp/err" || status=$?
  if [ "$status" -ne 1 ]; then
    fail "$file: exit status $status, expected 1"
  elif ! grep -qF -- "$want" "$tmp/err"; then
    fail "$file: stderr '$(cat "$tmp/err")' lacks '$want'"
  elif [ -s "$tmp/out" ]; then
    fail "$file: printed a result for a bad input"
  fi
}

# The committed sample PNGs: 32x32 grey, dark on white.
for d in 0 1 2 3 4 5 6 7 8 9; do
  expect_class "$d" "$digits/samples/$d.png" "$@"
done
# The same preprocessing given on the command line.
expect_class 4 "$digits/samples/4.png" --invert --scale 255 --mean 0.5 --std 0.5
# With labels and --show.
"$tmp/classify" "$@" --show -k 1 "$digits/samples/7.png" >"$tmp/out"
grep -q '^  1\. class 7  seven  p=' "$tmp/out" || fail "no label for class 7"
[ "$(grep -c '^  |.*|$' "$tmp/out")" -eq 8 ] || fail "--show: no 8-row drawing"

# A JPEG (stb_image_write writes colour JPEGs), grey+alpha and RGB PNGs.
"$tmp/write_image" "$digits/samples/7.png" "$tmp/seven.jpg" 3
"$tmp/write_image" "$digits/samples/2.png" "$tmp/two_ga.png" 2
"$tmp/write_image" "$digits/samples/5.png" "$tmp/five_rgb.png" 3
expect_class 7 "$tmp/seven.jpg" "$@" --convert
expect_class 2 "$tmp/two_ga.png" "$@"
expect_class 5 "$tmp/five_rgb.png" "$@" --convert
expect_error "wrong channel count: the image is RGB (3 channels), the model takes 1" \
  "$tmp/seven.jpg" "$@"
expect_error "wrong channel count" "$tmp/five_rgb.png" "$@"

# Bad files.
: >"$tmp/empty.png"
echo "not an image" >"$tmp/text.png"
head -c 100 "$digits/samples/3.png" >"$tmp/trunc.png"
head -c 16 "$digits/samples/3.png" >"$tmp/trunc_header.png"
size=$(wc -c <"$tmp/seven.jpg")
head -c $((size / 2)) "$tmp/seven.jpg" >"$tmp/trunc.jpg"
head -c $((size - 2)) "$tmp/seven.jpg" >"$tmp/no_eoi.jpg"
expect_error "the file is empty" "$tmp/empty.png" "$@"
expect_error "not an image: unknown format" "$tmp/text.png" "$@"
expect_error "truncated or corrupt PNG data" "$tmp/trunc.png" "$@"
expect_error "corrupt or truncated PNG header" "$tmp/trunc_header.png" "$@"
expect_error "truncated or corrupt JPEG data" "$tmp/trunc.jpg" "$@" --convert
expect_error "truncated or corrupt JPEG data" "$tmp/no_eoi.jpg" "$@" --convert
expect_error "No such file or directory" "$tmp/missing.png" "$@"
expect_error "Is a directory" "$tmp" "$@"

# One bad file among good ones: the good ones are classified, status 1.
status=0
"$tmp/classify" "$@" -k 1 "$digits/samples/4.png" "$tmp/text.png" \
  "$digits/samples/9.png" >"$tmp/out" 2>"$tmp/err" || status=$?
[ "$status" -eq 1 ] || fail "mixed files: exit status $status, expected 1"
[ "$(grep -c '^  1\. class' "$tmp/out")" -eq 2 ] || fail "mixed files: not 2 results"

# Bad options.
printf 'a\nb\n' >"$tmp/labels2.txt"
expect_error "2 labels, but the model has 10 classes" "$digits/samples/1.png" \
  --labels "$tmp/labels2.txt"
expect_error "expected one number" "$digits/samples/1.png" --mean 0.5,0.5
expect_error "must be positive" "$digits/samples/1.png" --std 0
expect_error "expected a positive number" "$digits/samples/1.png" --scale -1
expect_error "expected a positive integer" "$digits/samples/1.png" --top 0
expect_error "unknown option" "$digits/samples/1.png" --frobnicate

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "PASS: examples/classify"
