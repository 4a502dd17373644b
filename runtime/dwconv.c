// Depthwise convolution, straight from the input planes: no padded copy of
// the input, in_scale folded into the weights, the epilogue (residual,
// activation) applied to each vector before it is stored. Three layouts:
//
// - lanes (AVX-512; 3x3 and 5x5 kernels, padding k/2, output rows of at
//   most two vectors: maps up to 28x28, 56x56 of stride 2): one or two
//   channels' rows in a vector (or a row in two), each input row loaded
//   once, zeros around it; its tap columns are those vectors shifted by
//   lanes (stride 2: then split into even and odd columns); R output rows
//   computed together. Nothing is masked per tap, nothing transposed.
// - channels (other maps small enough that a tile of their channels fits
//   the stack: 14x14 and 7x7 with AVX-512): GHR_VW output channels at
//   once, a lane each. Their input planes are transposed into a
//   zero-padded tile of vectors; every output is then a multiply-add per
//   tap of an aligned vector of the tile, whatever the stride or the width
//   of the map, and the sums are transposed back to the output planes.
//   Small maps have many channels: nothing is set up per channel, no lane
//   idles at a row's end.
// - rows (larger maps): a vector is GHR_VW output columns of one row, from
//   unaligned loads of the input plane at the offsets of the taps. R output
//   rows are computed together, each input row they read loaded once per
//   tap column for all the rows that use it. Stride 2 splits the loaded
//   columns into the even and odd ones in registers (AVX-512: loaded from
//   column 2x, aligned as the output vectors are, where padding is kw/2).
//   Blocks that reach past the input (padding, the ends of the rows) zero
//   the lanes outside it: in registers after a whole-vector load where
//   that stays inside the input tensor (masked loads are slow on data that
//   misses the cache), with masked loads at its ends, skipping padding
//   rows; other blocks take the same code without masks.
//
// 3x3 and 5x5 kernels of stride 1 and 2 have unrolled copies (weights and
// accumulators in registers), one function each; other kernels up to 7x7
// of stride 1 or 2 take the same code with loops, larger ones a plain loop
// (or the channels layout, where it fits).
//
// Stack: the channels layout's tile, GHR_DWCONV_TILE_FLOATS floats (34 KB),
// and its input map; the rows and lanes layouts use a few hundred bytes.
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
  GHR_DWCONV_MAX_K = 7,      // larger kernels: channels layout or plain loop
  GHR_DWCONV_MAX_TAPS = GHR_DWCONV_MAX_K * GHR_DWCONV_MAX_K,
  GHR_DWCONV_ROWS = 7,       // output rows the rows layout computes together
  GHR_DWCONV_MAX_READS = (GHR_DWCONV_ROWS - 1) * 2 + GHR_DWCONV_MAX_K,
};

// GHR_DWCONV_KEEP(v): v is in a register here. After a load read by
// several multiply-adds, it stops GCC from folding the (unaligned) load
// into each of them; on the finished sums, from sinking the work of the
// later ones past the first store (each behind a branch), which leaves one
// chain of dependent multiply-adds at a time.
#if defined(__GNUC__) && (defined(GHR_ISA_AVX512) || defined(GHR_ISA_AVX2))
#define GHR_DWCONV_KEEP(v) __asm__("" : "+v"(v))
#else
#define GHR_DWCONV_KEEP(v) ((void)0)
#endif

// Hints that the cache line of p will be read soon.
#if defined(__GNUC__)
#define ghr_dwconv_prefetch(p) __builtin_prefetch((p), 0, 3)
#define ghr_dwconv_prefetch_w(p) __builtin_prefetch((p), 1, 3)
#else
#define ghr_dwconv_prefetch(p) ((void)(p))
#define ghr_dwconv_prefetch_w(p) ((void)(p))
#endif
enum { GHR_DWCONV_PREFETCH = 8192 };  // floats of a plane that prefetches

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

