// Runtime kernels against naive reference implementations on random data.
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ghr_kernels.h"

// Accumulations may round differently from the double-precision reference.
// The difference is measured relative to max(1, scale): scale is the sum of
// the magnitudes of the accumulated terms (float rounding error grows with
// it, not with the result, which may cancel to near zero), or |reference|
// for non-accumulating kernels.
#define TOLERANCE 1e-5

static const int all_acts[] = {GHR_ACT_NONE, GHR_ACT_RELU, GHR_ACT_RELU6,
                               GHR_ACT_HARD_SIGMOID, GHR_ACT_HARD_SWISH};
// (ih, iw) for the conv and pool sweeps: odd, non-square both ways, and
// small enough that big kernels produce a 1x1 output or none.
static const int input_sizes[][2] = {{7, 5}, {5, 7}, {8, 8},
                                     {3, 3}, {1, 1}, {9, 4}};

#define COUNT(array) (sizeof array / sizeof array[0])
#define N_ACTS (int)COUNT(all_acts)

// ---- helpers ----

// A fixed-seed xorshift generator keeps failures reproducible.
static uint32_t rng_state = 2463534242u;

static float random_uniform(float lo, float hi) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return lo + (hi - lo) * (float)(rng_state >> 8) / (float)(1u << 24);
}

// Exactly n floats, so AddressSanitizer flags any access past either end.
static float *random_buffer(size_t n, float lo, float hi) {
  float *buffer = malloc(n * sizeof *buffer);
  cr_assert_not_null(buffer);
  for (size_t i = 0; i < n; ++i) buffer[i] = random_uniform(lo, hi);
  return buffer;
}

// Output buffers start as NaN: an element the kernel forgets shows up.
static float *nan_buffer(size_t n) {
  float *buffer = malloc(n * sizeof *buffer);
  cr_assert_not_null(buffer);
  for (size_t i = 0; i < n; ++i) buffer[i] = NAN;
  return buffer;
}

static double *reference_buffer(size_t n) {
  double *buffer = malloc(n * sizeof *buffer);
  cr_assert_not_null(buffer);
  return buffer;
}

// The activations written out from their definitions.
static double reference_activate(double x, int act) {
  double relu6_of_x_plus_3 = fmin(fmax(x + 3.0, 0.0), 6.0);
  switch (act) {
  case GHR_ACT_NONE: return x;
  case GHR_ACT_RELU: return fmax(x, 0.0);
  case GHR_ACT_RELU6: return fmin(fmax(x, 0.0), 6.0);
  case GHR_ACT_HARD_SIGMOID: return relu6_of_x_plus_3 / 6.0;
  case GHR_ACT_HARD_SWISH: return x * relu6_of_x_plus_3 / 6.0;
  }
  cr_assert_fail("unknown activation %d", act);
  return 0.0;
}

// Fails with the worst relative difference over n outputs (NaN counts as
// infinitely wrong) and where it is. scale (see TOLERANCE) may be NULL.
static void expect_close(const float *got, const double *want,
                         const double *scale, size_t n, const char *label) {
  double worst = 0.0, worst_got = 0.0, worst_want = 0.0;
  size_t worst_at = 0;
  for (size_t i = 0; i < n; ++i) {
    double magnitude = scale ? scale[i] : fabs(want[i]);
    double diff = fabs((double)got[i] - want[i]) / fmax(1.0, magnitude);
    if (isnan(diff)) diff = INFINITY;
    if (diff > worst) {
      worst = diff;
      worst_at = i;
      worst_got = got[i];
      worst_want = want[i];
    }
  }
  cr_assert(worst <= TOLERANCE,
            "%s: max relative diff %g at [%zu] (got %.9g, want %.9g)", label,
            worst, worst_at, worst_got, worst_want);
}

