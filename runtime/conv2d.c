// Direct 2-D convolution (grouped, depthwise, 1x1), fused bias and activation.
#include "ghr.h"

// Sets [*lo, *hi) to the outputs o in [0, out_size) whose tap o*stride + offset
// lands inside an input axis of length size, so the loops over them need no
// bounds test. The range is empty when *hi <= *lo.
static void ghr_conv2d_valid_range(int offset, int stride, int size,
                                   int out_size, int *lo, int *hi) {
  // Smallest o with o*stride + offset >= 0.
  *lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  // One past the largest o with o*stride + offset <= size - 1.
  int last = size - 1 - offset;
  *hi = last < 0 ? 0 : last / stride + 1;
  if (*hi > out_size) *hi = out_size;
}

// dst (plane) += sum over c of w[c] * src (channels, plane): a 1x1, stride-1,
// unpadded conv, whose output plane is its input plane. Four input channels
// per sweep, so dst is loaded and stored once per four multiply-adds.
static void ghr_conv2d_accumulate_pointwise(float *dst, const float *src,
                                            size_t plane, const float *w,
                                            int channels) {
  int c = 0;
  for (; c + 4 <= channels; c += 4) {
    const float *s0 = src + (size_t)c * plane, *s1 = s0 + plane;
    const float *s2 = s1 + plane, *s3 = s2 + plane;
    const float w0 = w[c], w1 = w[c + 1], w2 = w[c + 2], w3 = w[c + 3];
    for (size_t i = 0; i < plane; ++i)
      dst[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i];
  }
  for (; c < channels; ++c) {
    const float *s = src + (size_t)c * plane;
    const float wc = w[c];
    for (size_t i = 0; i < plane; ++i) dst[i] += wc * s[i];
  }
}

// dst (oh, ow) += conv(src (ih, iw), w (kh, kw)) for one input channel.
// Output (oy, ox) reads input (oy*sh - ph + ky, ox*sw - pw + kx) at tap
// (ky, kx); the outputs whose input lies inside src form a block of rows x
// cols starting at (oy_lo, ox_lo), so each tap sweeps that block with no
// bounds test.
static void ghr_conv2d_accumulate_taps(float *dst, int oh, int ow,
                                       const float *src, int ih, int iw,
                                       const float *w, int kh, int kw, int sh,
                                       int sw, int ph, int pw) {
  const size_t src_row_step = (size_t)sh * iw;  // input rows per output row
  for (int ky = 0; ky < kh; ++ky) {
    int oy_lo, oy_hi;
    ghr_conv2d_valid_range(ky - ph, sh, ih, oh, &oy_lo, &oy_hi);
    // Skipping empty blocks also keeps the block pointers below in bounds.
    if (oy_lo >= oy_hi) continue;
    for (int kx = 0; kx < kw; ++kx) {
      int ox_lo, ox_hi;
      ghr_conv2d_valid_range(kx - pw, sw, iw, ow, &ox_lo, &ox_hi);
      if (ox_lo >= ox_hi) continue;
      const int rows = oy_hi - oy_lo, cols = ox_hi - ox_lo;
      const float wk = w[ky * kw + kx];
      const float *src_block = src + (size_t)(oy_lo * sh - ph + ky) * iw +
                               (ox_lo * sw - pw + kx);
      float *dst_block = dst + (size_t)oy_lo * ow + ox_lo;
      for (int r = 0; r < rows; ++r) {
        const float *s = src_block + r * src_row_step;
        float *d = dst_block + (size_t)r * ow;
        // Unit stride gets its own loop: with sw known to be 1 the loads are
        // contiguous and the loop vectorises.
        if (sw == 1)
          for (int i = 0; i < cols; ++i) d[i] += wk * s[i];
        else
          for (int i = 0; i < cols; ++i) d[i] += wk * s[i * sw];
      }
    }
  }
}

// x[i] = act(x[i]) with the switch outside the loops, so each loop is
// branch-free and vectorises (a switch inside the loop blocks that).
static void ghr_conv2d_activate(float *x, size_t n, int act) {
  switch (act) {
  case GHR_ACT_RELU:
    for (size_t i = 0; i < n; ++i) x[i] = ghr_activate(x[i], GHR_ACT_RELU);
    break;
  case GHR_ACT_RELU6:
    for (size_t i = 0; i < n; ++i) x[i] = ghr_activate(x[i], GHR_ACT_RELU6);
    break;
  case GHR_ACT_HARD_SIGMOID:
    for (size_t i = 0; i < n; ++i)
      x[i] = ghr_activate(x[i], GHR_ACT_HARD_SIGMOID);
    break;
  case GHR_ACT_HARD_SWISH:
    for (size_t i = 0; i < n; ++i)
      x[i] = ghr_activate(x[i], GHR_ACT_HARD_SWISH);
    break;
  default: break;  // GHR_ACT_NONE
  }
}

GHR_API void ghr_conv2d(const float *in, int ic, int ih, int iw, float *out,
                        int oc, int oh, int ow, const float *weight,
                        const float *bias, int kh, int kw, int sh, int sw,
                        int ph, int pw, int groups, int act) {
  const int ic_per_group = ic / groups;
  const int oc_per_group = oc / groups;
  const size_t in_plane = (size_t)ih * iw;
  const size_t out_plane = (size_t)oh * ow;
  const size_t taps = (size_t)kh * kw;
  const int pointwise =
      kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  for (int g = 0; g < groups; ++g) {
    // in (ic, ih, iw): this group's channels start at g*ic_per_group.
    const float *src = in + (size_t)g * ic_per_group * in_plane;
    for (int og = 0; og < oc_per_group; ++og) {
      const int o = g * oc_per_group + og;
      float *dst = out + (size_t)o * out_plane;  // out (oc, oh, ow)
      // weight (oc, ic_per_group, kh, kw)
      const float *w = weight + (size_t)o * ic_per_group * taps;
      const float initial = bias ? bias[o] : 0.0f;
      for (size_t i = 0; i < out_plane; ++i) dst[i] = initial;
      if (pointwise)
        ghr_conv2d_accumulate_pointwise(dst, src, out_plane, w, ic_per_group);
      else
        for (int c = 0; c < ic_per_group; ++c)
          ghr_conv2d_accumulate_taps(dst, oh, ow, src + (size_t)c * in_plane,
                                     ih, iw, w + (size_t)c * taps, kh, kw, sh,
                                     sw, ph, pw);
      ghr_conv2d_activate(dst, out_plane, act);
    }
  }
}
