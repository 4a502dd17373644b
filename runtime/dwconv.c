// Depthwise convolution, straight from the input planes: no padded copy.
//
// Each output channel is computed a vector at a time from unaligned loads
// of its input plane at the offsets of the taps; in_scale is folded into
// the weights. Loads that would reach past a border (padding, or the end
// of a row, of the plane, of the tensor) are masked: their lanes outside
// the input read as zero and touch no memory, so the padding costs nothing
// where no tap reaches it. Three layouts of a vector:
//
// - rows: a vector is VW output columns of one row. R output rows are
//   computed together, and each input row they read is loaded once per tap
//   column for all the rows that use it. Stride 2 loads two vectors of
//   input per tap column pair and splits them into the even and odd
//   columns in registers (ghr_veven, ghr_vodd). Blocks away from every
//   border take the same code without masks.
// - pairs (stride 2, output rows at most VW/2 wide, e.g. 7x7 maps): the low
//   half of a vector is an output row, the high half the next one; the
//   split of two loaded rows puts each where it belongs.
// - flat (stride 1, output as wide as the input, small planes): a vector is
//   VW consecutive outputs of the plane, across row ends; each tap is a
//   load at a fixed offset of the flat index, masked by a table made once
//   per call.
//
// 3x3 and 5x5 kernels of stride 1 and 2 have unrolled copies (weights and
// accumulators in registers); other kernels up to 7x7 of stride 1 or 2 take
// the same code with loops, larger ones or strides a plain loop.
//
// Stack: the flat masks (at most GHR_DWCONV_FLAT_MASKS shorts) and the
// pairs masks, a few KB; nothing that grows with the map.
#include "ghr.h"
#include "ghr_kernels.h"
#include "ghr_simd.h"

// Each call site of a kernel function gets its own copy, its loops unrolled
// for constant kernel sizes, the accumulators and weights in registers.
#if defined(__GNUC__)
#define GHR_DWCONV_INLINE static inline __attribute__((always_inline))
#else
#define GHR_DWCONV_INLINE static inline
#endif

enum {
  GHR_DWCONV_MAX_K = 7,          // larger kernels take the plain loop
  GHR_DWCONV_MAX_ROWS = 4,       // output rows (or pairs) computed together
  GHR_DWCONV_FLAT_MASKS = 2048,  // flat layout: vectors x taps at most
  GHR_DWCONV_PAIR_ROWS = 16,     // pairs layout: output rows at most
};

// A lane mask: bit l for lane l.
typedef unsigned GhrDwMask;

// Lanes [lo, hi) of a vector (clipped to the vector).
static inline GhrDwMask ghr_dwconv_lanes(int lo, int hi) {
  if (lo < 0) lo = 0;
  if (hi > GHR_VW) hi = GHR_VW;
  if (hi <= lo) return 0;
  return (GhrDwMask)(((1ull << hi) - 1) & ~((1ull << lo) - 1));
}

// The lanes of a vector loaded from column c on that lie in [0, w).
static inline GhrDwMask ghr_dwconv_cols(int c, int w) {
  return ghr_dwconv_lanes(-c, w - c);
}

// The lanes of m from p (others zero), and v's lanes of m to p: lanes
// outside m touch no memory.
#if defined(GHR_ISA_AVX512)
static inline ghr_vec ghr_dwconv_loadm(const float *p, GhrDwMask m) {
  return _mm512_maskz_loadu_ps((__mmask16)m, p);
}
static inline void ghr_dwconv_storem(float *p, ghr_vec v, GhrDwMask m) {
  _mm512_mask_storeu_ps(p, (__mmask16)m, v);
}
#elif defined(GHR_ISA_AVX2)
static inline __m256i ghr_dwconv_maskv(GhrDwMask m) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)m), bit),
                            bit);
}
static inline ghr_vec ghr_dwconv_loadm(const float *p, GhrDwMask m) {
  return _mm256_maskload_ps(p, ghr_dwconv_maskv(m));
}
static inline void ghr_dwconv_storem(float *p, ghr_vec v, GhrDwMask m) {
  _mm256_maskstore_ps(p, ghr_dwconv_maskv(m), v);
}
#else
static inline ghr_vec ghr_dwconv_loadm(const float *p, GhrDwMask m) {
  float t[GHR_VW];
  for (int l = 0; l < GHR_VW; ++l) t[l] = m >> l & 1 ? p[l] : 0.0f;
  return ghr_vload(t);
}
static inline void ghr_dwconv_storem(float *p, ghr_vec v, GhrDwMask m) {
  float t[GHR_VW];
  ghr_vstore(t, v);
  for (int l = 0; l < GHR_VW; ++l)
    if (m >> l & 1) p[l] = t[l];
}
#endif

#define GHR_DWCONV_ALL ghr_dwconv_lanes(0, GHR_VW)

// Marks the accumulators acc[0 .. n) as complete here: the stores after
// it, each behind a branch, stay after every multiply-add. Without it, GCC
// sinks the work of the later accumulators past the first store, leaving
// one chain of dependent multiply-adds at a time.
// GHR_DWCONV_KEEP(v): v loaded once, into a register, though several
// multiply-adds read it; left alone, GCC folds the (unaligned) load into
// each of them.
#if defined(__GNUC__) && (defined(GHR_ISA_AVX512) || defined(GHR_ISA_AVX2))
#define GHR_DWCONV_KEEP(v) __asm__("" : "+v"(v))
#else
#define GHR_DWCONV_KEEP(v) ((void)0)
#endif
#define GHR_DWCONV_DONE(acc, n)                            \
  _Pragma("GCC unroll 8") for (int j_ = 0; j_ < (n); ++j_) \
      GHR_DWCONV_KEEP(acc[j_])

