// Elementwise sum (residual connections) with fused activation.
#include "ghr.h"

// Each out[i] depends only on a[i] and b[i], so out may alias a or b.
GHR_API void ghr_add(const float *a, const float *b, float *out, int n,
                     int act) {
  for (int i = 0; i < n; ++i) out[i] = ghr_activate(a[i] + b[i], act);
}
