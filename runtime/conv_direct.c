// Dense KxK convolution (groups 1) on NCHW planes as a register-blocked
// implicit GEMM: out (oc, positions) = W (oc, ic*kh*kw) . taps of in', with
// the fused prologue (input channel shuffle and scale) and epilogue (bias,
// residual, activation) of ghr_conv2d, zero padding.
//
// Packed weights, written at compile time by codegen/pack_conv_direct.c (the
// two must agree): [ceil(oc / MR)][ic][kh][kw][MR] floats, zero padded.
// Output channel o = p*MR + m, input channel c, tap (ky, kx) is
// packed[(((p*ic + c)*kh + ky)*kw + kx)*MR + m]; rows m >= oc - p*MR of the
// last panel are zero. MR is GHR_CONV_DIRECT_MR below.
//
// The input a band of output rows reads is copied, zero padded and times
// in_scale, into a tile on the stack, a block of input channels at a time:
// per channel, polyphase planes (plane (qy, qx) holds padded input row
// i*sh + qy, column j*sw + qx at (i, j)), so that every tap of every output
// is a contiguous vector load at an offset that depends on the tap only,
// whatever the stride and padding (the even/odd split of stride 2 happens
// once, in the copy). Outputs are vectors along a row ("rows" tiles). When a
// row fills too little of a vector (maps narrower than the vector width),
// each channel gets a plane per column tap kx instead of per column phase,
// holding padded input column x*sw + kx at column x, with no padding columns
// ("shifted" tiles): output positions are then contiguous across rows, and
// vectors span output rows at tap offsets that still depend on the tap only.
// A register tile is MH output channels x NV vectors of positions:
// each step of the K loop over (channel, tap) broadcasts MH packed weights
// and loads NV input vectors. Maps of fewer positions than two vectors (the
// 4x4 and 2x2 maps of CIFAR networks) turn the tile around ("channel"
// tiles, AVX2 and AVX-512): vectors of output channels, packed weights
// loaded, inputs broadcast. K is split into blocks of channels; partial
// sums wait in `out` between blocks. The padding in the tile is zeroed once
// per layout; each channel's copy writes only its data.
//
// Stack: the tile (32 KB) and tables; about 40 KB in all (gcc and clang
// -fstack-usage, any ISA).
#include "ghr.h"
#include "ghr_kernels.h"
#include "ghr_simd.h"

// MR: the packing's panel height (change it here and in conv_direct_mr,
// codegen/pack_conv_direct.c, together); MH: output channels of a register
// tile (MR is a multiple); NV: its vectors of positions. MH*NV accumulators,
// NV input vectors and a broadcast weight fit the vector registers.
#if defined(GHR_ISA_AVX512)
#define GHR_CONV_DIRECT_MR 16
#define GHR_CONV_DIRECT_MH 8  // 24 accumulators of 32 zmm
#define GHR_CONV_DIRECT_NV 3
#elif defined(GHR_ISA_AVX2)
#define GHR_CONV_DIRECT_MR 8
#define GHR_CONV_DIRECT_MH 4  // 12 accumulators of 16 ymm
#define GHR_CONV_DIRECT_NV 3
#elif defined(GHR_ISA_NEON)
#define GHR_CONV_DIRECT_MR 8
#define GHR_CONV_DIRECT_MH 8  // 24 accumulators of 32 q registers
#define GHR_CONV_DIRECT_NV 3
#else
#define GHR_CONV_DIRECT_MR 4
#define GHR_CONV_DIRECT_MH 4  // 8 scalar accumulators of 16 FP registers
#define GHR_CONV_DIRECT_NV 2
#endif

enum {
  // Floats of input tile: (channels x band), 32 KB of stack, about an L1
  // (larger K blocks than 24 KB: fewer round trips of the partial sums).
  GHR_CONV_DIRECT_TILE = 8192,
  // Channels per K block when the tile has room: enough multiply-adds per
  // load and store of the partial sums.
  GHR_CONV_DIRECT_KC = 16,
  // Taps of the offset table: kernels up to 11x11; larger ones take the
  // plain path.
  GHR_CONV_DIRECT_MAX_TAPS = 121,
  // Floats of input and output past which a layer's input is unlikely to
  // be in the caches (a stem at 224): its rows are prefetched.
  GHR_CONV_DIRECT_PREFETCH_FLOATS = 1 << 17,
};

// Each call site of a register tile gets its own copy, with the
// accumulators in registers instead of an array in memory; what the copies
// share stays out of line, so that there is one copy of it.
#if defined(__GNUC__)
#define GHR_CONV_DIRECT_INLINE static inline __attribute__((always_inline))
#define GHR_CONV_DIRECT_OUTLINE static __attribute__((noinline))
#else
#define GHR_CONV_DIRECT_INLINE static inline
#define GHR_CONV_DIRECT_OUTLINE static
#endif
// Loops over a register tile's accumulators unroll completely, so that
// each accumulator is a register: clang 14 takes `GCC unroll 16` for a
// partial unroll and keeps the accumulators in memory (3x slower).
#if defined(__clang__)
#define GHR_CONV_DIRECT_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GHR_CONV_DIRECT_UNROLL _Pragma("GCC unroll 16")
#endif
// A hint that the cache line at p will be read soon (tests/kernels define
// their own, which checks the address).
#ifndef GHR_CONV_DIRECT_PREFETCH
#if defined(__GNUC__)
#define GHR_CONV_DIRECT_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#else
#define GHR_CONV_DIRECT_PREFETCH(p) ((void)(p))
#endif
#endif
// The tile copies move rows of a few vectors: as loops, not as calls to
// memcpy and memset, which compilers substitute for copy and zero loops.
#if defined(__clang__)
#define GHR_CONV_DIRECT_NO_LIBCALLS \
  __attribute__((no_builtin("memcpy", "memset")))
#elif defined(__GNUC__)
#define GHR_CONV_DIRECT_NO_LIBCALLS \
  __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define GHR_CONV_DIRECT_NO_LIBCALLS
#endif

