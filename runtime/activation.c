// Standalone elementwise activation; in == out is allowed.
#include "ghr.h"

GHR_API void ghr_activation(const float *in, float *out, int n, int act) {
  for (int i = 0; i < n; ++i) out[i] = ghr_activate(in[i], act);
}
