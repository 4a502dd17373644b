// Contiguous copy (concat parts, slices, flatten) with fused activation.
#include "ghr.h"
#include <string.h>

GHR_API void ghr_copy(const float *in, float *out, int n, int act) {
  if (act == GHR_ACT_NONE) {
    // memmove rather than memcpy: an in-place flatten passes in == out.
    memmove(out, in, (size_t)n * sizeof *in);
    return;
  }
  for (int i = 0; i < n; ++i) out[i] = ghr_activate(in[i], act);
}
