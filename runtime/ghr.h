// The ghostcc runtime: the kernels generated code carries. ghostcc copies
// this header and the kernel files a model uses into the generated source,
// with GHR_API defined as `static`, so two models never share a symbol.
// Built alone (tests), the kernels are ordinary external functions.
// Tensors are f32, batch 1, NCHW, contiguous.
#ifndef GHR_H
#define GHR_H

#include <stddef.h>

#ifndef GHR_API
#define GHR_API
#endif

// Helpers every kernel file may use. In generated code they are pasted into
// one .c file, where clang warns about an unused static inline function.
#if defined(__GNUC__)
#define GHR_INLINE static inline __attribute__((unused))
#else
#define GHR_INLINE static inline
#endif

enum {
  GHR_ACT_NONE,
  GHR_ACT_RELU,
  GHR_ACT_RELU6,
  GHR_ACT_HARD_SIGMOID,  // relu6(x + 3) / 6
  GHR_ACT_HARD_SWISH     // x * relu6(x + 3) / 6
};

GHR_INLINE float ghr_relu6(float x) {
  return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
}

GHR_INLINE float ghr_activate(float x, int act) {
  switch (act) {
  case GHR_ACT_RELU: return x < 0.0f ? 0.0f : x;
  case GHR_ACT_RELU6: return ghr_relu6(x);
  case GHR_ACT_HARD_SIGMOID: return ghr_relu6(x + 3.0f) / 6.0f;
  case GHR_ACT_HARD_SWISH: return x * ghr_relu6(x + 3.0f) / 6.0f;
  default: return x;
  }
}

// The plane of `in` that holds input channel c of a conv that reads its ic
// channels through a channel shuffle of `shuffle` groups (view (shuffle,
// ic/shuffle), transposed); plane c when shuffle is 0.
GHR_INLINE int ghr_shuffled_plane(int c, int ic, int shuffle) {
  return shuffle > 0 ? (c % shuffle) * (ic / shuffle) + c / shuffle : c;
}

// The outputs o in [*lo, *hi) of an axis of out_size cells whose tap
// o*stride + offset lands inside an input axis of `size` cells, so a loop
// over them needs no bounds test (the range is empty when *hi <= *lo).
// Convolutions and pooling sweep each tap of a window over that range.
GHR_INLINE void ghr_tap_range(int offset, int stride, int size, int out_size,
                              int *lo, int *hi) {
  // Smallest o with o*stride + offset >= 0.
  *lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  // One past the largest o with o*stride + offset <= size - 1.
  int last = size - 1 - offset;
  *hi = last < 0 ? 0 : last / stride + 1;
  if (*hi > out_size) *hi = out_size;
}

#endif
