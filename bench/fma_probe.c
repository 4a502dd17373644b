/*
 * Single-core FMA peak probe for the benchmark.
 *
 * Runs NACC independent chains of vector FMAs (acc = acc * m + a) with the
 * widest vectors the compiler was told the host has (-march=native):
 * AVX-512F, AVX2+FMA, NEON (AArch64), or a portable vector-extension
 * fallback. Enough independent chains to hide the FMA latency (latency
 * 4-5 cycles x 2-4 FMA pipes), as many as fit in the registers without
 * spilling, so the loop is bound by FMA throughput alone. Each FMA lane
 * counts 2 flops.
 *
 * usage: fma_probe [seconds-per-trial [trials]]   (default 0.001 s, 1000)
 * prints one line:  peak_gflops=G isa=NAME lanes=L chains=C
 * G is the best trial: the core's FMA peak at its current clock. Trials are
 * short and many so that some run undisturbed, within one scheduler time
 * slice, even on a busy machine (a preempted trial only reads lower).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define ISA "avx512f"
#define LANES 16
#define NACC 20 /* of 32 vector registers */
typedef __m512 vec;
static inline vec vset(float x) { return _mm512_set1_ps(x); }
static inline vec vfma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline vec vadd(vec a, vec b) { return _mm512_add_ps(a, b); }
static inline float vsum(vec a) { return _mm512_reduce_add_ps(a); }
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ISA "avx2+fma"
#define LANES 8
#define NACC 12 /* of 16 vector registers */
typedef __m256 vec;
static inline vec vset(float x) { return _mm256_set1_ps(x); }
static inline vec vfma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline vec vadd(vec a, vec b) { return _mm256_add_ps(a, b); }
static inline float vsum(vec a)
{
    float t[8];
    _mm256_storeu_ps(t, a);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define ISA "neon"
#define LANES 4
#define NACC 20 /* of 32 vector registers */
typedef float32x4_t vec;
static inline vec vset(float x) { return vdupq_n_f32(x); }
static inline vec vfma(vec a, vec b, vec c) { return vfmaq_f32(c, a, b); }
static inline vec vadd(vec a, vec b) { return vaddq_f32(a, b); }
static inline float vsum(vec a) { return vaddvq_f32(a); }
#else
/* Portable fallback: GCC/Clang vector extensions; whether this becomes an
 * FMA depends on the target (compile with -ffp-contract=fast). */
#define ISA "generic"
#define LANES 4
#define NACC 12
typedef float vec __attribute__((vector_size(16)));
static inline vec vset(float x) { return (vec){x, x, x, x}; }
static inline vec vfma(vec a, vec b, vec c) { return a * b + c; }
static inline vec vadd(vec a, vec b) { return a + b; }
static inline float vsum(vec a) { return a[0] + a[1] + a[2] + a[3]; }
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* iters * NACC FMAs per lane, in NACC named registers (an array is not
 * reliably kept in registers by every compiler). m and a are opaque to the
 * compiler (volatile reads in main), so nothing folds; m < 1 keeps the
 * values bounded. */
#define FOR_ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) \
    X(10) X(11)
#if NACC == 20
#define FOR_ACC(X) FOR_ACC12(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19)
#else
#define FOR_ACC(X) FOR_ACC12(X)
#endif
static __attribute__((noinline)) float kernel(long iters, float m, float a)
{
    vec vm = vset(m), va = vset(a);
#define DECL(i) vec acc##i = vset((float)(i) * 0.001f);
#define STEP(i) acc##i = vfma(acc##i, vm, va);
#define SUM(i) s = vadd(s, acc##i);
    FOR_ACC(DECL)
    for (long it = 0; it < iters; it++) {
        FOR_ACC(STEP)
    }
    vec s = vset(0.0f);
    FOR_ACC(SUM)
    return vsum(s);
}

int main(int argc, char **argv)
{
    double trial = argc > 1 ? atof(argv[1]) : 0.001;
    long trials = argc > 2 ? atol(argv[2]) : 1000;
    if (!(trial > 0.0 && trial < 60.0) || trials < 1 || argc > 3) {
        fprintf(stderr, "usage: %s [seconds-per-trial [trials]]\n", argv[0]);
        return 2;
    }
    volatile float vm = 0.999999f, va = 1e-6f;
    float sink = 0.0f;

    /* Warm the core up to its running clock for 0.2 s, then size a trial
     * to about `trial` seconds from the fastest of some short runs. */
    const long base = 1024;
    double start = now(), fastest = 1e30;
    while (now() - start < 0.2) {
        double t0 = now();
        sink += kernel(base, vm, va);
        double dt = now() - t0;
        if (dt > 0.0 && dt < fastest)
            fastest = dt;
    }
    long iters = (long)((double)base * trial / fastest) + 1;

    double best = 0.0;
    for (long t = 0; t < trials; t++) {
        double t0 = now();
        sink += kernel(iters, vm, va);
        double dt = now() - t0;
        double gflops = 2.0 * LANES * NACC * (double)iters / dt * 1e-9;
        if (gflops > best)
            best = gflops;
    }
    printf("peak_gflops=%.2f isa=%s lanes=%d chains=%d checksum=%g\n", best,
           ISA, LANES, NACC, (double)sink);
    return 0;
}
