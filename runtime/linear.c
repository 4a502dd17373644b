// Fully connected layer (classifier head, and 1x1 convolutions of 1x1 maps)
// with fused bias and activation: a matrix-vector product, bound by reading
// the weights, often from DRAM.
//
// Packed weights, written at compile time by codegen/pack_linear.c (the two
// must agree): [ceil(n_out / ROWS)][ceil(n_in / GHR_VW)][ROWS][GHR_VW]
// floats, zero padded. Output o = b*ROWS + r, input i = v*GHR_VW + l is
// packed[((b*vecs + v)*ROWS + r)*GHR_VW + l] with vecs = ceil(n_in /
// GHR_VW). A block of ROWS outputs reads one contiguous stream, which the
// hardware prefetchers follow better than ROWS strided rows; each row keeps
// its own vector accumulator, reduced once at the end.
#include "ghr.h"
#include "ghr_simd.h"

// ROWS: the packing's block height; change it here and in linear_rows
// (codegen/pack_linear.c) together.
#define GHR_LINEAR_ROWS 4

GHR_API void ghr_linear(const float *in, float *out, int n_in, int n_out,
                        const float *packed, const float *bias, int act) {
  enum { ROWS = GHR_LINEAR_ROWS };
  const int tail = n_in % GHR_VW;  // inputs in the last, partial vector
  const int full = n_in / GHR_VW;  // whole vectors of inputs
  const size_t block = (size_t)(full + (tail > 0)) * ROWS * GHR_VW;
  for (int o = 0; o < n_out; o += ROWS) {
    const float *w = packed + (size_t)(o / ROWS) * block;
    ghr_vec s0 = ghr_vzero(), s1 = ghr_vzero(), s2 = ghr_vzero(),
            s3 = ghr_vzero();
    for (int v = 0; v < full; ++v, w += ROWS * GHR_VW) {
      const ghr_vec x = ghr_vload(in + (size_t)v * GHR_VW);
      s0 = ghr_vfma(ghr_vload(w), x, s0);
      s1 = ghr_vfma(ghr_vload(w + GHR_VW), x, s1);
      s2 = ghr_vfma(ghr_vload(w + 2 * GHR_VW), x, s2);
      s3 = ghr_vfma(ghr_vload(w + 3 * GHR_VW), x, s3);
    }
    if (tail) {  // the padding's weights are zeros
      const ghr_vec x = ghr_vload_n(in + (size_t)full * GHR_VW, tail);
      s0 = ghr_vfma(ghr_vload(w), x, s0);
      s1 = ghr_vfma(ghr_vload(w + GHR_VW), x, s1);
      s2 = ghr_vfma(ghr_vload(w + 2 * GHR_VW), x, s2);
      s3 = ghr_vfma(ghr_vload(w + 3 * GHR_VW), x, s3);
    }
    const float sums[ROWS] = {ghr_vsum(s0), ghr_vsum(s1), ghr_vsum(s2),
                              ghr_vsum(s3)};
    for (int r = 0; r < ROWS && o + r < n_out; ++r)
      out[o + r] = ghr_activate(sums[r] + (bias ? bias[o + r] : 0.0f), act);
  }
}
