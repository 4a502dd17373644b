// Global average pooling: one mean per channel, with fused activation.
#include "ghr.h"

GHR_API void ghr_global_avgpool(const float *in, float *out, int c, int hw,
                                int act) {
  for (int ch = 0; ch < c; ++ch) {
    const float *src = in + (size_t)ch * hw;  // in (c, hw)
    float sum = 0.0f;
    for (int i = 0; i < hw; ++i) sum += src[i];
    out[ch] = ghr_activate(sum / (float)hw, act);
  }
}
