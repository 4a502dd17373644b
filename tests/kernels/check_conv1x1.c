// Checks ghr_conv1x1, fed the weights conv1x1_pack lays out for this
// build's ISA (so kernel and packer are tested together), against the
// reference ghr_conv2d on many shapes. Exits 1 with the first mismatch.
//   check_conv1x1 --bench   GFLOP/s of ghr_conv1x1 (and of ghr_conv2d) on
//                           the 1x1 convs of GhostNet and MobileNet at 224
#include "check_prefetch.h"
#include "../../runtime/conv2d.c"
#include "../../runtime/conv1x1.c"
#include "../../codegen/pack_conv1x1.c"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(GHR_ISA_AVX512)
static const Isa build_isa = ISA_AVX512;
static const char *const isa_name = "avx512";
#elif defined(GHR_ISA_AVX2)
static const Isa build_isa = ISA_AVX2;
static const char *const isa_name = "avx2";
#elif defined(GHR_ISA_NEON)
static const Isa build_isa = ISA_NEON;
static const char *const isa_name = "neon";
#else
static const Isa build_isa = ISA_SCALAR;
static const char *const isa_name = "scalar";
#endif

static const char *const activation_names[] = {"none", "relu", "relu6",
                                        "hard_sigmoid", "hard_swish"};
enum { N_ACTS = 5 };

static float *new_floats(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) {
    fprintf(stderr, "check_conv1x1: out of memory\n");
    exit(1);
  }
  return p;
}

// Deterministic uniform floats in [-1, 1).
static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static float random_float(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 40) * (2.0 / 16777216.0) - 1.0);
}

static float *random_floats(size_t n) {
  float *p = new_floats(n);
  for (size_t i = 0; i < n; ++i) p[i] = random_float();
  return p;
}

// |x| elementwise, NULL stays NULL.
static float *abs_copy(const float *x, size_t n) {
  float *p = NULL;
  if (x) {
    p = new_floats(n);
    for (size_t i = 0; i < n; ++i) p[i] = fabsf(x[i]);
  }
  return p;
}

//
// ghr_conv1x1 against ghr_conv2d
//

typedef struct {
  int ic, oc, hw;
  int groups;   // ic and oc split into this many groups, one call each
  int shuffle;  // in_shuffle
  int bias, scale, residual;  // whether each is given
  int act;
} ConvCase;

// Floats written past the output to catch stores beyond oc rows.
enum { GUARD = 64 };
static const float guard_value = 12345.0f;

static void fail_conv(const ConvCase *c, const char *what, size_t at,
                      float got, float want, float tol) {
  fprintf(stderr,
          "check_conv1x1 [%s]: ic %d oc %d hw %d groups %d shuffle %d bias %d "
          "scale %d residual %d act %s: %s at float %zu (channel %zu, "
          "position %zu): got %.9g, want %.9g (tolerance %.3g)\n",
          isa_name, c->ic, c->oc, c->hw, c->groups, c->shuffle, c->bias,
          c->scale, c->residual, activation_names[c->act], what, at,
          at / (size_t)c->hw, at % (size_t)c->hw, got, want, tol);
  exit(1);
}

