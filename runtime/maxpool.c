// Max pooling; padding cells never win. 3x3 windows of stride 2 (the pool
// after the stems of ShuffleNet) read each output row's three input rows
// straight from the input, a vector of outputs at a time: the rows'
// lane-wise max over 2*GHR_VW columns split into even and odd columns, the
// third tap column the odd ones shifted by a lane (the last of the vector
// before in lane 0). Past the row's end the columns read as -inf; rows
// past the input's edges are the edge row again, which changes no max.
// Other windows take the separable kernel of runtime/pool.h.
#include "pool.h"
#include <math.h>

// Lane 0 the last lane of prev, lane l lane l - 1 of v.
#if defined(GHR_ISA_AVX512)
static inline ghr_vec ghr_maxpool_shift_in(ghr_vec prev, ghr_vec v) {
  return _mm512_castsi512_ps(_mm512_alignr_epi32(
      _mm512_castps_si512(v), _mm512_castps_si512(prev), 15));
}
#elif defined(GHR_ISA_AVX2)
static inline ghr_vec ghr_maxpool_shift_in(ghr_vec prev, ghr_vec v) {
  // (prev's high half, v's low half), then per 128-bit half the last float
  // of the half before it and the first three of its own.
  const __m256 before = _mm256_permute2f128_ps(prev, v, 0x21);
  return _mm256_castsi256_ps(_mm256_alignr_epi8(
      _mm256_castps_si256(v), _mm256_castps_si256(before), 12));
}
#elif defined(GHR_ISA_NEON)
static inline ghr_vec ghr_maxpool_shift_in(ghr_vec prev, ghr_vec v) {
  return vextq_f32(prev, v, 3);
}
#else
static inline ghr_vec ghr_maxpool_shift_in(ghr_vec prev, ghr_vec v) {
  (void)v;
  return prev;
}
#endif

// Lanes [0, n) +inf, the rest -inf (n <= GHR_VW <= 16): the min with it
// makes the lanes a partial load left zero -inf.
#define GHR_MAXPOOL_X4(v) v, v, v, v
#define GHR_MAXPOOL_X16(v) \
  GHR_MAXPOOL_X4(v), GHR_MAXPOOL_X4(v), GHR_MAXPOOL_X4(v), GHR_MAXPOOL_X4(v)
static inline ghr_vec ghr_maxpool_tail(int n) {
  static const float bounds[32] = {GHR_MAXPOOL_X16(INFINITY),
                                   GHR_MAXPOOL_X16(-INFINITY)};
  return ghr_vload(bounds + 16 - n);
}

// Each call site gets its own copy (act a constant in the common case).
#if defined(__GNUC__)
#define GHR_MAXPOOL_INLINE static inline __attribute__((always_inline))
#else
#define GHR_MAXPOOL_INLINE static inline
#endif

// The lane-wise max of rows r0, r1, r2 over columns [x, x + GHR_VW), the
// columns from iw on -inf.
static inline ghr_vec ghr_maxpool_column3(const float *r0, const float *r1,
                                          const float *r2, int x, int iw) {
  const int n = iw - x;
  if (n >= GHR_VW)
    return ghr_vmax(ghr_vmax(ghr_vload(r0 + x), ghr_vload(r1 + x)),
                    ghr_vload(r2 + x));
  if (n <= 0) return ghr_vset1(-INFINITY);
  const ghr_vec v = ghr_vmax(
      ghr_vmax(ghr_vload_n(r0 + x, n), ghr_vload_n(r1 + x, n)),
      ghr_vload_n(r2 + x, n));
  return ghr_vmin(v, ghr_maxpool_tail(n));
}

// 3x3 windows, stride 2, padding ph, pw of 0 or 1. Output column j's
// window is input columns 2j - pw .. 2j - pw + 2: the vector of outputs
// from j0 takes its middle (even lanes) and last (odd lanes) columns from
// the 2*GHR_VW columns from 2*j0 + 1 - pw, its first column from the last
// ones shifted by a lane.
GHR_MAXPOOL_INLINE void ghr_maxpool_3x3s2(const float *in, int c, int ih,
                                          int iw, float *out, int oh, int ow,
                                          int ph, int pw, const int act) {
  for (int ch = 0; ch < c; ++ch) {
    const float *plane = in + (size_t)ch * ih * iw;  // (c, ih, iw)
    for (int oy = 0; oy < oh; ++oy) {
      const float *r[3];
      for (int k = 0; k < 3; ++k) {
        int y = 2 * oy - ph + k;
        y = y < 0 ? 0 : y >= ih ? ih - 1 : y;
        r[k] = plane + (size_t)y * iw;
      }
      float *dst = out + ((size_t)ch * oh + oy) * ow;  // (c, oh, ow)
      // The first column of output 0's window: padding, or column 0.
      ghr_vec prev = ghr_vset1(-INFINITY);
      if (pw == 0) {
        const float m = r[0][0] > r[1][0] ? r[0][0] : r[1][0];
        prev = ghr_vset1(m > r[2][0] ? m : r[2][0]);
      }
      for (int j0 = 0; j0 < ow; j0 += GHR_VW) {
        const int x = 2 * j0 + 1 - pw;
        const ghr_vec a = ghr_maxpool_column3(r[0], r[1], r[2], x, iw);
        const ghr_vec b =
            ghr_maxpool_column3(r[0], r[1], r[2], x + GHR_VW, iw);
        const ghr_vec middle = ghr_veven(a, b), last = ghr_vodd(a, b);
        const ghr_vec v = ghr_vactivate(
            ghr_vmax(ghr_vmax(ghr_maxpool_shift_in(prev, last), middle),
                     last),
            act);
        prev = last;
        if (ow - j0 >= GHR_VW)
          ghr_vstore(dst + j0, v);
        else
          ghr_vstore_n(dst + j0, v, ow - j0);
      }
    }
  }
}

GHR_API void ghr_maxpool(const float *in, int c, int ih, int iw, float *out,
                         int oh, int ow, int kh, int kw, int sh, int sw,
                         int ph, int pw, int act) {
  if (kh == 3 && kw == 3 && sh == 2 && sw == 2 && ph <= 1 && pw <= 1) {
    if (act == GHR_ACT_NONE)
      ghr_maxpool_3x3s2(in, c, ih, iw, out, oh, ow, ph, pw, GHR_ACT_NONE);
    else
      ghr_maxpool_3x3s2(in, c, ih, iw, out, oh, ow, ph, pw, act);
    return;
  }
  const GhrPool p = {in, ih, iw, kh, kw, sh, sw, ph, pw, 1, 0, act, -INFINITY};
  ghr_pool(&p, c, out, oh, ow);
}
