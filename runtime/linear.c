// Fully connected layer (classifier head) with fused bias and activation.
// Four output rows at a time share each vector load of the input; each row
// keeps its own vector accumulator, reduced once at the end.
#include "ghr.h"
#include "ghr_simd.h"

GHR_API void ghr_linear(const float *in, float *out, int n_in, int n_out,
                        const float *weight, const float *bias, int act) {
  const int tail = n_in % GHR_VW;      // inputs past the last full vector
  const int body = n_in - tail;
  int o = 0;
  for (; o + 4 <= n_out; o += 4) {
    const float *r0 = weight + (size_t)o * n_in;  // weight (n_out, n_in)
    const float *r1 = r0 + n_in, *r2 = r1 + n_in, *r3 = r2 + n_in;
    ghr_vec s0 = ghr_vzero(), s1 = ghr_vzero(), s2 = ghr_vzero(),
            s3 = ghr_vzero();
    for (int i = 0; i < body; i += GHR_VW) {
      const ghr_vec x = ghr_vload(in + i);
      s0 = ghr_vfma(ghr_vload(r0 + i), x, s0);
      s1 = ghr_vfma(ghr_vload(r1 + i), x, s1);
      s2 = ghr_vfma(ghr_vload(r2 + i), x, s2);
      s3 = ghr_vfma(ghr_vload(r3 + i), x, s3);
    }
    if (tail) {
      const ghr_vec x = ghr_vload_n(in + body, tail);
      s0 = ghr_vfma(ghr_vload_n(r0 + body, tail), x, s0);
      s1 = ghr_vfma(ghr_vload_n(r1 + body, tail), x, s1);
      s2 = ghr_vfma(ghr_vload_n(r2 + body, tail), x, s2);
      s3 = ghr_vfma(ghr_vload_n(r3 + body, tail), x, s3);
    }
    const float sums[4] = {ghr_vsum(s0), ghr_vsum(s1), ghr_vsum(s2),
                           ghr_vsum(s3)};
    for (int j = 0; j < 4; ++j)
      out[o + j] = ghr_activate(sums[j] + (bias ? bias[o + j] : 0.0f), act);
  }
  for (; o < n_out; ++o) {
    const float *row = weight + (size_t)o * n_in;
    ghr_vec s = ghr_vzero();
    for (int i = 0; i < body; i += GHR_VW)
      s = ghr_vfma(ghr_vload(row + i), ghr_vload(in + i), s);
    if (tail)
      s = ghr_vfma(ghr_vload_n(row + body, tail), ghr_vload_n(in + body, tail), s);
    out[o] = ghr_activate(ghr_vsum(s) + (bias ? bias[o] : 0.0f), act);
  }
}