static void check_conv(const ConvCase *c) {
  const int icg = c->ic / c->groups, ocg = c->oc / c->groups;
  const size_t hw = (size_t)c->hw, n_out = (size_t)c->oc * hw;
  float *in = random_floats((size_t)c->ic * hw);
  float *weight = random_floats((size_t)c->oc * icg);  // (oc, ic/groups)
  float *bias = c->bias ? random_floats((size_t)c->oc) : NULL;
  float *scale = c->scale ? random_floats((size_t)c->ic) : NULL;
  float *residual = c->residual ? random_floats(n_out) : NULL;
  float *want = new_floats(n_out), *magnitude = new_floats(n_out);
  float *got = new_floats(n_out + GUARD);

  ghr_conv2d(in, c->ic, 1, c->hw, want, c->oc, 1, c->hw, weight, bias, 1, 1,
             1, 1, 0, 0, c->groups, ocg, scale, c->shuffle, residual, c->act);
  // The same sum over absolute values bounds the rounding error.
  float *abs_in = abs_copy(in, (size_t)c->ic * hw);
  float *abs_weight = abs_copy(weight, (size_t)c->oc * icg);
  float *abs_bias = abs_copy(bias, (size_t)c->oc);
  float *abs_scale = abs_copy(scale, (size_t)c->ic);
  float *abs_residual = abs_copy(residual, n_out);
  ghr_conv2d(abs_in, c->ic, 1, c->hw, magnitude, c->oc, 1, c->hw, abs_weight,
             abs_bias, 1, 1, 1, 1, 0, 0, c->groups, ocg, abs_scale,
             c->shuffle, abs_residual, GHR_ACT_NONE);

  for (size_t i = 0; i < n_out; ++i) got[i] = NAN;
  for (size_t i = n_out; i < n_out + GUARD; ++i) got[i] = guard_value;
  const size_t n_packed = conv1x1_packed_floats(build_isa, ocg, icg, c->hw);
  float *packed = new_floats(n_packed);
  // Prefetches may ask for the packed weights only.
  check_prefetch_allow(0, packed, n_packed);
  check_prefetch_outside = 0;
  for (int g = 0; g < c->groups; ++g) {
    conv1x1_pack(build_isa, weight + (size_t)g * ocg * icg, ocg, icg, c->hw,
                 packed);
    const size_t out_at = (size_t)g * ocg * hw;
    ghr_conv1x1(in, c->ic, g * icg, icg, c->hw, got + out_at, ocg, packed,
                bias ? bias + g * ocg : NULL, scale, c->shuffle,
                residual ? residual + out_at : NULL, c->act);
  }

  for (size_t i = 0; i < n_out; ++i) {
    // hard_swish has slope up to 1.5; the rest at most 1.
    const float tol = 1.5e-5f * magnitude[i] + 1e-6f;
    if (!(fabsf(got[i] - want[i]) <= tol))
      fail_conv(c, "mismatch", i, got[i], want[i], tol);
  }
  for (size_t i = n_out; i < n_out + GUARD; ++i)
    if (got[i] != guard_value)
      fail_conv(c, "write past the output", i, got[i], guard_value, 0.0f);
  if (check_prefetch_outside)
    fail_conv(c, "prefetch outside the packed weights", 0,
              (float)check_prefetch_outside, 0.0f, 0.0f);

  free(in), free(weight), free(bias), free(scale), free(residual);
  free(want), free(magnitude), free(got), free(packed);
  free(abs_in), free(abs_weight), free(abs_bias), free(abs_scale);
  free(abs_residual);
}

// The tile height ghr_conv1x1 reads its packed weights with on this map.
static int kernel_mr(int ic, int oc, int hw) {
#if defined(GHR_ISA_AVX512)
  if (ghr_conv1x1_uses_channel_tiles(ic, oc, hw))
    return GHR_CONV1X1_CHANNEL_MR;
#endif
  (void)ic, (void)oc, (void)hw;
  return GHR_CONV1X1_MR;
}

static int n_conv_checks;

// Ten variants of one shape: every activation with and without in_scale,
// bias and residual alternating.
static void check_conv_variants(int ic, int oc, int hw, int groups,
                                int shuffle) {
  for (int v = 0; v < 2 * N_ACTS; ++v) {
    const ConvCase c = {.ic = ic, .oc = oc, .hw = hw, .groups = groups,
                        .shuffle = shuffle, .bias = (v & 1) == (v >= N_ACTS),
                        .scale = v >= N_ACTS, .residual = (v / 2) % 2,
                        .act = v % N_ACTS};
    check_conv(&c);
    ++n_conv_checks;
  }
}