// PyTorch's output size with ceil_mode=False; 0 when the kernel does not
// fit (C division truncates toward zero, so test before dividing).
static int output_size(int in, int kernel, int stride, int pad) {
  int span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

// ---- ghr_activate ----

Test(activate, exact_points) {
  static const float points[] = {-3.0f, 0.0f, 3.0f, 6.0f, 7.0f};
  static const struct {
    int act;
    float want[5];
  } cases[] = {
      {GHR_ACT_NONE, {-3.0f, 0.0f, 3.0f, 6.0f, 7.0f}},
      {GHR_ACT_RELU, {0.0f, 0.0f, 3.0f, 6.0f, 7.0f}},
      {GHR_ACT_RELU6, {0.0f, 0.0f, 3.0f, 6.0f, 6.0f}},
      {GHR_ACT_HARD_SIGMOID, {0.0f, 0.5f, 1.0f, 1.0f, 1.0f}},
      {GHR_ACT_HARD_SWISH, {0.0f, 0.0f, 3.0f, 6.0f, 7.0f}},
  };
  for (size_t c = 0; c < COUNT(cases); ++c)
    for (int p = 0; p < 5; ++p) {
      float got = ghr_activate(points[p], cases[c].act);
      cr_assert(got == cases[c].want[p], "act %d at %g: got %.9g, want %.9g",
                cases[c].act, points[p], got, cases[c].want[p]);
    }
}

// ---- conv2d ----

// The conv's optional fusions (see ghr_conv2d in ghr_kernels.h).
typedef struct {
  int oc_per_group;   // 0: oc / groups
  int with_scale;     // random in_scale
  int shuffle;        // in_shuffle
  int with_residual;  // random residual
} ConvExtras;

static void reference_conv2d(const float *in, int ic, int ih, int iw,
                             double *out, double *scale, int oc, int oh,
                             int ow, const float *weight, const float *bias,
                             int kh, int kw, int sh, int sw, int ph, int pw,
                             int groups, int oc_per_group,
                             const float *in_scale, int in_shuffle,
                             const float *residual, int act) {
  int ic_per_group = ic / groups;
  for (int o = 0; o < oc; ++o) {
    int g = o / oc_per_group;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        int at = (o * oh + oy) * ow + ox;
        double sum = bias ? bias[o] : 0.0, magnitude = fabs(sum);
        if (residual) {
          sum += residual[at];
          magnitude += fabs(residual[at]);
        }
        for (int k = 0; k < ic_per_group; ++k) {
          // Absolute input channel c: read through the shuffle, scaled.
          int c = g * ic_per_group + k, plane = c;
          if (in_shuffle > 0)
            plane = (c % in_shuffle) * (ic / in_shuffle) + c / in_shuffle;
          double factor = in_scale ? in_scale[c] : 1.0;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
              if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
              double term =
                  (double)weight[((o * ic_per_group + k) * kh + ky) * kw + kx] *
                  in[(plane * ih + iy) * iw + ix] * factor;
              sum += term;
              magnitude += fabs(term);
            }
        }
        out[at] = reference_activate(sum, act);
        scale[at] = magnitude;
      }
  }
}

// Runs one conv2d shape with and without bias under every activation.
static void check_conv2d_with(int ic, int ih, int iw, int oc, int kh, int kw,
                              int sh, int sw, int ph, int pw, int groups,
                              ConvExtras x) {
  int oh = output_size(ih, kh, sh, ph), ow = output_size(iw, kw, sw, pw);
  if (oh <= 0 || ow <= 0) return;
  int oc_per_group = x.oc_per_group ? x.oc_per_group : oc / groups;
  cr_assert(oc <= groups * oc_per_group && ic % groups == 0);
  cr_assert(x.shuffle == 0 || ic % x.shuffle == 0);
  size_t n_in = (size_t)ic * ih * iw, n_out = (size_t)oc * oh * ow;
  size_t n_weight = (size_t)oc * (ic / groups) * kh * kw;
  float *in = random_buffer(n_in, -1.0f, 1.0f);
  float *weight = random_buffer(n_weight, -1.0f, 1.0f);
  float *bias = random_buffer((size_t)oc, -1.0f, 1.0f);
  // Scales in [0, 2), like a squeeze-excitation gate, some near zero.
  float *in_scale = x.with_scale ? random_buffer((size_t)ic, 0.0f, 2.0f)
                                 : NULL;
  float *residual = x.with_residual ? random_buffer(n_out, -2.0f, 2.0f)
                                    : NULL;
  float *out = nan_buffer(n_out);
  double *want = reference_buffer(n_out);
  double *scale = reference_buffer(n_out);
  for (int with_bias = 0; with_bias < 2; ++with_bias)
    for (int a = 0; a < N_ACTS; ++a) {
      const float *b = with_bias ? bias : NULL;
      for (size_t i = 0; i < n_out; ++i) out[i] = NAN;
      ghr_conv2d(in, ic, ih, iw, out, oc, oh, ow, weight, b, kh, kw, sh, sw,
                 ph, pw, groups, oc_per_group, in_scale, x.shuffle, residual,
                 all_acts[a]);
      reference_conv2d(in, ic, ih, iw, want, scale, oc, oh, ow, weight, b, kh,
                       kw, sh, sw, ph, pw, groups, oc_per_group, in_scale,
                       x.shuffle, residual, all_acts[a]);
      char label[300];
      snprintf(label, sizeof label,
               "conv2d ic %d %dx%d oc %d -> %dx%d k %dx%d s %dx%d p %dx%d "
               "groups %d oc_per_group %d scale %d shuffle %d residual %d "
               "bias %d act %d",
               ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, groups,
               oc_per_group, x.with_scale, x.shuffle, x.with_residual,
               with_bias, all_acts[a]);
      expect_close(out, want, scale, n_out, label);
    }
  free(in);
  free(weight);
  free(bias);
  free(in_scale);
  free(residual);
  free(out);
  free(want);
  free(scale);
}

