// Checks ghr_conv_winograd (runtime/conv_winograd.c) on weights packed by
// winograd_pack (codegen/pack_winograd.c) for this build's ISA against the
// reference ghr_conv2d, 3x3 stride 1 padding 1: odd and even maps from 1x1
// to wider than a block of tiles, runs of tiles across tile rows, channel
// counts across K blocks, output channel blocks and partial panels,
// shuffle, scale, residual, bias, every activation. Exits 1 at the first
// mismatch.
//   check_winograd          run the checks
//   check_winograd --bench  time against ghr_conv_direct on CIFAR layers
#include "conv2d.c"
#include "conv_direct.c"
#include "conv_winograd.c"
#include "../../codegen/pack_conv_direct.c"
#include "../../codegen/pack_winograd.c"

#include "check_conv_util.h"

#if defined(GHR_ISA_AVX512)
static const Isa check_isa = ISA_AVX512;
#elif defined(GHR_ISA_AVX2)
static const Isa check_isa = ISA_AVX2;
#elif defined(GHR_ISA_NEON)
static const Isa check_isa = ISA_NEON;
#else
static const Isa check_isa = ISA_SCALAR;
#endif

typedef struct {
  int ic, oc, h, w;
  int shuffle;  // in_shuffle groups, 0 for none
  int has_bias, has_scale, has_residual, act;
} WgCase;

// Runs one case through both kernels; 1 when they agree.
static int wg_check(const WgCase *c) {
  const size_t n_out = (size_t)c->oc * c->h * c->w;
  const int k = c->ic * 9;
  const float w_range = 1.0f / sqrtf((float)k);  // sums of unit size
  float *in = check_random((size_t)c->ic * c->h * c->w, -1.0f, 1.0f);
  float *weight = check_random((size_t)c->oc * k, -w_range, w_range);
  const size_t n_packed = winograd_packed_floats(check_isa, c->oc, c->ic);
  float *packed = check_alloc(n_packed);
  winograd_pack(check_isa, weight, c->oc, c->ic, packed);
  float *bias = c->has_bias ? check_random(c->oc, -1.0f, 1.0f) : NULL;
  float *scale = c->has_scale ? check_random(c->ic, 0.5f, 1.5f) : NULL;
  float *residual = c->has_residual ? check_random(n_out, -1.0f, 1.0f) : NULL;
  float *want = check_output(n_out), *got = check_output(n_out);
  ghr_conv2d(in, c->ic, c->h, c->w, want, c->oc, c->h, c->w, weight, bias, 3,
             3, 1, 1, 1, 1, 1, c->oc, scale, c->shuffle, residual, c->act);
  ghr_conv_winograd(in, c->ic, c->h, c->w, got, c->oc, c->h, c->w, packed,
                    bias, 3, 3, 1, 1, 1, 1, scale, c->shuffle, residual,
                    c->act);
  char what[256];
  snprintf(what, sizeof what,
           "ic %d oc %d %dx%d shuffle %d bias %d scale %d residual %d act %d",
           c->ic, c->oc, c->h, c->w, c->shuffle, c->has_bias, c->has_scale,
           c->has_residual, c->act);
  const int ok = check_close(what, want, got, n_out, 1e-5f);
  free(in), free(weight), free(packed), free(bias), free(scale);
  free(residual), free(want), free(got);
  return ok;
}

