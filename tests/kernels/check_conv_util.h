// Helpers shared by the convolution kernel checks: random data, comparison
// with the reference, guard zones, timing. Header-only: each check is one
// translation unit that also includes the runtime sources it tests.
#ifndef CHECK_CONV_UTIL_H
#define CHECK_CONV_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(GHR_ISA_AVX512)
#define CHECK_ISA_NAME "avx512"
#elif defined(GHR_ISA_AVX2)
#define CHECK_ISA_NAME "avx2"
#elif defined(GHR_ISA_NEON)
#define CHECK_ISA_NAME "neon"
#else
#define CHECK_ISA_NAME "scalar"
#endif

// Floats after every output buffer that a kernel must leave alone.
enum { CHECK_GUARD = 64 };
static const float check_sentinel = -12345.0f;

static uint64_t check_rng = 0x9e3779b97f4a7c15u;

// Uniform in [lo, hi), deterministic (xorshift64*).
static float check_uniform(float lo, float hi) {
  check_rng ^= check_rng >> 12;
  check_rng ^= check_rng << 25;
  check_rng ^= check_rng >> 27;
  const uint64_t r = check_rng * 0x2545f4914f6cdd1du;
  return lo + (hi - lo) * (float)(r >> 40) / (float)(1u << 24);
}

static inline int check_int(int lo, int hi) {  // uniform in [lo, hi]
  int v = lo + (int)(check_uniform(0.0f, 1.0f) * (float)(hi - lo + 1));
  return v > hi ? hi : v;
}

// The fused prologue and epilogue of a random case c (a case struct with
// these fields): an input channel shuffle (0, or a group count of 2 to 4
// that divides c.ic), bias, in_scale, residual and activation.
static inline int check_random_shuffle(int ic) {
  for (int g = check_int(1, 4); g > 1; --g)
    if (ic % g == 0) return g;
  return 0;
}
#define CHECK_RANDOM_FUSIONS(c)                 \
  do {                                          \
    (c).shuffle = check_random_shuffle((c).ic); \
    (c).has_bias = check_int(0, 1);             \
    (c).has_scale = check_int(0, 1);            \
    (c).has_residual = check_int(0, 1);         \
    (c).act = check_int(0, 4);                  \
  } while (0)

static void *check_alloc(size_t n_floats) {
  void *p = malloc((n_floats ? n_floats : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static float *check_random(size_t n, float lo, float hi) {
  float *p = check_alloc(n);
  for (size_t i = 0; i < n; ++i) p[i] = check_uniform(lo, hi);
  return p;
}

// An output buffer of n floats plus the guard zone, all set to the sentinel.
static float *check_output(size_t n) {
  float *p = check_alloc(n + CHECK_GUARD);
  for (size_t i = 0; i < n + CHECK_GUARD; ++i) p[i] = check_sentinel;
  return p;
}

// 1 when got matches want within tol times the largest |want| (at least
// 1) and the guard zone after got[n] is untouched; otherwise prints the
// worst element under `what` and returns 0.
static int check_close(const char *what, const float *want, const float *got,
                       size_t n, float tol) {
  float magnitude = 1.0f, worst = 0.0f;
  size_t worst_at = 0;
  for (size_t i = 0; i < n; ++i)
    if (fabsf(want[i]) > magnitude) magnitude = fabsf(want[i]);
  for (size_t i = 0; i < n; ++i) {
    const float d = fabsf(want[i] - got[i]);
    if (!(d <= worst)) {  // also catches NaN
      worst = d;
      worst_at = i;
    }
  }
  if (worst <= tol * magnitude) {
    for (size_t i = n; i < n + CHECK_GUARD; ++i)
      if (got[i] != check_sentinel) {
        fprintf(stderr, "FAIL [%s] %s: wrote past the output, at +%zu\n",
                CHECK_ISA_NAME, what, i - n);
        return 0;
      }
    return 1;
  }
  fprintf(stderr,
          "FAIL [%s] %s: out[%zu] = %.9g, reference %.9g (diff %.3g > %.3g)\n",
          CHECK_ISA_NAME, what, worst_at, got[worst_at], want[worst_at],
          worst, tol * magnitude);
  return 0;
}

// C11's clock: the NEON build has no POSIX feature macros for clock_gettime.
static double check_now(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Best seconds per call of run(ctx): many short batches of calls (about a
// millisecond each) for half a second after a warm-up, the fastest batch's
// average; short batches often run undisturbed on a busy machine.
static double check_time(void (*run)(void *), void *ctx) {
  run(ctx);
  double t0 = check_now();
  run(ctx);
  const double once = check_now() - t0;
  const int per_batch = once < 1e-3 ? (int)(1e-3 / (once + 1e-9)) + 1 : 1;
  double best = 1e30;
  const double start = check_now();
  do {
    t0 = check_now();
    for (int i = 0; i < per_batch; ++i) run(ctx);
    const double t = (check_now() - t0) / per_batch;
    if (t < best) best = t;
  } while (check_now() - start < 0.5);
  return best;
}

#endif