// A plain conv: every output channel computed, no fusions.
static void check_conv2d(int ic, int ih, int iw, int oc, int kh, int kw,
                         int sh, int sw, int ph, int pw, int groups) {
  check_conv2d_with(ic, ih, iw, oc, kh, kw, sh, sw, ph, pw, groups,
                    (ConvExtras){0});
}

Test(conv2d, shape_sweep) {
  static const int kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 1}, {1, 5}};
  static const int strides[][2] = {{1, 1}, {2, 2}, {2, 1}, {1, 2}};
  static const int pads[][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {1, 0}};
  // ic, oc, groups: dense, dense ic != oc, grouped both ways, depthwise,
  // depthwise with channel multiplier 2.
  static const int channels[][3] = {{4, 4, 1}, {3, 5, 1}, {4, 6, 2},
                                    {6, 4, 2}, {4, 4, 4}, {3, 6, 3}};
  for (size_t s = 0; s < COUNT(input_sizes); ++s)
    for (size_t k = 0; k < COUNT(kernels); ++k)
      for (size_t st = 0; st < COUNT(strides); ++st)
        for (size_t p = 0; p < COUNT(pads); ++p)
          for (size_t c = 0; c < COUNT(channels); ++c)
            check_conv2d(channels[c][0], input_sizes[s][0], input_sizes[s][1],
                         channels[c][1], kernels[k][0], kernels[k][1],
                         strides[st][0], strides[st][1], pads[p][0],
                         pads[p][1], channels[c][2]);
}

Test(conv2d, one_by_one_output) {
  // 3x3 over 3x3; 5x5 stride 2 over 4x4 padded by 1; depthwise 3x3 over 1x1
  // padded by 1.
  check_conv2d(3, 3, 3, 2, 3, 3, 1, 1, 0, 0, 1);
  check_conv2d(2, 4, 4, 2, 5, 5, 2, 2, 1, 1, 2);
  check_conv2d(4, 1, 1, 4, 3, 3, 2, 2, 1, 1, 4);
}

Test(conv2d, pointwise_channel_blocks) {
  // The 1x1 path takes input channels four at a time: cover every remainder.
  for (int ic = 1; ic <= 9; ++ic)
    check_conv2d(ic, 6, 5, 3, 1, 1, 1, 1, 0, 0, 1);
  check_conv2d(10, 6, 5, 4, 1, 1, 1, 1, 0, 0, 2);
}

Test(conv2d, network_sized) {
  // Pointwise with many channels, stride-2 3x3 and 5x5 depthwise, a dense
  // stride-2 stem, and a grouped stride-2 1x1 (off the pointwise path).
  check_conv2d(24, 14, 10, 16, 1, 1, 1, 1, 0, 0, 1);
  check_conv2d(16, 28, 28, 16, 3, 3, 2, 2, 1, 1, 16);
  check_conv2d(16, 15, 15, 16, 5, 5, 2, 2, 2, 2, 16);
  check_conv2d(3, 32, 32, 8, 3, 3, 2, 2, 1, 1, 1);
  check_conv2d(12, 9, 9, 24, 1, 1, 2, 2, 0, 0, 3);
}

