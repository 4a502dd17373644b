// The same GhostNet from both backends, cross-compiled for aarch64: each
// must run, and their logits agree to 1e-4 of the largest with the same
// top-1. Exits 0 iff they do.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "net_c.h"
#include "net_llvm.h"

#if NET_C_INPUT_SIZE != NET_LLVM_INPUT_SIZE || \
    NET_C_OUTPUT_SIZE != NET_LLVM_OUTPUT_SIZE
#error "the two models differ in shape"
#endif

static _Alignas(64) unsigned char arena_c[NET_C_ARENA_BYTES];
static _Alignas(64) unsigned char arena_llvm[NET_LLVM_ARENA_BYTES];
static float input[NET_C_INPUT_SIZE];
static float out_c[NET_C_OUTPUT_SIZE], out_llvm[NET_LLVM_OUTPUT_SIZE];

static size_t argmax(const float *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

int main(void) {
  for (size_t i = 0; i < NET_C_INPUT_SIZE; i++)
    input[i] = sinf(0.01f * (float)i);
  if (net_c_run(input, out_c, arena_c) != NET_C_OK ||
      net_llvm_run(input, out_llvm, arena_llvm) != NET_LLVM_OK) {
    fprintf(stderr, "a model did not run\n");
    return 1;
  }
  double max_ref = 0.0, max_diff = 0.0;
  // Comparisons, not fmax: aarch64-linux-gnu-gcc 12 crashes vectorising an
  // fmax reduction at -O3. A NaN difference becomes the maximum.
  for (size_t i = 0; i < NET_C_OUTPUT_SIZE; i++) {
    double ref = fabs((double)out_c[i]);
    double diff = fabs((double)out_c[i] - (double)out_llvm[i]);
    if (ref > max_ref)
      max_ref = ref;
    if (!(diff <= max_diff))
      max_diff = diff;
  }
  size_t top_c = argmax(out_c, NET_C_OUTPUT_SIZE);
  size_t top_llvm = argmax(out_llvm, NET_LLVM_OUTPUT_SIZE);
  printf("max |C - LLVM| = %.3g (max |C| = %.3g), top-1 %zu and %zu\n",
         max_diff, max_ref, top_c, top_llvm);
  if (!(max_diff <= 1e-4 * max_ref) || top_c != top_llvm) {
    printf("FAIL\n");
    return 1;
  }
  printf("PASS\n");
  return 0;
}
