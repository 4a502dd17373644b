// Depthwise convolution, vectorised along output rows.
//
// For each input channel and band of output rows, the input the band reads
// is copied once, zero padded and times in_scale, into a tile on the stack,
// split into polyphase planes: plane (qy, qx) holds padded input row
// i*sh + qy, column j*sw + qx at (i, j). Output (r, x) of the band then
// reads tap (ky, kx) at (r + ky/sh, x + kx/sw) of plane (ky % sh, kx % sw):
// every tap of every output is an unconditional, contiguous vector load at
// an offset that depends on the tap only. Padding, borders and the even/odd
// split of stride 2 all happen once, in the copy. The output channels that
// read the same input channel (mult of them) share its tile. The padding is
// zeroed once per tile layout; each channel's copy writes only its data.
//
// Outputs are computed a vector of a row at a time, the same columns of four
// rows in flight, so that even maps one vector wide keep four independent
// chains of multiply-adds; each vector is stored straight to its output
// row, the last one of a row masked. 3x3 and 5x5 kernels of stride 1 and 2
// have unrolled copies that load each tile row once for all the output rows
// that read it. Bands narrower than a vector (7x7 maps with 16 lanes) are
// computed on the tile's flat index instead, vectors spanning rows.
//
// Stack: the tile (16 KB), the flat results (4 KB), tables and broadcast
// weights; 20 to 30 KB in all (gcc and clang -fstack-usage, by ISA).
#include "ghr.h"
#include "ghr_kernels.h"
#include "ghr_simd.h"

// The tile copies move rows of a few vectors: as loops, not as calls to
// memcpy and memset, which compilers substitute for copy and zero loops.
#if defined(__clang__)
#define GHR_DWCONV_NO_LIBCALLS __attribute__((no_builtin("memcpy", "memset")))
#elif defined(__GNUC__)
#define GHR_DWCONV_NO_LIBCALLS \
  __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define GHR_DWCONV_NO_LIBCALLS
#endif

// Each call site of a band function gets its own copy, its loops unrolled
// for constant kernel sizes, the accumulators and weights in registers.
#if defined(__GNUC__)
#define GHR_DWCONV_INLINE static inline __attribute__((always_inline))
#else
#define GHR_DWCONV_INLINE static inline
#endif

// Output rows computed together by the 3x3 and 5x5 kernels: accumulators,
// broadcast weights and the loaded tile rows fit the vector registers
// (stride 2 loads more rows per output row).
#define GHR_DWCONV_ROWS_K3 4
#define GHR_DWCONV_ROWS_K3_S2 3
#define GHR_DWCONV_ROWS_K5 4

enum {
  GHR_DWCONV_TILE = 4096,     // floats of padded input tile (16 KB of stack)
  GHR_DWCONV_MAX_TAPS = 49,   // up to 7x7; larger kernels take the plain path
  GHR_DWCONV_FLAT = 1024,     // floats of a flat band's results (4 KB)
};

