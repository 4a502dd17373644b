// Checks ghr_dwconv (runtime/dwconv.c) against the reference ghr_conv2d
// (groups = ic) on the shapes that steer its paths: widths around the
// vector width and the maps of 224 and CIFAR networks, stride 1 and 2,
// kernels 1 to 9 (larger than the input, and past 7x7), every layout
// (channels in a tile for small maps: channel counts around the vector
// width; rows straight from the input; lanes, one or two channels' rows
// in a vector: maps up to two vectors wide), channel multipliers, cut outputs,
// shuffle, scale, residual, bias, every activation. Exits 1 at the first
// mismatch.
//   check_dwconv          run the checks
//   check_dwconv --bench  GFLOP/s on the depthwise layers of ImageNet nets
#include "conv2d.c"
#include "dwconv.c"

#include "check_conv_util.h"

typedef struct {
  int ic, ih, iw, oc, mult, kh, kw, sh, sw, ph, pw;
  int shuffle;  // in_shuffle groups, 0 for none
  int has_bias, has_scale, has_residual, act;
} DwCase;

static int dw_out_size(int in, int k, int s, int p) {
  return (in + 2 * p - k) / s + 1;
}

static void dw_describe(const DwCase *c, char *buf, size_t size) {
  snprintf(buf, size,
           "ic %d %dx%d -> oc %d (mult %d) k %dx%d s %dx%d p %dx%d "
           "shuffle %d bias %d scale %d residual %d act %d",
           c->ic, c->ih, c->iw, c->oc, c->mult, c->kh, c->kw, c->sh, c->sw,
           c->ph, c->pw, c->shuffle, c->has_bias, c->has_scale,
           c->has_residual, c->act);
}

// Runs one case through both kernels; 1 when they agree.
static int dw_check(const DwCase *c) {
  const int oh = dw_out_size(c->ih, c->kh, c->sh, c->ph);
  const int ow = dw_out_size(c->iw, c->kw, c->sw, c->pw);
  const size_t n_out = (size_t)c->oc * oh * ow;
  float *in = check_random((size_t)c->ic * c->ih * c->iw, -1.0f, 1.0f);
  float *weight = check_random((size_t)c->oc * c->kh * c->kw, -0.5f, 0.5f);
  float *bias = c->has_bias ? check_random(c->oc, -1.0f, 1.0f) : NULL;
  float *scale = c->has_scale ? check_random(c->ic, 0.5f, 1.5f) : NULL;
  float *residual = c->has_residual ? check_random(n_out, -1.0f, 1.0f) : NULL;
  float *want = check_output(n_out), *got = check_output(n_out);
  ghr_conv2d(in, c->ic, c->ih, c->iw, want, c->oc, oh, ow, weight, bias,
             c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->ic, c->mult, scale,
             c->shuffle, residual, c->act);
  ghr_dwconv(in, c->ic, c->ih, c->iw, got, c->oc, oh, ow, weight, bias, c->kh,
             c->kw, c->sh, c->sw, c->ph, c->pw, c->mult, scale, c->shuffle,
             residual, c->act);
  char what[256];
  dw_describe(c, what, sizeof what);
  const int ok = check_close(what, want, got, n_out, 1e-5f);
  free(in), free(weight), free(bias), free(scale), free(residual);
  free(want), free(got);
  return ok;
}

// A case with pad k/2 and the given options, the rest plain.
static DwCase dw_case(int ic, int ih, int iw, int k, int s, int act) {
  DwCase c = {ic, ih, iw, ic, 1, k, k, s, s, k / 2, k / 2, 0, 1, 0, 0, act};
  return c;
}

