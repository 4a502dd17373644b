// Checks ghr_conv_direct (runtime/conv_direct.c) on weights packed by
// conv_direct_pack (codegen/pack_conv_direct.c) for this build's ISA against
// the reference ghr_conv2d, on the shapes that steer its paths: widths
// around the vector width (rows and shifted tiles), the maps of 224 and
// CIFAR networks, stride 1 and 2, channel counts across K blocks and
// partial panels, kernels 1 to 13 (larger than the input, past the offset
// table), maps too wide for a tile, shuffle, scale, residual, bias, every
// activation. Exits 1 at the first mismatch.
//   check_conv_direct          run the checks
//   check_conv_direct --bench  GFLOP/s on stems and CIFAR VGG/ResNet layers
#include "check_prefetch.h"
#include "conv2d.c"
#include "conv_direct.c"
#include "../../codegen/pack_conv_direct.c"

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
  int ic, ih, iw, oc, kh, kw, sh, sw, ph, pw;
  int shuffle;  // in_shuffle groups, 0 for none
  int has_bias, has_scale, has_residual, act;
} DcCase;

static int dc_out_size(int in, int k, int s, int p) {
  return (in + 2 * p - k) / s + 1;
}

static void dc_describe(const DcCase *c, char *buf, size_t size) {
  snprintf(buf, size,
           "ic %d %dx%d -> oc %d k %dx%d s %dx%d p %dx%d shuffle %d bias %d "
           "scale %d residual %d act %d",
           c->ic, c->ih, c->iw, c->oc, c->kh, c->kw, c->sh, c->sw, c->ph,
           c->pw, c->shuffle, c->has_bias, c->has_scale, c->has_residual,
           c->act);
}

// Packs the weight for this ISA, with guard floats after it.
static float *dc_pack(const float *weight, int oc, int ic, int kh, int kw) {
  const size_t n = conv_direct_packed_floats(check_isa, oc, ic, kh, kw);
  float *packed = check_alloc(n + CHECK_GUARD);
  conv_direct_pack(check_isa, weight, oc, ic, kh, kw, packed);
  return packed;
}

// Runs one case through both kernels; 1 when they agree.
static int dc_check(const DcCase *c) {
  const int oh = dc_out_size(c->ih, c->kh, c->sh, c->ph);
  const int ow = dc_out_size(c->iw, c->kw, c->sw, c->pw);
  const size_t n_out = (size_t)c->oc * oh * ow;
  const int k = c->ic * c->kh * c->kw;
  const float w_range = 1.0f / sqrtf((float)k);  // sums of unit size
  float *in = check_random((size_t)c->ic * c->ih * c->iw, -1.0f, 1.0f);
  float *weight = check_random((size_t)c->oc * k, -w_range, w_range);
  float *packed = dc_pack(weight, c->oc, c->ic, c->kh, c->kw);
  float *bias = c->has_bias ? check_random(c->oc, -1.0f, 1.0f) : NULL;
  float *scale = c->has_scale ? check_random(c->ic, 0.5f, 1.5f) : NULL;
  float *residual = c->has_residual ? check_random(n_out, -1.0f, 1.0f) : NULL;
  float *want = check_output(n_out), *got = check_output(n_out);
  ghr_conv2d(in, c->ic, c->ih, c->iw, want, c->oc, oh, ow, weight, bias,
             c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, 1, c->oc, scale,
             c->shuffle, residual, c->act);
  // Prefetches may ask for the packed weights and the input, nothing else.
  check_prefetch_allow(0, packed,
                       conv_direct_packed_floats(check_isa, c->oc, c->ic,
                                                 c->kh, c->kw));
  check_prefetch_allow(1, in, (size_t)c->ic * c->ih * c->iw);
  check_prefetch_outside = 0;
  ghr_conv_direct(in, c->ic, c->ih, c->iw, got, c->oc, oh, ow, packed, bias,
                  c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, scale, c->shuffle,
                  residual, c->act);
  char what[256];
  dc_describe(c, what, sizeof what);
  int ok = check_close(what, want, got, n_out, 1e-5f);
  if (ok && check_prefetch_outside) {
    printf("FAIL %s: %ld prefetches outside the weights and the input\n",
           what, check_prefetch_outside);
    ok = 0;
  }
  free(in), free(weight), free(packed), free(bias), free(scale);
  free(residual), free(want), free(got);
  return ok;
}

// A case with pad k/2, bias and the given activation, the rest plain.
static DcCase dc_case(int ic, int oc, int ih, int iw, int k, int s, int act) {
  DcCase c = {ic, ih, iw, oc, k, k, s, s, k / 2, k / 2, 0, 1, 0, 0, act};
  return c;
}

