// Dense 3x3 convolution of stride 1 and padding 1 (groups 1) by Winograd's
// F(2x2, 3x3): each 2x2 block of outputs (a tile) is A^T [U . V] A, where
// V = B^T d B is the tile's 4x4 input patch d transformed and U = G g G^T
// the 3x3 filter g transformed; 16 multiplies per input channel instead of
// 36. The products of the 16 transformed points xi are 16 independent GEMMs
// M[xi] (oc, tiles) = U[xi] (oc, ic) . V[xi] (ic, tiles). Fused prologue
// (input channel shuffle and scale) and epilogue (bias, residual,
// activation) as ghr_conv_direct.
//
// Packed weights, written at compile time by codegen/pack_winograd.c (the
// two must agree): [16][ceil(oc / MR)][ic][MR] floats, zero padded. Point
// xi, output channel o = p*MR + m, input channel c is
// packed[((xi*panels + p)*ic + c)*MR + m]. MR is GHR_WINO_MR below.
//
// Tiles are numbered row by row over the map; a block of GHR_WINO_TB
// consecutive tiles, whatever rows they lie in, is done at a time, vectors
// along tiles. Per block and block of KC input channels, each channel's
// input rows under the block are copied, times in_scale, to four strips on
// the stack: for each parity of input row, the left (columns 2*tx - 1,
// 2*tx) and the right (2*tx + 1, 2*tx + 2) halves of every tile's patch
// columns, tile after tile and tile row after tile row, zero padded. A
// tile's patch row is then the even and odd lanes of two vector pairs at
// an offset that grows by 2 per tile across tile rows; B^T d B goes to
// V[xi][c][tile]. The GEMM micro-kernel, MR output channels x NV vectors of
// tiles, broadcasts packed weights and accumulates M[xi][o][tile] of a
// block of OCB output channels over the K blocks. The output transform
// interleaves each tile's two output columns into two rows of the block's
// tiles, then writes each tile row's part with the epilogue.
//
// Stack: V (32 KB), M (16 KB) and the strips (8 KB); about 57 KB.
// Maps up to GHR_WINO_MAX_WIDTH columns (the scheduler checks).
#include "ghr.h"
#include "ghr_kernels.h"
#include "ghr_simd.h"

// MR: output channels of the micro-kernel and the packing's panel height
// (change it here and in winograd_mr, codegen/pack_winograd.c, together);
// NV: its vectors of tiles. MR*NV accumulators, NV tile vectors and a
// broadcast weight fit the vector registers; a block is NV vectors.
#if defined(GHR_ISA_AVX512)
#define GHR_WINO_MR 16
#define GHR_WINO_NV 1
#elif defined(GHR_ISA_AVX2)
#define GHR_WINO_MR 4
#define GHR_WINO_NV 2
#elif defined(GHR_ISA_NEON)
#define GHR_WINO_MR 4
#define GHR_WINO_NV 4
#else
#define GHR_WINO_MR 4
#define GHR_WINO_NV 4
#endif

enum {
  GHR_WINO_TB = GHR_WINO_NV * GHR_VW,  // tiles of a block
  GHR_WINO_KC = 32,                    // input channels of a K block
  GHR_WINO_OCB = 16,                   // output channels of M (MR divides)
  GHR_WINO_MAX_WIDTH = 128,
  // Floats of a strip: the block's tile rows and two more, each 2*tiles_w
  // floats, and the vector loads past the block's last tile (at most
  // 384 for maps up to GHR_WINO_MAX_WIDTH).
  GHR_WINO_STRIP = 512,
};

#if defined(__GNUC__)
#define GHR_WINO_INLINE static inline __attribute__((always_inline))
#else
#define GHR_WINO_INLINE static inline
#endif

// The first n (0 < n <= GHR_VW) lanes of v to d.
static inline void ghr_wino_store_n(float *d, ghr_vec v, int n) {
  if (n >= GHR_VW)
    ghr_vstore(d, v);
  else if (n > 0)
    ghr_vstore_n(d, v, n);
}

static inline ghr_vec ghr_wino_load_n(const float *s, int n) {
  return n >= GHR_VW ? ghr_vload(s) : ghr_vload_n(s, n);
}

