// ShuffleNet channel shuffle: transpose (groups, c/groups) channel blocks.
#include "ghr.h"

GHR_API void ghr_channel_shuffle(const float *in, float *out, int c, int hw,
                                 int groups, int act) {
  const int per_group = c / groups;
  for (int g = 0; g < groups; ++g) {
    for (int j = 0; j < per_group; ++j) {
      // in channel g*per_group + j becomes out channel j*groups + g.
      const float *src = in + (size_t)(g * per_group + j) * hw;
      float *dst = out + (size_t)(j * groups + g) * hw;
      for (int i = 0; i < hw; ++i) dst[i] = ghr_activate(src[i], act);
    }
  }
}