// v plus the residual (NULL: none), activated, to the first n (0 < n <=
// GHR_VW) floats of d; res as d.
GHR_DWCONV_INLINE void ghr_dwconv_out(const int act, float *d, ghr_vec v,
                                      const float *res, int n) {
  if (n == GHR_VW) {
    if (res) v = ghr_vadd(v, ghr_vload(res));
    ghr_vstore(d, ghr_vactivate(v, act));
  } else {
    if (res) v = ghr_vadd(v, ghr_vload_n(res, n));
    ghr_vstore_n(d, ghr_vactivate(v, act), n);
  }
}

// ghr_dwconv_out of v[j] to d + j*stride (res likewise) for the j < rows
// of R: one switch on the activation for all of them.
GHR_DWCONV_INLINE void ghr_dwconv_out_rows(const int R, const ghr_vec *v,
                                           float *d, const float *res,
                                           size_t stride, int rows, int n,
                                           int act) {
#define GHR_DWCONV_OUT_ROWS(a)                                         \
  _Pragma("GCC unroll 16") for (int j = 0; j < R; ++j) if (j < rows)   \
      ghr_dwconv_out(a, d + j * stride, v[j], res ? res + j * stride : NULL, n)
  switch (act) {
  case GHR_ACT_RELU: GHR_DWCONV_OUT_ROWS(GHR_ACT_RELU); break;
  case GHR_ACT_RELU6: GHR_DWCONV_OUT_ROWS(GHR_ACT_RELU6); break;
  case GHR_ACT_HARD_SIGMOID: GHR_DWCONV_OUT_ROWS(GHR_ACT_HARD_SIGMOID); break;
  case GHR_ACT_HARD_SWISH: GHR_DWCONV_OUT_ROWS(GHR_ACT_HARD_SWISH); break;
  default: GHR_DWCONV_OUT_ROWS(GHR_ACT_NONE);
  }
#undef GHR_DWCONV_OUT_ROWS
}

// What every layout needs to know of a call.
typedef struct {
  int ih, iw, oh, ow;
  int kh, kw, sh, sw, ph, pw;
} GhrDwShape;

// The weights times the input scale broadcast, wv[taps], and the bias b:
// in registers where the kernel size is a constant.
#define GHR_DWCONV_WEIGHTS(taps)                                  \
  ghr_vec wv[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K];                \
  _Pragma("GCC unroll 32") for (int t_ = 0; t_ < (taps); ++t_)    \
      wv[t_] = ghr_vset1(w[t_] * scale);                          \
  const ghr_vec b = ghr_vset1(bias)

// The even and the odd floats of the 2*VW in a, b, for stride 2: as
// ghr_veven and ghr_vodd, but on x86 in the order of an in-lane shuffle
// (one cheap instruction instead of a costly permute across lanes), the
// same order for every tap; ghr_dwconv_order puts the sums of such vectors
// in order, once per output vector.
#if defined(GHR_ISA_AVX512)
static inline ghr_vec ghr_dwconv_evens(ghr_vec a, ghr_vec b) {
  return _mm512_shuffle_ps(a, b, 0x88);  // a0 a2 b0 b2 | a4 a6 b4 b6 | ...
}
static inline ghr_vec ghr_dwconv_odds(ghr_vec a, ghr_vec b) {
  return _mm512_shuffle_ps(a, b, 0xdd);
}
static inline ghr_vec ghr_dwconv_order(ghr_vec v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 2,
                                                 3, 6, 7, 10, 11, 14, 15),
                               v);
}
#elif defined(GHR_ISA_AVX2)
static inline ghr_vec ghr_dwconv_evens(ghr_vec a, ghr_vec b) {
  return _mm256_shuffle_ps(a, b, 0x88);  // a0 a2 b0 b2 | a4 a6 b4 b6
}
static inline ghr_vec ghr_dwconv_odds(ghr_vec a, ghr_vec b) {
  return _mm256_shuffle_ps(a, b, 0xdd);
}
static inline ghr_vec ghr_dwconv_order(ghr_vec v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v),
                                                _MM_SHUFFLE(3, 1, 2, 0)));
}
#else
static inline ghr_vec ghr_dwconv_evens(ghr_vec a, ghr_vec b) {
  return ghr_veven(a, b);
}
static inline ghr_vec ghr_dwconv_odds(ghr_vec a, ghr_vec b) {
  return ghr_vodd(a, b);
}
static inline ghr_vec ghr_dwconv_order(ghr_vec v) { return v; }
#endif

// The tap columns of one input row for a vector of outputs whose lane 0
// reads column c0 at tap column 0, stride sw: tv[kx] lane l holds column
// c0 + l*sw + kx (stride 2: in ghr_dwconv_evens' order), loaded from
// s = row + c0. Stride 1 loads each tap column; stride 2 loads 2*VW
// columns from c0 + 2m for tap columns 2m and 2m+1 and splits them.
// ghr_dwconv_col_masks gives the masks of the loads (cm), span the columns
// past c0 they read; where masked, lanes outside the input (and every lane
// when rb is 0: a padding row) read as zero.
static inline int ghr_dwconv_span(int kw, int sw) {
  if (sw == 1) return kw - 1 + GHR_VW;
#if defined(GHR_ISA_AVX512)
  return 2 * GHR_VW + (kw > 2 ? kw - 2 : 0);
#else
  return (kw - 1) / 2 * 2 + 2 * GHR_VW;
#endif
}

