// Average pooling with zero padding and PyTorch's AvgPool2d divisors. Each
// tap of the window sweeps the output row over the columns where it lands
// inside the input, so the inner loop has no bounds test and vectorises.
#include "ghr.h"

GHR_API void ghr_avgpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int count_include_pad, int act) {
  // Each tap's column range, the same on every row: computed once (for
  // the first 16 taps; wider windows compute the rest per row).
  int tap_lo[16], tap_hi[16];
  for (int kx = 0; kx < kw && kx < 16; ++kx)
    ghr_tap_range(kx - pw, sw, iw, ow, &tap_lo[kx], &tap_hi[kx]);
  for (int ch = 0; ch < c; ++ch) {
    const float *src = in + (size_t)ch * ih * iw;  // in (c, ih, iw)
    for (int oy = 0; oy < oh; ++oy) {
      float *dst = out + ((size_t)ch * oh + oy) * ow;  // out (c, oh, ow)
      for (int ox = 0; ox < ow; ++ox) dst[ox] = 0.0f;
      int rows = 0;  // window rows inside the input
      for (int ky = 0; ky < kh; ++ky) {
        const int y = oy * sh - ph + ky;
        if (y < 0 || y >= ih) continue;
        ++rows;
        const float *row = src + (size_t)y * iw;
        for (int kx = 0; kx < kw; ++kx) {
          int lo = kx < 16 ? tap_lo[kx] : 0, hi = kx < 16 ? tap_hi[kx] : 0;
          if (kx >= 16) ghr_tap_range(kx - pw, sw, iw, ow, &lo, &hi);
          const float *s = row + kx - pw;  // s[ox * sw] for ox in [lo, hi)
          for (int ox = lo; ox < hi; ++ox) dst[ox] += s[ox * sw];
        }
      }
      for (int ox = 0; ox < ow; ++ox) {
        // With output sizes rounded down (no ceil_mode), no window reaches
        // past the padding, so counting padding makes every divisor kh*kw.
        int cols = kw;
        if (!count_include_pad) {
          const int first = ox * sw - pw;
          const int x0 = first < 0 ? 0 : first;
          const int x1 = first + kw < iw ? first + kw : iw;
          cols = x1 - x0;
        }
        const int divisor = count_include_pad ? kh * kw : rows * cols;
        dst[ox] = ghr_activate(dst[ox] / (float)divisor, act);
      }
    }
  }
}
