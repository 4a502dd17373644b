// Per-channel scaling (squeeze-and-excitation gate) with fused activation.
#include "ghr.h"

GHR_API void ghr_mul_channel(const float *x, const float *gate, float *out,
                             int c, int hw, int act) {
  for (int ch = 0; ch < c; ++ch) {
    const float g = gate[ch];
    const float *src = x + (size_t)ch * hw;  // x, out (c, hw)
    float *dst = out + (size_t)ch * hw;
    for (int i = 0; i < hw; ++i) dst[i] = ghr_activate(src[i] * g, act);
  }
}