static int dc_check_all(void) {
  int n = 0;
  // Widths around the vector width and the maps of real networks, odd and
  // even, stride 1 and 2; two panels, the second partial.
  const int widths[] = {1,  2,  3,  4,  5,  7,  8,  14, 16, GHR_VW - 1,
                        GHR_VW, GHR_VW + 1, 28, 32, 56, 112, 224};
  for (size_t i = 0; i < sizeof widths / sizeof *widths; ++i) {
    const int w = widths[i];
    if (w < 1) continue;
    for (int s = 1; s <= 2; ++s)
      for (int odd = 0; odd < 2; ++odd) {
        const int h = (w <= 56 ? w : 7) + odd;
        DcCase c = dc_case(5, GHR_CONV_DIRECT_MR + 3, h, w + odd, 3, s,
                           (n + odd) % 5);
        c.has_residual = odd;
        c.has_bias = !odd;
        c.has_scale = odd;
        if (!dc_check(&c)) return 0;
        ++n;
      }
  }
  // Every activation, with and without a residual, on rows of whole
  // vectors (the epilogue of full register tiles), in one K block and in
  // several; the last panel half partial.
  for (int act = 0; act <= GHR_ACT_HARD_SWISH; ++act)
    for (int residual = 0; residual < 2; ++residual)
      for (int ic = 3; ic <= 40; ic += 37) {
        DcCase c = dc_case(ic, GHR_CONV_DIRECT_MR + 3, 6, 32, 3, 1, act);
        c.has_residual = residual;
        if (!dc_check(&c)) return 0;
        ++n;
      }
  // The stems at 224 and CIFAR layers: several bands and K blocks, maps
  // down to 2x2 (shifted and channel tiles), stride 2 between stages.
  const int layers[][6] = {
      // ic, oc, size, k, stride, activation
      {3, 16, 224, 3, 2, GHR_ACT_HARD_SWISH},
      {3, 32, 224, 3, 2, GHR_ACT_RELU},
      {3, 64, 32, 3, 1, GHR_ACT_RELU},
      {40, 24, 32, 3, 1, GHR_ACT_RELU},
      {48, 40, 16, 3, 1, GHR_ACT_NONE},
      {64, 33, 8, 3, 1, GHR_ACT_RELU6},
      {100, 20, 4, 3, 1, GHR_ACT_RELU},
      {256, 20, 4, 3, 1, GHR_ACT_RELU},
      {130, 36, 2, 3, 1, GHR_ACT_RELU},
      {16, 32, 32, 3, 2, GHR_ACT_RELU},
      {32, 40, 16, 3, 2, GHR_ACT_RELU},
      {24, 17, 7, 3, 1, GHR_ACT_HARD_SIGMOID},
      {24, 17, 14, 3, 2, GHR_ACT_RELU},
      {20, 9, 28, 5, 1, GHR_ACT_RELU},
      {8, 12, 30, 7, 2, GHR_ACT_RELU},
      // Shifted tiles: a last vector of positions partial, 5x5 of stride 2.
      {16, 24, 9, 3, 1, GHR_ACT_RELU},
      {12, 20, 10, 5, 2, GHR_ACT_RELU6},
      // Large enough for the input prefetch, with shuffle and scale.
      {4, 12, 192, 3, 1, GHR_ACT_RELU6},
  };
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    const int *l = layers[i];
    DcCase c = dc_case(l[0], l[1], l[2], l[2], l[3], l[4], l[5]);
    c.has_residual = l[4] == 1;
    c.has_scale = (int)i % 2;
    c.shuffle = l[0] % 4 == 0 ? 4 : 0;
    if (!dc_check(&c)) return 0;
    ++n;
  }
  // Kernels larger than the input; 11x11 fills the offset table, 13x13 is
  // past it.
  const int small[][4] = {{3, 3, 7, 3},   {2, 2, 5, 2}, {1, 1, 3, 1},
                          {5, 5, 11, 5},  {4, 6, 7, 3}, {6, 6, 13, 6},
                          {2, 9, 1, 0}};
  for (size_t i = 0; i < sizeof small / sizeof *small; ++i)
    for (int s = 1; s <= 2; ++s) {
      DcCase c = dc_case(6, 7, small[i][0], small[i][1], small[i][2], s,
                         GHR_ACT_HARD_SWISH);
      c.ph = c.pw = small[i][3];
      c.has_scale = 1;
      c.has_residual = s == 2;
      c.shuffle = 3;
      if (!dc_check(&c)) return 0;
      ++n;
    }
  // Too wide for a band of every channel, or of one channel.
  const int wide[][4] = {{20, 3, 400, 1}, {3, 3, 3000, 1}, {2, 5, 3001, 2},
                         {17, 2, 700, 2}};
  for (size_t i = 0; i < sizeof wide / sizeof *wide; ++i) {
    DcCase c = dc_case(wide[i][0], 5, wide[i][1], wide[i][2], 3, wide[i][3],
                       GHR_ACT_RELU6);
    c.has_residual = 1;
    if (!dc_check(&c)) return 0;
    ++n;
  }
  // Everything at random.
  for (int i = 0; i < 400; ++i) {
    DcCase c;
    c.ic = check_int(1, 40);
    c.oc = check_int(1, 40);
    c.ih = check_int(1, 30);
    c.iw = check_int(1, 30);
    c.kh = check_int(1, 7);
    c.kw = check_uniform(0.0f, 1.0f) < 0.7f ? c.kh : check_int(1, 7);
    c.sh = check_int(1, 3);
    c.sw = check_uniform(0.0f, 1.0f) < 0.7f ? c.sh : check_int(1, 3);
    c.ph = check_int(0, c.kh);
    c.pw = check_int(0, c.kw);
    if (dc_out_size(c.ih, c.kh, c.sh, c.ph) < 1 ||
        dc_out_size(c.iw, c.kw, c.sw, c.pw) < 1)
      continue;
    CHECK_RANDOM_FUSIONS(c);
    if (!dc_check(&c)) return 0;
    ++n;
  }
  printf("conv_direct [%s]: %d cases match the reference; %ld prefetches, "
         "all inside the weights or the input\n",
         CHECK_ISA_NAME, n, check_prefetch_count);
  return 1;
}