Test(conv2d, fusion_sweep) {
  // Input scale, input shuffle and residual in every combination, over
  // dense, grouped and depthwise convs, some computing only their leading
  // output channels (oc < groups * oc_per_group: a ghost module's cut cheap
  // maps), on both the pointwise and the tap path.
  static const int sizes[][2] = {{7, 5}, {4, 4}, {1, 1}};
  static const int kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}};
  static const int strides[][2] = {{1, 1}, {2, 2}};
  static const int pads[][2] = {{0, 0}, {1, 1}, {2, 1}};
  // ic, oc, groups, oc_per_group.
  static const int channels[][4] = {
      {12, 8, 1, 8},    // dense
      {12, 6, 3, 2},    // grouped, 4 inputs per group
      {10, 6, 2, 3},    // grouped, 5 inputs per group
      {12, 5, 4, 2},    // grouped, 3 inputs per group, 5 of 8 outputs
      {12, 12, 12, 1},  // depthwise
      {12, 24, 12, 2},  // depthwise, channel multiplier 2
      {12, 17, 12, 2},  // the same cut to its first 17 outputs
      {6, 4, 6, 1},     // depthwise, 4 of 6 outputs
  };
  static const int shuffles[] = {0, 2, 3, 4};
  for (size_t s = 0; s < COUNT(sizes); ++s)
    for (size_t k = 0; k < COUNT(kernels); ++k)
      for (size_t st = 0; st < COUNT(strides); ++st)
        for (size_t p = 0; p < COUNT(pads); ++p)
          for (size_t c = 0; c < COUNT(channels); ++c)
            for (size_t sh = 0; sh < COUNT(shuffles); ++sh)
              for (int extras = 0; extras < 4; ++extras) {
                const int *ch = channels[c];
                if (shuffles[sh] && ch[0] % shuffles[sh]) continue;
                ConvExtras x = {ch[3], extras & 1, shuffles[sh], extras >> 1};
                check_conv2d_with(ch[0], sizes[s][0], sizes[s][1], ch[1],
                                  kernels[k][0], kernels[k][1], strides[st][0],
                                  strides[st][1], pads[p][0], pads[p][1],
                                  ch[2], x);
              }
}

Test(conv2d, fusion_network_sized) {
  // ShuffleNet's grouped 1x1 after a shuffle; an SE-scaled projection with
  // a residual; GhostNet's cheap 3x3 depthwise cut to 9 of 16 maps.
  check_conv2d_with(24, 14, 14, 24, 1, 1, 1, 1, 0, 0, 3,
                    (ConvExtras){0, 0, 3, 1});
  check_conv2d_with(72, 14, 10, 24, 1, 1, 1, 1, 0, 0, 1,
                    (ConvExtras){0, 1, 0, 1});
  check_conv2d_with(8, 15, 15, 9, 3, 3, 1, 1, 1, 1, 8,
                    (ConvExtras){2, 0, 0, 0});
  check_conv2d_with(16, 15, 15, 16, 3, 3, 2, 2, 1, 1, 16,
                    (ConvExtras){0, 1, 4, 1});
}

Test(conv2d, shuffle_and_scale_known_values) {
  // Identity 1x1 over six 1-cell channels 0..5, in_shuffle 3: the conv sees
  // channels 0 2 4 1 3 5, each times in_scale[c] (indexed after the
  // shuffle), plus the residual; relu clips the last.
  float in[6] = {0, 1, 2, 3, 4, 5}, weight[36] = {0}, out[6];
  for (int i = 0; i < 6; ++i) weight[i * 6 + i] = 1.0f;
  float in_scale[6] = {1, 10, 100, 1000, 1, -1};
  float residual[6] = {0.5f, 0, 0, 0, 0, 1};
  ghr_conv2d(in, 6, 1, 1, out, 6, 1, 1, weight, NULL, 1, 1, 1, 1, 0, 0, 1, 6,
             in_scale, 3, residual, GHR_ACT_RELU);
  static const float want[6] = {0.5f, 20, 400, 1000, 3, 0};
  for (int i = 0; i < 6; ++i)
    cr_assert(out[i] == want[i], "out[%d] = %g, want %g", i, out[i], want[i]);
}

