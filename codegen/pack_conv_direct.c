// Packs a dense KxK convolution's weight for ghr_conv_direct: the layout is
// defined at the top of runtime/conv_direct.c, [ceil(oc / MR)][ic][kh][kw][MR]
// zero padded, so each step of the kernel's K loop over (channel, tap)
// reads the MR weights of one panel contiguously.
#include "pack.h"

#include <string.h>

// ghr_conv_direct's panel height GHR_CONV_DIRECT_MR for each ISA; the two
// must agree.
static int conv_direct_mr(Isa isa) {
  switch (isa) {
  case ISA_AVX512: return 16;
  case ISA_AVX2: return 8;
  case ISA_NEON: return 8;
  case ISA_SCALAR: return 4;
  }
  return 4;
}

size_t conv_direct_packed_floats(Isa isa, int oc, int ic, int kh, int kw) {
  const int mr = conv_direct_mr(isa);
  const size_t panels = (size_t)(oc + mr - 1) / mr;
  return panels * (size_t)ic * kh * kw * mr;
}

void conv_direct_pack(Isa isa, const float *weight, int oc, int ic, int kh,
                      int kw, float *dst) {
  const int mr = conv_direct_mr(isa);
  const size_t k = (size_t)ic * kh * kw;  // (channel, tap) rows of a panel
  memset(dst, 0, conv_direct_packed_floats(isa, oc, ic, kh, kw) * sizeof *dst);
  for (int o = 0; o < oc; ++o) {
    float *panel = dst + (size_t)(o / mr) * k * mr + o % mr;
    for (size_t i = 0; i < k; ++i)  // weight (oc, ic, kh, kw)
      panel[i * mr] = weight[(size_t)o * k + i];
  }
}
