// Max pooling; padding cells never win (runtime/pool.h).
#include "pool.h"
#include <math.h>

GHR_API void ghr_maxpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int act) {
  const GhrPool p = {in, ih, iw, kh, kw, sh, sw, ph, pw, 1, 0, act, -INFINITY};
  ghr_pool(&p, c, out, oh, ow);
}
