// Fully connected layer (classifier head) with fused bias and activation.
#include "ghr.h"

GHR_API void ghr_linear(const float *in, float *out, int n_in, int n_out,
                        const float *weight, const float *bias, int act) {
  for (int o = 0; o < n_out; ++o) {
    const float *row = weight + (size_t)o * n_in;  // weight (n_out, n_in)
    float sum = bias ? bias[o] : 0.0f;
    for (int i = 0; i < n_in; ++i) sum += row[i] * in[i];
    out[o] = ghr_activate(sum, act);
  }
}
