// Average and max pooling over (kh, kw) windows, separably. For each output
// row, the input rows its window covers are first reduced lane by lane into
// a row buffer on the stack, padding cells written as the pad value (0 for
// the average, -inf for the max, which then never wins); the output row then
// reduces kw taps of that buffer, every tap a vector load (stride 2 splits
// two loads into their even lanes). Rows wider than the buffer are done in
// chunks of output columns, windows wider than it in chunks of taps.
// runtime/avgpool.c and runtime/maxpool.c are the kernels.
#ifndef GHR_POOL_H
#define GHR_POOL_H

#include "ghr.h"
#include "ghr_simd.h"

enum {
  GHR_POOL_BUFFER = 2048,   // floats of reduced row (8 KB of stack)
  GHR_POOL_SLACK = 2 * GHR_VW,  // pad-valued floats after it: the last
                                // vector of a stride-2 tap reads them
};

// Each kernel gets its own copy, the pooling operator a constant.
#if defined(__GNUC__)
#define GHR_POOL_INLINE \
  static inline __attribute__((always_inline, unused))
#else
#define GHR_POOL_INLINE static inline
#endif

GHR_POOL_INLINE ghr_vec ghr_pool_op(ghr_vec a, ghr_vec b, int is_max) {
  return is_max ? ghr_vmax(a, b) : ghr_vadd(a, b);
}

// What one call pools; avg-only fields are unused for the max.
typedef struct {
  const float *in;
  int ih, iw, kh, kw, sh, sw, ph, pw;
  int is_max, count_include_pad, act;
  float pad;
} GhrPool;

// buf[0, n) = padded columns [x0, x0 + n) of input rows [y0, y1) of `src`,
// reduced: its inside part [lo, hi) (ghr_pool_inside); the rest holds pad
// values, written once per layout by ghr_pool_pads.
GHR_POOL_INLINE void ghr_pool_inside(const GhrPool *p, int x0, int n, int *lo,
                                     int *hi) {
  *lo = p->pw - x0 < 0 ? 0 : p->pw - x0;
  *hi = p->pw + p->iw - x0 > n ? n : p->pw + p->iw - x0;
  if (*hi < *lo) *hi = *lo;
}

GHR_INLINE void ghr_pool_pads(const GhrPool *p, int x0, int n, float *buf) {
  int lo, hi;
  ghr_pool_inside(p, x0, n, &lo, &hi);
  for (int i = 0; i < lo; ++i) buf[i] = p->pad;
  for (int i = hi; i < n + GHR_POOL_SLACK; ++i) buf[i] = p->pad;
}

GHR_POOL_INLINE void ghr_pool_rows(const GhrPool *p, const float *src, int y0,
                                   int y1, int x0, int n, float *buf) {
  int lo, hi;
  ghr_pool_inside(p, x0, n, &lo, &hi);
  for (int i = lo; i < hi; i += GHR_VW) {
    const int lanes = hi - i < GHR_VW ? hi - i : GHR_VW;
    const float *s = src + (size_t)y0 * p->iw + (x0 - p->pw + i);
    ghr_vec v = lanes == GHR_VW ? ghr_vload(s) : ghr_vload_n(s, lanes);
    for (int y = y0 + 1; y < y1; ++y) {
      s += p->iw;
      v = ghr_pool_op(v, lanes == GHR_VW ? ghr_vload(s) : ghr_vload_n(s, lanes),
                      p->is_max);
    }
    if (lanes == GHR_VW)
      ghr_vstore(buf + i, v);
    else
      ghr_vstore_n(buf + i, v, lanes);
  }
}

// The lanes of one output vector: taps k of buf, at j*stride + k for
// the vector's outputs j.
GHR_POOL_INLINE ghr_vec ghr_pool_tap(const float *buf, int stride, int k) {
  if (stride == 2)
    return ghr_veven(ghr_vload(buf + k), ghr_vload(buf + k + GHR_VW));
  return ghr_vload(buf + k);
}

