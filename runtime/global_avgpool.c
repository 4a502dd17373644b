// Global average pooling: one mean per channel, with fused activation.
// Each channel's sum runs in vector lanes, so it is not one long chain of
// dependent additions.
#include "ghr.h"
#include "ghr_simd.h"

GHR_API void ghr_global_avgpool(const float *in, float *out, int c, int hw,
                                int act) {
  const int tail = hw % GHR_VW;  // cells past the last full vector
  const int body = hw - tail;
  for (int ch = 0; ch < c; ++ch) {
    const float *src = in + (size_t)ch * hw;  // in (c, hw)
    ghr_vec sum = ghr_vzero();
    for (int i = 0; i < body; i += GHR_VW) sum = ghr_vadd(sum, ghr_vload(src + i));
    if (tail) sum = ghr_vadd(sum, ghr_vload_n(src + body, tail));
    out[ch] = ghr_activate(ghr_vsum(sum) / (float)hw, act);
  }
}
