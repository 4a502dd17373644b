// Packs a fully connected layer's weight (n_out, n_in) for ghr_linear: the
// layout is defined at the top of runtime/linear.c, blocks of ROWS outputs
// by vectors of inputs, zero padded, so a block is one contiguous stream.
#include "pack.h"

#include <string.h>

// GHR_LINEAR_ROWS (runtime/linear.c); the two must agree.
enum { LINEAR_ROWS = 4 };

// GHR_VW of runtime/ghr_simd.h for each ISA.
static int linear_vector_width(Isa isa) {
  switch (isa) {
  case ISA_AVX512: return 16;
  case ISA_AVX2: return 8;
  case ISA_NEON: return 4;
  case ISA_SCALAR: return 1;
  }
  return 1;
}

size_t linear_packed_floats(Isa isa, int n_out, int n_in) {
  const size_t vw = (size_t)linear_vector_width(isa);
  const size_t blocks = ((size_t)n_out + LINEAR_ROWS - 1) / LINEAR_ROWS;
  return blocks * LINEAR_ROWS * (((size_t)n_in + vw - 1) / vw * vw);
}

void linear_pack(Isa isa, const float *weight, int n_out, int n_in,
                 float *dst) {
  const size_t vw = (size_t)linear_vector_width(isa);
  const size_t vecs = ((size_t)n_in + vw - 1) / vw;
  memset(dst, 0, linear_packed_floats(isa, n_out, n_in) * sizeof *dst);
  for (size_t o = 0; o < (size_t)n_out; ++o) {
    float *block = dst + o / LINEAR_ROWS * vecs * LINEAR_ROWS * vw;
    for (size_t i = 0; i < (size_t)n_in; ++i)
      block[(i / vw * LINEAR_ROWS + o % LINEAR_ROWS) * vw + i % vw] =
          weight[o * (size_t)n_in + i];
  }
}