GHR_DWCONV_INLINE void ghr_dwconv_col_masks(const int kw, const int sw,
                                            int c0, int iw, GhrDwMask *cm) {
#if defined(GHR_ISA_AVX512)  // see ghr_dwconv_row_taps
  if (sw == 2) {
    cm[0] = ghr_dwconv_cols(c0, iw);
    cm[1] = ghr_dwconv_cols(c0 + GHR_VW, iw);
    cm[2] = ghr_dwconv_cols(c0 + 2 * GHR_VW, iw) & ghr_dwconv_lanes(0, kw - 2);
    return;
  }
#endif
#pragma GCC unroll 8
  for (int kx = 0; kx < kw; ++kx)
    if (sw == 1) {
      cm[kx] = ghr_dwconv_cols(c0 + kx, iw);
    } else if (kx % 2 == 0) {
      cm[kx] = ghr_dwconv_cols(c0 + kx, iw);
      cm[kx + 1] = ghr_dwconv_cols(c0 + kx + GHR_VW, iw);
    }
}

GHR_DWCONV_INLINE void ghr_dwconv_row_taps(const int kw, const int sw,
                                           const int masked, const float *s,
                                           const GhrDwMask *cm, GhrDwMask rb,
                                           ghr_vec *tv) {
  if (sw == 1) {
#pragma GCC unroll 8
    for (int kx = 0; kx < kw; ++kx) {
      tv[kx] = masked ? ghr_dwconv_loadm(s + kx, cm[kx] & rb)
                      : ghr_vload(s + kx);
      GHR_DWCONV_KEEP(tv[kx]);
    }
    return;
  }
#if defined(GHR_ISA_AVX512)
  // The 2*VW columns from c0 and the few after them (columns 2*VW on, in
  // a short load); tap columns 2m, 2m+1 split from them shifted by 2m.
  ghr_vec lo = masked ? ghr_dwconv_loadm(s, cm[0] & rb) : ghr_vload(s);
  ghr_vec hi = masked ? ghr_dwconv_loadm(s + GHR_VW, cm[1] & rb)
                      : ghr_vload(s + GHR_VW);
  GHR_DWCONV_KEEP(lo);
  GHR_DWCONV_KEEP(hi);
  tv[0] = ghr_dwconv_evens(lo, hi);
  if (kw > 1) tv[1] = ghr_dwconv_odds(lo, hi);
  if (kw < 3) return;
  const __mmask8 m = (__mmask8)(masked ? cm[2] & rb : ghr_dwconv_lanes(0, kw - 2));
  const __m512i more = _mm512_castsi256_si512(
      _mm256_castps_si256(_mm256_maskz_loadu_ps(m, s + 2 * GHR_VW)));
  const __m512i a = _mm512_castps_si512(lo), b = _mm512_castps_si512(hi);
#pragma GCC unroll 4
  for (int kx = 2; kx < kw; kx += 2) {
    __m512i l2, h2;  // lo, hi shifted by kx columns
    if (kx == 2) {
      l2 = _mm512_alignr_epi32(b, a, 2);
      h2 = _mm512_alignr_epi32(more, b, 2);
    } else if (kx == 4) {
      l2 = _mm512_alignr_epi32(b, a, 4);
      h2 = _mm512_alignr_epi32(more, b, 4);
    } else {
      l2 = _mm512_alignr_epi32(b, a, 6);
      h2 = _mm512_alignr_epi32(more, b, 6);
    }
    tv[kx] = ghr_dwconv_evens(_mm512_castsi512_ps(l2), _mm512_castsi512_ps(h2));
    if (kx + 1 < kw)
      tv[kx + 1] =
          ghr_dwconv_odds(_mm512_castsi512_ps(l2), _mm512_castsi512_ps(h2));
  }
#else
#pragma GCC unroll 8
  for (int kx = 0; kx < kw; kx += 2) {
    ghr_vec lo = masked ? ghr_dwconv_loadm(s + kx, cm[kx] & rb)
                        : ghr_vload(s + kx);
    ghr_vec hi = masked ? ghr_dwconv_loadm(s + kx + GHR_VW, cm[kx + 1] & rb)
                        : ghr_vload(s + kx + GHR_VW);
    GHR_DWCONV_KEEP(lo);
    GHR_DWCONV_KEEP(hi);
    tv[kx] = ghr_dwconv_evens(lo, hi);
    if (kx + 1 < kw) tv[kx + 1] = ghr_dwconv_odds(lo, hi);
  }
#endif
}

// Rows layout, one step: output rows y0 .. y0+R-1 (n_rows of them stored),
// columns x .. x+VW-1 (n stored). row[i] is input row y0*sh - ph + i
// (rbits[i]: all lanes when it exists, none otherwise); c0 = x*sw - pw is
// the input column of lane 0 at tap column 0. `masked` is a constant per
// copy: 0 where every load lies inside the input.
GHR_DWCONV_INLINE void ghr_dwconv_rows_step(
    const int kh, const int kw, const int sh, const int sw, const int R,
    const int masked, const float *const *row, const GhrDwMask *rbits,
    int c0, int iw, const ghr_vec *wv, ghr_vec b, float *d,
    const float *res, int ow, int n_rows, int n, int act) {
  const int reads = (R - 1) * sh + kh;
  // Two sums per output row (even and odd tap rows): shorter chains of
  // dependent multiply-adds.
  ghr_vec acc[GHR_DWCONV_MAX_ROWS], acc2[GHR_DWCONV_MAX_ROWS];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) {
    acc[j] = b;
    acc2[j] = ghr_vzero();
  }
  GhrDwMask cm[GHR_DWCONV_MAX_K + 1];
  if (masked) ghr_dwconv_col_masks(kw, sw, c0, iw, cm);
