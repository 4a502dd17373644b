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

#endif