// The lanes m of the vector at p, the others zero. loadm reads only those
// lanes; loadz reads the whole vector, which must be readable.
#if defined(GHR_ISA_AVX512)
static inline ghr_vec ghr_dwconv_loadm(const float *p, GhrDwMask m) {
  return _mm512_maskz_loadu_ps((__mmask16)m, p);
}
static inline ghr_vec ghr_dwconv_loadz(const float *p, GhrDwMask m) {
  return _mm512_maskz_mov_ps((__mmask16)m, _mm512_loadu_ps(p));
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
static inline ghr_vec ghr_dwconv_loadz(const float *p, GhrDwMask m) {
  return _mm256_and_ps(_mm256_loadu_ps(p),
                       _mm256_castsi256_ps(ghr_dwconv_maskv(m)));
}
#else
static inline ghr_vec ghr_dwconv_loadm(const float *p, GhrDwMask m) {
  float t[GHR_VW];
  for (int l = 0; l < GHR_VW; ++l) t[l] = m >> l & 1 ? p[l] : 0.0f;
  return ghr_vload(t);
}
static inline ghr_vec ghr_dwconv_loadz(const float *p, GhrDwMask m) {
  return ghr_dwconv_loadm(p, m);
}
#endif

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

// A call's arguments, as ghr_dwconv's.
typedef struct {
  const float *in, *weight, *bias, *in_scale, *residual;
  float *out;
  int ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, mult, in_shuffle, act;
} GhrDwCall;

// Output channel o of a call: its input plane (read through the shuffle),
// its input scale and its output and residual planes.
typedef struct {
  const float *src, *w, *res;
  float *dst;
  float scale, bias;
} GhrDwChannel;

static inline GhrDwChannel ghr_dwconv_channel(const GhrDwCall *a, int o) {
  const int c = o / a->mult, taps = a->kh * a->kw;
  const size_t in_plane = (size_t)a->ih * a->iw;
  const size_t out_plane = (size_t)a->oh * a->ow;
  GhrDwChannel ch;
  ch.src = a->in + (size_t)ghr_shuffled_plane(c, a->ic, a->in_shuffle) *
                       in_plane;
  ch.w = a->weight + (size_t)o * taps;  // weight (oc, kh, kw)
  ch.res = a->residual ? a->residual + (size_t)o * out_plane : NULL;
  ch.dst = a->out + (size_t)o * out_plane;
  ch.scale = a->in_scale ? a->in_scale[c] : 1.0f;
  ch.bias = a->bias ? a->bias[o] : 0.0f;
  return ch;
}

// ---- Rows layout ----

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

// How a step of the rows layout reads: every load inside the input plane,
// or lanes outside it zeroed after whole-vector loads that stay inside the
// input tensor, or masked loads.
enum { GHR_DWCONV_CLEAN, GHR_DWCONV_ZERO, GHR_DWCONV_MASK };

static inline ghr_vec ghr_dwconv_load(const int mode, const float *p,
                                      GhrDwMask m) {
  return mode == GHR_DWCONV_CLEAN  ? ghr_vload(p)
         : mode == GHR_DWCONV_ZERO ? ghr_dwconv_loadz(p, m)
                                   : ghr_dwconv_loadm(p, m);
}

// The tap columns of one input row for a vector of outputs whose lane 0
// reads column c0 at tap column 0, stride sw: tv[kx] lane l holds column
// c0 + l*sw + kx (stride 2: in ghr_dwconv_evens' order), loaded from
// s = row + c0. Stride 1 loads each tap column. Stride 2 loads the 2*VW
// columns from c0 and splits them, else (AVX-512) from c0 + lead: padding
// kw/2 puts those loads at column 2x, aligned as the output vectors are
// (unaligned ones cross cache lines and cost two loads each); tap column
// lead + 2m + p (p = 0, 1) is then the even or odd columns m outputs on,
// m < 0 with a few columns before them, m > 0 a few after them, one
// two-vector permute each (the in-lane splits are cheaper than permutes
// across lanes: those are kept few). Other ISAs load at c0 + 2m for tap
// columns 2m, 2m+1. ghr_dwconv_col_masks gives the lanes of each load
// inside the row (cm); ghr_dwconv_span the columns past c0 read,
// ghr_dwconv_before those before it.
static inline int ghr_dwconv_span(int kw, int sw, int lead) {
  if (sw == 1) return kw - 1 + GHR_VW;
#if defined(GHR_ISA_AVX512)
  const int reach = kw - 1 - lead;  // tap columns past lead
  return lead + 2 * GHR_VW + (reach > 5 ? 8 : reach > 1 ? 4 : 0);
#else
  (void)lead;
  return (kw - 1) / 2 * 2 + 2 * GHR_VW;
#endif
}

static inline int ghr_dwconv_before(int lead) {
  return lead ? 4 - lead : 0;  // the 4 columns before c0 + lead
}

GHR_DWCONV_INLINE void ghr_dwconv_col_masks(const int kw, const int sw,
                                            const int lead, int c0, int iw,
                                            GhrDwMask *cm) {
#if defined(GHR_ISA_AVX512)
  if (sw == 2) {
    const int at = c0 + lead;
    cm[0] = ghr_dwconv_cols(at, iw);
    cm[1] = ghr_dwconv_cols(at + GHR_VW, iw);
    cm[2] = ghr_dwconv_cols(at + 2 * GHR_VW, iw) &
            ghr_dwconv_lanes(0, kw - 2 - lead);
    cm[3] = ghr_dwconv_cols(at - 4, iw) & ghr_dwconv_lanes(4 - lead, 4);
    return;
  }
#else
  (void)lead;
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

#if defined(GHR_ISA_AVX512)
// The n (4 or 8) floats from p in the low lanes, those outside lanes m
// zero (read as the step's mode reads).
GHR_DWCONV_INLINE __m512 ghr_dwconv_load_few(const int n, const int mode,
                                             const float *p, GhrDwMask m) {
  if (n > 4) {
    const __m256 v = mode == GHR_DWCONV_MASK
                         ? _mm256_maskz_loadu_ps((__mmask8)m, p)
                     : mode == GHR_DWCONV_ZERO
                         ? _mm256_maskz_mov_ps((__mmask8)m, _mm256_loadu_ps(p))
                         : _mm256_loadu_ps(p);
    return _mm512_castps256_ps512(v);
  }
  const __m128 v = mode == GHR_DWCONV_MASK
                       ? _mm_maskz_loadu_ps((__mmask8)m, p)
                   : mode == GHR_DWCONV_ZERO
                       ? _mm_maskz_mov_ps((__mmask8)m, _mm_loadu_ps(p))
                       : _mm_loadu_ps(p);
  return _mm512_castps128_ps512(v);
}
#endif

GHR_DWCONV_INLINE void ghr_dwconv_row_taps(const int kw, const int sw,
                                           const int lead, const int mode,
                                           const float *s,
                                           const GhrDwMask *cm, ghr_vec *tv) {
  if (sw == 1) {
#pragma GCC unroll 8
    for (int kx = 0; kx < kw; ++kx) {
      tv[kx] = ghr_dwconv_load(mode, s + kx, cm[kx]);
      GHR_DWCONV_KEEP(tv[kx]);
    }
    return;
  }
#if defined(GHR_ISA_AVX512)
  const float *at = s + lead;
  ghr_vec lo = ghr_dwconv_load(mode, at, cm[0]);
  ghr_vec hi = ghr_dwconv_load(mode, at + GHR_VW, cm[1]);
  GHR_DWCONV_KEEP(lo);
  GHR_DWCONV_KEEP(hi);
  const ghr_vec even = ghr_dwconv_evens(lo, hi), odd = ghr_dwconv_odds(lo, hi);
  // The columns 2*VW on (4, or 8 for 7 taps) and the 4 before at, in the
  // low lanes.
  const int reach = kw - 1 - lead;
  const __m512 after = reach > 1 ? ghr_dwconv_load_few(reach > 5 ? 8 : 4, mode,
                                                       at + 2 * GHR_VW, cm[2])
                                 : ghr_vzero();
  const __m512 before =
      lead ? ghr_dwconv_load_few(4, mode, at - 4, cm[3]) : ghr_vzero();
  // Tap lead + 2m + p: output x + m of the even (p = 0) or odd columns in
  // the lane of output x, from those or, past them, from lane
  // 2(x + m - VW) + p of after or 4 + 2(x + m) + p of before. In
  // ghr_dwconv_evens' order lane 4q + r holds output 2q + r (r < 2), else
  // 8 + 2q + r - 2. Rows for m = -2, -1, 1, 2, 3.
  static const int from[5][2][GHR_VW] = {
      {{16, 18, 12, 13, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
       {17, 19, 12, 13, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
      {{18, 0, 13, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14},
       {19, 0, 13, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14}},
      {{1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 2, 15, 16},
       {1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 2, 15, 17}},
      {{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, 3, 16, 18},
       {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, 3, 17, 19}},
      {{5, 8, 7, 10, 9, 12, 11, 14, 13, 2, 15, 16, 3, 6, 18, 20},
       {5, 8, 7, 10, 9, 12, 11, 14, 13, 2, 15, 17, 3, 6, 19, 21}}};
#pragma GCC unroll 8
  for (int kx = 0; kx < kw; ++kx) {
    const int d = kx - lead, m = d >= 0 ? d / 2 : -((1 - d) / 2), p = d - 2 * m;
    const ghr_vec v = p ? odd : even;
    tv[kx] = m == 0 ? v
                    : _mm512_permutex2var_ps(
                          v, _mm512_loadu_si512(from[m < 0 ? m + 2 : m + 1][p]),
                          m < 0 ? before : after);
  }
#else
  (void)lead;
#pragma GCC unroll 8
  for (int kx = 0; kx < kw; kx += 2) {
    ghr_vec lo = ghr_dwconv_load(mode, s + kx, cm[kx]);
    ghr_vec hi = ghr_dwconv_load(mode, s + kx + GHR_VW, cm[kx + 1]);
    GHR_DWCONV_KEEP(lo);
    GHR_DWCONV_KEEP(hi);
    tv[kx] = ghr_dwconv_evens(lo, hi);
    if (kx + 1 < kw) tv[kx + 1] = ghr_dwconv_odds(lo, hi);
  }
#endif
}

// Rows layout, one step: output rows y0 .. y0+R-1 (n_rows of them stored),
// columns x .. x+VW-1 (n stored) of channel ch. row[i] is input row
// y0*sh - ph + i, ok[i] whether it exists; c0 = x*sw - pw is the input
// column of lane 0 at tap column 0; lead and mode constants per copy.
GHR_DWCONV_INLINE void ghr_dwconv_rows_step(
    const int kh, const int kw, const int sh, const int sw, const int R,
    const int lead, const int mode, const float *const *row, const int *ok,
    int c0, int iw, const ghr_vec *wv, ghr_vec b, float *d, const float *res,
    int ow, int n_rows, int n, int act) {
  const int reads = (R - 1) * sh + kh;
  // Two sums per output row (even and odd tap rows): shorter chains of
  // dependent multiply-adds.
  ghr_vec acc[GHR_DWCONV_ROWS], acc2[GHR_DWCONV_ROWS];
#pragma GCC unroll 8
  for (int j = 0; j < R; ++j) {
    acc[j] = b;
    acc2[j] = ghr_vzero();
  }
  GhrDwMask cm[GHR_DWCONV_MAX_K + 1] = {0};
  if (mode != GHR_DWCONV_CLEAN) ghr_dwconv_col_masks(kw, sw, lead, c0, iw, cm);
#pragma GCC unroll 20
  for (int i = 0; i < reads; ++i) {
    if (mode != GHR_DWCONV_CLEAN && !ok[i]) continue;  // a padding row
    ghr_vec tv[GHR_DWCONV_MAX_K];
    ghr_dwconv_row_taps(kw, sw, lead, mode, row[i] + c0, cm, tv);
    // Output row j reads this input row at tap row ky.
#pragma GCC unroll 8
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
#pragma GCC unroll 8
  for (int j = 0; j < R; ++j) {
    acc[j] = ghr_vadd(acc[j], acc2[j]);
    if (sw == 2) acc[j] = ghr_dwconv_order(acc[j]);
    GHR_DWCONV_KEEP(acc[j]);
  }
  ghr_dwconv_out_rows(R, acc, d, res, (size_t)ow, n_rows, n, act);
}

// Rows layout, one output channel; lead as ghr_dwconv_row_taps'.
GHR_DWCONV_INLINE void ghr_dwconv_rows(const int kh, const int kw,
                                       const int sh, const int sw,
                                       const int R, const int lead,
                                       const GhrDwCall *a,
                                       const GhrDwChannel *ch) {
  const int reads = (R - 1) * sh + kh;
  const int ih = a->ih, iw = a->iw, ow = a->ow;
  const int span = ghr_dwconv_span(kw, sw, lead), plane = ih * iw;
  const int before = ghr_dwconv_before(lead);
  // Whole-vector loads are safe inside the input tensor.
  const float *in_end = a->in + (size_t)a->ic * plane;
  // Planes larger than the L1 cache stream in from further away.
  const int prefetch = plane >= GHR_DWCONV_PREFETCH;
  ghr_vec wv[GHR_DWCONV_MAX_TAPS];
#pragma GCC unroll 32
  for (int t = 0; t < kh * kw; ++t) wv[t] = ghr_vset1(ch->w[t] * ch->scale);
  const ghr_vec b = ghr_vset1(ch->bias);
  for (int y0 = 0; y0 < a->oh; y0 += R) {
    const float *row[GHR_DWCONV_MAX_READS];
    int ok[GHR_DWCONV_MAX_READS];
    const int top = y0 * sh - a->ph;  // input row of row[0]
    for (int i = 0; i < reads && i < GHR_DWCONV_MAX_READS; ++i) {
      ok[i] = top + i >= 0 && top + i < ih;
      row[i] = ch->src + (ptrdiff_t)(ok[i] ? top + i : 0) * iw;
    }
    // The rows read that exist: [first, last].
    const int first = top > 0 ? top : 0;
    const int last = top + reads - 1 < ih ? top + reads - 1 : ih - 1;
    const int inside = first == top && last == top + reads - 1;
    const int n_rows = a->oh - y0 < R ? a->oh - y0 : R;
    float *d = ch->dst + (size_t)y0 * ow;
    const float *r = ch->res ? ch->res + (size_t)y0 * ow : NULL;
    for (int x = 0; x < ow; x += GHR_VW) {
      const int n = ow - x < GHR_VW ? ow - x : GHR_VW;
      const int c0 = x * sw - a->pw;
      // The rows the next step down reads first, the columns this step
      // moves on by: each line once (more prefetches crowd out the loads);
      // stride 1, writing as much as it reads, the rows it writes too.
      if (prefetch) {
        for (int i = reads; i < reads + R * sh; ++i)
          for (int k = 0; k < GHR_VW * sw; k += 16)
            ghr_dwconv_prefetch(ch->src + (ptrdiff_t)(top + i) * iw + x * sw +
                                k);
        for (int j = R; j < 2 * R && sw == 1; ++j) {
          ghr_dwconv_prefetch_w(d + (size_t)j * ow + x);
          if (r) ghr_dwconv_prefetch(r + (size_t)j * ow + x);
        }
      }
      if (inside && c0 - before >= 0 && c0 + span <= iw)
        ghr_dwconv_rows_step(kh, kw, sh, sw, R, lead, GHR_DWCONV_CLEAN, row,
                             ok, c0, iw, wv, b, d + x, r ? r + x : NULL, ow,
                             n_rows, n, a->act);
      else if (ch->src + first * iw + c0 - before >= a->in &&
               ch->src + last * iw + c0 + span <= in_end)
        ghr_dwconv_rows_step(kh, kw, sh, sw, R, lead, GHR_DWCONV_ZERO, row,
                             ok, c0, iw, wv, b, d + x, r ? r + x : NULL, ow,
                             n_rows, n, a->act);
      else
        ghr_dwconv_rows_step(kh, kw, sh, sw, R, lead, GHR_DWCONV_MASK, row,
                             ok, c0, iw, wv, b, d + x, r ? r + x : NULL, ow,
                             n_rows, n, a->act);
    }
  }
}

// ---- Channels layout ----

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

// The tile: cell (y, x) holds the channels' input at (y - ph, x - pw), for
// y < th = (oh-1)*sh + kh and x < tw = (ow-1)*sw + kw (zero outside the
// input; input that no output reads goes to a spare cell after them). The
// sums follow, from cell out0: past the spare cell and the cells that the
// last outputs of a row, computed a block of GHR_DWCONV_TILE_X at a time,
// read past the tile.
enum { GHR_DWCONV_TILE_FLOATS = 8704 };  // 34 KB
enum { GHR_DWCONV_TILE_CELLS = GHR_DWCONV_TILE_FLOATS / GHR_VW };
enum { GHR_DWCONV_TILE_X = 8 };

typedef struct {
  int th, tw, out0;
} GhrDwTile;

// 1 when the channels layout fits (and is planned), 0 otherwise.
static int ghr_dwconv_plan_tile(GhrDwTile *t, const GhrDwCall *a) {
  // Stride 1 on rows wider than half a vector: the rows layout wastes few
  // lanes, and its loads feed more multiply-adds.
  if (GHR_VW < 4 || a->oc < GHR_VW / 2 ||
      (a->sh == 1 && a->sw == 1 && 2 * a->ow > GHR_VW))
    return 0;
  t->th = (a->oh - 1) * a->sh + a->kh;
  t->tw = (a->ow - 1) * a->sw + a->kw;
  t->out0 = t->th * t->tw + 1 + (GHR_DWCONV_TILE_X - 1) * a->sw;
  // The sums: every output, a block past a row's end, the rest of the last
  // vector transposed.
  const int n_out = a->oh * a->ow + GHR_DWCONV_TILE_X;
  return t->out0 + (n_out + GHR_VW - 1) / GHR_VW * GHR_VW <=
         GHR_DWCONV_TILE_CELLS;
}

// Zeroes the cells of the tile that no input fills (the padding) and the
// cells the last outputs of a row read past it.
static void ghr_dwconv_tile_pad(ghr_vec *tile, const GhrDwTile *t,
                                const GhrDwCall *a) {
  for (int y = 0; y < t->th; ++y) {
    ghr_vec *row = tile + (size_t)y * t->tw;
    const int inside = y >= a->ph && y < a->ph + a->ih;
    const int x0 = inside ? a->pw : t->tw;  // [x0, x1) holds input
    const int x1 = inside && a->pw + a->iw < t->tw ? a->pw + a->iw : t->tw;
    for (int x = 0; x < x0; ++x) row[x] = ghr_vzero();
    for (int x = x1; x < t->tw; ++x) row[x] = ghr_vzero();
  }
  for (int i = t->th * t->tw; i < t->out0; ++i) tile[i] = ghr_vzero();
}

// The sums (bias b included) of the channels in the tile, weights wv, for
// every output: a row at a time, X outputs at a time.
GHR_DWCONV_INLINE void ghr_dwconv_tile_sums(const int kh, const int kw,
                                            const int sh, const int sw,
                                            const int X, const GhrDwCall *a,
                                            const GhrDwTile *t,
                                            const ghr_vec *wv, ghr_vec b,
                                            ghr_vec *tile) {
  ghr_vec w[GHR_DWCONV_MAX_TAPS];
#pragma GCC unroll 32
  for (int i = 0; i < kh * kw; ++i) w[i] = wv[i];
  const int tw = t->tw;
  for (int oy = 0; oy < a->oh; ++oy) {
    const ghr_vec *row = tile + (size_t)oy * sh * tw;
    ghr_vec *o = tile + t->out0 + (size_t)oy * a->ow;
    for (int ox = 0; ox < a->ow; ox += X) {
      const ghr_vec *s = row + ox * sw;
      ghr_vec acc[GHR_DWCONV_TILE_X];
#pragma GCC unroll 8
      for (int j = 0; j < X; ++j) acc[j] = b;
#pragma GCC unroll 8
      for (int ky = 0; ky < kh; ++ky)
#pragma GCC unroll 8
        for (int kx = 0; kx < kw; ++kx)
#pragma GCC unroll 8
          for (int j = 0; j < X; ++j)
            acc[j] = ghr_vfma(w[ky * kw + kx], s[ky * tw + j * sw + kx],
                              acc[j]);
#pragma GCC unroll 8
      for (int j = 0; j < X; ++j) o[ox + j] = acc[j];
    }
  }
}

// Every output channel of a call, GHR_VW at a time, through the channels
// layout.
static void ghr_dwconv_tiles(const GhrDwCall *a, const GhrDwTile *t) {
  ghr_vec tile[GHR_DWCONV_TILE_CELLS];
  ghr_dwconv_tile_pad(tile, t, a);
  const int spare = t->th * t->tw;  // for input that no output reads
  const int kh = a->kh, kw = a->kw, taps = kh * kw;
  const int n_in = a->ih * a->iw, n_out = a->oh * a->ow;
  const float *in_end = a->in + (size_t)a->ic * n_in;
  const ghr_vec *sums = tile + t->out0;
  for (int o0 = 0; o0 < a->oc; o0 += GHR_VW) {
    const int n = a->oc - o0 < GHR_VW ? a->oc - o0 : GHR_VW;
    // Lane l: output channel o0 + l (the last one again past oc).
    const float *src[GHR_VW];
    float lane_w[GHR_DWCONV_MAX_TAPS][GHR_VW], lane_b[GHR_VW];
    for (int l = 0; l < GHR_VW; ++l) {
      const GhrDwChannel ch = ghr_dwconv_channel(a, o0 + (l < n ? l : n - 1));
      src[l] = ch.src;
      for (int k = 0; k < taps; ++k) lane_w[k][l] = ch.w[k] * ch.scale;
      lane_b[l] = ch.bias;
    }
    ghr_vec wv[GHR_DWCONV_MAX_TAPS];
    for (int k = 0; k < taps; ++k) wv[k] = ghr_vload(lane_w[k]);
    const ghr_vec b = ghr_vload(lane_b);
    // The input, GHR_VW positions of every lane's plane at a time (whole
    // vectors where they stay inside the input).
    int y = a->ph, x = a->pw;  // the cell of input position p
    for (int p = 0; p < n_in; p += GHR_VW) {
      const int m = n_in - p < GHR_VW ? n_in - p : GHR_VW;
      ghr_vec r[GHR_VW];
      for (int l = 0; l < GHR_VW; ++l)
        r[l] = m == GHR_VW || src[l] + p + GHR_VW <= in_end
                   ? ghr_vload(src[l] + p)
                   : ghr_vload_n(src[l] + p, m);
      ghr_dwconv_transpose(r);
      for (int i = 0; i < m; ++i) {
        tile[y < t->th && x < t->tw ? y * t->tw + x : spare] = r[i];
        if (++x == a->pw + a->iw) {
          x = a->pw;
          ++y;
        }
      }
    }
    const int k = kh == kw && a->sh == a->sw && (kh == 3 || kh == 5)
                      ? kh * 16 + a->sh : 0;
    // Rows of 7 or 14 outputs in blocks of 7, others of 8 (3x3) or 4.
    switch (k + (a->ow % 7 == 0 ? 256 : 0)) {
    case 3 * 16 + 1: ghr_dwconv_tile_sums(3, 3, 1, 1, 8, a, t, wv, b, tile); break;
    case 3 * 16 + 2: ghr_dwconv_tile_sums(3, 3, 2, 2, 8, a, t, wv, b, tile); break;
    case 256 + 3 * 16 + 1:
      ghr_dwconv_tile_sums(3, 3, 1, 1, 7, a, t, wv, b, tile);
      break;
    case 256 + 3 * 16 + 2:
      ghr_dwconv_tile_sums(3, 3, 2, 2, 7, a, t, wv, b, tile);
      break;
    case 5 * 16 + 1: ghr_dwconv_tile_sums(5, 5, 1, 1, 4, a, t, wv, b, tile); break;
    case 5 * 16 + 2:
    case 256 + 5 * 16 + 2:
      ghr_dwconv_tile_sums(5, 5, 2, 2, 4, a, t, wv, b, tile);
      break;
    case 256 + 5 * 16 + 1:  // (stride 2: blocks of 4 measured faster)
      ghr_dwconv_tile_sums(5, 5, 1, 1, 7, a, t, wv, b, tile);
      break;
    default: ghr_dwconv_tile_sums(kh, kw, a->sh, a->sw, 4, a, t, wv, b, tile);
    }
    // The sums back to the output planes, GHR_VW positions at a time.
    for (int q = 0; q < n_out; q += GHR_VW) {
      const int m = n_out - q < GHR_VW ? n_out - q : GHR_VW;
      ghr_vec r[GHR_VW];
      for (int i = 0; i < GHR_VW; ++i) r[i] = sums[q + i];
      ghr_dwconv_transpose(r);
      const size_t at = (size_t)o0 * n_out + q;
      ghr_dwconv_out_rows(GHR_VW, r, a->out + at,
                          a->residual ? a->residual + at : NULL,
                          (size_t)n_out, n, m, a->act);
    }
  }
}

// ---- Lanes layout (AVX-512) ----

// Maps whose output rows fit two vectors (stride 1: 28x28 and smaller;
// stride 2: 56x56 and smaller), padding kw/2: G output channels per
// vector (G = 2 where two rows and their padding fit), a row of each in
// its lanes, or (V = 2) an output row in two vectors. Each input row is
// loaded once (stride 2: two or four vectors, or one per channel), the
// lanes past it zero (the padding); its tap columns are that row shifted
// by a lane or two, zeros shifted in (stride 2: then split into its even
// and odd columns as in the rows layout); R output rows are computed
// together, as in the rows layout. Against the channels layout: no tile,
// no transposes, the input read and the output written once; against the
// rows layout: one load per input row, none masked per tap, few lanes idle
// on narrow rows.
#if defined(GHR_ISA_AVX512)
enum { GHR_DWCONV_HALF = GHR_VW / 2 };

// The channels per vector of the lanes layout for a call, 0 where it does
// not apply: padding kw/2; stride 1 on rows at most two vectors wide, two
// channels where the columns that one row's taps read past it stay clear
// of the other row; stride 2 on rows at most four vectors wide, two
// channels where a row fits a vector.
static int ghr_dwconv_lanes_group(const GhrDwCall *a) {
  if (a->pw != a->kw / 2 || a->sh != a->sw || a->sw > 2) return 0;
  if (a->sw == 2) {
    if (a->iw > 4 * GHR_VW || a->ow > 2 * GHR_VW) return 0;
    if (a->iw > 2 * GHR_VW || a->ow > GHR_VW) return 1;
    return a->oc >= 2 && a->iw <= GHR_VW && a->ow <= GHR_DWCONV_HALF ? 2 : 1;
  }
  if (a->iw > 2 * GHR_VW || a->ow > 2 * GHR_VW) return 0;
  if (a->iw > GHR_VW || a->ow > GHR_VW) return 1;
  const int clear = 2 * a->iw + a->pw <= GHR_VW &&
                    a->iw + a->ow + a->kw - 1 - a->pw <= GHR_VW;
  return a->oc >= 2 && a->ow <= a->iw && clear ? 2 : 1;
}

// x in the lanes of channel 0, y in those of channel 1 (G = 2): the low
// and the high half, or (stride 2) as ghr_dwconv_evens leaves them.
static inline __m512 ghr_dwconv_pair(const int sw, float x, float y) {
  if (sw == 2)  // a0 a2 b0 b2 | a4 a6 b4 b6 | ..
    return _mm512_mask_blend_ps(0xcccc, _mm512_set1_ps(x), _mm512_set1_ps(y));
  return _mm512_insertf32x8(_mm512_set1_ps(x), _mm256_set1_ps(y), 1);
}

// The lanes m of p in lanes 0 .., (G = 2) those of q in the lanes from
// GHR_DWCONV_HALF + at (to_back: lane l of the high half takes lane
// l - at), the others zero.
static inline __m512 ghr_dwconv_lanes_load(const int G, const float *p,
                                           const float *q, __mmask16 m,
                                           int at, __m256i to_back) {
  if (G == 1) return _mm512_maskz_loadu_ps(m, p);
  const __m256 hi = _mm256_maskz_loadu_ps((__mmask8)m, q);
  return _mm512_insertf32x8(
      _mm512_castps256_ps512(_mm256_maskz_loadu_ps((__mmask8)m, p)),
      at ? _mm256_maskz_permutexvar_ps((__mmask8)(m << at), to_back, hi) : hi,
      1);
}

// Lane l of v: lane l + s (-2 <= s <= 2), zero past the vector.
GHR_DWCONV_INLINE __m512 ghr_dwconv_shift(__m512 v, int s) {
  const __m512i x = _mm512_castps_si512(v), z = _mm512_setzero_si512();
  switch (s) {
  case -2: return _mm512_castsi512_ps(_mm512_alignr_epi32(x, z, 14));
  case -1: return _mm512_castsi512_ps(_mm512_alignr_epi32(x, z, 15));
  case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(z, x, 1));
  case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(z, x, 2));
  default: return v;
  }
}

// Lane l of the 2*VW lanes lo, hi: lane l + s (-2 <= s <= 2), zero past
// them; to *l, *h.
GHR_DWCONV_INLINE void ghr_dwconv_shift2(__m512 lo, __m512 hi, int s,
                                         __m512 *l, __m512 *h) {
  const __m512i x = _mm512_castps_si512(lo), y = _mm512_castps_si512(hi);
  const __m512i z = _mm512_setzero_si512();
  switch (s) {
  case -2:
    *l = _mm512_castsi512_ps(_mm512_alignr_epi32(x, z, 14));
    *h = _mm512_castsi512_ps(_mm512_alignr_epi32(y, x, 14));
    return;
  case -1:
    *l = _mm512_castsi512_ps(_mm512_alignr_epi32(x, z, 15));
    *h = _mm512_castsi512_ps(_mm512_alignr_epi32(y, x, 15));
    return;
  case 1:
    *l = _mm512_castsi512_ps(_mm512_alignr_epi32(y, x, 1));
    *h = _mm512_castsi512_ps(_mm512_alignr_epi32(z, y, 1));
    return;
  case 2:
    *l = _mm512_castsi512_ps(_mm512_alignr_epi32(y, x, 2));
    *h = _mm512_castsi512_ps(_mm512_alignr_epi32(z, y, 2));
    return;
  default: *l = lo, *h = hi;
  }
}

// Stride 2, the tap columns of one input row (columns 0 .. 15 in lo and
// 16 .. 31 in hi, the 16 before them in prev and after them in next, or
// with G = 2 a row of each channel in lo and hi) in the order of
// ghr_dwconv_evens: tap column kx = pw + s reads column 2x + s, the even
// or odd columns of the row shifted by s rounded down to even.
GHR_DWCONV_INLINE void ghr_dwconv_lanes_taps2(const int kw, const int G,
                                              __m512 prev, __m512 lo,
                                              __m512 hi, __m512 next,
                                              ghr_vec *tv) {
  const __m512i z = _mm512_setzero_si512();
  const __m512i l = _mm512_castps_si512(lo), h = _mm512_castps_si512(hi);
  const __m512i p = _mm512_castps_si512(prev), n = _mm512_castps_si512(next);
  // The row shifted right (columns -2 ..) and left (columns 2 ..).
  const __m512 right_lo = _mm512_castsi512_ps(
      G == 1 ? _mm512_alignr_epi32(l, p, 14) : _mm512_alignr_epi32(l, z, 14));
  const __m512 right_hi = _mm512_castsi512_ps(
      G == 1 ? _mm512_alignr_epi32(h, l, 14) : _mm512_alignr_epi32(h, z, 14));
  const __m512 left_lo = _mm512_castsi512_ps(
      G == 1 ? _mm512_alignr_epi32(h, l, 2) : _mm512_alignr_epi32(z, l, 2));
  const __m512 left_hi = _mm512_castsi512_ps(
      G == 1 ? _mm512_alignr_epi32(n, h, 2) : _mm512_alignr_epi32(z, h, 2));
#pragma GCC unroll 8
  for (int kx = 0; kx < kw; ++kx) {
    const int s = kx - kw / 2;  // -2 .. 2
    const __m512 a = s < 0 ? right_lo : s >= 2 ? left_lo : lo;
    const __m512 b = s < 0 ? right_hi : s >= 2 ? left_hi : hi;
    tv[kx] = (s + 2) % 2 == 0 ? ghr_dwconv_evens(a, b) : ghr_dwconv_odds(a, b);
  }
}

// Every output channel of a call, G at a time, R rows at a time; kernel
// kh x kw, padding pw = kw/2, V vectors per output row (2: G = 1, rows
// past a vector) (constants).
GHR_DWCONV_INLINE void ghr_dwconv_lanes_all(const int kh, const int kw,
                                            const int sw, const int G,
                                            const int V, const int R,
                                            const GhrDwCall *a) {
  const int ih = a->ih, iw = a->iw, oh = a->oh, ow = a->ow, pw = kw / 2;
  // Channel 1 from the high half's first lane where its padding fits
  // before it (always for 3x3, where two rows fit), else up to the last
  // lane (stride 2: each channel's row in a vector of its own).
  const int at = kw <= 3 || sw == 2 ||
                         (iw + pw <= GHR_DWCONV_HALF &&
                          ow + kw - 1 - pw <= GHR_DWCONV_HALF)
                     ? 0
                     : GHR_DWCONV_HALF - iw;
  const __mmask16 in_m = (__mmask16)ghr_dwconv_lanes(0, iw);
  const __mmask16 out_m = (__mmask16)ghr_dwconv_lanes(0, ow);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i to_front = _mm256_add_epi32(lane, _mm256_set1_epi32(at));
  const __m256i to_back = _mm256_sub_epi32(lane, _mm256_set1_epi32(at));
  for (int o = 0; o < a->oc; o += G) {
    const int two = G == 2 && o + 1 < a->oc;
    const GhrDwChannel c = ghr_dwconv_channel(a, o);
    const GhrDwChannel q = ghr_dwconv_channel(a, two ? o + 1 : o);
    ghr_vec wv[GHR_DWCONV_MAX_TAPS];
#pragma GCC unroll 32
    for (int t = 0; t < kh * kw; ++t)
      wv[t] = G == 1 ? ghr_vset1(c.w[t] * c.scale)
                     : ghr_dwconv_pair(sw, c.w[t] * c.scale, q.w[t] * q.scale);
    const ghr_vec b = G == 1 ? ghr_vset1(c.bias)
                             : ghr_dwconv_pair(sw, c.bias, q.bias);
    for (int y0 = 0; y0 < oh; y0 += R) {
      // Two sums per output vector (one vector: even and odd tap rows, as
      // in ghr_dwconv_rows_step; two: the row's two vectors).
      ghr_vec acc[GHR_DWCONV_ROWS], acc2[GHR_DWCONV_ROWS];
#pragma GCC unroll 8
      for (int j = 0; j < R; ++j) {
        acc[j] = b;
        acc2[j] = V == 2 ? b : ghr_vzero();
      }
#pragma GCC unroll 20
      for (int i = 0; i < (R - 1) * sw + kh; ++i) {
        const int iy = y0 * sw - a->ph + i;
        if (iy < 0 || iy >= ih) continue;  // a padding row
        const float *p = c.src + (size_t)iy * iw;
        const float *pq = q.src + (size_t)iy * iw;
        ghr_vec tv[GHR_DWCONV_MAX_K], tv2[GHR_DWCONV_MAX_K];
        if (V == 2 && sw == 2) {
          ghr_vec v[4];  // the row's columns 0 .. 63
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k)
            v[k] = _mm512_maskz_loadu_ps(
                (__mmask16)ghr_dwconv_lanes(0, iw - k * GHR_VW),
                p + (iw > k * GHR_VW ? k * GHR_VW : 0));
          ghr_dwconv_lanes_taps2(kw, G, ghr_vzero(), v[0], v[1], v[2], tv);
          ghr_dwconv_lanes_taps2(kw, G, v[1], v[2], v[3], ghr_vzero(), tv2);
        } else if (V == 2) {
          const ghr_vec lo = _mm512_maskz_loadu_ps(in_m, p);
          const ghr_vec hi = _mm512_maskz_loadu_ps(
              (__mmask16)ghr_dwconv_lanes(0, iw - GHR_VW), p + GHR_VW);
#pragma GCC unroll 8
          for (int kx = 0; kx < kw; ++kx)
            ghr_dwconv_shift2(lo, hi, kx - pw, &tv[kx], &tv2[kx]);
        } else if (sw == 1) {
          const ghr_vec v = ghr_dwconv_lanes_load(G, p, pq, in_m, at, to_back);
#pragma GCC unroll 8
          for (int kx = 0; kx < kw; ++kx)
            tv[kx] = ghr_dwconv_shift(v, kx - pw);
        } else {
          const ghr_vec lo = _mm512_maskz_loadu_ps(in_m, p);
          const __mmask16 hi_m = (__mmask16)ghr_dwconv_lanes(0, iw - GHR_VW);
          const ghr_vec hi = G == 2        ? _mm512_maskz_loadu_ps(in_m, pq)
                             : iw > GHR_VW ? _mm512_maskz_loadu_ps(hi_m,
                                                                   p + GHR_VW)
                                           : ghr_vzero();
          ghr_dwconv_lanes_taps2(kw, G, ghr_vzero(), lo, hi, ghr_vzero(), tv);
        }
#pragma GCC unroll 8
        for (int kx = 0; kx < kw; ++kx) {
#pragma GCC unroll 8
          for (int j = 0; j < R; ++j) {
            const int ky = i - j * sw;
            if (ky < 0 || ky >= kh) continue;
            if (V == 2) {
              acc[j] = ghr_vfma(wv[ky * kw + kx], tv[kx], acc[j]);
              acc2[j] = ghr_vfma(wv[ky * kw + kx], tv2[kx], acc2[j]);
            } else if (ky % 2 == 0)
              acc[j] = ghr_vfma(wv[ky * kw + kx], tv[kx], acc[j]);
            else
              acc2[j] = ghr_vfma(wv[ky * kw + kx], tv[kx], acc2[j]);
          }
        }
      }
      const int n_rows = oh - y0 < R ? oh - y0 : R;
#pragma GCC unroll 8
      for (int j = 0; j < R; ++j) {
        if (V == 1) acc[j] = ghr_vadd(acc[j], acc2[j]);
        if (sw == 2) acc[j] = ghr_dwconv_order(acc[j]);
        if (sw == 2 && V == 2) acc2[j] = ghr_dwconv_order(acc2[j]);
      }
      float *d = c.dst + (size_t)y0 * ow;
      const float *r = c.res ? c.res + (size_t)y0 * ow : NULL;
      if (V == 2) {
        ghr_dwconv_out_rows(R, acc, d, r, (size_t)ow, n_rows, GHR_VW, a->act);
        ghr_dwconv_out_rows(R, acc2, d + GHR_VW, r ? r + GHR_VW : NULL,
                            (size_t)ow, n_rows, ow - GHR_VW, a->act);
        continue;
      }
      if (G == 1) {
        ghr_dwconv_out_rows(R, acc, d, r, (size_t)ow, n_rows, ow, a->act);
        continue;
      }
#pragma GCC unroll 8
      for (int j = 0; j < R; ++j) {
        if (j >= n_rows) continue;
        const size_t row = (size_t)(y0 + j) * ow;
        if (c.res)
          acc[j] = ghr_vadd(acc[j], ghr_dwconv_lanes_load(G, c.res + row,
                                                          q.res + row, out_m,
                                                          at, to_back));
        acc[j] = ghr_vactivate(acc[j], a->act);
        _mm256_mask_storeu_ps(c.dst + row, (__mmask8)out_m,
                              _mm512_castps512_ps256(acc[j]));
        if (two) {
          const __m256 hi = _mm512_extractf32x8_ps(acc[j], 1);
          _mm256_mask_storeu_ps(q.dst + row, (__mmask8)out_m,
                                at ? _mm256_permutexvar_ps(to_front, hi) : hi);
        }
      }
    }
  }
}
#endif

// ---- Dispatch ----

// The same convolution, one output at a time with bounds tests: kernels
// larger than 7x7 or strides of 3 or more where the channels layout does
// not fit.
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

// The rows layout over every output channel of a call, one function per
// kernel so that each gets the registers to itself: 3x3 and 5x5 kernels of
// stride 1 and 2 (constants), else any up to 7x7 of stride 1 or 2 across.
// pad (constant, stride 2): the padding kw/2 for which AVX-512 loads from
// column 2x (lead), 0 for none; other paddings load from c0.
GHR_DWCONV_INLINE void ghr_dwconv_rows_all(const int kh, const int kw,
                                           const int sh, const int sw,
                                           const int R, const int pad,
                                           const GhrDwCall *a) {
#if defined(GHR_ISA_AVX512)
  const int lead = pad && a->pw == pad ? pad : 0;
#else
  const int lead = 0;
  (void)pad;
#endif
  for (int o = 0; o < a->oc; ++o) {
    const GhrDwChannel ch = ghr_dwconv_channel(a, o);
    if (lead)
      ghr_dwconv_rows(kh, kw, sh, sw, R, pad, a, &ch);
    else
      ghr_dwconv_rows(kh, kw, sh, sw, R, 0, a, &ch);
  }
}

#if defined(__GNUC__)
#define GHR_DWCONV_NOINLINE __attribute__((noinline))
#else
#define GHR_DWCONV_NOINLINE
#endif
#define GHR_DWCONV_KERNEL(name, kh, kw, sh, sw, R, pad)         \
  GHR_DWCONV_NOINLINE static void name(const GhrDwCall *a) {    \
    ghr_dwconv_rows_all(kh, kw, sh, sw, R, pad, a);             \
  }
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_1, 3, 3, 1, 1, 4, 0)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_1_7, 3, 3, 1, 1, 7, 0)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_2, 3, 3, 2, 2, 4, 1)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_3_2_7, 3, 3, 2, 2, 7, 1)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_5_1, 5, 5, 1, 1, 4, 0)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_5_2, 5, 5, 2, 2, 4, 2)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_any_1, a->kh, a->kw, a->sh, 1, 2, 0)
GHR_DWCONV_KERNEL(ghr_dwconv_rows_any_2, a->kh, a->kw, a->sh, 2, 2, 0)
#if defined(GHR_ISA_AVX512)
#define GHR_DWCONV_LANES(name, k, s, G, V, R)                \
  GHR_DWCONV_NOINLINE static void name(const GhrDwCall *a) { \
    ghr_dwconv_lanes_all(k, k, s, G, V, R, a);               \
  }
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_1_g1, 3, 1, 1, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_1_g2, 3, 1, 2, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_1_v2, 3, 1, 1, 2, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_1_g1, 5, 1, 1, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_1_g2, 5, 1, 2, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_1_v2, 5, 1, 1, 2, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_2_g1, 3, 2, 1, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_2_g2, 3, 2, 2, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_2_g1, 5, 2, 1, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_2_g2, 5, 2, 2, 1, 7)
GHR_DWCONV_LANES(ghr_dwconv_lanes_3_2_v2, 3, 2, 1, 2, 4)
GHR_DWCONV_LANES(ghr_dwconv_lanes_5_2_v2, 5, 2, 1, 2, 7)
#endif