// [*lo, *hi): the j in [0, n) whose j*stride + offset lies in [0, size).
static void ghr_conv_direct_inside(int offset, int stride, int size, int n,
                                   int *lo, int *hi) {
  int l = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  int h = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  if (h > n) h = n;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

// The outputs a band covers and the layout of its padded input planes.
typedef struct {
  int oy0, ox0;    // first output row and column
  int rows, cols;  // outputs: rows x cols
  int hq, pq;      // each polyphase plane: hq rows of pq floats
  int nqy, nqx;    // planes: min(sh, kh) x min(sw, kw), or x kw if shifted
  int shifted;     // a column plane per kx, pq = cols (no padding columns)
  int qplane;      // floats from one plane to the next: hq*pq, rounded up
                   // to whole vectors plus one of slack unless shifted
  int plane;       // floats of one channel's planes: nqy*nqx*qplane
} GhrConvDirectBand;

static void ghr_conv_direct_band_shape(GhrConvDirectBand *b, int oy0,
                                       int ox0, int rows, int cols, int kh,
                                       int kw, int sh, int sw, int shifted) {
  b->oy0 = oy0;
  b->ox0 = ox0;
  b->rows = rows;
  b->cols = cols;
  b->shifted = shifted;
  b->nqy = sh < kh ? sh : kh;
  b->nqx = shifted ? kw : sw < kw ? sw : kw;
  b->hq = rows + (kh - 1) / sh;
  b->pq = shifted ? cols : cols + (kw - 1) / sw;
  // Shifted planes need no slack: a masked-off lane reads into the next
  // plane, or past the last one into the tile's slack.
  b->qplane = shifted ? b->hq * b->pq
                      : (b->hq * b->pq + 2 * GHR_VW - 1) / GHR_VW * GHR_VW;
  b->plane = b->nqy * b->nqx * b->qplane;
}

// off[tap] = where tap (ky, kx) of output (0, 0) is in a channel's planes.
static void ghr_conv_direct_tap_offsets(int *off, const GhrConvDirectBand *b,
                                        int kh, int kw, int sh, int sw) {
  for (int ky = 0; ky < kh; ++ky)
    for (int kx = 0; kx < kw; ++kx)
      off[ky * kw + kx] =
          b->shifted ? ((ky % sh) * b->nqx + kx) * b->qplane + (ky / sh) * b->pq
                     : ((ky % sh) * b->nqx + kx % sw) * b->qplane +
                           (ky / sh) * b->pq + kx / sw;
}

// s[0 .. n) (n <= GHR_VW; zeros past it), loaded whole when the avail
// floats from s on allow: masked loads are slow on data that misses the
// cache.
static inline ghr_vec ghr_conv_direct_load(const float *s, int n,
                                           ptrdiff_t avail) {
  if (n <= 0) return ghr_vzero();
  return n == GHR_VW || avail >= GHR_VW ? ghr_vload(s) : ghr_vload_n(s, n);
}

// The first n (0 < n <= GHR_VW) lanes of v to d.
static inline void ghr_conv_direct_store_n(float *d, ghr_vec v, int n) {
  if (n == GHR_VW)
    ghr_vstore(d, v);
  else
    ghr_vstore_n(d, v, n);
}

// d[0 .. n) = s[0 .. n) times scale; nothing else is stored, so the zeros
// around d stay. avail: floats readable from s on (n or more).
static inline void ghr_conv_direct_copy(float *d, const float *s, int n,
                                        ghr_vec scale, ptrdiff_t avail) {
  int j = 0;
  for (; j + GHR_VW <= n; j += GHR_VW)
    ghr_vstore(d + j, ghr_vmul(ghr_vload(s + j), scale));
  if (j < n)
    ghr_vstore_n(
        d + j, ghr_vmul(ghr_conv_direct_load(s + j, n - j, avail - j), scale),
        n - j);
}

// d[0 .. n) = s[0], s[2], .. s[2n - 2] times scale; nothing else is
// stored. avail as for copy.
static inline void ghr_conv_direct_copy_even(float *d, const float *s, int n,
                                             ghr_vec scale, ptrdiff_t avail) {
  for (int k = 0; k < n; k += GHR_VW) {
    const int rest = 2 * (n - k) - 1;  // floats left to read
    const ghr_vec a = ghr_conv_direct_load(
        s + 2 * k, rest < GHR_VW ? rest : GHR_VW, avail - 2 * k);
    const ghr_vec b = ghr_conv_direct_load(s + 2 * k + GHR_VW, rest - GHR_VW,
                                           avail - 2 * k - GHR_VW);
    ghr_conv_direct_store_n(d + k, ghr_vmul(ghr_veven(a, b), scale),
                            n - k < GHR_VW ? n - k : GHR_VW);
  }
}

// The even floats of s[0 .. n_even + n_odd) times scale to de[0 .. n_even),
// the odd ones to dodd[0 .. n_odd) (n_odd is n_even or n_even - 1): one
// pass over s for both column planes of stride 2. avail as for copy.
static inline void ghr_conv_direct_split(float *de, float *dodd,
                                         const float *s, int n_even,
                                         int n_odd, ghr_vec scale,
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
    const ghr_vec a = ghr_conv_direct_load(
        s + 2 * k, rest < GHR_VW ? rest : GHR_VW, left);
    const ghr_vec b = ghr_conv_direct_load(s + 2 * k + GHR_VW, rest - GHR_VW,
                                           left - GHR_VW);
    ghr_conv_direct_store_n(de + k, ghr_vmul(ghr_veven(a, b), scale),
                            n_even - k);
    if (n_odd > k)
      ghr_vstore_n(dodd + k, ghr_vmul(ghr_vodd(a, b), scale), n_odd - k);
  }
}

// Where a band's input goes in its planes, the same for every channel:
// which input rows exist for each plane row qy, which columns for each
// plane column qx.
typedef struct {
  int i0[GHR_CONV_DIRECT_MAX_TAPS], i1[GHR_CONV_DIRECT_MAX_TAPS];  // rows
  int row0[GHR_CONV_DIRECT_MAX_TAPS];  // input row of plane row 0, per qy
  int lo[GHR_CONV_DIRECT_MAX_TAPS], n[GHR_CONV_DIRECT_MAX_TAPS];  // columns
  int first[GHR_CONV_DIRECT_MAX_TAPS];  // input column of plane column lo
  // Stride 2: each input row goes to both column planes in one pass, input
  // columns [c0, c0 + n_even + n_odd): the even offsets to plane pe from
  // column je, the odd ones to plane 1 - pe from column jo.
  int split, c0, pe, je, jo, n_even, n_odd;
} GhrConvDirectCopy;