Test(conv2d, truncated_outputs_leave_the_rest_alone) {
  // Depthwise, multiplier 2, 3 of 4 outputs: output 2 reads input 1, and
  // nothing past output 2 is written.
  float in[2] = {3, 5}, weight[3] = {1, 2, 10}, out[4] = {0, 0, 0, -7};
  ghr_conv2d(in, 2, 1, 1, out, 3, 1, 1, weight, NULL, 1, 1, 1, 1, 0, 0, 2, 2,
             NULL, 0, NULL, GHR_ACT_NONE);
  static const float want[4] = {3, 6, 50, -7};
  for (int i = 0; i < 4; ++i)
    cr_assert(out[i] == want[i], "out[%d] = %g, want %g", i, out[i], want[i]);
}

// ---- pooling ----

static void reference_pool(const float *in, int c, int ih, int iw,
                           double *out, int oh, int ow, int kh, int kw,
                           int sh, int sw, int ph, int pw, int is_max,
                           int count_include_pad, int act) {
  for (int ch = 0; ch < c; ++ch)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        double sum = 0.0, best = -INFINITY;
        int inside = 0, inside_padded = 0;
        for (int ky = 0; ky < kh; ++ky)
          for (int kx = 0; kx < kw; ++kx) {
            int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            if (iy >= -ph && iy < ih + ph && ix >= -pw && ix < iw + pw)
              ++inside_padded;
            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
            double v = in[(ch * ih + iy) * iw + ix];
            ++inside;
            sum += v;
            if (v > best) best = v;
          }
        double result =
            is_max ? best
                   : sum / (count_include_pad ? inside_padded : inside);
        out[(ch * oh + oy) * ow + ox] = reference_activate(result, act);
      }
}

static void check_pool(int is_max, int c, int ih, int iw, int kh, int kw,
                       int sh, int sw, int ph, int pw, int count_include_pad) {
  int oh = output_size(ih, kh, sh, ph), ow = output_size(iw, kw, sw, pw);
  if (oh <= 0 || ow <= 0) return;
  size_t n_in = (size_t)c * ih * iw, n_out = (size_t)c * oh * ow;
  float *in = random_buffer(n_in, -4.0f, 4.0f);
  float *out = nan_buffer(n_out);
  double *want = reference_buffer(n_out);
  for (int a = 0; a < N_ACTS; ++a) {
    for (size_t i = 0; i < n_out; ++i) out[i] = NAN;
    if (is_max)
      ghr_maxpool(in, c, ih, iw, out, oh, ow, kh, kw, sh, sw, ph, pw,
                  all_acts[a]);
    else
      ghr_avgpool(in, c, ih, iw, out, oh, ow, kh, kw, sh, sw, ph, pw,
                  count_include_pad, all_acts[a]);
    reference_pool(in, c, ih, iw, want, oh, ow, kh, kw, sh, sw, ph, pw, is_max,
                   count_include_pad, all_acts[a]);
    char label[200];
    snprintf(label, sizeof label,
             "%s c %d %dx%d -> %dx%d k %dx%d s %dx%d p %dx%d "
             "count_include_pad %d act %d",
             is_max ? "maxpool" : "avgpool", c, ih, iw, oh, ow, kh, kw, sh, sw,
             ph, pw, count_include_pad, all_acts[a]);
    expect_close(out, want, NULL, n_out, label);
  }
  free(in);
  free(out);
  free(want);
}

// Every shape pooled both ways; padding up to half the kernel, as PyTorch
// allows, so no window lies entirely in the padding.
static void sweep_pool(int is_max) {
  static const int kernels[][2] = {{1, 1}, {2, 2}, {3, 3}, {5, 5}, {3, 2}};
  static const int strides[][2] = {{1, 1}, {2, 2}, {1, 2}, {3, 3}};
  static const int pads[][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 0}, {0, 1}};
  for (size_t s = 0; s < COUNT(input_sizes); ++s)
    for (size_t k = 0; k < COUNT(kernels); ++k)
      for (size_t st = 0; st < COUNT(strides); ++st)
        for (size_t p = 0; p < COUNT(pads); ++p) {
          if (2 * pads[p][0] > kernels[k][0] || 2 * pads[p][1] > kernels[k][1])
            continue;
          for (int include = 0; include < (is_max ? 1 : 2); ++include)
            check_pool(is_max, 3, input_sizes[s][0], input_sizes[s][1],
                       kernels[k][0], kernels[k][1], strides[st][0],
                       strides[st][1], pads[p][0], pads[p][1], include);
        }
}

