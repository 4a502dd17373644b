// 1x1 convolution, stride 1, unpadded, as a register-blocked GEMM on NCHW
// planes: out (oc, hw) = W (oc, ic) . in' (ic, hw), with the fused prologue
// (input channel shuffle and scale) and epilogue (bias, residual,
// activation) of ghr_conv2d. A grouped 1x1 conv is one call per group.
//
// Packed weights, written at compile time by codegen/pack_conv1x1.c (the
// two must agree): [ceil(oc / MR)][ic][MR] floats, zero padded. Output
// channel o = t*MR + r, input row k is packed[(t*ic + k)*MR + r]; rows
// r >= oc - t*MR of the last tile are zero. MR is GHR_CONV1X1_MR below,
// or GHR_CONV1X1_CHANNEL_MR for the small maps ghr_conv1x1_small computes
// (ghr_conv1x1_uses_channel_tiles(ic, oc, hw) says which).
#include "ghr.h"
#include "ghr_simd.h"

// The register tile: MR output channels x NR vectors of spatial positions,
// MR*NR accumulators plus NR input vectors and one broadcast weight live in
// the vector registers. MR is also the packing's tile height: change it
// here and in conv1x1_mr (codegen/pack_conv1x1.c) together. Portable C has
// no tile of registers (see ghr_conv1x1_strip) and uses MR alone.
#if defined(GHR_ISA_AVX512)
#define GHR_CONV1X1_MR 8  // 24 accumulators of 32 zmm
#define GHR_CONV1X1_NR 3
#elif defined(GHR_ISA_AVX2)
#define GHR_CONV1X1_MR 4  // 12 accumulators of 16 ymm
#define GHR_CONV1X1_NR 3
#elif defined(GHR_ISA_NEON)
// 16 accumulators of 32 q registers: with 24, gcc (which holds the 8
// weights in 8 registers) spills in the K loop.
#define GHR_CONV1X1_MR 8
#define GHR_CONV1X1_NR 2
#else
#define GHR_CONV1X1_MR 4
#endif

// Input rows per K block: the block's weights (KC * MR floats) stay in L1
// while a tile row sweeps the block's columns.
#define GHR_CONV1X1_KC 256
// Floats of input (K block rows x columns) kept in L2 while every output
// tile reads them: 256 KiB, half of a small L2.
#define GHR_CONV1X1_L2_FLOATS 65536

// The tiles (and the portable strips) take their shape as constants;
// forced inline, each call site gets its own copy, with the accumulators in
// registers instead of an array in memory.
#if defined(__GNUC__)
#define GHR_CONV1X1_INLINE static inline __attribute__((always_inline))
#else
#define GHR_CONV1X1_INLINE static inline
#endif

// Makes the compiler hold pointer p in one register. Given rows[k] + p0,
// gcc hoists p0 + p for every broadcast position p out of the K loop
// instead, an index register per position: more than there are
// registers, spilled and reloaded in the loop.
#if defined(__GNUC__)
#define GHR_CONV1X1_BASE_REGISTER(p) __asm__("" : "+r"(p))
#else
#define GHR_CONV1X1_BASE_REGISTER(p) ((void)(p))
#endif

// A layer's weights come from memory once per call (a network's weights
// outgrow the caches), and the hardware prefetchers run too little ahead
// of the K loops (in MobileNetV1 the 7x7 layers took 25% longer than with
// cached weights): the K loops fetch the weights the next tile will read
// (into L2) while they compute this one. tests/kernels define their own
// prefetch, which checks the address.
#ifndef GHR_CONV1X1_PREFETCH
#if defined(__GNUC__)
#define GHR_CONV1X1_PREFETCH(p) __builtin_prefetch((p), 0, 1)
#else
#define GHR_CONV1X1_PREFETCH(p) ((void)(p))
#endif
#endif

// What one output-channel tile computes over one K block.
typedef struct {
  const float *const *rows;  // rows[k]: input row k of the block (kc)
  const float *w;            // weights (kc, MR), scale folded in
  const float *w_next;       // the next tile's weights (kc, MR), to prefetch
  int kc;
  float *out;                // the tile's first output row (m, hw)
  const float *bias;         // (m) or NULL
  const float *residual;     // (m, hw) or NULL
  size_t hw;
  int m;                     // output channels that exist, <= MR
  int act;
  int first_block, last_block;  // of the K blocks
} GhrConv1x1Panel;