static void check_conv_shapes(void) {
  // Spatial sizes around the tile and vector widths and of the networks.
  const int tile_cols = GHR_CONV1X1_COLS;
  const int hws[] = {1, 7, 49, GHR_VW + 1, GHR_VW > 1 ? GHR_VW - 1 : 2,
                     tile_cols, tile_cols + GHR_VW + 1, 196};
  // Channel counts that are and are not multiples of the tile height.
  const int channels[][2] = {{1, 1}, {3, 5}, {8, 8}, {13, 9}, {16, 24},
                             {37, 19}};
  for (size_t h = 0; h < sizeof hws / sizeof *hws; ++h)
    for (size_t s = 0; s < sizeof channels / sizeof *channels; ++s)
      check_conv_variants(channels[s][0], channels[s][1], hws[h], 1, 0);
  // Large planes span several L2 column blocks.
  check_conv_variants(16, 12, 3136, 1, 0);
  check_conv_variants(3, 20, 3136, 1, 0);
  // More input rows than one K block (256), in equal and ragged blocks.
  check_conv_variants(257, 9, 50, 1, 0);
  check_conv_variants(600, 17, 49, 1, 0);
  check_conv_variants(512, 8, 33, 1, 0);
  // Groups, with and without the channel shuffle (ShuffleNet's 1x1s).
  check_conv_variants(24, 36, 49, 3, 3);
  check_conv_variants(24, 36, 196, 3, 0);
  check_conv_variants(240, 60, 28, 3, 3);
  check_conv_variants(16, 10, 20, 2, 4);
  check_conv_variants(12, 7, 29, 1, 4);
  // Layers that take channel tiles (AVX-512): output channels past whole
  // vectors and tiles, every width of position tile.
  // (48 output channels keep channel tiles up to 15 positions, 37 up to 12.)
  for (int hw = 1; hw <= 15; ++hw) {
    check_conv_variants(128, 37, hw, 1, 0);
    check_conv_variants(128, 48, hw, 1, 0);
  }
  check_conv_variants(130, 16, 49, 1, 0);
  check_conv_variants(200, 33, 63, 1, 0);
  check_conv_variants(384, 48, 25, 3, 3);
  check_conv_variants(2048, 20, 7, 1, 0);
  check_conv_variants(32, 64, 49, 1, 0);  // few input rows on a 7x7 map
  check_conv_variants(64, 32, 100, 1, 0);
  check_conv_variants(128, 48, 196, 1, 0);  // 14x14: 6% fewer lanes
  check_conv_variants(256, 96, 196, 2, 2);
  // Network sized: MobileNetV2's last stage.
  check_conv_variants(160, 960, 49, 1, 0);
}

//
// --bench
//

