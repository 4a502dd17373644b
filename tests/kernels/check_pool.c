// Checks ghr_avgpool and ghr_maxpool (runtime/pool.h) against a direct
// double-precision reference on the shapes that steer their paths: widths
// around the vector width, strides 1, 2 and 3, padding up to half the
// window, rows wider than the row buffer (chunks of outputs) and windows
// wider than half of it (chunks of taps), both divisor rules, every
// activation. Exits 1 at the first mismatch.
//   check_pool          run the checks
//   check_pool --bench  GB/s on the pooling layers of ShuffleNet and ResNet
#include "avgpool.c"
#include "maxpool.c"

#include "check_conv_util.h"

typedef struct {
  int c, ih, iw, kh, kw, sh, sw, ph, pw;
  int is_max, count_include_pad, act;
} PoolCase;

static int pool_out_size(int in, int k, int s, int p) {
  return (in + 2 * p - k) / s + 1;
}

static void pool_reference(const PoolCase *k, const float *in, float *out,
                           int oh, int ow) {
  for (int ch = 0; ch < k->c; ++ch)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        double sum = 0.0, best = -INFINITY;
        int inside = 0;
        for (int ky = 0; ky < k->kh; ++ky)
          for (int kx = 0; kx < k->kw; ++kx) {
            const int y = oy * k->sh - k->ph + ky, x = ox * k->sw - k->pw + kx;
            if (y < 0 || y >= k->ih || x < 0 || x >= k->iw) continue;
            const double v = in[((size_t)ch * k->ih + y) * k->iw + x];
            ++inside;
            sum += v;
            if (v > best) best = v;
          }
        const double v =
            k->is_max ? best
                      : sum / (k->count_include_pad ? k->kh * k->kw : inside);
        out[((size_t)ch * oh + oy) * ow + ox] = ghr_activate((float)v, k->act);
      }
}

static void pool_run(const PoolCase *k, const float *in, float *out, int oh,
                     int ow) {
  if (k->is_max)
    ghr_maxpool(in, k->c, k->ih, k->iw, out, oh, ow, k->kh, k->kw, k->sh,
                k->sw, k->ph, k->pw, k->act);
  else
    ghr_avgpool(in, k->c, k->ih, k->iw, out, oh, ow, k->kh, k->kw, k->sh,
                k->sw, k->ph, k->pw, k->count_include_pad, k->act);
}

static int pool_check(const PoolCase *k) {
  const int oh = pool_out_size(k->ih, k->kh, k->sh, k->ph);
  const int ow = pool_out_size(k->iw, k->kw, k->sw, k->pw);
  if (oh <= 0 || ow <= 0) return 1;
  const size_t n_in = (size_t)k->c * k->ih * k->iw;
  const size_t n_out = (size_t)k->c * oh * ow;
  float *in = check_random(n_in, -4.0f, 4.0f);
  float *want = check_alloc(n_out), *got = check_output(n_out);
  pool_reference(k, in, want, oh, ow);
  pool_run(k, in, got, oh, ow);
  char what[200];
  snprintf(what, sizeof what,
           "%s c %d %dx%d k %dx%d s %dx%d p %dx%d count_include_pad %d act %d",
           k->is_max ? "maxpool" : "avgpool", k->c, k->ih, k->iw, k->kh, k->kw,
           k->sh, k->sw, k->ph, k->pw, k->count_include_pad, k->act);
  // The max is exact: bit for bit (up to the sign of zero) unless an
  // activation with arithmetic follows.
  const int exact =
      k->is_max && (k->act == GHR_ACT_NONE || k->act == GHR_ACT_RELU);
  const int ok = check_close(what, want, got, n_out, exact ? 0.0f : 1e-5f);
  free(in);
  free(want);
  free(got);
  return ok;
}

typedef struct {
  PoolCase k;
  const float *in;
  float *out;
  int oh, ow;
} PoolBench;

static void pool_bench_run(void *ctx) {
  const PoolBench *b = ctx;
  pool_run(&b->k, b->in, b->out, b->oh, b->ow);
}