#if GHR_VW > 1
// Columns one tile covers. Blocks of columns are multiples of it, so only
// the last block has an edge.
#define GHR_CONV1X1_COLS (GHR_CONV1X1_NR * GHR_VW)

// Columns [col, col + nv*GHR_VW) of the panel's first `rows` output rows
// (MR, or MR/2 when no more exist), the last vector holding only `lanes`
// columns when masked. The accumulators start from the bias (first K
// block) or the partial sums in out, take kc multiply-adds each (one
// broadcast weight times nv input vectors per row), and are stored once:
// finished (residual, activation) after the last K block, raw otherwise.
// With prefetch the K loop also fetches the next tile's weights.
GHR_CONV1X1_INLINE void ghr_conv1x1_tile(const int rows, const int nv,
                                         const int masked, const int lanes,
                                         const int prefetch,
                                         const GhrConv1x1Panel *p,
                                         const size_t col) {
  enum { MR = GHR_CONV1X1_MR, NR = GHR_CONV1X1_NR };
  ghr_vec acc[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < rows; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < nv; ++j) {
      const float *o = p->out + (size_t)i * p->hw + col + (size_t)j * GHR_VW;
      if (i >= p->m)
        acc[i][j] = ghr_vzero();
      else if (!p->first_block)
        acc[i][j] = masked && j == nv - 1 ? ghr_vload_n(o, lanes) : ghr_vload(o);
      else
        acc[i][j] = p->bias ? ghr_vset1(p->bias[i]) : ghr_vzero();
    }

  const float *w = p->w;
  for (int k = 0; k < p->kc; ++k, w += MR) {
    if (prefetch) GHR_CONV1X1_PREFETCH(p->w_next + (size_t)k * MR);
    const float *x = p->rows[k] + col;
    ghr_vec xv[NR];
#pragma GCC unroll 16
    for (int j = 0; j < nv; ++j)
      xv[j] = masked && j == nv - 1 ? ghr_vload_n(x + j * GHR_VW, lanes)
                                    : ghr_vload(x + j * GHR_VW);
#pragma GCC unroll 16
    for (int i = 0; i < rows; ++i) {
      const ghr_vec wi = ghr_vset1(w[i]);
#pragma GCC unroll 16
      for (int j = 0; j < nv; ++j) acc[i][j] = ghr_vfma(wi, xv[j], acc[i][j]);
    }
  }

  if (p->last_block) {
    if (p->residual)
#pragma GCC unroll 16
      for (int i = 0; i < rows; ++i) {
        if (i >= p->m) break;
#pragma GCC unroll 16
        for (int j = 0; j < nv; ++j) {
          const float *r = p->residual + (size_t)i * p->hw + col +
                           (size_t)j * GHR_VW;
          acc[i][j] = ghr_vadd(acc[i][j], masked && j == nv - 1
                                              ? ghr_vload_n(r, lanes)
                                              : ghr_vload(r));
        }
      }
    // One branch on the activation per tile, each case with a constant
    // one: a branch per vector made GCC keep the accumulators in memory.
#define GHR_CONV1X1_ACTIVATE(a)                                      \
  _Pragma("GCC unroll 16") for (int i = 0; i < rows; ++i)            \
      _Pragma("GCC unroll 16") for (int j = 0; j < nv; ++j)          \
          acc[i][j] = ghr_vactivate(acc[i][j], a)
    switch (p->act) {
    case GHR_ACT_RELU: GHR_CONV1X1_ACTIVATE(GHR_ACT_RELU); break;
    case GHR_ACT_RELU6: GHR_CONV1X1_ACTIVATE(GHR_ACT_RELU6); break;
    case GHR_ACT_HARD_SIGMOID: GHR_CONV1X1_ACTIVATE(GHR_ACT_HARD_SIGMOID); break;
    case GHR_ACT_HARD_SWISH: GHR_CONV1X1_ACTIVATE(GHR_ACT_HARD_SWISH); break;
    default: break;
    }
#undef GHR_CONV1X1_ACTIVATE
  }
#pragma GCC unroll 16
  for (int i = 0; i < rows; ++i) {
    if (i >= p->m) break;
#pragma GCC unroll 16
    for (int j = 0; j < nv; ++j) {
      float *o = p->out + (size_t)i * p->hw + col + (size_t)j * GHR_VW;
      if (masked && j == nv - 1)
        ghr_vstore_n(o, acc[i][j], lanes);
      else
        ghr_vstore(o, acc[i][j]);
    }
  }
}