// [*lo, *hi): the j in [0, n) whose j*stride + offset lies in [0, size).
static void ghr_dwconv_inside(int offset, int stride, int size, int n,
                              int *lo, int *hi) {
  int l = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  int h = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  if (h > n) h = n;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

// Where the tile of one band lives and how it is laid out.
typedef struct {
  int rows, cols;    // outputs of the band: rows x cols from (oy0, ox0)
  int oy0, ox0;
  int hq, pq;        // each plane: hq rows of pq floats
  int plane;         // floats from one plane to the next: hq*pq rounded
                     // up to whole vectors, plus one of slack
  int nqy, nqx;      // planes used: min(sh, kh) x min(sw, kw)
} GhrDwconvTile;

// s[0 .. n) (n <= GHR_VW; zeros past it), loaded whole when the avail
// floats from s on allow: masked loads are slow on data that misses the
// cache.
static inline ghr_vec ghr_dwconv_load(const float *s, int n, ptrdiff_t avail) {
  if (n <= 0) return ghr_vzero();
  return n == GHR_VW || avail >= GHR_VW ? ghr_vload(s) : ghr_vload_n(s, n);
}

// The first n (0 < n <= GHR_VW) lanes of v to d.
static inline void ghr_dwconv_store_n(float *d, ghr_vec v, int n) {
  if (n == GHR_VW)
    ghr_vstore(d, v);
  else
    ghr_vstore_n(d, v, n);
}

// d[0 .. n) = s[0 .. n) times scale; nothing else is stored, so the zeros
// around d stay. avail: floats readable from s on (n or more).
static inline void ghr_dwconv_copy(float *d, const float *s, int n,
                                   ghr_vec scale, ptrdiff_t avail) {
  int j = 0;
  for (; j + GHR_VW <= n; j += GHR_VW)
    ghr_vstore(d + j, ghr_vmul(ghr_vload(s + j), scale));
  if (j < n)
    ghr_vstore_n(d + j,
                 ghr_vmul(ghr_dwconv_load(s + j, n - j, avail - j), scale),
                 n - j);
}

// The even floats of s[0 .. n_even + n_odd) times scale to de[0 .. n_even),
// the odd ones to dodd[0 .. n_odd) (n_odd is n_even or n_even - 1): one
// pass over s for both column planes of stride 2. avail as for copy.
static inline void ghr_dwconv_split(float *de, float *dodd, const float *s,
                                    int n_even, int n_odd, ghr_vec scale,
                                    ptrdiff_t avail) {
  int k = 0;  // pairs of floats done
  for (; k + GHR_VW <= n_odd; k += GHR_VW) {
    const ghr_vec a = ghr_vload(s + 2 * k), b = ghr_vload(s + 2 * k + GHR_VW);
    ghr_vstore(de + k, ghr_vmul(ghr_veven(a, b), scale));
    ghr_vstore(dodd + k, ghr_vmul(ghr_vodd(a, b), scale));
  }
  if (k < n_even) {
    const int rest = n_even + n_odd - 2 * k;  // floats left, < 2*GHR_VW
    const ptrdiff_t left = avail - 2 * k;
    const ghr_vec a = ghr_dwconv_load(s + 2 * k, rest < GHR_VW ? rest : GHR_VW,
                                      left);
    const ghr_vec b = ghr_dwconv_load(s + 2 * k + GHR_VW, rest - GHR_VW,
                                      left - GHR_VW);
    ghr_dwconv_store_n(de + k, ghr_vmul(ghr_veven(a, b), scale), n_even - k);
    if (n_odd > k)
      ghr_vstore_n(dodd + k, ghr_vmul(ghr_vodd(a, b), scale), n_odd - k);
  }
}

// Where a band's input goes in its tile, the same for every channel: which
// input rows exist for each plane row qy, which columns for each plane
// column qx.
typedef struct {
  int i0[GHR_DWCONV_MAX_TAPS], i1[GHR_DWCONV_MAX_TAPS];  // plane rows [i0, i1)
  int row0[GHR_DWCONV_MAX_TAPS];  // input row of plane row 0, per qy
  int lo[GHR_DWCONV_MAX_TAPS], n[GHR_DWCONV_MAX_TAPS];  // columns [lo, lo+n)
  int first[GHR_DWCONV_MAX_TAPS];  // input column of plane column lo
  // Stride 2: each input row goes to both column planes in one pass, input
  // columns [c0, c0 + n_even + n_odd): the even offsets to plane pe from
  // column je, the odd ones to plane 1 - pe from column jo.
  int split, c0, pe, je, jo, n_even, n_odd;
} GhrDwconvCopy;

static void ghr_dwconv_plan_copy(GhrDwconvCopy *cp, const GhrDwconvTile *t,
                                 int ih, int iw, int sh, int sw, int ph,
                                 int pw) {
  for (int qy = 0; qy < t->nqy; ++qy) {
    // Plane row i holds input row (oy0 + i)*sh + qy - ph.
    cp->row0[qy] = t->oy0 * sh + qy - ph;
    ghr_dwconv_inside(cp->row0[qy], sh, ih, t->hq, &cp->i0[qy], &cp->i1[qy]);
  }
  for (int qx = 0; qx < t->nqx; ++qx) {
    // Plane column j holds input column (ox0 + j)*sw + qx - pw.
    const int col0 = t->ox0 * sw + qx - pw;
    int hi;
    ghr_dwconv_inside(col0, sw, iw, t->pq, &cp->lo[qx], &hi);
    cp->n[qx] = hi - cp->lo[qx];
    cp->first[qx] = col0 + cp->lo[qx] * sw;
  }
  // Input column c goes to plane (c + pw) % 2, column (c + pw) / 2 - ox0.
  cp->split = sw == 2 && t->nqx == 2;
  int c0 = 2 * t->ox0 - pw, c1 = 2 * (t->ox0 + t->pq) - pw;
  if (c0 < 0) c0 = 0;
  if (c1 < c0) c1 = c0;
  if (c1 > iw) c1 = iw > c0 ? iw : c0;
  cp->c0 = c0;
  cp->pe = (c0 + pw) % 2;
  cp->je = (c0 + pw) / 2 - t->ox0;
  cp->jo = (c0 + 1 + pw) / 2 - t->ox0;
  cp->n_even = (c1 - c0 + 1) / 2;
  cp->n_odd = (c1 - c0) / 2;
}

// Zeroes the plane rows of the band that no input row fills (top and bottom
// padding).
static void ghr_dwconv_clear_rows(float *tile, const GhrDwconvTile *t,
                                  const GhrDwconvCopy *cp) {
  for (int qy = 0; qy < t->nqy; ++qy)
    for (int qx = 0; qx < t->nqx; ++qx) {
      float *p = tile + (size_t)(qy * t->nqx + qx) * t->plane;
      for (int i = 0; i < t->hq; ++i)
        if (i < cp->i0[qy] || i >= cp->i1[qy])
          for (int j = 0; j < t->pq; ++j) p[(size_t)i * t->pq + j] = 0.0f;
    }
}

// Copies the input plane src (iw wide; avail floats readable from src on),
// times scale, into the band's polyphase planes (t->plane floats apart),
// whose padding is already zero: input row by input row, in order, each
// plane row a tight loop of its own.
GHR_DWCONV_NO_LIBCALLS
static void ghr_dwconv_fill(float *tile, const GhrDwconvTile *t,
                            const GhrDwconvCopy *cp, const float *src,
                            ptrdiff_t avail, int iw, float scale, int sh,
                            int sw) {
  const ghr_vec v = ghr_vset1(scale);
  const size_t pq = (size_t)t->pq, plane = (size_t)t->plane;
  const ptrdiff_t step = (ptrdiff_t)sh * iw;  // input floats per plane row
  for (int qy = 0; qy < t->nqy; ++qy) {
    const int i0 = cp->i0[qy], rows = cp->i1[qy] - i0;
    float *row = tile + qy * t->nqx * plane + i0 * pq;
    ptrdiff_t at = (ptrdiff_t)(cp->row0[qy] + i0 * sh) * iw;
    if (cp->split) {
      float *de = row + cp->pe * plane + cp->je;
      float *dodd = row + (1 - cp->pe) * plane + cp->jo;
      const float *s = src + at + cp->c0;
      ptrdiff_t left = avail - at - cp->c0;
      for (int r = 0; r < rows; ++r, de += pq, dodd += pq, s += step,
               left -= step)
        ghr_dwconv_split(de, dodd, s, cp->n_even, cp->n_odd, v, left);
      continue;
    }
    for (int qx = 0; qx < t->nqx; ++qx) {
      float *d = row + qx * plane + cp->lo[qx];
      const float *s = src + at + cp->first[qx];
      const int n = cp->n[qx];
      if (sw == 1) {
        ptrdiff_t left = avail - at - cp->first[qx];
        for (int r = 0; r < rows; ++r, d += pq, s += step, left -= step)
          ghr_dwconv_copy(d, s, n, v, left);
      } else {
        for (int r = 0; r < rows; ++r, d += pq, s += step)
          for (int j = 0; j < n; ++j) d[j] = s[j * sw] * scale;
      }
    }
  }
}

// Stores v (plus the residual, then activated) to the first n <= GHR_VW
// floats of dst; residual may be NULL.
static inline void ghr_dwconv_store(float *dst, ghr_vec v,
                                    const float *residual, int act, int n) {
  if (n == GHR_VW) {
    if (residual) v = ghr_vadd(v, ghr_vload(residual));
    ghr_vstore(dst, ghr_vactivate(v, act));
  } else {
    if (residual) v = ghr_vadd(v, ghr_vload_n(residual, n));
    ghr_vstore_n(dst, ghr_vactivate(v, act), n);
  }
}

// One output channel over the band whose tile is filled: bias + sum over
// taps of w[tap] times the tile at the output's position + off[tap]. The
// same vector of columns of four rows is computed at once; rows past the
// band are computed on its last row again and not stored. dst and residual
// are output channel planes (oh, ow) (residual may be NULL). Inline, so that
// the calls with a constant number of taps unroll the tap loop and keep the
// weights in registers.
static inline void ghr_dwconv_band(float *dst, const float *residual,
                                   int ow, const float *tile,
                                   const GhrDwconvTile *t, const int *off,
                                   const float *w, int taps, float bias,
                                   int act) {
  ghr_vec wv[GHR_DWCONV_MAX_TAPS];
  for (int i = 0; i < taps; ++i) wv[i] = ghr_vset1(w[i]);
  const ghr_vec b = ghr_vset1(bias);
  for (int r = 0; r < t->rows; r += 4) {
    const int more = t->rows - 1 - r;  // rows after r in the band
    const float *s0 = tile + r * t->pq;
    const float *s1 = s0 + (more < 1 ? more : 1) * t->pq;
    const float *s2 = s0 + (more < 2 ? more : 2) * t->pq;
    const float *s3 = s0 + (more < 3 ? more : 3) * t->pq;
    float *d = dst + (size_t)(t->oy0 + r) * ow + t->ox0;
    const float *res =
        residual ? residual + (size_t)(t->oy0 + r) * ow + t->ox0 : NULL;
    for (int x = 0; x < t->cols; x += GHR_VW) {
      ghr_vec a0 = b, a1 = b, a2 = b, a3 = b;
      for (int i = 0; i < taps; ++i) {
        a0 = ghr_vfma(wv[i], ghr_vload(s0 + x + off[i]), a0);
        a1 = ghr_vfma(wv[i], ghr_vload(s1 + x + off[i]), a1);
        a2 = ghr_vfma(wv[i], ghr_vload(s2 + x + off[i]), a2);
        a3 = ghr_vfma(wv[i], ghr_vload(s3 + x + off[i]), a3);
      }
      const int n = t->cols - x < GHR_VW ? t->cols - x : GHR_VW;
      ghr_dwconv_store(d + x, a0, res ? res + x : NULL, act, n);
      if (more >= 1)
        ghr_dwconv_store(d + ow + x, a1, res ? res + ow + x : NULL, act, n);
      if (more >= 2)
        ghr_dwconv_store(d + 2 * ow + x, a2, res ? res + 2 * ow + x : NULL,
                         act, n);
      if (more >= 3)
        ghr_dwconv_store(d + 3 * ow + x, a3, res ? res + 3 * ow + x : NULL,
                         act, n);
    }
  }
}

// The band for a kernel known at compile time (kh x kw, stride sh x sw; sh
// <= 2), rows output rows at a time: each row of the tile those rows read is
// loaded once per column tap and feeds every output row that uses it, so a
// 3x3 stride-1 kernel makes 3 * (rows + 2) loads for 9 * rows multiply-adds
// instead of one load each. Rows past the band read its last tile row and
// are not stored. Weights in registers, loops unrolled: one copy per call.
GHR_DWCONV_INLINE void ghr_dwconv_band_k(const int kh, const int kw,
                                         const int sh, const int sw,
                                         const int rows, float *dst,
                                         const float *residual, int ow,
                                         const float *tile,
                                         const GhrDwconvTile *t,
                                         const float *w, float bias,
                                         int act) {
  enum { MAX_ROWS = 8, MAX_K = 5, MAX_READ = MAX_ROWS + MAX_K - 1 };
  const int nqy = sh < kh ? sh : kh, nqx = sw < kw ? sw : kw;
  const int reads = rows + (kh - 1) / sh;  // tile rows of plane row 0 read
  const size_t plane = (size_t)t->plane;
  ghr_vec wv[MAX_K * MAX_K];
#pragma GCC unroll 32
  for (int i = 0; i < kh * kw; ++i) wv[i] = ghr_vset1(w[i]);
  const ghr_vec b = ghr_vset1(bias);
  for (int r = 0; r < t->rows; r += rows) {
    const int last = t->rows - 1 - r;  // rows after r in the band
    // Tile row r + i of plane row qy, clamped to the tile.
    const float *row[2][MAX_READ];
#pragma GCC unroll 2
    for (int qy = 0; qy < nqy; ++qy)
#pragma GCC unroll 16
      for (int i = 0; i < reads; ++i) {
        const int at = r + i < t->hq - 1 ? r + i : t->hq - 1;
        row[qy][i] = tile + (size_t)qy * nqx * plane + (size_t)at * t->pq;
      }
    float *d = dst + (size_t)(t->oy0 + r) * ow + t->ox0;
    const float *res =
        residual ? residual + (size_t)(t->oy0 + r) * ow + t->ox0 : NULL;
    for (int x = 0; x < t->cols; x += GHR_VW) {
      ghr_vec acc[MAX_ROWS];
#pragma GCC unroll 8
      for (int j = 0; j < rows; ++j) acc[j] = b;
#pragma GCC unroll 2
      for (int qy = 0; qy < nqy; ++qy)
#pragma GCC unroll 16
        for (int i = 0; i < reads; ++i) {
          if (i >= rows + (kh - 1 - qy) / sh) continue;  // no tap reads it
#pragma GCC unroll 8
          for (int kx = 0; kx < kw; ++kx) {
            const ghr_vec v =
                ghr_vload(row[qy][i] + (kx % sw) * plane + x + kx / sw);
            // Output row j reads this tile row at tap row ky.
#pragma GCC unroll 8
            for (int j = 0; j < rows; ++j) {
              const int ky = (i - j) * sh + qy;
              if (ky >= 0 && ky < kh)
                acc[j] = ghr_vfma(wv[ky * kw + kx], v, acc[j]);
            }
          }
        }
      const int n = t->cols - x < GHR_VW ? t->cols - x : GHR_VW;
#pragma GCC unroll 8
      for (int j = 0; j < rows; ++j)
        if (j <= last)
          ghr_dwconv_store(d + (size_t)j * ow + x, acc[j],
                           res ? res + (size_t)j * ow + x : NULL, act, n);
    }
  }
}

// One output channel over a band narrower than a vector, computed on the
// tile's flat index: output (r, x) is flat position r*pq + x and reads tap
// t at that position + off[t], so vectors of positions span rows (those
// with x >= cols are computed and dropped), four in flight. The vectors go
// to `flat` (the band's rows*pq positions rounded up to 4*GHR_VW), then
// each row to the output, finished. Inline as ghr_dwconv_band.
GHR_DWCONV_INLINE void ghr_dwconv_flat(const int taps, float *dst,
                                       const float *residual, int ow,
                                       const float *tile,
                                       const GhrDwconvTile *t, const int *off,
                                       const float *w, float bias, int act,
                                       float *flat) {
  ghr_vec wv[GHR_DWCONV_MAX_TAPS];
  for (int i = 0; i < taps; ++i) wv[i] = ghr_vset1(w[i]);
  const ghr_vec b = ghr_vset1(bias);
  const int n = t->rows * t->pq;
  const int last = (n - 1) / GHR_VW * GHR_VW;  // the last vector's start
  for (int j = 0; j < n; j += 4 * GHR_VW) {
    // Vectors past the positions repeat the last one: reads stay in the
    // tile; their results land past n in flat, unused.
    const float *s0 = tile + j;
    const float *s1 = tile + (j + GHR_VW < last ? j + GHR_VW : last);
    const float *s2 = tile + (j + 2 * GHR_VW < last ? j + 2 * GHR_VW : last);
    const float *s3 = tile + (j + 3 * GHR_VW < last ? j + 3 * GHR_VW : last);
    ghr_vec a0 = b, a1 = b, a2 = b, a3 = b;
    for (int i = 0; i < taps; ++i) {
      a0 = ghr_vfma(wv[i], ghr_vload(s0 + off[i]), a0);
      a1 = ghr_vfma(wv[i], ghr_vload(s1 + off[i]), a1);
      a2 = ghr_vfma(wv[i], ghr_vload(s2 + off[i]), a2);
      a3 = ghr_vfma(wv[i], ghr_vload(s3 + off[i]), a3);
    }
    ghr_vstore(flat + j, a0);
    ghr_vstore(flat + j + GHR_VW, a1);
    ghr_vstore(flat + j + 2 * GHR_VW, a2);
    ghr_vstore(flat + j + 3 * GHR_VW, a3);
  }
  for (int r = 0; r < t->rows; ++r) {
    const size_t at = (size_t)(t->oy0 + r) * ow + t->ox0;
    ghr_dwconv_store(dst + at, ghr_vload_n(flat + r * t->pq, t->cols),
                     residual ? residual + at : NULL, act, t->cols);
  }
}

// The same convolution, one output at a time with bounds tests: for kernels
// too large for the tap table or a tile of one output row and column.
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

GHR_API void ghr_dwconv(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int mult, const float *in_scale,
                        int in_shuffle, const float *residual, int act) {
  const int taps = kh * kw;
  GhrDwconvTile t;
  t.nqy = sh < kh ? sh : kh;
  t.nqx = sw < kw ? sw : kw;
  const int planes = t.nqy * t.nqx;
  const int extra_rows = (kh - 1) / sh, extra_cols = (kw - 1) / sw;
  // The widest band that fits, as many rows as fit; narrower column
  // strips, a row at a time, only when one full-width row does not fit.
  // Floats of each plane's rows: a plane is its rows, rounded up to whole
  // vectors, and slack.
  const int room = GHR_DWCONV_TILE / planes - 2 * GHR_VW - extra_cols;
  int cols = ow;
  int rows = room / (cols + extra_cols) - extra_rows;
  if (rows < 1) {
    cols = room / (1 + extra_rows) - extra_cols;
    if (cols > GHR_VW) cols -= cols % GHR_VW;
    rows = 1;
  }
  if (rows > oh) rows = oh;
  if (rows > 0) {  // equal bands, so that the last one is not a sliver
    const int bands = (oh + rows - 1) / rows;
    rows = (oh + bands - 1) / bands;
  }
  if (taps > GHR_DWCONV_MAX_TAPS || cols < 1) {
    ghr_dwconv_plain(in, ic, ih, iw, out, oc, oh, ow, weight, bias, kh, kw,
                     sh, sw, ph, pw, mult, in_scale, in_shuffle, residual,
                     act);
    return;
  }

  // Square 3x3 and 5x5 kernels of stride 1 or 2 have their own code.
  const int kernel = kh == kw && sh == sw && sh <= 2 && (kh == 3 || kh == 5)
                         ? kh * 16 + sh : 0;
  float tile[GHR_DWCONV_TILE];
  float flat[GHR_DWCONV_FLAT + 4 * GHR_VW];  // results of flat bands
  int off[GHR_DWCONV_MAX_TAPS];  // tap -> offset in the tile
  GhrDwconvCopy cp;
  // The layout the zeros in the tile were written for.
  int zeroed_hq = 0, zeroed_pq = 0, zeroed_ox0 = -1;
  const size_t in_plane = (size_t)ih * iw, out_plane = (size_t)oh * ow;
  const int n_in = (oc + mult - 1) / mult;  // input channels that are read
  for (int oy0 = 0; oy0 < oh; oy0 += rows)
    for (int ox0 = 0; ox0 < ow; ox0 += cols) {
      t.oy0 = oy0;
      t.ox0 = ox0;
      t.rows = oh - oy0 < rows ? oh - oy0 : rows;
      t.cols = ow - ox0 < cols ? ow - ox0 : cols;
      t.hq = t.rows + extra_rows;
      t.pq = t.cols + extra_cols;
      // Rows rounded up to whole vectors, then slack for the vectors that
      // start in the last row to read (taps up to extra_cols further).
      t.plane = (t.hq * t.pq + extra_cols + GHR_VW - 1) / GHR_VW * GHR_VW +
                GHR_VW;
      // Narrow bands on the flat index when that computes fewer vectors:
      // four at a time there, a vector of four rows at a time otherwise.
      const int flat_rows = t.cols < GHR_VW &&
                            t.rows * t.pq <= GHR_DWCONV_FLAT &&
                            (t.rows * t.pq + 4 * GHR_VW - 1) / (4 * GHR_VW) <
                                (t.rows + 3) / 4;
      // The padding, and the slack after each plane that masked-off lanes
      // read: zeros that every channel's fill leaves alone. Bands of one
      // layout and first column share the padding columns and slack; only
      // the padding rows differ.
      ghr_dwconv_plan_copy(&cp, &t, ih, iw, sh, sw, ph, pw);
      if (t.hq != zeroed_hq || t.pq != zeroed_pq || ox0 != zeroed_ox0) {
        for (int j = 0; j < planes * t.plane; j += GHR_VW)
          ghr_vstore(tile + j, ghr_vzero());
        zeroed_hq = t.hq;
        zeroed_pq = t.pq;
        zeroed_ox0 = ox0;
      } else {
        ghr_dwconv_clear_rows(tile, &t, &cp);
      }
      for (int ky = 0; ky < kh; ++ky)
        for (int kx = 0; kx < kw; ++kx)
          off[ky * kw + kx] = ((ky % sh) * t.nqx + kx % sw) * t.plane +
                              (ky / sh) * t.pq + kx / sw;
      for (int c = 0; c < n_in; ++c) {
        const int plane = ghr_shuffled_plane(c, ic, in_shuffle);
        ghr_dwconv_fill(tile, &t, &cp, in + (size_t)plane * in_plane,
                        (ptrdiff_t)((size_t)(ic - plane) * in_plane), iw,
                        in_scale ? in_scale[c] : 1.0f, sh, sw);
        for (int o = c * mult; o < (c + 1) * mult && o < oc; ++o) {
          const float *w = weight + (size_t)o * taps;  // weight (oc, kh, kw)
          float *dst = out + (size_t)o * out_plane;
          const float *res =
              residual ? residual + (size_t)o * out_plane : NULL;
          const float b = bias ? bias[o] : 0.0f;
          if (flat_rows) {
            if (taps == 9)
              ghr_dwconv_flat(9, dst, res, ow, tile, &t, off, w, b, act, flat);
            else if (taps == 25)
              ghr_dwconv_flat(25, dst, res, ow, tile, &t, off, w, b, act,
                              flat);
            else
              ghr_dwconv_flat(taps, dst, res, ow, tile, &t, off, w, b, act,
                              flat);
            continue;
          }
          switch (kernel) {
          case 3 * 16 + 1:
            ghr_dwconv_band_k(3, 3, 1, 1, GHR_DWCONV_ROWS_K3, dst, res, ow,
                              tile, &t, w, b, act);
            break;
          case 3 * 16 + 2:
            ghr_dwconv_band_k(3, 3, 2, 2, GHR_DWCONV_ROWS_K3_S2, dst, res, ow,
                              tile, &t, w, b, act);
            break;
          case 5 * 16 + 1:
            ghr_dwconv_band_k(5, 5, 1, 1, GHR_DWCONV_ROWS_K5, dst, res, ow,
                              tile, &t, w, b, act);
            break;
          case 5 * 16 + 2:
            ghr_dwconv_band_k(5, 5, 2, 2, GHR_DWCONV_ROWS_K5, dst, res, ow,
                              tile, &t, w, b, act);
            break;
          default:
            ghr_dwconv_band(dst, res, ow, tile, &t, off, w, taps, b, act);
          }
        }
      }
    }
}
