// Average pooling with zero padding and PyTorch's AvgPool2d divisors.
#include "ghr.h"
#include "ghr_kernels.h"

GHR_API void ghr_avgpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int count_include_pad, int act) {
  for (int ch = 0; ch < c; ++ch) {
    const float *src = in + (size_t)ch * ih * iw;  // in (c, ih, iw)
    float *dst = out + (size_t)ch * oh * ow;       // out (c, oh, ow)
    for (int oy = 0; oy < oh; ++oy) {
      int y0, y1, x0, x1;
      ghr_window(oy, sh, ph, kh, ih, &y0, &y1);
      for (int ox = 0; ox < ow; ++ox) {
        ghr_window(ox, sw, pw, kw, iw, &x0, &x1);
        float sum = 0.0f;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) sum += src[(size_t)y * iw + x];
        // With output sizes rounded down (no ceil_mode), no window reaches
        // past the padding, so counting padding makes every divisor kh*kw.
        const int divisor = count_include_pad ? kh * kw : (y1 - y0) * (x1 - x0);
        dst[(size_t)oy * ow + ox] = ghr_activate(sum / (float)divisor, act);
      }
    }
  }
}
