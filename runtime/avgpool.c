// Average pooling with zero padding and PyTorch's AvgPool2d divisors
// (runtime/pool.h).
#include "pool.h"

GHR_API void ghr_avgpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int count_include_pad, int act) {
  const GhrPool p = {in, ih, iw, kh, kw, sh, sw, ph, pw,
                     0, count_include_pad, act, 0.0f};
  ghr_pool(&p, c, out, oh, ow);
}