#pragma GCC unroll 16
  for (int i = 0; i < reads; ++i) {
    if (masked && !rbits[i]) continue;  // a padding row
    ghr_vec tv[GHR_DWCONV_MAX_K];
    ghr_dwconv_row_taps(kw, sw, masked, row[i] + c0, cm, rbits[i], tv);
    // Output row j reads this input row at tap row ky.
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const int ky = i - j * sh;
      if (ky < 0 || ky >= kh) continue;
#pragma GCC unroll 8
      for (int kx = 0; kx < kw; ++kx)
        if (ky % 2 == 0)
          acc[j] = ghr_vfma(wv[ky * kw + kx], tv[kx], acc[j]);
        else
          acc2[j] = ghr_vfma(wv[ky * kw + kx], tv[kx], acc2[j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) {
    acc[j] = ghr_vadd(acc[j], acc2[j]);
    if (sw == 2) acc[j] = ghr_dwconv_order(acc[j]);
  }
  GHR_DWCONV_DONE(acc, R);
  ghr_dwconv_out_rows(R, acc, d, res, (size_t)ow, n_rows, n, act);
}

// Rows layout, one output channel: src its input plane, dst and res (may
// be NULL) its output planes, w its weights (kh, kw), scale its input
// scale, bias its bias.
GHR_DWCONV_INLINE void ghr_dwconv_rows(const int kh, const int kw,
                                       const int sh, const int sw,
                                       const int R, const GhrDwShape *g,
                                       const float *src, float *dst,
                                       const float *res, const float *w,
                                       float scale, float bias, int act) {
  GHR_DWCONV_WEIGHTS(kh * kw);
  const int reads = (R - 1) * sh + kh;
  const int iw = g->iw, ow = g->ow;
  // Columns a clean block reads past c0.
  const int span = ghr_dwconv_span(kw, sw);
  for (int y0 = 0; y0 < g->oh; y0 += R) {
    const float *row[(GHR_DWCONV_MAX_ROWS - 1) * 2 + GHR_DWCONV_MAX_K];
    GhrDwMask rbits[(GHR_DWCONV_MAX_ROWS - 1) * 2 + GHR_DWCONV_MAX_K];
    int inside = 1;  // every row read exists
#pragma GCC unroll 16
    for (int i = 0; i < (GHR_DWCONV_MAX_ROWS - 1) * 2 + GHR_DWCONV_MAX_K;
         ++i) {
      const int iy = y0 * sh - g->ph + i;
      const int ok = i < reads && iy >= 0 && iy < g->ih;
      row[i] = src + (ptrdiff_t)(ok ? iy : 0) * iw;
      rbits[i] = ok ? GHR_DWCONV_ALL : 0;
      if (i < reads) inside &= ok;
    }
    const int n_rows = g->oh - y0 < R ? g->oh - y0 : R;
    float *d = dst + (size_t)y0 * ow;
    const float *r = res ? res + (size_t)y0 * ow : NULL;
    for (int x = 0; x < ow; x += GHR_VW) {
      const int n = ow - x < GHR_VW ? ow - x : GHR_VW;
      const int c0 = x * sw - g->pw;
      if (inside && c0 >= 0 && c0 + span <= iw)
        ghr_dwconv_rows_step(kh, kw, sh, sw, R, 0, row, rbits, c0, iw, wv, b,
                             d + x, r ? r + x : NULL, ow, n_rows, n, act);
      else
        ghr_dwconv_rows_step(kh, kw, sh, sw, R, 1, row, rbits, c0, iw, wv, b,
                             d + x, r ? r + x : NULL, ow, n_rows, n, act);
    }
  }
}

// Pairs layout (stride 2 across, ow <= VW/2): the masks of the loads, made
// once per call. Output row pair p (rows 2p, 2p+1), tap row ky, tap column
// pair m: lo (the row 2p) and hi (row 2p+1) loads from column 2m - pw.
typedef struct {
  int n_pairs, n_m;
  GhrDwMask m[GHR_DWCONV_PAIR_ROWS / 2][GHR_DWCONV_MAX_K]
             [(GHR_DWCONV_MAX_K + 1) / 2][2];
  int iy[GHR_DWCONV_PAIR_ROWS][GHR_DWCONV_MAX_K];  // input row, 0 if none
  GhrDwMask store[2];                              // the two output rows
} GhrDwPairs;

static void ghr_dwconv_plan_pairs(GhrDwPairs *pp, const GhrDwShape *g) {
  const int half = GHR_VW / 2;
  pp->n_pairs = (g->oh + 1) / 2;
  pp->n_m = (g->kw + 1) / 2;
  for (int y = 0; y < 2 * pp->n_pairs; ++y)
    for (int ky = 0; ky < g->kh; ++ky) {
      const int iy = y * g->sh - g->ph + ky;
      const int ok = y < g->oh && iy >= 0 && iy < g->ih;
      pp->iy[y][ky] = ok ? iy : 0;
      for (int m = 0; m < pp->n_m; ++m) {
        // The even and odd columns of the 2*ow loaded from 2m - pw.
        const int c = 2 * m - g->pw;
        const GhrDwMask cols = ghr_dwconv_cols(c, g->iw) &
                               ghr_dwconv_lanes(0, 2 * g->ow);
        pp->m[y / 2][ky][m][y % 2] = ok ? cols : 0;
      }
    }
  pp->store[0] = ghr_dwconv_lanes(0, g->ow);
  pp->store[1] = ghr_dwconv_lanes(half, half + g->ow);
}

// Pairs layout, one output channel (as ghr_dwconv_rows).
GHR_DWCONV_INLINE void ghr_dwconv_pairs(const int kh, const int kw,
                                        const GhrDwShape *g,
                                        const GhrDwPairs *pp,
                                        const float *src, float *dst,
                                        const float *res, const float *w,
                                        float scale, float bias, int act) {
  enum { R = GHR_DWCONV_MAX_ROWS };
  GHR_DWCONV_WEIGHTS(kh * kw);
  const int half = GHR_VW / 2, iw = g->iw, ow = g->ow;
  for (int p0 = 0; p0 < pp->n_pairs; p0 += R) {
    ghr_vec acc[R];
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) acc[j] = b;
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const int p = p0 + j < pp->n_pairs ? p0 + j : pp->n_pairs - 1;
#pragma GCC unroll 8
      for (int ky = 0; ky < kh; ++ky) {
        const float *lo = src + (ptrdiff_t)pp->iy[2 * p][ky] * iw - g->pw;
        const float *hi = src + (ptrdiff_t)pp->iy[2 * p + 1][ky] * iw - g->pw;
#pragma GCC unroll 4
        for (int kx = 0; kx < kw; kx += 2) {
          const GhrDwMask *m = pp->m[p][ky][kx / 2];
          const ghr_vec a = ghr_dwconv_loadm(lo + kx, m[0]);
          const ghr_vec c = ghr_dwconv_loadm(hi + kx, m[1]);
          acc[j] = ghr_vfma(wv[ky * kw + kx], ghr_dwconv_evens(a, c), acc[j]);
          if (kx + 1 < kw)
            acc[j] =
                ghr_vfma(wv[ky * kw + kx + 1], ghr_dwconv_odds(a, c), acc[j]);
        }
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) acc[j] = ghr_dwconv_order(acc[j]);
    GHR_DWCONV_DONE(acc, R);
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const int p = p0 + j;
      if (p >= pp->n_pairs) break;
      const int two = 2 * p + 1 < g->oh;  // the high half is a row
      // Row 2p in the low lanes, row 2p+1 in the high ones.
      float *d0 = dst + (size_t)(2 * p) * ow, *d1 = d0 + ow - half;
      ghr_vec v = acc[j];
      if (res) {
        const float *r0 = res + (size_t)(2 * p) * ow;
        v = ghr_vadd(v, ghr_dwconv_loadm(r0, pp->store[0]));
        if (two) v = ghr_vadd(v, ghr_dwconv_loadm(r0 + ow - half, pp->store[1]));
      }
      v = ghr_vactivate(v, act);
      ghr_dwconv_storem(d0, v, pp->store[0]);
      if (two) ghr_dwconv_storem(d1, v, pp->store[1]);
    }
  }
}

