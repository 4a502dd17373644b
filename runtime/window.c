// Pooling windows clipped to the input, shared by the pooling kernels.
#include "ghr.h"

// The input cells [*lo, *hi) that output cell o's window of k cells covers
// on an axis of `size` cells, after clipping away the padding.
GHR_API void ghr_window(int o, int stride, int pad, int k, int size,
                        int *lo, int *hi) {
  int first = o * stride - pad;
  *hi = first + k < size ? first + k : size;
  *lo = first < 0 ? 0 : first;
}