static double now_seconds(void) {
  struct timespec t;
  timespec_get(&t, TIME_UTC);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Each timed call stores a result here, so no compiler drops the call.
static volatile float bench_sink;

typedef struct {
  const char *where;  // the network layer it stands for
  int ic, oc, hw;
} BenchShape;

// Best time of one call over repeats lasting about `budget` seconds.
static double best_seconds_conv1x1(const BenchShape *s, const float *in,
                                   float *out, const float *packed,
                                   const float *bias, double budget) {
  double best = 1e30, start = now_seconds();
  do {
    const double t0 = now_seconds();
    ghr_conv1x1(in, s->ic, 0, s->ic, s->hw, out, s->oc, packed, bias, NULL, 0,
                NULL, GHR_ACT_RELU);
    const double t = now_seconds() - t0;
    bench_sink = out[0];
    if (t < best) best = t;
  } while (now_seconds() - start < budget);
  return best;
}

static double best_seconds_conv2d(const BenchShape *s, const float *in,
                                  float *out, const float *weight,
                                  const float *bias, double budget) {
  double best = 1e30, start = now_seconds();
  do {
    const double t0 = now_seconds();
    ghr_conv2d(in, s->ic, 1, s->hw, out, s->oc, 1, s->hw, weight, bias, 1, 1,
               1, 1, 0, 0, 1, s->oc, NULL, 0, NULL, GHR_ACT_RELU);
    const double t = now_seconds() - t0;
    bench_sink = out[0];
    if (t < best) best = t;
  } while (now_seconds() - start < budget);
  return best;
}

static void bench(void) {
  static const BenchShape shapes[] = {
      {"mobilenetv1 conv2", 32, 64, 12544},
      {"mobilenetv1 conv3", 64, 128, 3136},
      {"mobilenetv1 conv4", 128, 128, 3136},
      {"mobilenetv1 conv6", 256, 256, 784},
      {"mobilenetv1 conv8", 512, 512, 196},
      {"mobilenetv1 conv13", 512, 1024, 49},
      {"mobilenetv1 conv14", 1024, 1024, 49},
      {"mobilenetv2 expand 16->96", 16, 96, 12544},
      {"mobilenetv2 project 144->24", 144, 24, 3136},
      {"mobilenetv2 expand 32->192", 32, 192, 784},
      {"mobilenetv2 expand 64->384", 64, 384, 196},
      {"mobilenetv2 project 576->96", 576, 96, 196},
      {"mobilenetv2 expand 160->960", 160, 960, 49},
      {"mobilenetv2 project 960->160", 960, 160, 49},
      {"mobilenetv2 head 320->1280", 320, 1280, 49},
      {"ghostnet primary 16->8", 16, 8, 12544},
      {"ghostnet primary 24->36", 24, 36, 3136},
      {"ghostnet primary 72->12", 72, 12, 3136},
      {"ghostnet primary 40->60", 40, 60, 784},
      {"ghostnet primary 80->92", 80, 92, 196},
      {"ghostnet primary 112->336", 112, 336, 196},
      {"mobilenetv3 project 672->112", 672, 112, 196},
      {"ghostnet primary 184->80", 184, 80, 196},
      {"ghostnet primary 160->480", 160, 480, 49},
      {"shufflenetv1 g3 group 80->80", 80, 80, 784},
  };
  printf("ghr_conv1x1 [%s]: tiles of %d channels x %d columns, best of "
         "repeats\n",
         isa_name, GHR_CONV1X1_MR, GHR_CONV1X1_COLS);
  printf("%-30s %5s %5s %6s %12s %12s\n", "shape", "ic", "oc", "hw",
         "GFLOP/s", "conv2d GF/s");
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; ++i) {
    const BenchShape *s = &shapes[i];
    float *in = random_floats((size_t)s->ic * s->hw);
    float *weight = random_floats((size_t)s->oc * s->ic);
    float *bias = random_floats((size_t)s->oc);
    float *out = new_floats((size_t)s->oc * s->hw);
    float *packed =
        new_floats(conv1x1_packed_floats(build_isa, s->oc, s->ic, s->hw));
    conv1x1_pack(build_isa, weight, s->oc, s->ic, s->hw, packed);
    const double flops = 2.0 * s->ic * s->oc * s->hw;
    const double fast = best_seconds_conv1x1(s, in, out, packed, bias, 0.3);
    const double direct = best_seconds_conv2d(s, in, out, weight, bias, 0.1);
    printf("%-30s %5d %5d %6d %12.1f %12.1f\n", s->where, s->ic, s->oc, s->hw,
           flops / fast * 1e-9, flops / direct * 1e-9);
    free(in), free(weight), free(bias), free(out), free(packed);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--bench") == 0) {
    bench();
    return 0;
  }
  if (argc != 1) {
    fprintf(stderr, "usage: check_conv1x1 [--bench]\n");
    return 2;
  }
  // Layers around the bounds of the channel tiles: input channels around
  // the transpose's cost and the table's size, output channels around
  // half tiles and vectors.
  const int ics[] = {1, 31, 32, 95, 96, 127, 128, 129, 2047, 2048, 2049};
  const int ocs[] = {1, 4, 5, 16, 17, 56, 64};
  for (int hw = 1; hw <= 4096; ++hw)
    for (size_t i = 0; i < sizeof ics / sizeof *ics; ++i)
      for (size_t o = 0; o < sizeof ocs / sizeof *ocs; ++o) {
        const int ic = ics[i], oc = ocs[o];
        if (conv1x1_mr(build_isa, ic, oc, hw) != kernel_mr(ic, oc, hw)) {
          fprintf(stderr,
                  "check_conv1x1 [%s]: ic %d oc %d hw %d: the packer's MR "
                  "(%d) is not the kernel's (%d)\n",
                  isa_name, ic, oc, hw, conv1x1_mr(build_isa, ic, oc, hw),
                  kernel_mr(ic, oc, hw));
          return 1;
        }
      }
  check_conv_shapes();
  printf("check_conv1x1 [%s]: %d conv1x1 cases match; %ld prefetches, all "
         "inside the packed weights\n",
         isa_name, n_conv_checks, check_prefetch_count);
  return 0;
}