static void ghr_conv_direct_plan_copy(GhrConvDirectCopy *cp,
                                      const GhrConvDirectBand *b, int ih,
                                      int iw, int sh, int sw, int ph,
                                      int pw) {
  for (int qy = 0; qy < b->nqy; ++qy) {
    // Plane row i holds input row (oy0 + i)*sh + qy - ph.
    cp->row0[qy] = b->oy0 * sh + qy - ph;
    ghr_conv_direct_inside(cp->row0[qy], sh, ih, b->hq, &cp->i0[qy],
                           &cp->i1[qy]);
  }
  for (int qx = 0; qx < b->nqx; ++qx) {
    // Plane column j holds input column (ox0 + j)*sw + qx - pw.
    const int col0 = b->ox0 * sw + qx - pw;
    int hi;
    ghr_conv_direct_inside(col0, sw, iw, b->pq, &cp->lo[qx], &hi);
    cp->n[qx] = hi - cp->lo[qx];
    cp->first[qx] = col0 + cp->lo[qx] * sw;
  }
  // Input column c goes to plane (c + pw) % 2, column (c + pw) / 2 - ox0.
  cp->split = sw == 2 && b->nqx == 2;
  int c0 = 2 * b->ox0 - pw, c1 = 2 * (b->ox0 + b->pq) - pw;
  if (c0 < 0) c0 = 0;
  if (c1 > iw) c1 = iw;
  if (c1 < c0) c1 = c0;
  cp->c0 = c0;
  cp->pe = (c0 + pw) % 2;
  cp->je = (c0 + pw) / 2 - b->ox0;
  cp->jo = (c0 + 1 + pw) / 2 - b->ox0;
  cp->n_even = (c1 - c0 + 1) / 2;
  cp->n_odd = (c1 - c0) / 2;
}

// Zeroes the plane rows of the band that no input row fills (top and bottom
// padding), in each of `slots` channels' planes b->plane floats apart.
static void ghr_conv_direct_clear_rows(float *planes,
                                       const GhrConvDirectBand *b,
                                       const GhrConvDirectCopy *cp,
                                       int slots) {
  for (int c = 0; c < slots; ++c)
    for (int qy = 0; qy < b->nqy; ++qy)
      for (int qx = 0; qx < b->nqx; ++qx) {
        float *p = planes + (size_t)c * b->plane +
                   (size_t)(qy * b->nqx + qx) * b->qplane;
        for (int i = 0; i < b->hq; ++i)
          if (i < cp->i0[qy] || i >= cp->i1[qy])
            for (int j = 0; j < b->pq; ++j) p[(size_t)i * b->pq + j] = 0.0f;
      }
}

// Copies input plane src (iw wide; avail floats readable from src on),
// times scale, into one channel's planes at dst, whose padding is already
// zero: input row by input row, in order, each plane row a tight loop.
GHR_CONV_DIRECT_NO_LIBCALLS
static void ghr_conv_direct_fill(float *dst, const GhrConvDirectBand *b,
                                 const GhrConvDirectCopy *cp,
                                 const float *src, ptrdiff_t avail, int iw,
                                 float scale, int sh, int sw) {
  const ghr_vec v = ghr_vset1(scale);
  const size_t pq = (size_t)b->pq, qplane = (size_t)b->qplane;
  const ptrdiff_t step = (ptrdiff_t)sh * iw;  // input floats per plane row
  for (int qy = 0; qy < b->nqy; ++qy) {
    const int i0 = cp->i0[qy], rows = cp->i1[qy] - i0;
    float *row = dst + qy * b->nqx * qplane + i0 * pq;
    const ptrdiff_t at = (ptrdiff_t)(cp->row0[qy] + i0 * sh) * iw;
    if (cp->split) {
      float *de = row + cp->pe * qplane + cp->je;
      float *dodd = row + (1 - cp->pe) * qplane + cp->jo;
      const float *s = src + at + cp->c0;
      ptrdiff_t left = avail - at - cp->c0;
      for (int r = 0; r < rows; ++r, de += pq, dodd += pq, s += step,
               left -= step)
        ghr_conv_direct_split(de, dodd, s, cp->n_even, cp->n_odd, v, left);
      continue;
    }
    for (int qx = 0; qx < b->nqx; ++qx) {
      float *d = row + qx * qplane + cp->lo[qx];
      const float *s = src + at + cp->first[qx];
      const int n = cp->n[qx];
      if (sw == 1) {
        ptrdiff_t left = avail - at - cp->first[qx];
        for (int r = 0; r < rows; ++r, d += pq, s += step, left -= step)
          ghr_conv_direct_copy(d, s, n, v, left);
      } else if (sw == 2) {
        ptrdiff_t left = avail - at - cp->first[qx];
        for (int r = 0; r < rows; ++r, d += pq, s += step, left -= step)
          ghr_conv_direct_copy_even(d, s, n, v, left);
      } else {
        for (int r = 0; r < rows; ++r, d += pq, s += step)
          for (int j = 0; j < n; ++j) d[j] = s[j * sw] * scale;
      }
    }
  }
}

// Up to NV vectors of output positions that a register tile computes.
typedef struct {
  const float *src[GHR_CONV_DIRECT_NV];  // the input at tap offset 0
  size_t at[GHR_CONV_DIRECT_NV];         // position in an output plane
  int lanes[GHR_CONV_DIRECT_NV];         // positions in the vector
} GhrConvDirectSlots;

// What the register tiles of one panel half compute over one K block.
typedef struct {
  const float *w;       // packed weights of the block: (kc, taps, MR)
  // The weights the next panel reads, [ahead, ahead_end), a line per K
  // step of the panel's first tile (NULL: none), so that they come from
  // memory while this panel computes.
  const float *ahead, *ahead_end;
  const int *off;       // (taps) tap offsets in the tile
  int kc, taps;
  size_t cstride;       // floats between channels in the tile
  float *out;           // the first output channel's plane
  size_t plane;         // oh * ow
  const float *bias;    // (m) or NULL
  const float *residual;  // (m, plane) or NULL
  int m;                // output channels that exist, <= MH
  int act;
  int first_block, last_block;  // of the K blocks
} GhrConvDirectJob;

// Partial sums (first_block = 0) and results move between `out` and the
// accumulators through acc (MH, nv, GHR_VW): vector (i, v) is output
// channel i at the slot's positions.
GHR_CONV_DIRECT_OUTLINE void ghr_conv_direct_gather(
    const GhrConvDirectJob *j, const GhrConvDirectSlots *s, int nv,
    float *acc) {
  for (int i = 0; i < j->m; ++i)
    for (int v = 0; v < nv; ++v) {
      const float *o = j->out + (size_t)i * j->plane + s->at[v];
      float *a = acc + ((size_t)i * nv + v) * GHR_VW;
      const int n = s->lanes[v];
      ghr_vstore(a, n == GHR_VW ? ghr_vload(o) : ghr_vload_n(o, n));
    }
}