// The shapes fast paths are chosen by, each with every option varied.
static int dw_check_all(void) {
  int n = 0;
  // Widths around the vector width and the maps of real networks, square
  // and odd/even, k 3 and 5, stride 1 and 2.
  const int widths[] = {1,  2,  3,  7,  8,  14, 16, GHR_VW - 1, GHR_VW,
                        GHR_VW + 1, 28, 32, 56, 112, 224};
  for (size_t i = 0; i < sizeof widths / sizeof *widths; ++i) {
    const int w = widths[i];
    if (w < 1) continue;
    for (int k = 3; k <= 5; k += 2)
      for (int s = 1; s <= 2; ++s)
        for (int odd = 0; odd < 2; ++odd) {
          // Tall maps for the narrow widths, a few rows for the wide ones.
          const int h = (w <= 56 ? w : 9) + odd;
          DwCase c = dw_case(2, h, w + odd, k, s, (n + odd) % 5);
          c.has_residual = odd;
          c.has_bias = !odd;
          if (!dw_check(&c)) return 0;
          ++n;
        }
  }
  // Full 112 and 224 maps: several bands of rows per channel.
  const int big[][3] = {{112, 3, 1}, {112, 3, 2}, {112, 5, 2}, {224, 5, 1},
                        {224, 3, 2}};
  for (size_t i = 0; i < sizeof big / sizeof *big; ++i) {
    DwCase c = dw_case(2, big[i][0], big[i][0], big[i][1], big[i][2],
                       GHR_ACT_RELU);
    c.has_scale = 1;
    c.has_residual = 1;
    if (!dw_check(&c)) return 0;
    ++n;
  }
  // Kernels larger than the input, and 9x9: past 7x7.
  const int small[][4] = {{3, 3, 7, 3}, {2, 2, 5, 2}, {1, 1, 3, 1},
                          {5, 5, 9, 4}, {4, 6, 7, 3}, {12, 12, 9, 4}};
  for (size_t i = 0; i < sizeof small / sizeof *small; ++i)
    for (int s = 1; s <= 2; ++s) {
      DwCase c = dw_case(3, small[i][0], small[i][1], small[i][2], s,
                         GHR_ACT_HARD_SWISH);
      c.ph = c.pw = small[i][3];
      c.has_scale = 1;
      c.has_residual = s == 2;
      c.shuffle = 3;
      if (!dw_check(&c)) return 0;
      ++n;
    }
  // The channels layout (maps small enough for a tile of every channel)
  // and the rows layout beside it: channel counts around and past the
  // vector width, mult and cut outputs, shuffle and scale, every stride,
  // kernels up to 7x7, maps up to just past the tile.
  const int tiled[][4] = {{7, 3, 1, 24},  {7, 5, 1, 17},  {14, 3, 2, 40},
                          {14, 5, 2, 33}, {14, 5, 1, 16}, {14, 3, 1, 9},
                          {7, 7, 1, 20},  {28, 3, 2, 18}, {10, 7, 2, 31},
                          {9, 4, 3, 16},  {16, 5, 1, 12}, {30, 3, 2, 8}};
  for (size_t i = 0; i < sizeof tiled / sizeof *tiled; ++i)
    for (int v = 0; v < 2; ++v) {
      DwCase c = dw_case(tiled[i][3], tiled[i][0], tiled[i][0], tiled[i][1],
                         tiled[i][2], (int)(i + v) % 5);
      c.has_scale = c.has_residual = v;
      c.has_bias = !v;
      if (v) {
        c.ic = c.ic / 2 + 1;  // mult 2, the last outputs cut
        c.mult = 2;
        c.oc = 2 * c.ic - 1;
        c.shuffle = c.ic % 3 == 0 ? 3 : 0;
      }
      if (!dw_check(&c)) return 0;
      ++n;
    }
  // The lanes layout (AVX-512: rows of one or two channels in a vector)
  // and the layouts beside it: stride 1 and 2, 3x3 and 5x5, maps from one
  // pixel to past two (stride 2: four) vectors of 16 wide, padding kw/2
  // and 0, 1, 2 beside it, odd and even channel counts (one channel left
  // for the last vector), mult and cut outputs, shuffle, scale, residual,
  // bias, every activation.
  for (int w = 1; w <= 66; ++w)
    for (int k = 3; k <= 5; k += 2)
      for (int s = 1 + (w > 34); s <= 2; ++s)
        for (int v = 0; v < 3; ++v) {
          const int h = w <= 9 ? w : 1 + (w + v) % 9;
          const int pads[3] = {k / 2, (w + k) % 3, 2 - (w + k) % 2};
          DwCase c = dw_case(1 + (w + v) % 5, h, w, k, s, (w + v + k) % 5);
          c.ph = c.pw = pads[(w + v) % 3];
          if (dw_out_size(h, k, s, c.ph) < 1 || dw_out_size(w, k, s, c.pw) < 1)
            continue;
          c.has_bias = v != 1;
          c.has_scale = v == 1;
          c.has_residual = v != 0;
          if (v == 2) {  // mult 2, the last output cut
            c.mult = 2;
            c.oc = 2 * c.ic - (c.ic > 1);
            c.shuffle = c.ic % 2 == 0 ? 2 : 0;
          }
          if (!dw_check(&c)) return 0;
          ++n;
        }
  // Rows layout on maps wider than the prefetch threshold, every block
  // kind (corners with masked loads, edges zeroed in registers).
  const int rows[][3] = {{112, 3, 2}, {112, 5, 2}, {96, 3, 1}, {120, 7, 2}};
  for (size_t i = 0; i < sizeof rows / sizeof *rows; ++i) {
    DwCase c = dw_case(3, rows[i][0], rows[i][0] - 5, rows[i][1], rows[i][2],
                       GHR_ACT_RELU6);
    c.has_residual = 1;
    c.has_scale = 1;
    if (!dw_check(&c)) return 0;
    ++n;
  }
  // Rows layout on 112-wide maps of GhostNet and MobileNet (AVX-512 stride
  // 2 with padding kw/2 loads from column 2x, other paddings from the
  // first tap column): odd and even input sizes, padding 0 to 3, odd
  // channel counts (the last plane ends the tensor), residual, activation.
  const int maps[][5] = {{112, 3, 2, 1, 5}, {111, 3, 2, 1, 3},
                         {113, 3, 2, 0, 3}, {112, 3, 2, 2, 1},
                         {113, 5, 2, 2, 3}, {112, 5, 2, 1, 1},
                         {111, 5, 2, 3, 3}, {112, 3, 1, 1, 3},
                         {113, 3, 1, 1, 1}};
  for (size_t i = 0; i < sizeof maps / sizeof *maps; ++i)
    for (int v = 0; v < 2; ++v) {
      DwCase c = dw_case(maps[i][4], maps[i][0], maps[i][0] - v, maps[i][1],
                         maps[i][2], v ? GHR_ACT_RELU : GHR_ACT_HARD_SWISH);
      c.ph = c.pw = maps[i][3];
      c.has_residual = v;
      c.has_scale = !v;
      if (!dw_check(&c)) return 0;
      ++n;
    }
  // Rows of hundreds of vectors.
  const int wide[][3] = {{3, 5000, 1}, {3, 5001, 2}, {2, 3000, 1}};
  for (size_t i = 0; i < sizeof wide / sizeof *wide; ++i) {
    DwCase c = dw_case(2, wide[i][0], wide[i][1], 5, wide[i][2],
                       GHR_ACT_RELU6);
    c.has_residual = 1;
    if (!dw_check(&c)) return 0;
    ++n;
  }
  // Everything at random: any kernel, stride, padding, multiplier, cut,
  // shuffle, scale, residual, bias and activation.
  for (int i = 0; i < 600; ++i) {
    DwCase c;
    c.ic = check_int(1, 8);
    c.ih = check_int(1, 40);
    c.iw = check_int(1, 40);
    c.kh = check_int(1, 9);
    c.kw = check_uniform(0.0f, 1.0f) < 0.7f ? c.kh : check_int(1, 9);
    c.sh = check_int(1, 3);
    c.sw = check_uniform(0.0f, 1.0f) < 0.7f ? c.sh : check_int(1, 3);
    c.ph = check_int(0, c.kh);
    c.pw = check_int(0, c.kw);
    if (dw_out_size(c.ih, c.kh, c.sh, c.ph) < 1 ||
        dw_out_size(c.iw, c.kw, c.sw, c.pw) < 1)
      continue;
    c.mult = check_int(1, 3);
    c.oc = check_uniform(0.0f, 1.0f) < 0.5f ? c.ic * c.mult
                                             : check_int(1, c.ic * c.mult);
    CHECK_RANDOM_FUSIONS(c);
    if (!dw_check(&c)) return 0;
    ++n;
  }
  printf("dwconv [%s]: %d cases match the reference\n", CHECK_ISA_NAME, n);
  return 1;
}