// Flat layout (stride 1, ow == iw): tap t of the output at flat position q
// reads the input at q + off[t], in the lanes of mask[v*taps + t] for the
// vector v of q.
typedef struct {
  int n, n_vec, taps;  // n = oh*ow positions
  int off[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K];
  unsigned short mask[GHR_DWCONV_FLAT_MASKS];
} GhrDwFlat;

// 1 when the flat layout fits (and is made), 0 otherwise.
static int ghr_dwconv_plan_flat(GhrDwFlat *f, const GhrDwShape *g) {
  const int taps = g->kh * g->kw;
  f->n = g->oh * g->ow;
  f->n_vec = (f->n + GHR_VW - 1) / GHR_VW;
  f->taps = taps;
  if (g->sh != 1 || g->sw != 1 || g->ow != g->iw || GHR_VW > 16 ||
      f->n_vec * taps > GHR_DWCONV_FLAT_MASKS)
    return 0;
  for (int ky = 0; ky < g->kh; ++ky)
    for (int kx = 0; kx < g->kw; ++kx)
      f->off[ky * g->kw + kx] = (ky - g->ph) * g->iw + kx - g->pw;
  for (int v = 0; v < f->n_vec; ++v)
    for (int t = 0; t < taps; ++t) {
      const int dy = t / g->kw - g->ph, dx = t % g->kw - g->pw;
      unsigned bits = 0;
      for (int l = 0; l < GHR_VW; ++l) {
        const int q = v * GHR_VW + l, y = q / g->ow, x = q % g->ow;
        if (q < f->n && y + dy >= 0 && y + dy < g->ih && x + dx >= 0 &&
            x + dx < g->iw)
          bits |= 1u << l;
      }
      f->mask[v * taps + t] = (unsigned short)bits;
    }
  return 1;
}

// Flat layout, one output channel (as ghr_dwconv_rows): four vectors in
// flight.
GHR_DWCONV_INLINE void ghr_dwconv_flat(const int taps, const GhrDwFlat *f,
                                       const float *src, float *dst,
                                       const float *res, const float *w,
                                       float scale, float bias, int act) {
  enum { V = 4 };
  GHR_DWCONV_WEIGHTS(taps);
  for (int v0 = 0; v0 < f->n_vec; v0 += V) {
    ghr_vec acc[V];
#pragma GCC unroll 4
    for (int j = 0; j < V; ++j) acc[j] = b;
    const int nv = f->n_vec - v0 < V ? f->n_vec - v0 : V;
#pragma GCC unroll 32
    for (int t = 0; t < taps; ++t)
#pragma GCC unroll 4
      for (int j = 0; j < V; ++j) {
        // Vectors past the plane repeat the last one, not stored.
        const int v = v0 + (j < nv ? j : nv - 1);
        acc[j] = ghr_vfma(wv[t],
                          ghr_dwconv_loadm(src + v * GHR_VW + f->off[t],
                                           f->mask[v * taps + t]),
                          acc[j]);
      }
    GHR_DWCONV_DONE(acc, V);
#pragma GCC unroll 4
    for (int j = 0; j < V; ++j) {
      const int v = v0 + j;
      if (v >= f->n_vec) break;
      const int at = v * GHR_VW;
      const int n = f->n - at < GHR_VW ? f->n - at : GHR_VW;
      ghr_dwconv_out_rows(1, &acc[j], dst + at, res ? res + at : NULL, 0, 1, n,
                          act);
    }
  }
}