GHR_CONV_DIRECT_OUTLINE void ghr_conv_direct_scatter(
    const GhrConvDirectJob *j, const GhrConvDirectSlots *s, int nv,
    const float *acc) {
  for (int i = 0; i < j->m; ++i)
    for (int v = 0; v < nv; ++v) {
      const size_t at = (size_t)i * j->plane + s->at[v];
      const int n = s->lanes[v];
      ghr_vec a = ghr_vload(acc + ((size_t)i * nv + v) * GHR_VW);
      if (j->last_block) {
        if (j->residual) {
          const float *r = j->residual + at;
          a = ghr_vadd(a, n == GHR_VW ? ghr_vload(r) : ghr_vload_n(r, n));
        }
        a = ghr_vactivate(a, j->act);
      }
      if (n == GHR_VW)
        ghr_vstore(j->out + at, a);
      else
        ghr_vstore_n(j->out + at, a, n);
    }
}

// act on the MH x nv accumulators of a register tile (act a constant at
// each call, so that the activation's own switch folds away).
GHR_CONV_DIRECT_INLINE void ghr_conv_direct_activate(
    ghr_vec acc[GHR_CONV_DIRECT_MH][GHR_CONV_DIRECT_NV], const int nv,
    const int act) {
GHR_CONV_DIRECT_UNROLL
  for (int i = 0; i < GHR_CONV_DIRECT_MH; ++i)
GHR_CONV_DIRECT_UNROLL
    for (int v = 0; v < nv; ++v) acc[i][v] = ghr_vactivate(acc[i][v], act);
}

// acc (MH x nv vectors) for the slots: started from the bias (first K
// block) or the partial sums in out, kc*taps multiply-adds each, stored
// once: finished (residual, activation) after the last K block, raw
// otherwise. Channels i >= m are computed (their weights are zero) but not
// stored.
GHR_CONV_DIRECT_INLINE void ghr_conv_direct_tile(const int nv,
                                                 const GhrConvDirectJob *j,
                                                 const GhrConvDirectSlots *s,
                                                 const float *ahead) {
  enum { MH = GHR_CONV_DIRECT_MH, MR = GHR_CONV_DIRECT_MR,
         NV = GHR_CONV_DIRECT_NV };
  ghr_vec acc[MH][NV];
  float mem[MH * NV * GHR_VW];
  // Whole vectors (the common case) move straight between the
  // accumulators and `out`; partial ones through mem.
  int full = 1;
  for (int v = 0; v < nv; ++v) full &= s->lanes[v] == GHR_VW;
  if (!j->first_block && !full) ghr_conv_direct_gather(j, s, nv, mem);
GHR_CONV_DIRECT_UNROLL
  for (int i = 0; i < MH; ++i) {
    const ghr_vec b = j->bias && i < j->m ? ghr_vset1(j->bias[i]) : ghr_vzero();
GHR_CONV_DIRECT_UNROLL
    for (int v = 0; v < nv; ++v)
      acc[i][v] = j->first_block || i >= j->m ? b
                  : full ? ghr_vload(j->out + i * j->plane + s->at[v])
                         : ghr_vload(mem + (i * nv + v) * GHR_VW);
  }

  const float *w = j->w;
  for (int c = 0; c < j->kc; ++c) {
    const size_t base = (size_t)c * j->cstride;
    for (int t = 0; t < j->taps; ++t, w += MR) {
      if (ahead < j->ahead_end) {
        GHR_CONV_DIRECT_PREFETCH(ahead);
        ahead += MR;
      }
      const size_t at = base + (size_t)j->off[t];
      ghr_vec x[NV];
GHR_CONV_DIRECT_UNROLL
      for (int v = 0; v < nv; ++v) x[v] = ghr_vload(s->src[v] + at);
GHR_CONV_DIRECT_UNROLL
      for (int i = 0; i < MH; ++i) {
        const ghr_vec wi = ghr_vset1(w[i]);
GHR_CONV_DIRECT_UNROLL
        for (int v = 0; v < nv; ++v) acc[i][v] = ghr_vfma(wi, x[v], acc[i][v]);
      }
    }
  }

  if (full) {
    if (j->last_block) {
      if (j->residual) {
GHR_CONV_DIRECT_UNROLL
        for (int i = 0; i < MH; ++i) {
          if (i >= j->m) break;
GHR_CONV_DIRECT_UNROLL
          for (int v = 0; v < nv; ++v)
            acc[i][v] = ghr_vadd(
                acc[i][v], ghr_vload(j->residual + i * j->plane + s->at[v]));
        }
      }
      // One branch on the activation per tile, not one per vector: in
      // between the branches, compilers keep the accumulators in memory.
      switch (j->act) {
      case GHR_ACT_RELU: ghr_conv_direct_activate(acc, nv, GHR_ACT_RELU); break;
      case GHR_ACT_RELU6:
        ghr_conv_direct_activate(acc, nv, GHR_ACT_RELU6);
        break;
      case GHR_ACT_HARD_SIGMOID:
        ghr_conv_direct_activate(acc, nv, GHR_ACT_HARD_SIGMOID);
        break;
      case GHR_ACT_HARD_SWISH:
        ghr_conv_direct_activate(acc, nv, GHR_ACT_HARD_SWISH);
        break;
      default: break;
      }
    }
GHR_CONV_DIRECT_UNROLL
    for (int i = 0; i < MH; ++i) {
      if (i >= j->m) break;
GHR_CONV_DIRECT_UNROLL
      for (int v = 0; v < nv; ++v)
        ghr_vstore(j->out + i * j->plane + s->at[v], acc[i][v]);
    }
    return;
  }
GHR_CONV_DIRECT_UNROLL
  for (int i = 0; i < MH; ++i)
GHR_CONV_DIRECT_UNROLL
    for (int v = 0; v < nv; ++v)
      ghr_vstore(mem + (i * nv + v) * GHR_VW, acc[i][v]);
  ghr_conv_direct_scatter(j, s, nv, mem);
}

// Where a band's vectors of positions are: row r of positions starts at
// src + r*src_pitch in the tile and at at + r*at_pitch in an output plane,
// cols positions, per_row vectors per row. A rows tile has a row per output
// row; a shifted tile has one row of every position of whole output rows.
typedef struct {
  const float *src;
  int src_pitch;
  size_t at;
  int at_pitch;
  int rows, cols, per_row;
} GhrConvDirectGrid;

// The input rows of a band as cache lines to ask for a few at a time,
// between the register tiles of a band before, so that the requests
// overlap its multiply-adds: a burst of them waits on the few misses a core
// tracks.
typedef struct {
  const float *in;     // the layer's input
  size_t in_plane;     // ih * iw
  size_t first, size;  // the band's floats of each channel: [first, +size)
  int ic;
  int c;               // next line: channel c, floats j on from first
  size_t j;
  int per_tile;        // lines asked for before each tile
} GhrConvDirectPrefetch;