// Outputs [0, n) of a row, dst, from the reduced buffer of taps [k0, k1):
// the first taps start the reduction, later ones continue what dst holds;
// the last ones finish it (divisor, activation). Average: `rows` of the
// window inside the input, cols[j] the columns of output j's.
GHR_POOL_INLINE void ghr_pool_columns(const GhrPool *p, const float *buf,
                                      int k0, int k1, int n, float *dst,
                                      int rows, const float *cols) {
  // With output sizes rounded down (no ceil_mode), no window reaches past
  // the padding: counting it, every divisor is kh*kw.
  const float all = (float)(p->kh * p->kw);
  const int first = k0 == 0, last = k1 == p->kw;
  if (p->sw > 2) {  // no vector lanes at that stride: one output at a time
    for (int j = 0; j < n; ++j) {
      float v = first ? buf[(size_t)j * p->sw] : dst[j];
      for (int k = first ? 1 : 0; k < k1 - k0; ++k) {
        const float t = buf[(size_t)j * p->sw + k];
        v = p->is_max ? (t > v ? t : v) : v + t;
      }
      if (last)
        v = ghr_activate(
            p->is_max ? v
                      : v / (p->count_include_pad ? all : (float)rows * cols[j]),
            p->act);
      dst[j] = v;
    }
    return;
  }
  for (int j = 0; j < n; j += GHR_VW) {
    const int lanes = n - j < GHR_VW ? n - j : GHR_VW;
    const float *b = buf + (size_t)j * p->sw;
    ghr_vec v = first ? ghr_pool_tap(b, p->sw, 0)
                      : (lanes == GHR_VW ? ghr_vload(dst + j)
                                         : ghr_vload_n(dst + j, lanes));
    for (int k = first ? 1 : 0; k < k1 - k0; ++k)
      v = ghr_pool_op(v, ghr_pool_tap(b, p->sw, k), p->is_max);
    if (last) {
      if (!p->is_max && p->count_include_pad)
        v = ghr_vdiv(v, ghr_vset1(all));
      else if (!p->is_max)
        v = ghr_vdiv(v, ghr_vmul(ghr_vset1((float)rows),
                                 lanes == GHR_VW ? ghr_vload(cols + j)
                                                 : ghr_vload_n(cols + j, lanes)));
      v = ghr_vactivate(v, p->act);
    }
    if (lanes == GHR_VW)
      ghr_vstore(dst + j, v);
    else
      ghr_vstore_n(dst + j, v, lanes);
  }
}

GHR_POOL_INLINE void ghr_pool(const GhrPool *p, int c, float *out, int oh,
                              int ow) {
  float buf[GHR_POOL_BUFFER + GHR_POOL_SLACK];
  float cols[GHR_POOL_BUFFER];  // average: columns of each output's window
  // Taps per pass and outputs per chunk such that a chunk's reduced row,
  // (outputs - 1) * sw + taps columns, fits the buffer.
  const int taps = p->kw < GHR_POOL_BUFFER / 2 ? p->kw : GHR_POOL_BUFFER / 2;
  const int chunk = (GHR_POOL_BUFFER - taps) / p->sw + 1;
  for (int o0 = 0; o0 < ow; o0 += chunk) {
    const int n = ow - o0 < chunk ? ow - o0 : chunk;
    for (int j = 0; j < n; ++j) {
      const int x0 = (o0 + j) * p->sw - p->pw, x1 = x0 + p->kw;
      cols[j] = (float)((x1 < p->iw ? x1 : p->iw) - (x0 > 0 ? x0 : 0));
    }
    for (int k0 = 0; k0 < p->kw; k0 += taps) {
      const int k1 = p->kw - k0 < taps ? p->kw : k0 + taps;
      const int x0 = o0 * p->sw + k0;  // padded column of buf[0]
      const int width = (n - 1) * p->sw + (k1 - k0);
      ghr_pool_pads(p, x0, width, buf);
      for (int ch = 0; ch < c; ++ch) {
        const float *src = p->in + (size_t)ch * p->ih * p->iw;  // (c, ih, iw)
        for (int oy = 0; oy < oh; ++oy) {
          int y0 = oy * p->sh - p->ph, y1 = y0 + p->kh;
          if (y0 < 0) y0 = 0;
          if (y1 > p->ih) y1 = p->ih;
          float *dst = out + ((size_t)ch * oh + oy) * ow + o0;  // (c, oh, ow)
          ghr_pool_rows(p, src, y0, y1, x0, width, buf);
          ghr_pool_columns(p, buf, k0, k1, n, dst, y1 - y0, cols);
        }
      }
    }
  }
}

#endif