// One input row's strips from d: left[2*tx + j] is column 2*tx - 1 + j,
// right[2*tx + j] column 2*tx + 1 + j (j < 2), 2*tiles_w floats each;
// padding columns (-1, iw and past it) are not written.
static inline void ghr_wino_copy_row(float *left, float *right,
                                     const float *s, int iw, int tiles_w,
                                     ghr_vec scale) {
  const int n_left = iw < 2 * tiles_w - 1 ? iw : 2 * tiles_w - 1;
  for (int x = 0; x < n_left; x += GHR_VW)
    ghr_wino_store_n(left + 1 + x,
                     s ? ghr_vmul(ghr_wino_load_n(s + x, n_left - x), scale)
                       : ghr_vzero(),
                     n_left - x);
  for (int x = 0; x < iw - 1; x += GHR_VW)
    ghr_wino_store_n(right + x,
                     s ? ghr_vmul(ghr_wino_load_n(s + 1 + x, iw - 1 - x), scale)
                       : ghr_vzero(),
                     iw - 1 - x);
}

// The strips of channel c of in' for tile rows [ty0, ty1]: strip[2*q + h]
// holds input rows 2*ty - 1 + q (q < 2), the left (h = 0) or right half of
// each tile's columns, tile row ty at (ty - ty0) * 2*tiles_w. Rows outside
// the input are zeros.
static void ghr_wino_copy_strips(float (*strip)[GHR_WINO_STRIP], int tiles_w,
                                 const float *in, int ic, int ih, int iw,
                                 int c, int ty0, int ty1,
                                 const float *in_scale, int in_shuffle) {
  const int src_c =
      in_shuffle > 0 ? (c % in_shuffle) * (ic / in_shuffle) + c / in_shuffle
                     : c;
  const float *src = in + (size_t)src_c * ih * iw;
  const ghr_vec scale = ghr_vset1(in_scale ? in_scale[c] : 1.0f);
  for (int ty = ty0; ty <= ty1; ++ty)
    for (int q = 0; q < 2; ++q) {
      const int y = 2 * ty - 1 + q;
      const size_t at = (size_t)(ty - ty0) * 2 * tiles_w;
      ghr_wino_copy_row(strip[2 * q] + at, strip[2 * q + 1] + at,
                        y < 0 || y >= ih ? NULL : src + (size_t)y * iw, iw,
                        tiles_w, scale);
    }
}

// V[xi][..] (row stride KC*TB) of the TB tiles from p on in the strips:
// B^T d B, where tile k's input patch row r is columns 2k + j of the
// strips of row parity r % 2, left for j < 2 and right for j >= 2, a tile
// row further down for r >= 2: even and odd columns.
static void ghr_wino_input_transform(float *v, float (*strip)[GHR_WINO_STRIP],
                                     int p, int tiles_w) {
#pragma GCC unroll 4
  for (int k = 0; k < GHR_WINO_TB; k += GHR_VW) {
    ghr_vec e[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const size_t at = (size_t)p + 2 * k + (r / 2) * 2 * tiles_w;
      const float *left = strip[2 * (r % 2)] + at;
      const float *right = strip[2 * (r % 2) + 1] + at;
      const ghr_vec a = ghr_vload(left), b = ghr_vload(left + GHR_VW);
      const ghr_vec c = ghr_vload(right), d = ghr_vload(right + GHR_VW);
      const ghr_vec d0 = ghr_veven(a, b), d1 = ghr_vodd(a, b);
      const ghr_vec d2 = ghr_veven(c, d), d3 = ghr_vodd(c, d);
      e[r][0] = ghr_vsub(d0, d2);
      e[r][1] = ghr_vadd(d1, d2);
      e[r][2] = ghr_vsub(d2, d1);
      e[r][3] = ghr_vsub(d1, d3);
    }
    const size_t xi_stride = (size_t)GHR_WINO_KC * GHR_WINO_TB;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      float *col = v + j * xi_stride + k;
      ghr_vstore(col, ghr_vsub(e[0][j], e[2][j]));
      ghr_vstore(col + 4 * xi_stride, ghr_vadd(e[1][j], e[2][j]));
      ghr_vstore(col + 8 * xi_stride, ghr_vsub(e[2][j], e[1][j]));
      ghr_vstore(col + 12 * xi_stride, ghr_vsub(e[1][j], e[3][j]));
    }
  }
}