// Transposes the GHR_VW x GHR_VW floats in r: lane j of r[i] to lane i of
// r[j].
static inline void ghr_dwconv_transpose(ghr_vec *r) {
#if defined(GHR_ISA_AVX512)
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], 128-bit block k: column 4k + j of rows 4i .. 4i+3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 a = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
    const __m512 b = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);
    const __m512 c = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
    const __m512 d = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);
    r[j] = _mm512_shuffle_f32x4(a, c, 0x88);
    r[4 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(a, c, 0xdd);
    r[12 + j] = _mm512_shuffle_f32x4(b, d, 0xdd);
  }
#elif defined(GHR_ISA_AVX2)
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
#elif defined(GHR_ISA_NEON)
  const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
  const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
  r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0),
                                          vreinterpretq_f64_f32(t2)));
  r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1),
                                          vreinterpretq_f64_f32(t3)));
  r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0),
                                          vreinterpretq_f64_f32(t2)));
  r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1),
                                          vreinterpretq_f64_f32(t3)));
#else
  (void)r;  // one lane: nothing to move
#endif
}

// Channels layout (small maps, any stride): GHR_VW output channels at
// once, one a lane. Their input planes are transposed into a tile of
// vectors, zero around the input: cell (y, x) holds the channels at input
// (y - ph, x - pw), for y < th = (oh-1)*sh + kh and x < tw = (ow-1)*sw + kw
// (input no output reads goes to a spare cell after them).
// Output (oy, ox) is then the sum over taps of the tap's weights (a vector
// of the channels') times cell (oy*sh + ky, ox*sw + kx): aligned loads, no
// masks, no lanes wasted on a narrow row. Outputs are transposed back
// GHR_VW positions at a time.
enum { GHR_DWCONV_TILE_FLOATS = 6400 };  // 25 KB of stack
enum { GHR_DWCONV_TILE_CELLS = GHR_DWCONV_TILE_FLOATS / GHR_VW };

typedef struct {
  int th, tw;
  // The cell of each input position, the first cell each output position
  // reads (tap 0), and tap t's cell past it.
  unsigned short in_at[GHR_DWCONV_TILE_CELLS], out_at[GHR_DWCONV_TILE_CELLS];
  int off[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K];
} GhrDwTile;

// 1 when the channels layout fits (and is planned), 0 otherwise.
static int ghr_dwconv_plan_tile(GhrDwTile *t, const GhrDwShape *g) {
  t->th = (g->oh - 1) * g->sh + g->kh;
  t->tw = (g->ow - 1) * g->sw + g->kw;
  if (GHR_VW < 4 || t->th * t->tw >= GHR_DWCONV_TILE_CELLS) return 0;
  for (int y = 0; y < g->ih; ++y)
    for (int x = 0; x < g->iw; ++x) {
      // Input positions past the tile (rows or columns no output reads) go
      // to the cell after it.
      const int ty = y + g->ph, tx = x + g->pw;
      t->in_at[y * g->iw + x] = (unsigned short)(
          ty < t->th && tx < t->tw ? ty * t->tw + tx : t->th * t->tw);
    }
  for (int y = 0; y < g->oh; ++y)
    for (int x = 0; x < g->ow; ++x)
      t->out_at[y * g->ow + x] =
          (unsigned short)(y * g->sh * t->tw + x * g->sw);
  for (int ky = 0; ky < g->kh; ++ky)
    for (int kx = 0; kx < g->kw; ++kx)
      t->off[ky * g->kw + kx] = ky * t->tw + kx;
  return 1;
}

// Output channels o0 .. o0+n-1 (n <= GHR_VW) of a call, channels layout:
// the input cells are in `tile`.
GHR_DWCONV_INLINE void ghr_dwconv_tile_sums(const int taps, const int o0,
                                            const int n, const ghr_vec *wv,
                                            ghr_vec b, const ghr_vec *tile,
                                            const GhrDwTile *t, float *out,
                                            const float *res, int n_out,
                                            int act) {
  ghr_vec w[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K];
#pragma GCC unroll 32
  for (int i = 0; i < taps; ++i) w[i] = wv[i];
  for (int q = 0; q < n_out; q += GHR_VW) {
    const int m = n_out - q < GHR_VW ? n_out - q : GHR_VW;
    ghr_vec r[GHR_VW < 4 ? 4 : GHR_VW];
    for (int i = 0; i < GHR_VW; i += 4) {
      ghr_vec acc[4];
      const ghr_vec *at[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        acc[j] = b;
        at[j] = tile + t->out_at[q + (i + j < m ? i + j : m - 1)];
      }
#pragma GCC unroll 32
      for (int k = 0; k < taps; ++k)
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j)
          acc[j] = ghr_vfma(w[k], at[j][t->off[k]], acc[j]);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) r[i + j] = acc[j];
      if (i + 4 >= m) break;
    }
    ghr_dwconv_transpose(r);
    const size_t at = (size_t)o0 * n_out + q;
    ghr_dwconv_out_rows(GHR_VW, r, out + at, res ? res + at : NULL,
                        (size_t)n_out, n, m, act);
  }
}