// Columns [n0, n1) of `rows` output rows: whole tiles, then single
// vectors, then one masked vector for the last hw % GHR_VW columns. The
// first whole tile prefetches the next tile's weights: once per sweep is
// enough (every tile slowed AVX2 down).
GHR_CONV1X1_INLINE void ghr_conv1x1_columns_of(const int rows,
                                               const GhrConv1x1Panel *p,
                                               int n0, int n1) {
  enum { NR = GHR_CONV1X1_NR, COLS = GHR_CONV1X1_COLS };
  int col = n0;
  if (col + COLS <= n1) {
    ghr_conv1x1_tile(rows, NR, 0, GHR_VW, 1, p, (size_t)col);
    col += COLS;
  }
  for (; col + COLS <= n1; col += COLS)
    ghr_conv1x1_tile(rows, NR, 0, GHR_VW, 0, p, (size_t)col);
  for (; col + GHR_VW <= n1; col += GHR_VW)
    ghr_conv1x1_tile(rows, 1, 0, GHR_VW, 0, p, (size_t)col);
  if (col < n1) ghr_conv1x1_tile(rows, 1, 1, n1 - col, 0, p, (size_t)col);
}

// A last tile of at most MR/2 channels (GhostNet's widths are often 4 more
// than a multiple of 8) computes half the rows instead of zeros.
static inline void ghr_conv1x1_columns(const GhrConv1x1Panel *p, int n0,
                                       int n1) {
  if (p->m <= GHR_CONV1X1_MR / 2)
    ghr_conv1x1_columns_of(GHR_CONV1X1_MR / 2, p, n0, n1);
  else
    ghr_conv1x1_columns_of(GHR_CONV1X1_MR, p, n0, n1);
}

#else
// Portable C has one-float "vectors": a tile of scalar accumulators is what
// compilers vectorise worst. Instead each strip of columns accumulates in
// an array on the stack (in L1) with loops over contiguous columns that
// the compiler's own vectoriser turns into its widest vectors, four input
// rows per pass so each accumulator is loaded and stored once per four
// multiply-adds.
#define GHR_CONV1X1_COLS 64  // 1 KiB of accumulators per output channel tile

GHR_CONV1X1_INLINE void ghr_conv1x1_strip(const GhrConv1x1Panel *p,
                                          size_t col, const int n) {
  enum { MR = GHR_CONV1X1_MR };
  float acc[MR][GHR_CONV1X1_COLS];  // rows past p->m stay unused
  for (int i = 0; i < p->m; ++i) {
    const float *o = p->out + (size_t)i * p->hw + col;
    const float start = p->bias ? p->bias[i] : 0.0f;
    for (int j = 0; j < n; ++j) acc[i][j] = p->first_block ? start : o[j];
  }
  int k = 0;
  for (; k + 4 <= p->kc; k += 4) {
    const float *x0 = p->rows[k] + col, *x1 = p->rows[k + 1] + col;
    const float *x2 = p->rows[k + 2] + col, *x3 = p->rows[k + 3] + col;
    const float *w = p->w + (size_t)k * MR;
    for (int i = 0; i < p->m; ++i) {
      const float w0 = w[i], w1 = w[MR + i], w2 = w[2 * MR + i],
                  w3 = w[3 * MR + i];
      float *a = acc[i];
      for (int j = 0; j < n; ++j)
        a[j] += w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j];
    }
  }
  for (; k < p->kc; ++k) {
    const float *x = p->rows[k] + col;
    for (int i = 0; i < p->m; ++i) {
      const float wi = p->w[(size_t)k * MR + i];
      float *a = acc[i];
      for (int j = 0; j < n; ++j) a[j] += wi * x[j];
    }
  }
  for (int i = 0; i < p->m; ++i) {
    float *o = p->out + (size_t)i * p->hw + col;
    const float *r = p->residual ? p->residual + (size_t)i * p->hw + col : NULL;
    if (!p->last_block)
      for (int j = 0; j < n; ++j) o[j] = acc[i][j];
    else
      for (int j = 0; j < n; ++j)
        o[j] = ghr_activate(acc[i][j] + (r ? r[j] : 0.0f), p->act);
  }
}

