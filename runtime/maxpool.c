// Max pooling; padding cells never win.
#include "ghr.h"
#include "ghr_kernels.h"
#include <math.h>

GHR_API void ghr_maxpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int act) {
  for (int ch = 0; ch < c; ++ch) {
    const float *src = in + (size_t)ch * ih * iw;  // in (c, ih, iw)
    float *dst = out + (size_t)ch * oh * ow;       // out (c, oh, ow)
    for (int oy = 0; oy < oh; ++oy) {
      int y0, y1, x0, x1;
      ghr_window(oy, sh, ph, kh, ih, &y0, &y1);
      for (int ox = 0; ox < ow; ++ox) {
        ghr_window(ox, sw, pw, kw, iw, &x0, &x1);
        float best = -INFINITY;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) {
            const float v = src[(size_t)y * iw + x];
            best = v > best ? v : best;
          }
        dst[(size_t)oy * ow + ox] = ghr_activate(best, act);
      }
    }
  }
}