// Starts pf on the input rows that output rows [oy0, oy0 + rows) read,
// spread over `tiles` register tiles.
static void ghr_conv_direct_prefetch_band(GhrConvDirectPrefetch *pf,
                                          const float *in, int ic, int ih,
                                          int iw, int oy0, int rows, int kh,
                                          int sh, int ph, int tiles) {
  enum { LINE = 64 / sizeof(float) };
  int r0 = oy0 * sh - ph, r1 = (oy0 + rows - 1) * sh - ph + kh;
  if (r0 < 0) r0 = 0;
  if (r1 > ih) r1 = ih;
  pf->in = in;
  pf->in_plane = (size_t)ih * iw;
  pf->first = (size_t)r0 * iw;
  pf->size = r1 > r0 ? (size_t)(r1 - r0) * iw : 0;
  pf->ic = pf->size ? ic : 0;
  pf->c = 0;
  pf->j = 0;
  const size_t lines = (pf->size + LINE - 1) / LINE * ic;
  pf->per_tile = (int)(lines / (size_t)tiles) + 1;
}

// Asks for the next n lines of pf (fewer at its end). Inline: compilers
// drop calls of a function that only prefetches, which they find free of
// side effects.
GHR_CONV_DIRECT_INLINE void ghr_conv_direct_prefetch(
    GhrConvDirectPrefetch *pf, int n) {
  enum { LINE = 64 / sizeof(float) };
  for (; n > 0 && pf->c < pf->ic; --n) {
    GHR_CONV_DIRECT_PREFETCH(pf->in + pf->c * pf->in_plane + pf->first +
                             pf->j);
    pf->j += LINE;
    if (pf->j >= pf->size) {
      pf->j = 0;
      ++pf->c;
    }
  }
}

// Every register tile of one panel half over the grid's vectors, in
// near-equal groups of at most NV (4 vectors as 2 + 2, not 3 + 1: no tile
// of few accumulators), each after a few lines of pf (if any).
static void ghr_conv_direct_tiles(const GhrConvDirectJob *j,
                                  const GhrConvDirectGrid *g,
                                  GhrConvDirectPrefetch *pf) {
  enum { NV = GHR_CONV_DIRECT_NV };
  const int n_vec = g->rows * g->per_row;
  const int groups = (n_vec + NV - 1) / NV;
  // The next vector: row r, first position x (no divisions per tile).
  int r = 0, x = 0;
  for (int i = 0; i < groups; ++i) {
    GhrConvDirectSlots s;
    // The first n_vec % groups groups get one more.
    const int nv = n_vec / groups + (i < n_vec % groups);
    for (int v = 0; v < nv; ++v) {
      s.src[v] = g->src + r * g->src_pitch + x;
      s.at[v] = g->at + (size_t)r * g->at_pitch + x;
      s.lanes[v] = g->cols - x < GHR_VW ? g->cols - x : GHR_VW;
      x += GHR_VW;
      if (x >= g->cols) {
        x = 0;
        ++r;
      }
    }
    if (pf) ghr_conv_direct_prefetch(pf, pf->per_tile);
    const float *ahead = i == 0 ? j->ahead : j->ahead_end;
    switch (nv) {
#if GHR_CONV_DIRECT_NV >= 3
    case 3: ghr_conv_direct_tile(3, j, &s, ahead); break;
#endif
    case 2: ghr_conv_direct_tile(2, j, &s, ahead); break;
    default: ghr_conv_direct_tile(1, j, &s, ahead); break;
    }
  }
}

// Input channel c's plane in `in` (through the channel shuffle).
static const float *ghr_conv_direct_plane(const float *in, int c, int ic,
                                          int shuffle, size_t plane) {
  return in + (size_t)ghr_shuffled_plane(c, ic, shuffle) * plane;
}

// The same convolution one output at a time with bounds tests, for kernels
// past the offset table or too large for a tile of one output.
static void ghr_conv_direct_plain(const float *in, int ic, int ih, int iw,
                                  float *out, int oc, int oh, int ow,
                                  const float *packed, const float *bias,
                                  int kh, int kw, int sh, int sw, int ph,
                                  int pw, const float *in_scale,
                                  int in_shuffle, const float *residual,
                                  int act) {
  enum { MR = GHR_CONV_DIRECT_MR };
  const size_t in_plane = (size_t)ih * iw, out_plane = (size_t)oh * ow;
  for (int o = 0; o < oc; ++o) {
    const float *w = packed + (size_t)(o / MR) * ic * kh * kw * MR + o % MR;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float sum = bias ? bias[o] : 0.0f;
        for (int c = 0; c < ic; ++c) {
          const float *src =
              ghr_conv_direct_plane(in, c, ic, in_shuffle, in_plane);
          const float scale = in_scale ? in_scale[c] : 1.0f;
          for (int ky = 0; ky < kh; ++ky) {
            const int iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= ih) continue;
            for (int kx = 0; kx < kw; ++kx) {
              const int ix = ox * sw - pw + kx;
              if (ix >= 0 && ix < iw)
                sum += w[(((size_t)c * kh + ky) * kw + kx) * MR] *
                       (src[(size_t)iy * iw + ix] * scale);
            }
          }
        }
        const size_t at = (size_t)o * out_plane + (size_t)oy * ow + ox;
        if (residual) sum += residual[at];
        out[at] = ghr_activate(sum, act);
      }
  }
}

// Rows of the largest band whose planes for `channels` channels fit `room`
// floats: per channel, `planes` planes of (rows + extra_rows) x pq floats
// plus up to 2*GHR_VW of rounding and slack each; 0 if none.
static int ghr_conv_direct_rows_fit(int room, int channels, int planes,
                                    int extra_rows, int pq) {
  const long per_plane = (long)room / channels / planes - 2 * GHR_VW;
  const long rows = per_plane / pq - extra_rows;
  return rows < 1 ? 0 : rows > 1 << 20 ? 1 << 20 : (int)rows;
}

// Output rows per band for n_rows rows at most max_rows at a time, evened
// out so that the last band is not a sliver.
static int ghr_conv_direct_even(int n_rows, int max_rows) {
  const int bands = (n_rows + max_rows - 1) / max_rows;
  return (n_rows + bands - 1) / bands;
}

// Channel tiles: vectors of output channels instead of positions, for
// maps with too few positions to fill vectors of them (the 4x4 and 2x2 maps
// of CIFAR networks; with 4 positions a vector of 16 would waste 3/4). A
// register tile is CV vectors of output channels x nb positions: each step
// of the K loop loads CV vectors of packed weights (a panel row is MR =
// GHR_VW channels) and broadcasts nb inputs straight from the rows tile.
// Partial sums and results go to `out` a lane at a time (transposed).
#if GHR_VW >= 8 && GHR_CONV_DIRECT_MR == GHR_VW
#if defined(GHR_ISA_AVX512)
#define GHR_CONV_DIRECT_CV 3  // 24 accumulators of 32 zmm
#define GHR_CONV_DIRECT_NB 8
#else
#define GHR_CONV_DIRECT_CV 2  // 12 accumulators of 16 ymm
#define GHR_CONV_DIRECT_NB 6
#endif