// m[o][..] (+)= sum over kc channels of u[c][o] * v[c][..]: MR output
// channels (a packed panel, row stride MR) by the TB tiles.
GHR_WINO_INLINE void ghr_wino_micro(float *m, const float *u, const float *v,
                                    int kc, int accumulate) {
  ghr_vec acc[GHR_WINO_MR][GHR_WINO_NV];
#pragma GCC unroll 16
  for (int o = 0; o < GHR_WINO_MR; ++o)
#pragma GCC unroll 4
    for (int t = 0; t < GHR_WINO_NV; ++t)
      acc[o][t] = accumulate ? ghr_vload(m + o * GHR_WINO_TB + t * GHR_VW)
                             : ghr_vzero();
  for (int c = 0; c < kc; ++c) {
    ghr_vec x[GHR_WINO_NV];
#pragma GCC unroll 4
    for (int t = 0; t < GHR_WINO_NV; ++t)
      x[t] = ghr_vload(v + (size_t)c * GHR_WINO_TB + t * GHR_VW);
#pragma GCC unroll 16
    for (int o = 0; o < GHR_WINO_MR; ++o) {
      const ghr_vec w = ghr_vset1(u[(size_t)c * GHR_WINO_MR + o]);
#pragma GCC unroll 4
      for (int t = 0; t < GHR_WINO_NV; ++t)
        acc[o][t] = ghr_vfma(w, x[t], acc[o][t]);
    }
  }
#pragma GCC unroll 16
  for (int o = 0; o < GHR_WINO_MR; ++o)
#pragma GCC unroll 4
    for (int t = 0; t < GHR_WINO_NV; ++t)
      ghr_vstore(m + o * GHR_WINO_TB + t * GHR_VW, acc[o][t]);
}

// The block's outputs of channels [o0, o0 + no) from M[xi][o - o0][..]:
// A^T M A of the TB tiles from s0 to two rows of strips (tile k's outputs
// at columns 2k, 2k + 1), then each tile row's part to out with bias,
// residual and activation.
static void ghr_wino_output_transform(float *out, int oh, int ow,
                                      const float *m, int o0, int no, int s0,
                                      int ns, int tiles_w, const float *bias,
                                      const float *residual, int act) {
  const size_t plane = (size_t)oh * ow;
  const size_t xi_stride = (size_t)GHR_WINO_OCB * GHR_WINO_TB;
  const int ty0 = s0 / tiles_w, ty1 = (s0 + ns - 1) / tiles_w;
  float ystrip[2][2 * GHR_WINO_TB];
  for (int o = 0; o < no; ++o) {
    const float *mo = m + (size_t)o * GHR_WINO_TB;
#pragma GCC unroll 4
    for (int k = 0; k < GHR_WINO_TB; k += GHR_VW) {
      ghr_vec s[4][2];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const float *p = mo + 4 * i * xi_stride + k;
        const ghr_vec m0 = ghr_vload(p), m1 = ghr_vload(p + xi_stride);
        const ghr_vec m2 = ghr_vload(p + 2 * xi_stride);
        const ghr_vec m3 = ghr_vload(p + 3 * xi_stride);
        s[i][0] = ghr_vadd(ghr_vadd(m0, m1), m2);
        s[i][1] = ghr_vsub(ghr_vsub(m1, m2), m3);
      }
#pragma GCC unroll 2
      for (int j = 0; j < 2; ++j) {
        const ghr_vec top = ghr_vadd(ghr_vadd(s[0][j], s[1][j]), s[2][j]);
        const ghr_vec bottom = ghr_vsub(ghr_vsub(s[1][j], s[2][j]), s[3][j]);
        s[0][j] = top;
        s[1][j] = bottom;
      }
      ghr_vstore(&ystrip[0][2 * k], ghr_vzip_lo(s[0][0], s[0][1]));
      ghr_vstore(&ystrip[0][2 * k + GHR_VW], ghr_vzip_hi(s[0][0], s[0][1]));
      ghr_vstore(&ystrip[1][2 * k], ghr_vzip_lo(s[1][0], s[1][1]));
      ghr_vstore(&ystrip[1][2 * k + GHR_VW], ghr_vzip_hi(s[1][0], s[1][1]));
    }
    const ghr_vec b = ghr_vset1(bias ? bias[o0 + o] : 0.0f);
    for (int ty = ty0; ty <= ty1; ++ty) {
      const int lo = ty * tiles_w > s0 ? ty * tiles_w : s0;
      const int row_end = (ty + 1) * tiles_w;
      const int hi = row_end < s0 + ns ? row_end : s0 + ns;
      const int x0 = 2 * (lo - ty * tiles_w);
      const int cols = ow - x0 < 2 * (hi - lo) ? ow - x0 : 2 * (hi - lo);
      for (int i = 0; i < 2 && 2 * ty + i < oh; ++i) {
        const float *ys = &ystrip[i][2 * (lo - s0)];
        const size_t at = (size_t)(o0 + o) * plane + (size_t)(2 * ty + i) * ow + x0;
        for (int x = 0; x < cols; x += GHR_VW) {
          const int n = cols - x;
          ghr_vec r = ghr_vadd(ghr_wino_load_n(ys + x, n), b);
          if (residual) r = ghr_vadd(r, ghr_wino_load_n(residual + at + x, n));
          ghr_wino_store_n(out + at + x, ghr_vactivate(r, act), n);
        }
      }
    }
  }
}

