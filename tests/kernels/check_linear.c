// Checks ghr_linear, fed the weights linear_pack lays out for this build's
// ISA (so kernel and packer are tested together), against a
// double-precision loop: inputs around the vector width, outputs around the
// block height, with and without bias, every activation. Exits 1 at the
// first mismatch.
//   check_linear          run the checks
//   check_linear --bench  GB/s of weights read by the classifiers of
//                         GhostNet and MobileNet, from cache and from DRAM
#include "../../runtime/linear.c"
#include "../../codegen/pack_linear.c"

#include "check_conv_util.h"

#if defined(GHR_ISA_AVX512)
static const Isa build_isa = ISA_AVX512;
#elif defined(GHR_ISA_AVX2)
static const Isa build_isa = ISA_AVX2;
#elif defined(GHR_ISA_NEON)
static const Isa build_isa = ISA_NEON;
#else
static const Isa build_isa = ISA_SCALAR;
#endif

static float *linear_packed(const float *weight, int n_in, int n_out) {
  float *packed = check_alloc(linear_packed_floats(build_isa, n_out, n_in));
  linear_pack(build_isa, weight, n_out, n_in, packed);
  return packed;
}

static int linear_check(int n_in, int n_out, int has_bias, int act) {
  float *in = check_random((size_t)n_in, -1.0f, 1.0f);
  float *weight = check_random((size_t)n_out * n_in, -1.0f, 1.0f);
  float *bias = has_bias ? check_random((size_t)n_out, -1.0f, 1.0f) : NULL;
  float *packed = linear_packed(weight, n_in, n_out);
  float *got = check_output((size_t)n_out), *want = check_alloc((size_t)n_out);
  ghr_linear(in, got, n_in, n_out, packed, bias, act);
  for (int o = 0; o < n_out; ++o) {
    double sum = bias ? bias[o] : 0.0;
    for (int i = 0; i < n_in; ++i)
      sum += (double)weight[(size_t)o * n_in + i] * in[i];
    want[o] = ghr_activate((float)sum, act);
  }
  char what[100];
  snprintf(what, sizeof what, "ghr_linear %d -> %d bias %d act %d", n_in,
           n_out, has_bias, act);
  // Sums of up to 1280 products of magnitude below 1.
  const int ok = check_close(what, want, got, (size_t)n_out, 2e-5f);
  free(in), free(weight), free(bias), free(packed), free(got), free(want);
  return ok;
}

typedef struct {
  const float *in, *packed, *bias;
  float *out;
  int n_in, n_out;
} LinearBench;

static void linear_bench_run(void *ctx) {
  const LinearBench *b = ctx;
  ghr_linear(b->in, b->out, b->n_in, b->n_out, b->packed, b->bias, 0);
}

// From DRAM: each call reads the next of enough copies of the weights to
// overflow the caches.
typedef struct {
  LinearBench b;
  const float *copies;
  size_t stride;
  int n, next;
} LinearColdBench;

static void linear_cold_run(void *ctx) {
  LinearColdBench *c = ctx;
  c->b.packed = c->copies + (size_t)c->next * c->stride;
  c->next = (c->next + 1) % c->n;
  linear_bench_run(&c->b);
}

static void linear_bench(int n_in, int n_out) {
  const size_t floats = linear_packed_floats(build_isa, n_out, n_in);
  enum { COPIES = 24 };  // 24 x 5 MB: past any L3 here
  float *in = check_random((size_t)n_in, -1.0f, 1.0f);
  float *bias = check_random((size_t)n_out, -1.0f, 1.0f);
  float *copies = check_random(floats * COPIES, -1.0f, 1.0f);
  float *out = check_alloc((size_t)n_out);
  LinearColdBench cold = {{in, copies, bias, out, n_in, n_out},
                          copies, floats, COPIES, 0};
  const double hot = check_time(linear_bench_run, &cold.b);
  const double dram = check_time(linear_cold_run, &cold);
  const double bytes = 4.0 * n_in * n_out;
  printf("[%s] ghr_linear %d -> %d: cached %.1f us (%.1f GB/s), "
         "from DRAM %.1f us (%.1f GB/s)\n",
         CHECK_ISA_NAME, n_in, n_out, hot * 1e6, bytes / hot * 1e-9,
         dram * 1e6, bytes / dram * 1e-9);
  free(in), free(bias), free(copies), free(out);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) {
    linear_bench(960, 1280);   // GhostNet's and MobileNetV3's conv head
    linear_bench(1280, 1000);  // their classifier, and MobileNetV2's
    linear_bench(1024, 1000);  // MobileNetV1's
    linear_bench(240, 960);    // a squeeze-excite expansion
    return 0;
  }
  const int n_ins[] = {1, 3, GHR_VW, GHR_VW + 1, 2 * GHR_VW - 1, 17, 1280};
  const int n_outs[] = {1, 3, 4, 5, 9, 1000};
  int cases = 0;
  for (size_t i = 0; i < sizeof n_ins / sizeof *n_ins; ++i)
    for (size_t o = 0; o < sizeof n_outs / sizeof *n_outs; ++o)
      for (int act = 0; act < 5; ++act, ++cases)
        if (!linear_check(n_ins[i], n_outs[o], (act + (int)o) % 2, act))
          return 1;
  printf("[%s] %d linear cases match the reference\n", CHECK_ISA_NAME, cases);
  return 0;
}