// Columns [n0, n1) of the panel: whole strips, then quarter strips (a
// constant width lets even -O2 vectorise them), then the rest.
static inline void ghr_conv1x1_columns(const GhrConv1x1Panel *p, int n0,
                                       int n1) {
  enum { QUARTER = GHR_CONV1X1_COLS / 4 };
  int col = n0;
  for (; col + GHR_CONV1X1_COLS <= n1; col += GHR_CONV1X1_COLS)
    ghr_conv1x1_strip(p, (size_t)col, GHR_CONV1X1_COLS);
  for (; col + QUARTER <= n1; col += QUARTER)
    ghr_conv1x1_strip(p, (size_t)col, QUARTER);
  if (col < n1) ghr_conv1x1_strip(p, (size_t)col, n1 - col);
}
#endif

#if defined(GHR_ISA_AVX512)
// Small maps (MobileNet's and GhostNet's 7x7 and 14x14 layers): a few
// vectors of columns are partly empty (49 positions fill 4 vectors of 16 to
// 77%, 196 fill 13 to 94%) and K blocks reload the accumulators. There the
// tile turns around, out^T (hw, oc) = in^T (hw, ic) . W^T: vectors run over
// output channels and each position is a broadcast. A channel tile is
// CHANNEL_VECS vectors of output channels x at most POSITIONS positions (28
// accumulators of 32 zmm; 14 divides 196 and 49); its K loop runs over all
// of ic at once, loading CHANNEL_VECS vectors of packed weights and
// broadcasting POSITIONS floats of one input row, which lie side by side.
#define GHR_CONV1X1_CHANNEL_VECS 2
#define GHR_CONV1X1_CHANNEL_MR (GHR_CONV1X1_CHANNEL_VECS * GHR_VW)
#define GHR_CONV1X1_POSITIONS 14
// Which layers take channel tiles: those where they compute fewer lanes
// of multiply-adds than row tiles, by more than their transposed store
// costs. Per input row, row tiles round the positions up to whole vectors
// and the output channels up to half tiles; channel tiles round the output
// channels up to whole vectors. The transpose costs each output about as
// much as TRANSPOSE_ROWS more input rows (check_conv1x1 --bench on a Zen 4
// core: on 7x7 maps channel tiles win from ic 32, 32 -> 64 runs 7% faster;
// on 14x14 maps, where they save 6% of the lanes, 512 -> 512 runs 5%
// faster, 96 -> 192 ties and 64 -> 128 is 3% slower). The table of input
// rows bounds ic.
#define GHR_CONV1X1_TRANSPOSE_ROWS 6
#define GHR_CONV1X1_SMALL_MAX_IC 2048

// Whether ghr_conv1x1 computes channel tiles; conv1x1_uses_channel_tiles
// (codegen/pack_conv1x1.c) must answer the same.
GHR_INLINE int ghr_conv1x1_uses_channel_tiles(int ic, int oc, int hw) {
  enum { HALF = GHR_CONV1X1_MR / 2, VW = GHR_VW };
  const long long row_lanes =
      (long long)((oc + HALF - 1) / HALF * HALF) * ((hw + VW - 1) / VW * VW);
  const long long channel_lanes = (long long)((oc + VW - 1) / VW * VW) * hw;
  return ic <= GHR_CONV1X1_SMALL_MAX_IC &&
         channel_lanes * (ic + GHR_CONV1X1_TRANSPOSE_ROWS) < row_lanes * ic;
}

