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
// read the same input channel (mult of them) share its tile.
//
// Outputs are computed a vector of a row at a time, the same columns of four
// rows in flight, so that even maps one vector wide keep four independent
// chains of multiply-adds; each vector is stored straight to its output
// row, the last one of a row masked.
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

enum {
  GHR_DWCONV_TILE = 4096,     // floats of padded input tile (16 KB of stack)
  GHR_DWCONV_MAX_TAPS = 49,   // up to 7x7; larger kernels take the plain path
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
  int nqy, nqx;      // planes used: min(sh, kh) x min(sw, kw)
} GhrDwconvTile;

// Fills tile with the zero-padded input plane src (ih, iw) as the band's
// polyphase planes, then GHR_VW zeros that the masked-off lanes of the last
// vectors may read. Rows are written in order with whole vectors, so a
// store may run past its row into the next one, written after it.
GHR_DWCONV_NO_LIBCALLS
static void ghr_dwconv_fill(float *tile, const GhrDwconvTile *t,
                            const float *src, int ih, int iw, float scale,
                            int sh, int sw, int ph, int pw) {
  const ghr_vec zero = ghr_vzero(), vscale = ghr_vset1(scale);
  float *d = tile;
  for (int qy = 0; qy < t->nqy; ++qy)
    for (int qx = 0; qx < t->nqx; ++qx) {
      // Column j of the plane is input column (ox0 + j)*sw + qx - pw.
      const int col0 = t->ox0 * sw + qx - pw;
      int lo, hi;
      ghr_dwconv_inside(col0, sw, iw, t->pq, &lo, &hi);
      for (int i = 0; i < t->hq; ++i, d += t->pq) {
        const int iy = (t->oy0 + i) * sh + qy - ph;
        if (iy < 0 || iy >= ih || lo >= hi) {
          for (int j = 0; j < t->pq; j += GHR_VW) ghr_vstore(d + j, zero);
          continue;
        }
        for (int j = 0; j < lo; j += GHR_VW) ghr_vstore(d + j, zero);
        const float *s = src + (size_t)iy * iw + (col0 + lo * sw);
        if (sw == 1) {
          int j = lo;
          for (; j + GHR_VW <= hi; j += GHR_VW)
            ghr_vstore(d + j, ghr_vmul(ghr_vload(s + (j - lo)), vscale));
          if (j < hi)
            ghr_vstore(d + j,
                       ghr_vmul(ghr_vload_n(s + (j - lo), hi - j), vscale));
        } else if (sw == 2) {
          int j = lo;
          for (; j + GHR_VW <= hi; j += GHR_VW)
            ghr_vstore(d + j,
                       ghr_vmul(ghr_vload_even(s + 2 * (j - lo)), vscale));
          if (j < hi)
            ghr_vstore(d + j, ghr_vmul(ghr_vload_even_n(s + 2 * (j - lo),
                                                        hi - j),
                                       vscale));
        } else {
          for (int j = lo; j < hi; ++j) d[j] = s[(j - lo) * sw] * scale;
        }
        for (int j = hi; j < t->pq; j += GHR_VW) ghr_vstore(d + j, zero);
      }
    }
  ghr_vstore(d, zero);
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
    const int plane = in_shuffle > 0
        ? (c % in_shuffle) * (ic / in_shuffle) + c / in_shuffle : c;
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
  const int room = (GHR_DWCONV_TILE - GHR_VW) / planes;  // floats per plane
  int cols = ow;
  int rows = room / (cols + extra_cols) - extra_rows;
  if (rows < 1) {
    cols = room / (1 + extra_rows) - extra_cols;
    if (cols > GHR_VW) cols -= cols % GHR_VW;
    rows = 1;
  }
  if (rows > oh) rows = oh;
  if (taps > GHR_DWCONV_MAX_TAPS || cols < 1) {
    ghr_dwconv_plain(in, ic, ih, iw, out, oc, oh, ow, weight, bias, kh, kw,
                     sh, sw, ph, pw, mult, in_scale, in_shuffle, residual,
                     act);
    return;
  }

  float tile[GHR_DWCONV_TILE];
  int off[GHR_DWCONV_MAX_TAPS];  // tap -> offset in the tile
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
      for (int ky = 0; ky < kh; ++ky)
        for (int kx = 0; kx < kw; ++kx)
          off[ky * kw + kx] = ((ky % sh) * t.nqx + kx % sw) * t.hq * t.pq +
                              (ky / sh) * t.pq + kx / sw;
      for (int c = 0; c < n_in; ++c) {
        const int plane = in_shuffle > 0
            ? (c % in_shuffle) * (ic / in_shuffle) + c / in_shuffle : c;
        ghr_dwconv_fill(tile, &t, in + (size_t)plane * in_plane, ih, iw,
                        in_scale ? in_scale[c] : 1.0f, sh, sw, ph, pw);
        for (int o = c * mult; o < (c + 1) * mult && o < oc; ++o) {
          const float *w = weight + (size_t)o * taps;  // weight (oc, kh, kw)
          float *dst = out + (size_t)o * out_plane;
          const float *res =
              residual ? residual + (size_t)o * out_plane : NULL;
          const float b = bias ? bias[o] : 0.0f;
          switch (taps) {
          case 9:
            ghr_dwconv_band(dst, res, ow, tile, &t, off, w, 9, b, act);
            break;
          case 25:
            ghr_dwconv_band(dst, res, ow, tile, &t, off, w, 25, b, act);
            break;
          default:
            ghr_dwconv_band(dst, res, ow, tile, &t, off, w, taps, b, act);
          }
        }
      }
    }
}