GHR_API void ghr_conv_winograd(const float *in, int ic, int ih, int iw,
                               float *out, int oc, int oh, int ow,
                               const float *packed, const float *bias, int kh,
                               int kw, int sh, int sw, int ph, int pw,
                               const float *in_scale, int in_shuffle,
                               const float *residual, int act) {
  (void)kh, (void)kw, (void)sh, (void)sw, (void)ph, (void)pw;
  float v[16 * GHR_WINO_KC * GHR_WINO_TB];
  float m[16 * GHR_WINO_OCB * GHR_WINO_TB];
  float strip[4][GHR_WINO_STRIP];
  const int tiles_h = (oh + 1) / 2, tiles_w = (ow + 1) / 2;
  const int tiles = tiles_h * tiles_w;
  const int panels = (oc + GHR_WINO_MR - 1) / GHR_WINO_MR;
  // Padding columns stay zero; the loads past a block's last tile read
  // zeros or an earlier block's data, finite either way.
  for (int h = 0; h < 4; ++h)
    for (int i = 0; i < GHR_WINO_STRIP; ++i) strip[h][i] = 0.0f;
  const int one_k_block = ic <= GHR_WINO_KC;
  for (int s0 = 0; s0 < tiles; s0 += GHR_WINO_TB) {
    const int ns = tiles - s0 < GHR_WINO_TB ? tiles - s0 : GHR_WINO_TB;
    const int ty0 = s0 / tiles_w, ty1 = (s0 + ns - 1) / tiles_w;
    const int p = 2 * (s0 - ty0 * tiles_w);  // the block's first tile
    for (int ob = 0; ob < oc; ob += GHR_WINO_OCB) {
      const int no = oc - ob < GHR_WINO_OCB ? oc - ob : GHR_WINO_OCB;
      for (int cb = 0; cb < ic; cb += GHR_WINO_KC) {
        const int kc = ic - cb < GHR_WINO_KC ? ic - cb : GHR_WINO_KC;
        if (!one_k_block || ob == 0)
          for (int c = 0; c < kc; ++c) {
            ghr_wino_copy_strips(strip, tiles_w, in, ic, ih, iw, cb + c,
                                 ty0, ty1 + 1, in_scale, in_shuffle);
            ghr_wino_input_transform(v + (size_t)c * GHR_WINO_TB, strip, p,
                                     tiles_w);
          }
        for (int xi = 0; xi < 16; ++xi)
          for (int o = 0; o < no; o += GHR_WINO_MR)
            ghr_wino_micro(
                m + ((size_t)xi * GHR_WINO_OCB + o) * GHR_WINO_TB,
                packed + (((size_t)xi * panels + (ob + o) / GHR_WINO_MR) * ic +
                          cb) * GHR_WINO_MR,
                v + (size_t)xi * GHR_WINO_KC * GHR_WINO_TB, kc, cb > 0);
      }
      ghr_wino_output_transform(out, oh, ow, m, ob, no, s0, ns, tiles_w, bias,
                                residual, act);
    }
  }
}