// What a channel tile computes over one K block.
typedef struct {
  const float *w[GHR_CONV_DIRECT_CV];  // packed weights of each vector's
                                       // channels over the block
  int m[GHR_CONV_DIRECT_CV];           // channels that exist, <= GHR_VW
  const float *src[GHR_CONV_DIRECT_NB];  // each position's input at tap 0
  size_t at[GHR_CONV_DIRECT_NB];         // each position in an output plane
  const int *off;       // (taps) tap offsets in the tile
  int kc, taps;
  size_t cstride;       // floats between channels in the tile
  float *out;           // the first output channel's plane
  size_t plane;         // oh * ow
  const float *bias;    // (CV * GHR_VW) or NULL
  const float *residual;  // (CV * GHR_VW, plane) or NULL
  int act;
  int first_block, last_block;  // of the K blocks
} GhrConvDirectChannels;

// Partial sums (first_block = 0) and results move between `out` and the
// accumulators through acc (cv, nb, GHR_VW): lane l of vector (q, n) is
// output channel q*GHR_VW + l at position at[n].
GHR_CONV_DIRECT_OUTLINE void ghr_conv_direct_cgather(
    const GhrConvDirectChannels *j, int cv, int nb, float *acc) {
  for (int q = 0; q < cv; ++q)
    for (int n = 0; n < nb; ++n) {
      float *a = acc + ((size_t)q * nb + n) * GHR_VW;
      const float *o = j->out + (size_t)q * GHR_VW * j->plane + j->at[n];
      for (int l = 0; l < j->m[q]; ++l) a[l] = o[(size_t)l * j->plane];
    }
}

GHR_CONV_DIRECT_OUTLINE void ghr_conv_direct_cscatter(
    const GhrConvDirectChannels *j, int cv, int nb, const float *acc) {
  for (int q = 0; q < cv; ++q)
    for (int n = 0; n < nb; ++n) {
      const float *a = acc + ((size_t)q * nb + n) * GHR_VW;
      const size_t first = (size_t)q * GHR_VW * j->plane + j->at[n];
      for (int l = 0; l < j->m[q]; ++l) {
        const size_t at = first + (size_t)l * j->plane;
        float v = a[l];
        if (j->last_block) {
          if (j->residual) v += j->residual[at];
          v = ghr_activate(v, j->act);
        }
        j->out[at] = v;
      }
    }
}

// acc (cv vectors of channels x nb positions): started from the bias or
// the partial sums in out, kc*taps multiply-adds, stored raw or finished as
// ghr_conv_direct_tile does. Vectors with m = 0 are computed, not stored.
GHR_CONV_DIRECT_INLINE void ghr_conv_direct_ctile(
    const int cv, const int nb, const GhrConvDirectChannels *j) {
  enum { CV = GHR_CONV_DIRECT_CV, NB = GHR_CONV_DIRECT_NB,
         MR = GHR_CONV_DIRECT_MR };
  ghr_vec acc[CV][NB];
  float mem[CV * NB * GHR_VW];
  if (!j->first_block) ghr_conv_direct_cgather(j, cv, nb, mem);
GHR_CONV_DIRECT_UNROLL
  for (int q = 0; q < cv; ++q)
GHR_CONV_DIRECT_UNROLL
    for (int n = 0; n < nb; ++n) {
      const int m = j->m[q];
      const float *b = j->bias ? j->bias + q * GHR_VW : NULL;
      const float *a = mem + (q * nb + n) * GHR_VW;
      if (!j->first_block)
        acc[q][n] = m == GHR_VW ? ghr_vload(a) : ghr_vload_n(a, m);
      else
        acc[q][n] = !b ? ghr_vzero()
                    : m == GHR_VW ? ghr_vload(b) : ghr_vload_n(b, m);
    }

  const float *w[CV];
GHR_CONV_DIRECT_UNROLL
  for (int q = 0; q < cv; ++q) w[q] = j->w[q];
  for (int c = 0; c < j->kc; ++c) {
    const size_t base = (size_t)c * j->cstride;
    // One step at a time: unrolled (clang), the broadcasts of two steps
    // are live at once and accumulators spill.
#pragma GCC unroll 1
    for (int t = 0; t < j->taps; ++t) {
      const size_t at = base + (size_t)j->off[t];
      ghr_vec wv[CV];
GHR_CONV_DIRECT_UNROLL
      for (int q = 0; q < cv; ++q) {
        wv[q] = ghr_vload(w[q]);
        w[q] += MR;
      }
GHR_CONV_DIRECT_UNROLL
      for (int n = 0; n < nb; ++n) {
        const ghr_vec x = ghr_vset1(j->src[n][at]);
GHR_CONV_DIRECT_UNROLL
        for (int q = 0; q < cv; ++q) acc[q][n] = ghr_vfma(wv[q], x, acc[q][n]);
      }
    }
  }

GHR_CONV_DIRECT_UNROLL
  for (int q = 0; q < cv; ++q)
GHR_CONV_DIRECT_UNROLL
    for (int n = 0; n < nb; ++n)
      ghr_vstore(mem + (q * nb + n) * GHR_VW, acc[q][n]);
  ghr_conv_direct_cscatter(j, cv, nb, mem);
}