// Every output channel of a call through the channels layout.
static void ghr_dwconv_channels_tile(const float *in, int ic, float *out,
                                     int oc, const float *weight,
                                     const float *bias, int mult,
                                     const float *in_scale, int in_shuffle,
                                     const float *residual, int act,
                                     const GhrDwShape *g, const GhrDwTile *t) {
  ghr_vec tile[GHR_DWCONV_TILE_CELLS];
  for (int i = 0; i < t->th * t->tw; ++i) tile[i] = ghr_vzero();
  const int taps = g->kh * g->kw, n_in = g->ih * g->iw, n_out = g->oh * g->ow;
  for (int o0 = 0; o0 < oc; o0 += GHR_VW) {
    const int n = oc - o0 < GHR_VW ? oc - o0 : GHR_VW;
    // Lane l: output channel o0 + l (the last one again past oc).
    const float *src[GHR_VW];
    float lane_w[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K][GHR_VW], lane_b[GHR_VW];
    for (int l = 0; l < GHR_VW; ++l) {
      const int o = o0 + (l < n ? l : n - 1), c = o / mult;
      src[l] = in + (size_t)ghr_shuffled_plane(c, ic, in_shuffle) * n_in;
      const float scale = in_scale ? in_scale[c] : 1.0f;
      for (int k = 0; k < taps; ++k)
        lane_w[k][l] = weight[(size_t)o * taps + k] * scale;
      lane_b[l] = bias ? bias[o] : 0.0f;
    }
    ghr_vec wv[GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K];
    for (int k = 0; k < taps; ++k) wv[k] = ghr_vload(lane_w[k]);
    const ghr_vec b = ghr_vload(lane_b);
    // The input, GHR_VW positions of every lane's plane at a time.
    for (int p = 0; p < n_in; p += GHR_VW) {
      const int m = n_in - p < GHR_VW ? n_in - p : GHR_VW;
      ghr_vec r[GHR_VW];
      for (int l = 0; l < GHR_VW; ++l)
        r[l] = m == GHR_VW ? ghr_vload(src[l] + p) : ghr_vload_n(src[l] + p, m);
      ghr_dwconv_transpose(r);
      for (int i = 0; i < m; ++i) tile[t->in_at[p + i]] = r[i];
    }
    if (taps == 9)
      ghr_dwconv_tile_sums(9, o0, n, wv, b, tile, t, out, residual, n_out,
                           act);
    else if (taps == 25)
      ghr_dwconv_tile_sums(25, o0, n, wv, b, tile, t, out, residual, n_out,
                           act);
    else
      ghr_dwconv_tile_sums(taps, o0, n, wv, b, tile, t, out, residual, n_out,
                           act);
  }
}

// The same convolution, one output at a time with bounds tests: kernels
// larger than 7x7, strides across of 3 or more.
static void ghr_dwconv_plain(const float *in, int ic, int ih, int iw,
                             float *out, int oc, int oh, int ow,
                             const float *weight, const float *bias, int kh,
                             int kw, int sh, int sw, int ph, int pw, int mult,
                             const float *in_scale, int in_shuffle,
                             const float *residual, int act) {
  const size_t out_plane = (size_t)oh * ow;
  for (int o = 0; o < oc; ++o) {
    const int c = o / mult;
    const int plane = ghr_shuffled_plane(c, ic, in_shuffle);
    const float *src = in + (size_t)plane * ih * iw;
    const float *w = weight + (size_t)o * kh * kw;  // weight (oc, kh, kw)
    const float scale = in_scale ? in_scale[c] : 1.0f;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float sum = 0.0f;
        for (int ky = 0; ky < kh; ++ky) {
          const int iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= ih) continue;
          for (int kx = 0; kx < kw; ++kx) {
            const int ix = ox * sw - pw + kx;
            if (ix >= 0 && ix < iw)
              sum += w[ky * kw + kx] * scale * src[(size_t)iy * iw + ix];
          }
        }
        const size_t at = (size_t)o * out_plane + (size_t)oy * ow + ox;
        if (bias) sum += bias[o];
        if (residual) sum += residual[at];
        out[at] = ghr_activate(sum, act);
      }
  }
}

// The kernels, one function each so that each gets the registers to
// itself: the layout and, for 3x3 and 5x5 kernels of stride 1 and 2, the
// kernel size (constants), else any size up to 7x7 of stride 1 or 2.
enum {
  GHR_DWCONV_FLAT_3, GHR_DWCONV_FLAT_5, GHR_DWCONV_FLAT_ANY,
  GHR_DWCONV_PAIRS_3, GHR_DWCONV_PAIRS_5, GHR_DWCONV_PAIRS_ANY,
  GHR_DWCONV_ROWS_3_1, GHR_DWCONV_ROWS_3_2, GHR_DWCONV_ROWS_5_1,
  GHR_DWCONV_ROWS_5_2, GHR_DWCONV_ROWS_ANY_1, GHR_DWCONV_ROWS_ANY_2,
};

// A call's arguments (as ghr_dwconv's) and the tables of its layout.
typedef struct {
  const float *in, *weight, *bias, *in_scale, *residual;
  float *out;
  int ic, oc, mult, in_shuffle, act;
  GhrDwShape g;
  const GhrDwFlat *flat;
  const GhrDwPairs *pairs;
} GhrDwCall;