GHR_API void ghr_dwconv(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int mult, const float *in_scale,
                        int in_shuffle, const float *residual, int act) {
  const GhrDwCall a = {in, weight, bias, in_scale, residual, out, ic, ih, iw,
                       oc, oh, ow, kh, kw, sh, sw, ph, pw, mult, in_shuffle,
                       act};
  const int small = kh <= GHR_DWCONV_MAX_K && kw <= GHR_DWCONV_MAX_K;
  GhrDwTile tile;
#if defined(GHR_ISA_AVX512)
  // 3x3 and 5x5: the lanes layout where it applies.
  const int group =
      kh == kw && (kh == 3 || kh == 5) ? ghr_dwconv_lanes_group(&a) : 0;
  if (group) {
    // Output rows past a vector: two vectors of one channel each.
    const int wide = ow > GHR_VW;
    static void (*const lanes[2][2][3])(const GhrDwCall *) = {
        {{ghr_dwconv_lanes_3_1_g1, ghr_dwconv_lanes_3_1_g2,
          ghr_dwconv_lanes_3_1_v2},
         {ghr_dwconv_lanes_3_2_g1, ghr_dwconv_lanes_3_2_g2,
          ghr_dwconv_lanes_3_2_v2}},
        {{ghr_dwconv_lanes_5_1_g1, ghr_dwconv_lanes_5_1_g2,
          ghr_dwconv_lanes_5_1_v2},
         {ghr_dwconv_lanes_5_2_g1, ghr_dwconv_lanes_5_2_g2,
          ghr_dwconv_lanes_5_2_v2}}};
    lanes[kh == 5][sh == 2][wide ? 2 : group - 1](&a);
    return;
  }
#endif
  if (small && ghr_dwconv_plan_tile(&tile, &a)) {
    ghr_dwconv_tiles(&a, &tile);
  } else if (!small || sh > 2 || sw > 2) {
    ghr_dwconv_plain(in, ic, ih, iw, out, oc, oh, ow, weight, bias, kh, kw,
                     sh, sw, ph, pw, mult, in_scale, in_shuffle, residual,
                     act);
  } else {
    const int k = kh == kw && sh == sw && (kh == 3 || kh == 5) ? kh : 0;
    // 3x3: seven rows at a time where that divides the map (stride 1: fewer
    // loads per multiply-add; stride 2: where four do not divide it).
    const int by7 = oh % 7 == 0 && (sh == 1 || oh % 4 != 0);
    if (sw == 1)
      (k == 3   ? (by7 ? ghr_dwconv_rows_3_1_7 : ghr_dwconv_rows_3_1)
       : k == 5 ? ghr_dwconv_rows_5_1
                : ghr_dwconv_rows_any_1)(&a);
    else
      (k == 3   ? (by7 ? ghr_dwconv_rows_3_2_7 : ghr_dwconv_rows_3_2)
       : k == 5 ? ghr_dwconv_rows_5_2
                : ghr_dwconv_rows_any_2)(&a);
  }
}