// A channel tile of cv vectors (1 <= cv <= CV) and nb positions (1 <= nb
// <= NB), each shape its own copy.
static void ghr_conv_direct_ctile_any(int cv, int nb,
                                      const GhrConvDirectChannels *j) {
  switch (cv * 16 + nb) {
#if GHR_CONV_DIRECT_CV >= 3
  case 3 * 16 + 1: ghr_conv_direct_ctile(3, 1, j); break;
  case 3 * 16 + 2: ghr_conv_direct_ctile(3, 2, j); break;
  case 3 * 16 + 3: ghr_conv_direct_ctile(3, 3, j); break;
  case 3 * 16 + 4: ghr_conv_direct_ctile(3, 4, j); break;
  case 3 * 16 + 5: ghr_conv_direct_ctile(3, 5, j); break;
  case 3 * 16 + 6: ghr_conv_direct_ctile(3, 6, j); break;
  case 3 * 16 + 7: ghr_conv_direct_ctile(3, 7, j); break;
  case 3 * 16 + 8: ghr_conv_direct_ctile(3, 8, j); break;
#endif
  case 2 * 16 + 1: ghr_conv_direct_ctile(2, 1, j); break;
  case 2 * 16 + 2: ghr_conv_direct_ctile(2, 2, j); break;
  case 2 * 16 + 3: ghr_conv_direct_ctile(2, 3, j); break;
  case 2 * 16 + 4: ghr_conv_direct_ctile(2, 4, j); break;
  case 2 * 16 + 5: ghr_conv_direct_ctile(2, 5, j); break;
  case 2 * 16 + 6: ghr_conv_direct_ctile(2, 6, j); break;
#if GHR_CONV_DIRECT_NB >= 8
  case 2 * 16 + 7: ghr_conv_direct_ctile(2, 7, j); break;
  case 2 * 16 + 8: ghr_conv_direct_ctile(2, 8, j); break;
#endif
  case 1 * 16 + 1: ghr_conv_direct_ctile(1, 1, j); break;
  case 1 * 16 + 2: ghr_conv_direct_ctile(1, 2, j); break;
  case 1 * 16 + 3: ghr_conv_direct_ctile(1, 3, j); break;
  case 1 * 16 + 4: ghr_conv_direct_ctile(1, 4, j); break;
  case 1 * 16 + 5: ghr_conv_direct_ctile(1, 5, j); break;
  case 1 * 16 + 6: ghr_conv_direct_ctile(1, 6, j); break;
#if GHR_CONV_DIRECT_NB >= 8
  case 1 * 16 + 7: ghr_conv_direct_ctile(1, 7, j); break;
  case 1 * 16 + 8: ghr_conv_direct_ctile(1, 8, j); break;
#endif
  default: break;
  }
}

// Every channel tile of one K block over the band (rows x cols positions of
// a rows tile of pitch pq): vectors of channels CV at a time, positions in
// near-equal groups of at most NB.
static void ghr_conv_direct_channels(GhrConvDirectChannels *j,
                                     const float *packed, int ic, int oc,
                                     int c0, float *out, const float *bias,
                                     const float *residual,
                                     const float *tile,
                                     const GhrConvDirectBand *b, int ow) {
  enum { CV = GHR_CONV_DIRECT_CV, NB = GHR_CONV_DIRECT_NB,
         MR = GHR_CONV_DIRECT_MR };
  const int n_pos = b->rows * b->cols;
  const int groups = (n_pos + NB - 1) / NB;
  const int vectors = (oc + GHR_VW - 1) / GHR_VW;  // of output channels
  for (int v0 = 0; v0 < vectors; v0 += CV) {
    const int cv = vectors - v0 < CV ? vectors - v0 : CV;
    for (int q = 0; q < cv; ++q) {
      const int o = (v0 + q) * GHR_VW;  // the vector's first channel
      j->w[q] = packed + ((size_t)(o / MR) * ic + c0) * j->taps * MR;
      j->m[q] = oc - o < GHR_VW ? oc - o : GHR_VW;
    }
    const size_t o0 = (size_t)v0 * GHR_VW;
    j->out = out + o0 * j->plane;
    j->bias = bias ? bias + o0 : NULL;
    j->residual = residual ? residual + o0 * j->plane : NULL;
    for (int g = 0, p = 0; g < groups; ++g) {
      // Positions [p, p + nb): the first n_pos % groups groups get one more.
      const int nb = n_pos / groups + (g < n_pos % groups);
      for (int n = 0; n < nb; ++n) {
        const int r = (p + n) / b->cols, x = (p + n) % b->cols;
        j->src[n] = tile + r * b->pq + x;
        j->at[n] = (size_t)(b->oy0 + r) * ow + b->ox0 + x;
      }
      ghr_conv_direct_ctile_any(cv, nb, j);
      p += nb;
    }
  }
}
#endif

