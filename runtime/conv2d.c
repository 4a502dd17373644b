// Direct 2-D convolution (grouped, depthwise, 1x1) with its fusions: an
// input channel shuffle and scale (prologue), bias, residual and activation
// (epilogue).
#include "ghr.h"

// Where absolute input channel c lives in `in`: plane shuffled(c) when the
// conv reads its input through a channel shuffle of `shuffle` groups (view
// (shuffle, ic/shuffle), transposed), plane c otherwise.
static const float *ghr_conv2d_plane(const float *in, size_t plane, int c,
                                     int ic, int shuffle) {
  return in + (size_t)ghr_shuffled_plane(c, ic, shuffle) * plane;
}

// Weight w of absolute input channel c, times the input scale if any: the
// scale folds into the weights, so the input is never rewritten.
static float ghr_conv2d_scaled(float w, const float *in_scale, int c) {
  return in_scale ? w * in_scale[c] : w;
}

// dst (plane) += sum over input channels first + k, k < channels, of
// w[k] * scale * that channel: a 1x1, stride-1, unpadded conv, whose output
// plane is its input plane. Four input channels per sweep, so dst is loaded
// and stored once per four multiply-adds.
static void ghr_conv2d_accumulate_pointwise(float *dst, const float *in,
                                            size_t plane, int ic, int shuffle,
                                            const float *in_scale, int first,
                                            const float *w, int channels) {
  int k = 0;
  for (; k + 4 <= channels; k += 4) {
    const int c = first + k;
    const float *s0 = ghr_conv2d_plane(in, plane, c, ic, shuffle);
    const float *s1 = ghr_conv2d_plane(in, plane, c + 1, ic, shuffle);
    const float *s2 = ghr_conv2d_plane(in, plane, c + 2, ic, shuffle);
    const float *s3 = ghr_conv2d_plane(in, plane, c + 3, ic, shuffle);
    const float w0 = ghr_conv2d_scaled(w[k], in_scale, c);
    const float w1 = ghr_conv2d_scaled(w[k + 1], in_scale, c + 1);
    const float w2 = ghr_conv2d_scaled(w[k + 2], in_scale, c + 2);
    const float w3 = ghr_conv2d_scaled(w[k + 3], in_scale, c + 3);
    for (size_t i = 0; i < plane; ++i)
      dst[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i];
  }
  for (; k < channels; ++k) {
    const int c = first + k;
    const float *s = ghr_conv2d_plane(in, plane, c, ic, shuffle);
    const float wc = ghr_conv2d_scaled(w[k], in_scale, c);
    for (size_t i = 0; i < plane; ++i) dst[i] += wc * s[i];
  }
}

// dst (oh, ow) += conv(src (ih, iw), w (kh, kw) * scale) for one input
// channel. Output (oy, ox) reads input (oy*sh - ph + ky, ox*sw - pw + kx) at
// tap (ky, kx); the outputs whose input lies inside src form a block of rows
// x cols starting at (oy_lo, ox_lo), so each tap sweeps that block with no
// bounds test.
static void ghr_conv2d_accumulate_taps(float *dst, int oh, int ow,
                                       const float *src, int ih, int iw,
                                       const float *w, float scale, int kh,
                                       int kw, int sh, int sw, int ph,
                                       int pw) {
  const size_t src_row_step = (size_t)sh * iw;  // input rows per output row
  for (int ky = 0; ky < kh; ++ky) {
    int oy_lo, oy_hi;
    ghr_tap_range(ky - ph, sh, ih, oh, &oy_lo, &oy_hi);
    // Skipping empty blocks also keeps the block pointers below in bounds.
    if (oy_lo >= oy_hi) continue;
    for (int kx = 0; kx < kw; ++kx) {
      int ox_lo, ox_hi;
      ghr_tap_range(kx - pw, sw, iw, ow, &ox_lo, &ox_hi);
      if (ox_lo >= ox_hi) continue;
      const int rows = oy_hi - oy_lo, cols = ox_hi - ox_lo;
      const float wk = w[ky * kw + kx] * scale;
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
                        int ph, int pw, int groups, int oc_per_group,
                        const float *in_scale, int in_shuffle,
                        const float *residual, int act) {
  const int ic_per_group = ic / groups;
  const size_t in_plane = (size_t)ih * iw;
  const size_t out_plane = (size_t)oh * ow;
  const size_t taps = (size_t)kh * kw;
  const int pointwise =
      kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  // Output channel o belongs to group o / oc_per_group; when oc is less
  // than groups * oc_per_group only the leading channels exist.
  for (int o = 0; o < oc; ++o) {
    // The absolute input channels of o's group start here.
    const int first = (o / oc_per_group) * ic_per_group;
    float *dst = out + (size_t)o * out_plane;  // out (oc, oh, ow)
    // weight (oc, ic_per_group, kh, kw)
    const float *w = weight + (size_t)o * ic_per_group * taps;
    const float initial = bias ? bias[o] : 0.0f;
    if (residual) {
      const float *r = residual + (size_t)o * out_plane;
      for (size_t i = 0; i < out_plane; ++i) dst[i] = initial + r[i];
    } else {
      for (size_t i = 0; i < out_plane; ++i) dst[i] = initial;
    }
    if (pointwise)
      ghr_conv2d_accumulate_pointwise(dst, in, out_plane, ic, in_shuffle,
                                      in_scale, first, w, ic_per_group);
    else
      for (int k = 0; k < ic_per_group; ++k) {
        const int c = first + k;
        ghr_conv2d_accumulate_taps(
            dst, oh, ow, ghr_conv2d_plane(in, in_plane, c, ic, in_shuffle),
            ih, iw, w + (size_t)k * taps, ghr_conv2d_scaled(1.0f, in_scale, c),
            kh, kw, sh, sw, ph, pw);
      }
    ghr_conv2d_activate(dst, out_plane, act);
  }
}