typedef struct {
  const char *name;
  int c, h, k, s, mult;
} DwLayer;

typedef struct {
  const DwLayer *layer;
  int oh, ow;
  float *in, *weight, *bias, *out;
  int reference;  // time ghr_conv2d instead
} DwRun;

static void dw_run(void *ctx) {
  const DwRun *r = ctx;
  const DwLayer *l = r->layer;
  const int p = l->k / 2;
  if (r->reference)
    ghr_conv2d(r->in, l->c, l->h, l->h, r->out, l->c * l->mult, r->oh, r->ow,
               r->weight, r->bias, l->k, l->k, l->s, l->s, p, p, l->c,
               l->mult, NULL, 0, NULL, GHR_ACT_RELU);
  else
    ghr_dwconv(r->in, l->c, l->h, l->h, r->out, l->c * l->mult, r->oh, r->ow,
               r->weight, r->bias, l->k, l->k, l->s, l->s, p, p, l->mult,
               NULL, 0, NULL, GHR_ACT_RELU);
}

static void dw_bench(void) {
  static const DwLayer layers[] = {
      {"ghostnet cheap 112 k3", 16, 112, 3, 1, 1},
      {"ghostnet cheap 56 k3", 36, 56, 3, 1, 1},
      {"ghostnet cheap 28 k3", 60, 28, 3, 1, 1},
      {"ghostnet cheap 14 k3", 240, 14, 3, 1, 1},
      {"ghostnet cheap 7 k3", 480, 7, 3, 1, 1},
      {"ghostnet s2 112 k3", 48, 112, 3, 2, 1},
      {"ghostnet s2 56 k5", 72, 56, 5, 2, 1},
      {"ghostnet s2 28 k3", 240, 28, 3, 2, 1},
      {"ghostnet s2 14 k5", 672, 14, 5, 2, 1},
      {"mobilenet 112 k3", 32, 112, 3, 1, 1},
      {"mobilenet s2 112 k3", 64, 112, 3, 2, 1},
      {"mobilenet 56 k3", 128, 56, 3, 1, 1},
      {"mobilenet 28 k3", 256, 28, 3, 1, 1},
      {"mobilenet 14 k3", 512, 14, 3, 1, 1},
      {"mobilenet 7 k3", 1024, 7, 3, 1, 1},
      {"mobilenetv2 s2 112 k3", 96, 112, 3, 2, 1},
      {"mobilenetv3 28 k5", 120, 28, 5, 1, 1},
      {"mobilenetv3 14 k5", 672, 14, 5, 1, 1},
      {"mobilenetv3 7 k5", 960, 7, 5, 1, 1},
      {"shufflenet 28 k3", 60, 28, 3, 1, 1},
      {"shufflenet s2 28 k3", 120, 28, 3, 2, 1},
  };
  printf("dwconv [%s], ReLU epilogue, GFLOP/s (2 flops per MAC)\n",
         CHECK_ISA_NAME);
  printf("%-24s %9s %9s %9s %7s\n", "layer", "MFLOP", "dwconv", "conv2d",
         "speedup");
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    const DwLayer *l = &layers[i];
    DwRun r = {l, dw_out_size(l->h, l->k, l->s, l->k / 2),
               dw_out_size(l->h, l->k, l->s, l->k / 2), NULL, NULL, NULL,
               NULL, 0};
    const int oc = l->c * l->mult;
    r.in = check_random((size_t)l->c * l->h * l->h, -1.0f, 1.0f);
    r.weight = check_random((size_t)oc * l->k * l->k, -0.5f, 0.5f);
    r.bias = check_random(oc, -1.0f, 1.0f);
    r.out = check_output((size_t)oc * r.oh * r.ow);
    const double flops = 2.0 * oc * r.oh * r.ow * l->k * l->k;
    const double fast = check_time(dw_run, &r);
    r.reference = 1;
    const double ref = check_time(dw_run, &r);
    printf("%-24s %9.2f %9.1f %9.1f %6.1fx\n", l->name, flops * 1e-6,
           flops / fast * 1e-9, flops / ref * 1e-9, ref / fast);
    free(r.in), free(r.weight), free(r.bias), free(r.out);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
    dw_bench();
    return 0;
  }
  return dw_check_all() ? 0 : 1;
}
