// Packs a 1x1 convolution's weight for ghr_conv1x1: the layout is defined
// at the top of runtime/conv1x1.c, [ceil(oc / MR)][ic][MR] zero padded, so
// the kernel's K loop reads the MR weights of one input row contiguously.
#include "pack.h"

#include <string.h>

// ghr_conv1x1's tile height GHR_CONV1X1_MR for each ISA; the two must agree.
static int conv1x1_mr(Isa isa) {
  switch (isa) {
  case ISA_AVX512: return 8;
  case ISA_AVX2: return 4;
  case ISA_NEON: return 8;
  case ISA_SCALAR: return 4;
  }
  return 4;
}

size_t conv1x1_packed_floats(Isa isa, int oc, int ic) {
  const int mr = conv1x1_mr(isa);
  const size_t tiles = (size_t)(oc + mr - 1) / mr;
  return tiles * (size_t)ic * mr;
}

void conv1x1_pack(Isa isa, const float *weight, int oc, int ic, float *dst) {
  const int mr = conv1x1_mr(isa);
  memset(dst, 0, conv1x1_packed_floats(isa, oc, ic) * sizeof *dst);
  for (int o = 0; o < oc; ++o) {
    const int t = o / mr, r = o % mr;
    for (int k = 0; k < ic; ++k)  // weight (oc, ic)
      dst[((size_t)t * ic + k) * mr + r] = weight[(size_t)o * ic + k];
  }
}
