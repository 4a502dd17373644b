# Cross-compiling for 64-bit ARM Linux with Debian's cross toolchain
# (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross); programs built here run on
# this machine under qemu-user, which ctest and CMake use as the emulator:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=<ghostcc>/cmake/aarch64-linux-gnu.cmake
# ghostcc itself stays a host program (find_package(ghostcc) finds the
# installed one; pass -Dghostcc_DIR=<prefix>/lib/cmake/ghostcc, as the
# package search is limited to the target's root below).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(GHOSTCC_AARCH64_ROOT /usr/aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L ${GHOSTCC_AARCH64_ROOT})

# Libraries and headers from the target's root only; programs from the host.
set(CMAKE_FIND_ROOT_PATH ${GHOSTCC_AARCH64_ROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
