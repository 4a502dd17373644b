// Packs a 3x3 convolution's weight for ghr_conv_winograd: each filter g
// becomes U = G g G^T (F(2x2, 3x3)), in the layout defined at the top of
// runtime/conv_winograd.c, [16][ceil(oc / MR)][ic][MR] zero padded, so each
// step of the micro-kernel's K loop reads the MR weights of one point and
// input channel contiguously. Computed in double, rounded once.
#include "pack.h"

#include <string.h>

// ghr_conv_winograd's panel height GHR_WINO_MR for each ISA; the two must
// agree.
static int winograd_mr(Isa isa) {
  switch (isa) {
  case ISA_AVX512: return 16;
  case ISA_AVX2: return 4;
  case ISA_NEON: return 4;
  case ISA_SCALAR: return 4;
  }
  return 4;
}

size_t winograd_packed_floats(Isa isa, int oc, int ic) {
  const int mr = winograd_mr(isa);
  const size_t panels = (size_t)(oc + mr - 1) / mr;
  return 16 * panels * (size_t)ic * mr;
}

void winograd_pack(Isa isa, const float *weight, int oc, int ic, float *dst) {
  static const double g_matrix[4][3] = {
      {1.0, 0.0, 0.0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0.0, 0.0, 1.0}};
  const int mr = winograd_mr(isa);
  const size_t panels = (size_t)(oc + mr - 1) / mr;
  memset(dst, 0, winograd_packed_floats(isa, oc, ic) * sizeof *dst);
  for (int o = 0; o < oc; ++o)
    for (int c = 0; c < ic; ++c) {
      const float *g = weight + ((size_t)o * ic + c) * 9;
      double gg[4][3];  // G g
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j)
          gg[i][j] = g_matrix[i][0] * g[j] + g_matrix[i][1] * g[3 + j] +
                     g_matrix[i][2] * g[6 + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const double u = gg[i][0] * g_matrix[j][0] +
                           gg[i][1] * g_matrix[j][1] +
                           gg[i][2] * g_matrix[j][2];
          const size_t xi = (size_t)i * 4 + j;
          dst[((xi * panels + (size_t)o / mr) * ic + c) * mr + o % mr] =
              (float)u;
        }
    }
}