// What one channel tile reads and writes.
typedef struct {
  const float *const *rows;  // rows[k]: input row k (ic)
  const float *w;            // weights (ic, CHANNEL_MR)
  // A slice of the next tile's weights, [ahead, ahead_end), a line per K
  // step: each tile of positions asks for its share.
  const float *ahead, *ahead_end;
  const float *scale;        // in_scale of row k (ic) or NULL
  int ic;
  float *out;                // the tile's first output row (m, hw)
  const float *bias;         // (m) or NULL
  const float *residual;     // (m, hw) or NULL
  size_t hw;
  int m;                     // output channels that exist, <= nv * GHR_VW
  int act;
} GhrConv1x1Channels;

// Transposes the 16 x 16 floats of r in registers: lane j of r[i] moves to
// lane i of r[j]. Four rounds of 16 shuffles, each pairing vectors 1, 2, 4
// and 8 apart.
GHR_CONV1X1_INLINE void ghr_conv1x1_transpose16(ghr_vec r[16]) {
  ghr_vec t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2) {  // 2 x 2 blocks of floats
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4)  // 4 x 4 blocks: pairs of floats
#pragma GCC unroll 16
    for (int j = 0; j < 2; ++j) {
      const __m512d a = _mm512_castps_pd(t[i + j]);
      const __m512d b = _mm512_castps_pd(t[i + j + 2]);
      r[i + 2 * j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[i + 2 * j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 8)  // 8 x 8 blocks: 128-bit lanes
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
    }
#pragma GCC unroll 16
  for (int j = 0; j < 8; ++j) {  // 16 x 16
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

// Positions [p0, p0 + np) of the tile's first nv vectors of output
// channels. The accumulators start from the bias and take ic
// multiply-adds each; the finished tile is transposed back to NCHW rows in
// registers, with the residual and the activation.
GHR_CONV1X1_INLINE void ghr_conv1x1_channel_tile(const int nv, const int np,
                                                 const GhrConv1x1Channels *c,
                                                 const size_t p0) {
  enum { NP = GHR_CONV1X1_POSITIONS, MRC = GHR_CONV1X1_CHANNEL_MR };
  ghr_vec acc[GHR_CONV1X1_CHANNEL_VECS][NP];
#pragma GCC unroll 16
  for (int v = 0; v < nv; ++v) {
    const int lanes = c->m - v * GHR_VW;  // >= 1
    ghr_vec b = ghr_vzero();
    if (c->bias)
      b = lanes >= GHR_VW ? ghr_vload(c->bias + v * GHR_VW)
                          : ghr_vload_n(c->bias + v * GHR_VW, lanes);
#pragma GCC unroll 16
    for (int p = 0; p < np; ++p) acc[v][p] = b;
  }

  const float *w = c->w;
  const float *ahead = c->ahead;
  for (int k = 0; k < c->ic; ++k, w += MRC) {
    if (ahead < c->ahead_end) {
      GHR_CONV1X1_PREFETCH(ahead);
      ahead += GHR_VW;
    }
    ghr_vec wv[GHR_CONV1X1_CHANNEL_VECS];
#pragma GCC unroll 16
    for (int v = 0; v < nv; ++v) wv[v] = ghr_vload(w + v * GHR_VW);
    if (c->scale) {
      const ghr_vec s = ghr_vset1(c->scale[k]);
#pragma GCC unroll 16
      for (int v = 0; v < nv; ++v) wv[v] = ghr_vmul(wv[v], s);
    }
    const float *x = c->rows[k] + p0;
    GHR_CONV1X1_BASE_REGISTER(x);
#pragma GCC unroll 16
    for (int p = 0; p < np; ++p) {
      const ghr_vec xp = ghr_vset1(x[p]);
#pragma GCC unroll 16
      for (int v = 0; v < nv; ++v) acc[v][p] = ghr_vfma(wv[v], xp, acc[v][p]);
    }
  }

  // Without a residual the activation can run on the accumulators, before
  // the transpose; with one it must wait for the residual's NCHW rows.
  if (!c->residual)
#pragma GCC unroll 16
    for (int p = 0; p < np; ++p)
#pragma GCC unroll 16
      for (int v = 0; v < nv; ++v) acc[v][p] = ghr_vactivate(acc[v][p], c->act);
  const __mmask16 positions = (__mmask16)((1u << np) - 1u);
#pragma GCC unroll 16
  for (int v = 0; v < nv; ++v) {
    // ch[i]: output channel v*16 + i at the np positions
    ghr_vec ch[GHR_VW];
#pragma GCC unroll 16
    for (int p = 0; p < GHR_VW; ++p) ch[p] = p < np ? acc[v][p] : ghr_vzero();
    ghr_conv1x1_transpose16(ch);
    for (int i = 0; i < GHR_VW && v * GHR_VW + i < c->m; ++i) {
      const size_t at = (size_t)(v * GHR_VW + i) * c->hw + p0;
      ghr_vec y = ch[i];
      if (c->residual)
        y = ghr_vactivate(ghr_vadd(y, ghr_vload_n(c->residual + at, np)),
                          c->act);
      _mm512_mask_storeu_ps(c->out + at, positions, y);
    }
  }
}

// One instance of the tile per width np, the widths a map is split into.
static void ghr_conv1x1_channel_tile_of(const GhrConv1x1Channels *c, int np,
                                        size_t p0) {
  const int two = c->m > GHR_VW;
#define GHR_CONV1X1_NP_CASE(n)                                               \
  case n:                                                                    \
    if (two)                                                                 \
      ghr_conv1x1_channel_tile(2, n, c, p0);                                 \
    else                                                                     \
      ghr_conv1x1_channel_tile(1, n, c, p0);                                 \
    break;
  switch (np) {
    GHR_CONV1X1_NP_CASE(1) GHR_CONV1X1_NP_CASE(2) GHR_CONV1X1_NP_CASE(3)
    GHR_CONV1X1_NP_CASE(4) GHR_CONV1X1_NP_CASE(5) GHR_CONV1X1_NP_CASE(6)
    GHR_CONV1X1_NP_CASE(7) GHR_CONV1X1_NP_CASE(8) GHR_CONV1X1_NP_CASE(9)
    GHR_CONV1X1_NP_CASE(10) GHR_CONV1X1_NP_CASE(11) GHR_CONV1X1_NP_CASE(12)
    GHR_CONV1X1_NP_CASE(13) GHR_CONV1X1_NP_CASE(14)
  }
#undef GHR_CONV1X1_NP_CASE
}

// ghr_conv1x1 in channel tiles, each output-channel tile's weights
// (ic x CHANNEL_MR, in L2) reused by all of its position tiles. The map
// splits into equal tiles (49 = 13+12+12+12), few positions apart in width.
// The position tiles share out the prefetch of the next output-channel
// tile's weights: asked for all at once, the lines from memory took every
// fill buffer, and the tile's own loads waited behind them (on a Xeon,
// MobileNetV1's 14x14 layers lost 100 us per run with cold weights).
static void ghr_conv1x1_small(const float *in, int ic_total, int first, int ic,
                              int hw, float *out, int oc, const float *packed,
                              const float *bias, const float *in_scale,
                              int in_shuffle, const float *residual, int act) {
  enum { NP = GHR_CONV1X1_POSITIONS, MRC = GHR_CONV1X1_CHANNEL_MR };
  const float *rows[GHR_CONV1X1_SMALL_MAX_IC];
  for (int k = 0; k < ic; ++k) {
    // first + k: the absolute input channel
    const int ch = ghr_shuffled_plane(first + k, ic_total, in_shuffle);
    rows[k] = in + (size_t)ch * hw;
  }
  const int n_tiles = (hw + NP - 1) / NP;
  const int narrow = hw / n_tiles, wide = hw % n_tiles;  // wide: narrow + 1
  for (int t = 0; t * MRC < oc; ++t) {
    GhrConv1x1Channels c;
    c.rows = rows;
    c.w = packed + (size_t)t * ic * MRC;
    const float *next = c.w + (size_t)ic * MRC;
    const size_t lines = (t + 1) * MRC < oc ? (size_t)ic * MRC / GHR_VW : 0;
    const size_t share = (lines + n_tiles - 1) / n_tiles;
    c.scale = in_scale ? in_scale + first : NULL;
    c.ic = ic;
    c.out = out + (size_t)t * MRC * hw;
    c.bias = bias ? bias + t * MRC : NULL;
    c.residual = residual ? residual + (size_t)t * MRC * hw : NULL;
    c.hw = (size_t)hw;
    c.m = oc - t * MRC < MRC ? oc - t * MRC : MRC;
    c.act = act;
    size_t p0 = 0;
    for (int i = 0; i < n_tiles; ++i) {
      const int np = narrow + (i < wide);
      const size_t lo = share * i, hi = share * (i + 1);
      c.ahead = next + (lo < lines ? lo : lines) * GHR_VW;
      c.ahead_end = next + (hi < lines ? hi : lines) * GHR_VW;
      ghr_conv1x1_channel_tile_of(&c, np, p0);
      p0 += (size_t)np;
    }
  }
}
#endif

// Loop order, outermost first: K blocks, L2 blocks of columns, output
// channel tiles, tiles of columns. A block's input (kc x nc) stays in L2
// while every channel tile reads it; a channel tile's weights (kc x MR)
// stay in L1 while its tiles of columns sweep the block.
GHR_API void ghr_conv1x1(const float *in, int ic_total, int first, int ic,
                         int hw, float *out, int oc, const float *packed,
                         const float *bias, const float *in_scale,
                         int in_shuffle, const float *residual, int act) {
#if defined(GHR_ISA_AVX512)
  if (ghr_conv1x1_uses_channel_tiles(ic, oc, hw)) {
    ghr_conv1x1_small(in, ic_total, first, ic, hw, out, oc, packed, bias,
                      in_scale, in_shuffle, residual, act);
    return;
  }
#endif
  enum { MR = GHR_CONV1X1_MR, KC = GHR_CONV1X1_KC, COLS = GHR_CONV1X1_COLS };
  const float *rows[KC];
  float scaled[KC * MR];  // the weights times in_scale, one tile at a time
  // Equal K blocks of at most KC rows, so no block is a sliver.
  const int k_blocks = (ic + KC - 1) / KC;
  const int kc_max = (ic + k_blocks - 1) / k_blocks;
  // Columns per L2 block: a multiple of COLS, at least COLS.
  int nc = GHR_CONV1X1_L2_FLOATS / kc_max / COLS * COLS;
  if (nc < COLS) nc = COLS;

  for (int k0 = 0; k0 < ic; k0 += kc_max) {
    const int kc = ic - k0 < kc_max ? ic - k0 : kc_max;
    for (int k = 0; k < kc; ++k) {
      // first + k0 + k: the absolute input channel
      const int c = ghr_shuffled_plane(first + k0 + k, ic_total, in_shuffle);
      rows[k] = in + (size_t)c * hw;
    }
    for (int n0 = 0; n0 < hw; n0 += nc) {
      const int n1 = hw - n0 < nc ? hw : n0 + nc;
      for (int t = 0; t * MR < oc; ++t) {
        GhrConv1x1Panel p;
        p.rows = rows;
        p.kc = kc;
        p.w = packed + ((size_t)t * ic + k0) * MR;
        p.w_next = (t + 1) * MR < oc ? p.w + (size_t)ic * MR : p.w;
        if (in_scale) {
          for (int k = 0; k < kc; ++k)
            for (int r = 0; r < MR; ++r)
              scaled[k * MR + r] = p.w[k * MR + r] * in_scale[first + k0 + k];
          p.w = scaled;
        }
        p.out = out + (size_t)t * MR * hw;
        p.bias = bias ? bias + t * MR : NULL;
        p.residual = residual ? residual + (size_t)t * MR * hw : NULL;
        p.hw = (size_t)hw;
        p.m = oc - t * MR < MR ? oc - t * MR : MR;
        p.act = act;
        p.first_block = k0 == 0;
        p.last_block = k0 + kc == ic;
        ghr_conv1x1_columns(&p, n0, n1);
      }
    }
  }
}
