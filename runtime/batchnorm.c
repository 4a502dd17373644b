// Inference batch normalisation (running statistics) with fused activation.
#include "ghr.h"
#include <math.h>

GHR_API void ghr_batchnorm(const float *in, float *out, int c, int hw,
                           const float *gamma, const float *beta,
                           const float *mean, const float *var, float eps,
                           int act) {
  for (int ch = 0; ch < c; ++ch) {
    // gamma * (x - mean) / sqrt(var + eps) + beta, folded to x * scale + shift.
    const float scale = gamma[ch] / sqrtf(var[ch] + eps);
    const float shift = beta[ch] - mean[ch] * scale;
    const float *src = in + (size_t)ch * hw;  // in, out (c, hw)
    float *dst = out + (size_t)ch * hw;
    for (int i = 0; i < hw; ++i)
      dst[i] = ghr_activate(src[i] * scale + shift, act);
  }
}