static int pool_bench(void) {
  static const PoolCase layers[] = {
      {24, 112, 112, 3, 3, 2, 2, 1, 1, 1, 0, 0},   // ShuffleNet maxpool
      {240, 28, 28, 3, 3, 2, 2, 1, 1, 0, 1, 0},    // ShuffleNetV1 shortcuts
      {480, 14, 14, 3, 3, 2, 2, 1, 1, 0, 1, 0},
      {64, 112, 112, 3, 3, 2, 2, 1, 1, 1, 0, 0},   // ResNet-18 maxpool
  };
  for (size_t i = 0; i < sizeof layers / sizeof *layers; ++i) {
    PoolBench b = {layers[i], NULL, NULL, 0, 0};
    b.oh = pool_out_size(b.k.ih, b.k.kh, b.k.sh, b.k.ph);
    b.ow = pool_out_size(b.k.iw, b.k.kw, b.k.sw, b.k.pw);
    const size_t n_in = (size_t)b.k.c * b.k.ih * b.k.iw;
    float *in = check_random(n_in, -1.0f, 1.0f);
    float *out = check_alloc((size_t)b.k.c * b.oh * b.ow);
    b.in = in;
    b.out = out;
    const double s = check_time(pool_bench_run, &b);
    printf("[%s] %s c %d %dx%d k %d s %d: %.1f us, %.1f GB/s read\n",
           CHECK_ISA_NAME, b.k.is_max ? "maxpool" : "avgpool", b.k.c, b.k.ih,
           b.k.iw, b.k.kh, b.k.sh, s * 1e6, (double)n_in * 4 / s * 1e-9);
    free(in);
    free(out);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) return pool_bench();
  // Widths around multiples of two vectors: the 3x3 stride-2 max pool
  // reads 2*GHR_VW columns per vector of outputs.
  static const int sizes[][2] = {{1, 1},   {2, 3},   {7, 7},   {8, 9},
                                 {14, 14}, {15, 17}, {16, 33}, {28, 28},
                                 {5, 47},  {56, 56}, {3, 112}, {4, 31},
                                 {6, 64},  {5, 65},  {9, 66},  {3, 97}};
  static const int kernels[][2] = {{1, 1}, {2, 2}, {3, 3}, {5, 5}, {3, 2}};
  static const int strides[][2] = {{1, 1}, {2, 2}, {1, 2}, {3, 3}, {2, 1}};
  static const int pads[][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 0}, {0, 1}};
  int cases = 0, act = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; ++s)
    for (size_t k = 0; k < sizeof kernels / sizeof *kernels; ++k)
      for (size_t st = 0; st < sizeof strides / sizeof *strides; ++st)
        for (size_t p = 0; p < sizeof pads / sizeof *pads; ++p) {
          // PyTorch: padding at most half the window.
          if (2 * pads[p][0] > kernels[k][0] || 2 * pads[p][1] > kernels[k][1])
            continue;
          for (int kind = 0; kind < 3; ++kind) {
            const PoolCase c = {3, sizes[s][0], sizes[s][1], kernels[k][0],
                                kernels[k][1], strides[st][0], strides[st][1],
                                pads[p][0], pads[p][1], kind == 0, kind == 1,
                                act};
            act = (act + 1) % 5;
            if (!pool_check(&c)) return 1;
            ++cases;
          }
        }
  // Rows wider than the row buffer; windows wider than half of it.
  static const PoolCase wide[] = {
      {2, 3, 5000, 3, 3, 1, 1, 1, 1, 1, 0, 1},
      {2, 3, 5000, 3, 3, 2, 2, 1, 1, 0, 1, 0},
      {2, 4, 4500, 2, 5, 2, 3, 1, 2, 0, 0, 2},
      {1, 2, 2600, 1, 1100, 1, 1, 0, 0, 1, 0, 0},
      {1, 2, 2600, 2, 2300, 1, 2, 1, 1000, 0, 0, 0},
      {1, 2, 3000, 2, 1500, 1, 1, 0, 0, 0, 1, 0},
  };
  for (size_t i = 0; i < sizeof wide / sizeof *wide; ++i, ++cases)
    if (!pool_check(&wide[i])) return 1;
  printf("[%s] %d pooling cases match the reference\n", CHECK_ISA_NAME, cases);
  return 0;
}
