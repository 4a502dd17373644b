// Packs a 1x1 convolution's weight for ghr_conv1x1: the layout is defined
// at the top of runtime/conv1x1.c, [ceil(oc / MR)][ic][MR] zero padded, so
// the kernel's K loop reads the MR weights of one input row contiguously.
// MR depends on the layer: small maps take channel tiles on AVX-512.
#include "pack.h"

#include <string.h>

// ghr_conv1x1_uses_channel_tiles (runtime/conv1x1.c) for this ISA: the two
// must agree, as must these constants with GHR_CONV1X1_MR / 2 (4), GHR_VW
// (16), GHR_CONV1X1_TRANSPOSE_ROWS and GHR_CONV1X1_SMALL_MAX_IC.
static int conv1x1_uses_channel_tiles(Isa isa, int ic, int oc, int hw) {
  enum { HALF = 4, VW = 16, TRANSPOSE_ROWS = 6, MAX_IC = 2048 };
  const long long row_lanes =
      (long long)((oc + HALF - 1) / HALF * HALF) * ((hw + VW - 1) / VW * VW);
  const long long channel_lanes = (long long)((oc + VW - 1) / VW * VW) * hw;
  return isa == ISA_AVX512 && ic <= MAX_IC &&
         channel_lanes * (ic + TRANSPOSE_ROWS) < row_lanes * ic;
}

// ghr_conv1x1's tile height (GHR_CONV1X1_MR, or GHR_CONV1X1_CHANNEL_MR for
// channel tiles) for each ISA; the two must agree.
static int conv1x1_mr(Isa isa, int ic, int oc, int hw) {
  if (conv1x1_uses_channel_tiles(isa, ic, oc, hw)) return 32;
  switch (isa) {
  case ISA_AVX512: return 8;
  case ISA_AVX2: return 4;
  case ISA_NEON: return 8;
  case ISA_SCALAR: return 4;
  }
  return 4;
}

size_t conv1x1_packed_floats(Isa isa, int oc, int ic, int hw) {
  const int mr = conv1x1_mr(isa, ic, oc, hw);
  const size_t tiles = (size_t)(oc + mr - 1) / mr;
  return tiles * (size_t)ic * mr;
}

void conv1x1_pack(Isa isa, const float *weight, int oc, int ic, int hw,
                  float *dst) {
  const int mr = conv1x1_mr(isa, ic, oc, hw);
  memset(dst, 0, conv1x1_packed_floats(isa, oc, ic, hw) * sizeof *dst);
  for (int o = 0; o < oc; ++o) {
    const int t = o / mr, r = o % mr;
    for (int k = 0; k < ic; ++k)  // weight (oc, ic)
      dst[((size_t)t * ic + k) * mr + r] = weight[(size_t)o * ic + k];
  }
}