GHR_API void ghr_conv_direct(const float *in, int ic, int ih, int iw,
                             float *out, int oc, int oh, int ow,
                             const float *packed, const float *bias, int kh,
                             int kw, int sh, int sw, int ph, int pw,
                             const float *in_scale, int in_shuffle,
                             const float *residual, int act) {
  enum {
    MR = GHR_CONV_DIRECT_MR,
    MH = GHR_CONV_DIRECT_MH,
    TILE = GHR_CONV_DIRECT_TILE,
  };
  enum { ROWS, SHIFTED, CHANNELS } mode = ROWS;
  const int taps = kh * kw;
  const int nqy = sh < kh ? sh : kh, nqx = sw < kw ? sw : kw;
  const int planes = nqy * nqx;
  const int extra_rows = (kh - 1) / sh, extra_cols = (kw - 1) / sw;
  const int pq = ow + extra_cols;  // of a full-width band
  const int kc_want = ic < GHR_CONV_DIRECT_KC ? ic : GHR_CONV_DIRECT_KC;
  int rows = 0, cols = ow;  // outputs per band
  if (taps > GHR_CONV_DIRECT_MAX_TAPS) {
    ghr_conv_direct_plain(in, ic, ih, iw, out, oc, oh, ow, packed, bias, kh,
                          kw, sh, sw, ph, pw, in_scale, in_shuffle, residual,
                          act);
    return;
  }
#ifdef GHR_CONV_DIRECT_CV
  // Channel tiles for a map of at most two vectors of positions, taken
  // whole, when there are channels to fill vectors of them.
  if ((long)oh * ow <= 2 * GHR_VW && oc >= GHR_VW &&
      ghr_conv_direct_rows_fit(TILE, 1, planes, extra_rows, pq) >= oh) {
    mode = CHANNELS;
    rows = oh;
  }
#endif
  // Rows tiles waste the lanes past each row's last position: shifted
  // tiles when that is more than a fifth of them and a band of kc_want
  // channels fits; their vectors run on across output rows.
  const int per_row = (ow + GHR_VW - 1) / GHR_VW;
  if (mode == ROWS && ow * 5 < per_row * GHR_VW * 4) {
    rows = TILE / kc_want / (nqy * kw) / ow - extra_rows;
    if (rows > 0) mode = SHIFTED;
  }
  if (mode == ROWS) {
    rows = ghr_conv_direct_rows_fit(TILE, kc_want, planes, extra_rows, pq);
    // Too wide for kc_want channels: one output row, as many channels as
    // fit; not even one channel: strips of columns.
    if (rows == 0 && ghr_conv_direct_rows_fit(TILE, 1, planes, extra_rows, pq))
      rows = 1;
    if (rows == 0) {
      rows = 1;
      cols = (TILE / planes - 2 * GHR_VW) / (1 + extra_rows) - extra_cols;
      if (cols > GHR_VW) cols -= cols % GHR_VW;
      if (cols < 1) {  // not even one output of one channel
        ghr_conv_direct_plain(in, ic, ih, iw, out, oc, oh, ow, packed, bias,
                              kh, kw, sh, sw, ph, pw, in_scale, in_shuffle,
                              residual, act);
        return;
      }
    }
  }
  if (rows > oh) rows = oh;
  rows = ghr_conv_direct_even(oh, rows);

  // Slack past the planes of a K block that masked-off lanes read.
  float tile[TILE + 2 * GHR_VW];
  GhrConvDirectCopy cp;
  // The layout the zeros in the tile were written for.
  int zeroed_hq = 0, zeroed_pq = 0, zeroed_ox0 = -1, zeroed_slots = 0;
  int off[GHR_CONV_DIRECT_MAX_TAPS];   // tap offsets in the tile
  const size_t in_plane = (size_t)ih * iw, out_plane = (size_t)oh * ow;

  // Input from memory: each band asks for the input of the band AHEAD
  // bands on, a few lines before each of its register tiles.
  enum { AHEAD = 2 };
  GhrConvDirectPrefetch pf;
  const int prefetch = cols == ow && (double)ic * in_plane +
                                          (double)oc * out_plane >
                                      GHR_CONV_DIRECT_PREFETCH_FLOATS;
  for (int oy0 = 0; oy0 < oh; oy0 += rows)
    for (int ox0 = 0; ox0 < ow; ox0 += cols) {
      GhrConvDirectBand b;
      ghr_conv_direct_band_shape(&b, oy0, ox0,
                                 oh - oy0 < rows ? oh - oy0 : rows,
                                 ow - ox0 < cols ? ow - ox0 : cols, kh, kw,
                                 sh, sw, mode == SHIFTED);
      ghr_conv_direct_tap_offsets(off, &b, kh, kw, sh, sw);
      const size_t cstride = (size_t)b.plane;
      GhrConvDirectGrid g;
      g.src = tile;
      g.at = (size_t)oy0 * ow + ox0;
      if (mode == SHIFTED) {
        // One row of the band's positions (whole output rows).
        g.src_pitch = 0;
        g.at_pitch = 0;
        g.rows = 1;
        g.cols = b.rows * ow;
      } else {
        g.src_pitch = b.pq;
        g.at_pitch = ow;
        g.rows = b.rows;
        g.cols = b.cols;
      }
      g.per_row = (g.cols + GHR_VW - 1) / GHR_VW;
      // Equal K blocks of as many channels as the tile holds.
      int kc = (int)(TILE / cstride);
      if (kc > ic) kc = ic;
      kc = ghr_conv_direct_even(ic, kc);
      GhrConvDirectPrefetch *ask = NULL;
      if (prefetch && oy0 + AHEAD * rows < oh) {
        const int tiles = (oc + MH - 1) / MH * ((ic + kc - 1) / kc) *
                          ((g.rows * g.per_row + GHR_CONV_DIRECT_NV - 1) /
                           GHR_CONV_DIRECT_NV);
        ghr_conv_direct_prefetch_band(&pf, in, ic, ih, iw, oy0 + AHEAD * rows,
                                      rows, kh, sh, ph, tiles);
        ask = &pf;
      }
      // The padding of the planes, and the slack after each plane that
      // masked-off lanes read: zeros that every channel's fill leaves alone.
      // Bands of one layout and first column share the padding columns and
      // slack; only the padding rows differ.
      ghr_conv_direct_plan_copy(&cp, &b, ih, iw, sh, sw, ph, pw);
      if (b.hq != zeroed_hq || b.pq != zeroed_pq || ox0 != zeroed_ox0 ||
          kc > zeroed_slots) {
        for (size_t j = 0; j < (size_t)kc * b.plane + GHR_VW; j += GHR_VW)
          ghr_vstore(tile + j, ghr_vzero());
        zeroed_hq = b.hq;
        zeroed_pq = b.pq;
        zeroed_ox0 = ox0;
        zeroed_slots = kc;
      } else {
        ghr_conv_direct_clear_rows(tile, &b, &cp, kc);
      }

      for (int c0 = 0; c0 < ic; c0 += kc) {
        const int n_c = ic - c0 < kc ? ic - c0 : kc;
        for (int c = 0; c < n_c; ++c) {
          const float *src = ghr_conv_direct_plane(in, c0 + c, ic, in_shuffle,
                                                   in_plane);
          const ptrdiff_t avail = in + (size_t)ic * in_plane - src;
          const float scale = in_scale ? in_scale[c0 + c] : 1.0f;
          ghr_conv_direct_fill(tile + (size_t)c * cstride, &b, &cp, src,
                               avail, iw, scale, sh, sw);
        }
#ifdef GHR_CONV_DIRECT_CV
        if (mode == CHANNELS) {
          GhrConvDirectChannels j;
          j.off = off;
          j.kc = n_c;
          j.taps = taps;
          j.cstride = cstride;
          j.plane = out_plane;
          j.act = act;
          j.first_block = c0 == 0;
          j.last_block = c0 + n_c == ic;
          ghr_conv_direct_channels(&j, packed, ic, oc, c0, out, bias,
                                   residual, tile, &b, ow);
          continue;
        }
#endif
        GhrConvDirectJob j;
        j.off = off;
        j.kc = n_c;
        j.taps = taps;
        j.cstride = cstride;
        j.plane = out_plane;
        j.act = act;
        j.first_block = c0 == 0;
        j.last_block = c0 + n_c == ic;
        for (int o = 0; o < oc; o += MH) {
          // Output channel o is row o % MR of panel o / MR.
          j.w = packed + ((size_t)(o / MR) * ic + c0) * taps * MR + o % MR;
          // Next: the following panel of this K block, or the first panel
          // of the next block.
          j.ahead = j.ahead_end = NULL;
          if (o % MR == 0) {
            if (o + MR < oc) {
              j.ahead = packed + ((size_t)(o / MR + 1) * ic + c0) * taps * MR;
              j.ahead_end = j.ahead + (size_t)n_c * taps * MR;
            } else if (c0 + n_c < ic) {
              const int next = ic - c0 - n_c < kc ? ic - c0 - n_c : kc;
              j.ahead = packed + (size_t)(c0 + n_c) * taps * MR;
              j.ahead_end = j.ahead + (size_t)next * taps * MR;
            }
          }
          j.out = out + (size_t)o * out_plane;
          j.bias = bias ? bias + o : NULL;
          j.residual = residual ? residual + (size_t)o * out_plane : NULL;
          j.m = oc - o < MH ? oc - o : MH;
          ghr_conv_direct_tiles(&j, &g, ask);
        }
      }
      // The lines the tiles left (channel tiles ask for none).
      if (ask) ghr_conv_direct_prefetch(ask, 1 << 30);
    }
}