typedef struct {
  const char *name;
  int ic, oc, size, k, s;
} DcLayer;

typedef struct {
  const DcLayer *layer;
  int o;  // output height and width
  float *in, *weight, *packed, *bias, *out;
  int reference;  // time ghr_conv2d instead
} DcRun;

static void dc_run(void *ctx) {
  const DcRun *r = ctx;
  const DcLayer *l = r->layer;
  const int p = l->k / 2;
  if (r->reference)
    ghr_conv2d(r->in, l->ic, l->size, l->size, r->out, l->oc, r->o, r->o,
               r->weight, r->bias, l->k, l->k, l->s, l->s, p, p, 1, l->oc,
               NULL, 0, NULL, GHR_ACT_RELU);
  else
    ghr_conv_direct(r->in, l->ic, l->size, l->size, r->out, l->oc, r->o, r->o,
                    r->packed, r->bias, l->k, l->k, l->s, l->s, p, p, NULL, 0,
                    NULL, GHR_ACT_RELU);
}

static void dc_bench(void) {
  static const DcLayer layers[] = {
      {"stem 3->16 224 s2", 3, 16, 224, 3, 2},
      {"stem 3->24 224 s2", 3, 24, 224, 3, 2},
      {"stem 3->32 224 s2", 3, 32, 224, 3, 2},
      {"vgg 3->64 32", 3, 64, 32, 3, 1},
      {"vgg 64->64 32", 64, 64, 32, 3, 1},
      {"vgg 64->128 16", 64, 128, 16, 3, 1},
      {"vgg 128->128 16", 128, 128, 16, 3, 1},
      {"vgg 128->256 8", 128, 256, 8, 3, 1},
      {"vgg 256->256 8", 256, 256, 8, 3, 1},
      {"vgg 256->512 4", 256, 512, 4, 3, 1},
      {"vgg 512->512 4", 512, 512, 4, 3, 1},
      {"vgg 512->512 2", 512, 512, 2, 3, 1},
      {"resnet 3->16 32", 3, 16, 32, 3, 1},
      {"resnet 16->16 32", 16, 16, 32, 3, 1},
      {"resnet 16->32 32 s2", 16, 32, 32, 3, 2},
      {"resnet 32->32 16", 32, 32, 16, 3, 1},
      {"resnet 32->64 16 s2", 32, 64, 16, 3, 2},
      {"resnet 64->64 8", 64, 64, 8, 3, 1},
  };
  printf("conv_direct [%s], ReLU epilogue, GFLOP/s (2 flops per MAC)\n",
         CHECK_ISA_NAME);
  printf("%-22s %9s %9s %9s %7s\n", "layer", "MFLOP", "direct", "conv2d",
         "speedup");
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    const DcLayer *l = &layers[i];
    DcRun r = {l, dc_out_size(l->size, l->k, l->s, l->k / 2), NULL, NULL,
               NULL, NULL, NULL, 0};
    const size_t k = (size_t)l->ic * l->k * l->k;
    r.in = check_random((size_t)l->ic * l->size * l->size, -1.0f, 1.0f);
    r.weight = check_random(l->oc * k, -0.1f, 0.1f);
    r.packed = dc_pack(r.weight, l->oc, l->ic, l->k, l->k);
    r.bias = check_random(l->oc, -1.0f, 1.0f);
    r.out = check_output((size_t)l->oc * r.o * r.o);
    const double flops = 2.0 * l->oc * r.o * r.o * (double)k;
    const double fast = check_time(dc_run, &r);
    r.reference = 1;
    const double ref = check_time(dc_run, &r);
    printf("%-22s %9.2f %9.1f %9.1f %6.1fx\n", l->name, flops * 1e-6,
           flops / fast * 1e-9, flops / ref * 1e-9, ref / fast);
    free(r.in), free(r.weight), free(r.packed), free(r.bias), free(r.out);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
    dc_bench();
    return 0;
  }
  return dc_check_all() ? 0 : 1;
}