Test(avgpool, shape_sweep) { sweep_pool(0); }

Test(maxpool, shape_sweep) { sweep_pool(1); }

Test(maxpool, all_negative_input_ignores_padding) {
  // Padding must not contribute a zero that beats negative inputs.
  float in[9];
  for (int i = 0; i < 9; ++i) in[i] = -1.0f - (float)i;
  float out[4];
  ghr_maxpool(in, 1, 3, 3, out, 2, 2, 3, 3, 2, 2, 1, 1, GHR_ACT_NONE);
  static const float want[4] = {-1.0f, -2.0f, -4.0f, -5.0f};
  for (int i = 0; i < 4; ++i)
    cr_assert(out[i] == want[i], "out[%d] = %g, want %g", i, out[i], want[i]);
}

Test(avgpool, padded_corner_divisors) {
  // 3x3 window, padding 1, over ones: the corner window sees 4 input cells.
  float in[16], out[16];
  for (int i = 0; i < 16; ++i) in[i] = 1.0f;
  ghr_avgpool(in, 1, 4, 4, out, 4, 4, 3, 3, 1, 1, 1, 1, 1, GHR_ACT_NONE);
  cr_assert(fabsf(out[0] - 4.0f / 9.0f) < 1e-7f, "include pad: %g", out[0]);
  cr_assert(fabsf(out[1] - 6.0f / 9.0f) < 1e-7f, "include pad: %g", out[1]);
  cr_assert(out[5] == 1.0f, "interior: %g", out[5]);
  ghr_avgpool(in, 1, 4, 4, out, 4, 4, 3, 3, 1, 1, 1, 1, 0, GHR_ACT_NONE);
  for (int i = 0; i < 16; ++i)
    cr_assert(out[i] == 1.0f, "exclude pad: out[%d] = %g", i, out[i]);
}

// ---- global_avgpool ----

Test(global_avgpool, sizes) {
  static const int hws[] = {1, 7, 49, 1000};
  for (size_t h = 0; h < COUNT(hws); ++h)
    for (int a = 0; a < N_ACTS; ++a) {
      int c = 5, hw = hws[h];
      float *in = random_buffer((size_t)c * hw, -4.0f, 6.0f);
      float *out = nan_buffer((size_t)c);
      double want[5], scale[5];
      for (int ch = 0; ch < c; ++ch) {
        double sum = 0.0, magnitude = 0.0;
        for (int i = 0; i < hw; ++i) {
          sum += in[ch * hw + i];
          magnitude += fabs(in[ch * hw + i]);
        }
        want[ch] = reference_activate(sum / hw, all_acts[a]);
        scale[ch] = magnitude / hw;
      }
      ghr_global_avgpool(in, out, c, hw, all_acts[a]);
      char label[100];
      snprintf(label, sizeof label, "global_avgpool hw %d act %d", hw,
               all_acts[a]);
      expect_close(out, want, scale, (size_t)c, label);
      free(in);
      free(out);
    }
}

// ---- batchnorm ----