// Every output channel of the call through kernel `kernel` (a constant).
GHR_DWCONV_INLINE void ghr_dwconv_channels(const int kernel,
                                           const GhrDwCall *a) {
  const GhrDwShape *g = &a->g;
  const int kh = g->kh, kw = g->kw, sh = g->sh, taps = kh * kw;
  const size_t in_plane = (size_t)g->ih * g->iw;
  const size_t out_plane = (size_t)g->oh * g->ow;
  for (int o = 0; o < a->oc; ++o) {
    const int c = o / a->mult;
    const float *src =
        a->in + (size_t)ghr_shuffled_plane(c, a->ic, a->in_shuffle) * in_plane;
    const float *w = a->weight + (size_t)o * taps;  // weight (oc, kh, kw)
    const float scale = a->in_scale ? a->in_scale[c] : 1.0f;
    float *dst = a->out + (size_t)o * out_plane;
    const float *res = a->residual ? a->residual + (size_t)o * out_plane
                                   : NULL;
    const float b = a->bias ? a->bias[o] : 0.0f;
    switch (kernel) {
    case GHR_DWCONV_FLAT_3:
      ghr_dwconv_flat(9, a->flat, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_FLAT_5:
      ghr_dwconv_flat(25, a->flat, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_FLAT_ANY:
      ghr_dwconv_flat(taps, a->flat, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_PAIRS_3:
      ghr_dwconv_pairs(3, 3, g, a->pairs, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_PAIRS_5:
      ghr_dwconv_pairs(5, 5, g, a->pairs, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_PAIRS_ANY:
      ghr_dwconv_pairs(kh, kw, g, a->pairs, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_ROWS_3_1:
      ghr_dwconv_rows(3, 3, 1, 1, 4, g, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_ROWS_3_2:
      ghr_dwconv_rows(3, 3, 2, 2, 4, g, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_ROWS_5_1:
      ghr_dwconv_rows(5, 5, 1, 1, 4, g, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_ROWS_5_2:
      ghr_dwconv_rows(5, 5, 2, 2, 4, g, src, dst, res, w, scale, b, a->act);
      break;
    case GHR_DWCONV_ROWS_ANY_1:
      ghr_dwconv_rows(kh, kw, sh, 1, 2, g, src, dst, res, w, scale, b, a->act);
      break;
    default:
      ghr_dwconv_rows(kh, kw, sh, 2, 2, g, src, dst, res, w, scale, b, a->act);
    }
  }
}

#if defined(__GNUC__)
#define GHR_DWCONV_KERNEL(name, kernel)                          \
  __attribute__((noinline)) static void name(const GhrDwCall *a) { \
    ghr_dwconv_channels(kernel, a);                              \
  }
#else
#define GHR_DWCONV_KERNEL(name, kernel)      \
  static void name(const GhrDwCall *a) {     \
    ghr_dwconv_channels(kernel, a);          \
  }
#endif
GHR_DWCONV_KERNEL(ghr_dwconv_flat_3, GHR_DWCONV_FLAT_3)
GHR_DWCONV_KERNEL(ghr_dwconv_flat_5, GHR_DWCONV_FLAT_5)
GHR_DWCONV_KERNEL(ghr_dwconv_flat_any, GHR_DWCONV_FLAT_ANY)
GHR_DWCONV_KERNEL(ghr_dwconv_pairs_3, GHR_DWCONV_PAIRS_3)
GHR_DWCONV_KERNEL(ghr_dwconv_pairs_5, GHR_DWCONV_PAIRS_5)
GHR_DWCONV_KERNEL(ghr_dwconv_pairs_any, GHR_DWCONV_PAIRS_ANY)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_1, GHR_DWCONV_ROWS_3_1)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_2, GHR_DWCONV_ROWS_3_2)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_5_1, GHR_DWCONV_ROWS_5_1)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_5_2, GHR_DWCONV_ROWS_5_2)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_any_1, GHR_DWCONV_ROWS_ANY_1)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_any_2, GHR_DWCONV_ROWS_ANY_2)

GHR_API void ghr_dwconv(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int mult, const float *in_scale,
                        int in_shuffle, const float *residual, int act) {
  if (kh > GHR_DWCONV_MAX_K || kw > GHR_DWCONV_MAX_K || sh > 2 || sw > 2) {
    ghr_dwconv_plain(in, ic, ih, iw, out, oc, oh, ow, weight, bias, kh, kw,
                     sh, sw, ph, pw, mult, in_scale, in_shuffle, residual,
                     act);
    return;
  }
  GhrDwFlat flat;
  GhrDwPairs pairs;
  GhrDwTile tile;
  const GhrDwCall a = {in,  weight, bias, in_scale,   residual, out,
                       ic,  oc,     mult, in_shuffle, act,
                       {ih, iw, oh, ow, kh, kw, sh, sw, ph, pw},
                       &flat, &pairs};
  // 3x3 and 5x5 kernels of stride 1 and 2 have their own code.
  const int k = kh == kw && sh == sw && (kh == 3 || kh == 5) ? kh : 0;
  // The layout: flat for small planes of stride 1 as wide as the input,
  // pairs for maps of stride 2 at most half a vector wide, rows otherwise.
  if (oc >= GHR_VW / 2 && ghr_dwconv_plan_tile(&tile, &a.g)) {
    ghr_dwconv_channels_tile(in, ic, out, oc, weight, bias, mult, in_scale,
                             in_shuffle, residual, act, &a.g, &tile);
  } else if (ow < GHR_VW && ghr_dwconv_plan_flat(&flat, &a.g)) {
    (k == 3 ? ghr_dwconv_flat_3 : k == 5 ? ghr_dwconv_flat_5
                                         : ghr_dwconv_flat_any)(&a);
  } else if (sw == 2 && 2 * ow <= GHR_VW && oh <= GHR_DWCONV_PAIR_ROWS) {
    ghr_dwconv_plan_pairs(&pairs, &a.g);
    (k == 3 ? ghr_dwconv_pairs_3 : k == 5 ? ghr_dwconv_pairs_5
                                          : ghr_dwconv_pairs_any)(&a);
  } else if (sw == 1) {
    (k == 3 ? ghr_dwconv_rows_3_1 : k == 5 ? ghr_dwconv_rows_5_1
                                           : ghr_dwconv_rows_any_1)(&a);
  } else {
    (k == 3 ? ghr_dwconv_rows_3_2 : k == 5 ? ghr_dwconv_rows_5_2
                                           : ghr_dwconv_rows_any_2)(&a);
  }
}
