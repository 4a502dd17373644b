#!/bin/sh
# Installs everything ghostcc needs to build and test, from Debian packages.
# Idempotent; works on a fresh Debian 12 machine.
set -eu
packages="build-essential cmake pkg-config clang libyaml-dev libjansson-dev
  libcriterion-dev python3 python3-torch python3-numpy python3-torchvision
  python3-sklearn libstb-dev clang-19 libclang-rt-19-dev locales
  llvm-19-dev zlib1g-dev libzstd-dev qemu-user gcc-aarch64-linux-gnu
  libc6-dev-arm64-cross"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $sudo apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
else
  echo "setup: all packages present"
fi