Test(batchnorm, formula_and_in_place) {
  static const int shapes[][2] = {{5, 35}, {1, 1}, {16, 49}};
  for (size_t s = 0; s < COUNT(shapes); ++s)
    for (int a = 0; a < N_ACTS; ++a)
      for (int in_place = 0; in_place < 2; ++in_place) {
        int c = shapes[s][0], hw = shapes[s][1];
        size_t n = (size_t)c * hw;
        // PyTorch's default epsilon, and TensorFlow's (1e-3) on odd passes.
        const float eps = (s + (size_t)a) % 2 ? 1e-3f : 1e-5f;
        float *in = random_buffer(n, -3.0f, 3.0f);
        float *gamma = random_buffer((size_t)c, -2.0f, 2.0f);
        float *beta = random_buffer((size_t)c, -1.0f, 1.0f);
        float *mean = random_buffer((size_t)c, -1.0f, 1.0f);
        float *var = random_buffer((size_t)c, 0.01f, 2.0f);
        double *want = reference_buffer(n);
        for (int ch = 0; ch < c; ++ch)
          for (int i = 0; i < hw; ++i) {
            double x = in[ch * hw + i];
            double y = gamma[ch] * (x - mean[ch]) /
                           sqrt((double)var[ch] + (double)eps) +
                       beta[ch];
            want[ch * hw + i] = reference_activate(y, all_acts[a]);
          }
        float *out = in_place ? in : nan_buffer(n);
        ghr_batchnorm(in, out, c, hw, gamma, beta, mean, var, eps,
                      all_acts[a]);
        char label[100];
        snprintf(label, sizeof label,
                 "batchnorm c %d hw %d eps %g act %d in_place %d", c, hw,
                 (double)eps, all_acts[a], in_place);
        expect_close(out, want, NULL, n, label);
        if (!in_place) free(out);
        free(in);
        free(gamma);
        free(beta);
        free(mean);
        free(var);
        free(want);
      }
}

// ---- elementwise: activation, add, copy, mul_channel ----

// Which buffer the kernel writes to: a fresh one or one of its inputs.
enum { OUT_FRESH, OUT_IS_FIRST, OUT_IS_SECOND, OUT_IS_BOTH };

Test(activation, values_and_in_place) {
  static const int ns[] = {1, 37, 256};
  for (size_t k = 0; k < COUNT(ns); ++k)
    for (int a = 0; a < N_ACTS; ++a)
      for (int in_place = 0; in_place < 2; ++in_place) {
        size_t n = (size_t)ns[k];
        // Wide enough to cross every clamp point of the activations.
        float *in = random_buffer(n, -8.0f, 8.0f);
        double *want = reference_buffer(n);
        for (size_t i = 0; i < n; ++i)
          want[i] = reference_activate(in[i], all_acts[a]);
        float *out = in_place ? in : nan_buffer(n);
        ghr_activation(in, out, (int)n, all_acts[a]);
        char label[100];
        snprintf(label, sizeof label, "activation n %zu act %d in_place %d", n,
                 all_acts[a], in_place);
        expect_close(out, want, NULL, n, label);
        if (!in_place) free(out);
        free(in);
        free(want);
      }
}

Test(add, values_and_aliasing) {
  static const int ns[] = {1, 37, 256};
  for (size_t k = 0; k < COUNT(ns); ++k)
    for (int a = 0; a < N_ACTS; ++a)
      for (int alias = OUT_FRESH; alias <= OUT_IS_BOTH; ++alias) {
        size_t n = (size_t)ns[k];
        float *x = random_buffer(n, -5.0f, 5.0f);
        float *y = alias == OUT_IS_BOTH ? x : random_buffer(n, -5.0f, 5.0f);
        double *want = reference_buffer(n);
        for (size_t i = 0; i < n; ++i)
          want[i] = reference_activate((double)x[i] + y[i], all_acts[a]);
        float *out = alias == OUT_FRESH       ? nan_buffer(n)
                     : alias == OUT_IS_SECOND ? y
                                              : x;
        ghr_add(x, y, out, (int)n, all_acts[a]);
        char label[100];
        snprintf(label, sizeof label, "add n %zu act %d alias %d", n,
                 all_acts[a], alias);
        expect_close(out, want, NULL, n, label);
        if (alias == OUT_FRESH) free(out);
        if (y != x) free(y);
        free(x);
        free(want);
      }
}

Test(copy, values_and_in_place) {
  static const int ns[] = {1, 37, 256};
  for (size_t k = 0; k < COUNT(ns); ++k)
    for (int a = 0; a < N_ACTS; ++a)
      for (int in_place = 0; in_place < 2; ++in_place) {
        size_t n = (size_t)ns[k];
        float *in = random_buffer(n, -8.0f, 8.0f);
        double *want = reference_buffer(n);
        for (size_t i = 0; i < n; ++i)
          want[i] = reference_activate(in[i], all_acts[a]);
        float *out = in_place ? in : nan_buffer(n);
        ghr_copy(in, out, (int)n, all_acts[a]);
        char label[100];
        snprintf(label, sizeof label, "copy n %zu act %d in_place %d", n,
                 all_acts[a], in_place);
        expect_close(out, want, NULL, n, label);
        if (!in_place) free(out);
        free(in);
        free(want);
      }
}

