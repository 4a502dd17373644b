// The runtime kernels as LLVM bitcode: for each instruction set, every
// runtime/*.c compiled by clang-19 and linked into one module while ghostcc
// is built (cmake/llvm_backend.cmake), then embedded in ghostcc
// (cmake/embed_bitcode.cmake). codegen/emit_llvm.c reads the module for the
// target and builds the model in it.
#ifndef GHOSTCC_RUNTIME_BITCODE_H
#define GHOSTCC_RUNTIME_BITCODE_H

#include <stddef.h>

typedef struct {
  const char *name;  // "x86_64", "x86_64_v3", "x86_64_v4" or "aarch64"
  const unsigned char *bytes;
  size_t len;
} RuntimeBitcode;

extern const RuntimeBitcode runtime_bitcode[];
extern const int n_runtime_bitcode;

#endif