static int wg_check_all(void) {
  int n = 0;
  // Sizes around a block and the vector width, odd and even, every fusion.
  const int sizes[] = {1,  2,  3,  4,  5,  7,  8,  9,  14, 15, 16,
                       17, 31, 32, 33, 40, 56, 63, 100, 127, 128};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; ++i)
    for (int odd = 0; odd < 2; ++odd) {
      const int w = sizes[i];
      const int h = w > 64 ? 5 + odd : w + odd;
      WgCase c = {6, GHR_WINO_MR + 3, h, w, odd ? 3 : 0, !odd, odd, odd,
                  (n + odd) % 5};
      if (!wg_check(&c)) return 0;
      ++n;
    }
  // CIFAR layers, and channel counts across K blocks and output blocks.
  const int layers[][4] = {
      // ic, oc, size, activation
      {16, 16, 32, GHR_ACT_RELU}, {32, 32, 16, GHR_ACT_RELU},
      {64, 64, 8, GHR_ACT_RELU},  {3, 64, 32, GHR_ACT_RELU},
      {64, 128, 16, GHR_ACT_NONE}, {128, 128, 8, GHR_ACT_RELU6},
      {100, 33, 4, GHR_ACT_RELU}, {33, 17, 7, GHR_ACT_HARD_SWISH},
      {65, 31, 2, GHR_ACT_HARD_SIGMOID}, {1, 1, 1, GHR_ACT_NONE},
  };
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    const int *l = layers[i];
    WgCase c = {l[0], l[1], l[2], l[2], l[0] % 4 == 0 ? 4 : 0, 1, (int)i % 2,
                (int)i % 3 != 2, l[3]};
    if (!wg_check(&c)) return 0;
    ++n;
  }
  // Everything at random.
  for (int i = 0; i < 300; ++i) {
    WgCase c;
    c.ic = check_int(1, 70);
    c.oc = check_int(1, 40);
    c.h = check_int(1, 30);
    c.w = check_int(1, 30);
    CHECK_RANDOM_FUSIONS(c);
    if (!wg_check(&c)) return 0;
    ++n;
  }
  printf("winograd [%s]: %d cases match the reference\n", CHECK_ISA_NAME, n);
  return 1;
}

typedef struct {
  int ic, oc, size;
  float *in, *direct, *winograd, *bias, *residual, *out;
  int use_winograd;
} WgRun;

static void wg_run(void *ctx) {
  const WgRun *r = ctx;
  if (r->use_winograd)
    ghr_conv_winograd(r->in, r->ic, r->size, r->size, r->out, r->oc, r->size,
                      r->size, r->winograd, r->bias, 3, 3, 1, 1, 1, 1, NULL,
                      0, r->residual, GHR_ACT_RELU);
  else
    ghr_conv_direct(r->in, r->ic, r->size, r->size, r->out, r->oc, r->size,
                    r->size, r->direct, r->bias, 3, 3, 1, 1, 1, 1, NULL, 0,
                    r->residual, GHR_ACT_RELU);
}

static void wg_bench(void) {
  static const int layers[][3] = {
      {3, 64, 32},   {64, 64, 32},   {64, 128, 16}, {128, 128, 16},
      {128, 256, 8}, {256, 256, 8},  {256, 512, 4}, {512, 512, 4},
      {512, 512, 2}, {16, 16, 32},   {32, 32, 16},  {64, 64, 8},
  };
  printf("winograd [%s] vs conv_direct, residual + ReLU, microseconds\n",
         CHECK_ISA_NAME);
  printf("%-16s %9s %9s %7s\n", "ic->oc size", "direct", "winograd",
         "speedup");
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    const int ic = layers[i][0], oc = layers[i][1], size = layers[i][2];
    WgRun r = {ic, oc, size, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    const size_t n_out = (size_t)oc * size * size;
    float *weight = check_random((size_t)oc * ic * 9, -0.1f, 0.1f);
    r.in = check_random((size_t)ic * size * size, -1.0f, 1.0f);
    r.direct = check_alloc(conv_direct_packed_floats(check_isa, oc, ic, 3, 3));
    conv_direct_pack(check_isa, weight, oc, ic, 3, 3, r.direct);
    r.winograd = check_alloc(winograd_packed_floats(check_isa, oc, ic));
    winograd_pack(check_isa, weight, oc, ic, r.winograd);
    r.bias = check_random(oc, -1.0f, 1.0f);
    r.residual = check_random(n_out, -1.0f, 1.0f);
    r.out = check_output(n_out);
    const double direct = check_time(wg_run, &r);
    r.use_winograd = 1;
    const double winograd = check_time(wg_run, &r);
    char name[32];
    snprintf(name, sizeof name, "%d->%d %d", ic, oc, size);
    printf("%-16s %9.2f %9.2f %6.2fx\n", name, direct * 1e6, winograd * 1e6,
           direct / winograd);
    free(weight), free(r.in), free(r.direct), free(r.winograd), free(r.bias);
    free(r.residual), free(r.out);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
    wg_bench();
    return 0;
  }
  return wg_check_all() ? 0 : 1;
}