Test(copy, into_the_middle_of_a_concat) {
  // Two parts copied side by side must leave the neighbours untouched.
  float first[6] = {1, 2, 3, 4, 5, 6}, second[4] = {-1, -2, 7, 8};
  float out[12];
  for (int i = 0; i < 12; ++i) out[i] = 100.0f;
  ghr_copy(first, out + 1, 6, GHR_ACT_NONE);
  ghr_copy(second, out + 7, 4, GHR_ACT_RELU);
  static const float want[12] = {100, 1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 100};
  for (int i = 0; i < 12; ++i)
    cr_assert(out[i] == want[i], "out[%d] = %g, want %g", i, out[i], want[i]);
}

Test(mul_channel, values_and_in_place) {
  static const int shapes[][2] = {{4, 35}, {1, 1}, {16, 49}};
  for (size_t s = 0; s < COUNT(shapes); ++s)
    for (int a = 0; a < N_ACTS; ++a)
      for (int in_place = 0; in_place < 2; ++in_place) {
        int c = shapes[s][0], hw = shapes[s][1];
        size_t n = (size_t)c * hw;
        float *x = random_buffer(n, -6.0f, 6.0f);
        float *gate = random_buffer((size_t)c, 0.0f, 1.5f);
        double *want = reference_buffer(n);
        for (int ch = 0; ch < c; ++ch)
          for (int i = 0; i < hw; ++i)
            want[ch * hw + i] = reference_activate(
                (double)x[ch * hw + i] * gate[ch], all_acts[a]);
        float *out = in_place ? x : nan_buffer(n);
        ghr_mul_channel(x, gate, out, c, hw, all_acts[a]);
        char label[100];
        snprintf(label, sizeof label,
                 "mul_channel c %d hw %d act %d in_place %d", c, hw,
                 all_acts[a], in_place);
        expect_close(out, want, NULL, n, label);
        if (!in_place) free(out);
        free(x);
        free(gate);
        free(want);
      }
}

// ---- channel_shuffle ----

Test(channel_shuffle, definition) {
  static const int groups_list[] = {1, 2, 3, 4};
  static const int per_group_list[] = {1, 2, 3, 5};
  static const int hws[] = {1, 6, 35};
  for (size_t g = 0; g < COUNT(groups_list); ++g)
    for (size_t p = 0; p < COUNT(per_group_list); ++p)
      for (size_t h = 0; h < COUNT(hws); ++h)
        for (int a = 0; a < N_ACTS; ++a) {
          int groups = groups_list[g], per_group = per_group_list[p];
          int c = groups * per_group, hw = hws[h];
          size_t n = (size_t)c * hw;
          float *in = random_buffer(n, -8.0f, 8.0f);
          // in viewed as (groups, per_group, hw), transposed to
          // (per_group, groups, hw).
          double *want = reference_buffer(n);
          for (int i = 0; i < groups; ++i)
            for (int j = 0; j < per_group; ++j)
              for (int k = 0; k < hw; ++k)
                want[(j * groups + i) * hw + k] = reference_activate(
                    in[(i * per_group + j) * hw + k], all_acts[a]);
          float *out = nan_buffer(n);
          ghr_channel_shuffle(in, out, c, hw, groups, all_acts[a]);
          char label[100];
          snprintf(label, sizeof label,
                   "channel_shuffle groups %d c %d hw %d act %d", groups, c,
                   hw, all_acts[a]);
          expect_close(out, want, NULL, n, label);
          free(in);
          free(out);
          free(want);
        }
}

Test(channel_shuffle, known_permutation) {
  // Six channels in three groups: [0 1 | 2 3 | 4 5] -> [0 2 4 1 3 5].
  float in[6] = {0, 1, 2, 3, 4, 5}, out[6];
  ghr_channel_shuffle(in, out, 6, 1, 3, GHR_ACT_NONE);
  static const float want[6] = {0, 2, 4, 1, 3, 5};
  for (int i = 0; i < 6; ++i)
    cr_assert(out[i] == want[i], "out[%d] = %g, want %g", i, out[i], want[i]);
}
