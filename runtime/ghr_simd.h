// One vector type for the kernels, chosen at compile time by the ISA macro
// the generated file defines (ghostcc --cpu / --target):
//   GHR_ISA_AVX512  x86-64-v4: 16 floats, AVX-512F
//   GHR_ISA_AVX2    x86-64-v3: 8 floats, AVX2 + FMA
//   GHR_ISA_NEON    aarch64: 4 floats, Advanced SIMD
//   (none)          portable C: a "vector" of one float
// Kernels are written once against these helpers; GHR_VW is the width.
// ghr_vfma(a, b, c) is a * b + c, fused where the ISA has it.
// ghr_veven(a, b) and ghr_vodd(a, b) are the even and the odd lanes of the
// 2*GHR_VW lanes a, b: the even/odd split of a row for stride-2 kernels.
// ghr_vzip_lo(a, b) and ghr_vzip_hi(a, b) are the first and the last GHR_VW
// lanes of a0 b0 a1 b1 ..: the inverse, a row from its even and odd lanes.
#ifndef GHR_SIMD_H
#define GHR_SIMD_H

#include "ghr.h"

#if defined(GHR_ISA_AVX512)
#if !defined(__AVX512F__)
#error "generated for x86-64-v4 (AVX-512): compile with -march=x86-64-v4 or -march=native"
#endif
#include <immintrin.h>
#define GHR_VW 16
typedef __m512 ghr_vec;
GHR_INLINE ghr_vec ghr_vload(const float *p) { return _mm512_loadu_ps(p); }
GHR_INLINE void ghr_vstore(float *p, ghr_vec v) { _mm512_storeu_ps(p, v); }
GHR_INLINE ghr_vec ghr_vset1(float x) { return _mm512_set1_ps(x); }
GHR_INLINE ghr_vec ghr_vzero(void) { return _mm512_setzero_ps(); }
GHR_INLINE ghr_vec ghr_vadd(ghr_vec a, ghr_vec b) { return _mm512_add_ps(a, b); }
GHR_INLINE ghr_vec ghr_vsub(ghr_vec a, ghr_vec b) { return _mm512_sub_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmul(ghr_vec a, ghr_vec b) { return _mm512_mul_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmax(ghr_vec a, ghr_vec b) { return _mm512_max_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmin(ghr_vec a, ghr_vec b) { return _mm512_min_ps(a, b); }
GHR_INLINE ghr_vec ghr_vdiv(ghr_vec a, ghr_vec b) { return _mm512_div_ps(a, b); }
GHR_INLINE ghr_vec ghr_vfma(ghr_vec a, ghr_vec b, ghr_vec c) {
  return _mm512_fmadd_ps(a, b, c);
}
// The first n (0 < n < GHR_VW) lanes; the rest read as zero, not touched.
GHR_INLINE ghr_vec ghr_vload_n(const float *p, int n) {
  return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
GHR_INLINE void ghr_vstore_n(float *p, ghr_vec v, int n) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
GHR_INLINE float ghr_vsum(ghr_vec v) { return _mm512_reduce_add_ps(v); }
GHR_INLINE ghr_vec ghr_veven(ghr_vec a, ghr_vec b) {
  return _mm512_permutex2var_ps(
      a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
      b);
}
GHR_INLINE ghr_vec ghr_vodd(ghr_vec a, ghr_vec b) {
  return _mm512_permutex2var_ps(
      a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
      b);
}
GHR_INLINE ghr_vec ghr_vzip_lo(ghr_vec a, ghr_vec b) {
  return _mm512_permutex2var_ps(
      a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
      b);
}
GHR_INLINE ghr_vec ghr_vzip_hi(ghr_vec a, ghr_vec b) {
  return _mm512_permutex2var_ps(
      a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31),
      b);
}

#elif defined(GHR_ISA_AVX2)
#if !defined(__AVX2__) || !defined(__FMA__)
#error "generated for x86-64-v3 (AVX2, FMA): compile with -march=x86-64-v3 or -march=native"
#endif
#include <immintrin.h>
#define GHR_VW 8
typedef __m256 ghr_vec;
GHR_INLINE ghr_vec ghr_vload(const float *p) { return _mm256_loadu_ps(p); }
GHR_INLINE void ghr_vstore(float *p, ghr_vec v) { _mm256_storeu_ps(p, v); }
GHR_INLINE ghr_vec ghr_vset1(float x) { return _mm256_set1_ps(x); }
GHR_INLINE ghr_vec ghr_vzero(void) { return _mm256_setzero_ps(); }
GHR_INLINE ghr_vec ghr_vadd(ghr_vec a, ghr_vec b) { return _mm256_add_ps(a, b); }
GHR_INLINE ghr_vec ghr_vsub(ghr_vec a, ghr_vec b) { return _mm256_sub_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmul(ghr_vec a, ghr_vec b) { return _mm256_mul_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmax(ghr_vec a, ghr_vec b) { return _mm256_max_ps(a, b); }
GHR_INLINE ghr_vec ghr_vmin(ghr_vec a, ghr_vec b) { return _mm256_min_ps(a, b); }
GHR_INLINE ghr_vec ghr_vdiv(ghr_vec a, ghr_vec b) { return _mm256_div_ps(a, b); }
GHR_INLINE ghr_vec ghr_vfma(ghr_vec a, ghr_vec b, ghr_vec c) {
  return _mm256_fmadd_ps(a, b, c);
}
GHR_INLINE __m256i ghr_vmask_n(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
GHR_INLINE ghr_vec ghr_vload_n(const float *p, int n) {
  return _mm256_maskload_ps(p, ghr_vmask_n(n));
}
GHR_INLINE void ghr_vstore_n(float *p, ghr_vec v, int n) {
  _mm256_maskstore_ps(p, ghr_vmask_n(n), v);
}
GHR_INLINE float ghr_vsum(ghr_vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// a0 a2 b0 b2 | a4 a6 b4 b6 (or the odd ones), then the middle 64-bit
// halves swapped.
GHR_INLINE ghr_vec ghr_veven(ghr_vec a, ghr_vec b) {
  const __m256 mixed = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
}
GHR_INLINE ghr_vec ghr_vodd(ghr_vec a, ghr_vec b) {
  const __m256 mixed = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  return _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
}
// unpacklo/hi interleave within 128-bit halves: a0 b0 a1 b1 | a4 b4 a5 b5
// and a2 b2 a3 b3 | a6 b6 a7 b7; then the halves regrouped.
GHR_INLINE ghr_vec ghr_vzip_lo(ghr_vec a, ghr_vec b) {
  return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b),
                                _mm256_unpackhi_ps(a, b), 0x20);
}
GHR_INLINE ghr_vec ghr_vzip_hi(ghr_vec a, ghr_vec b) {
  return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b),
                                _mm256_unpackhi_ps(a, b), 0x31);
}

#elif defined(GHR_ISA_NEON)
#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "generated for aarch64 (NEON): compile with an aarch64 compiler"
#endif
#include <arm_neon.h>
#define GHR_VW 4
typedef float32x4_t ghr_vec;
GHR_INLINE ghr_vec ghr_vload(const float *p) { return vld1q_f32(p); }
GHR_INLINE void ghr_vstore(float *p, ghr_vec v) { vst1q_f32(p, v); }
GHR_INLINE ghr_vec ghr_vset1(float x) { return vdupq_n_f32(x); }
GHR_INLINE ghr_vec ghr_vzero(void) { return vdupq_n_f32(0.0f); }
GHR_INLINE ghr_vec ghr_vadd(ghr_vec a, ghr_vec b) { return vaddq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vsub(ghr_vec a, ghr_vec b) { return vsubq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vmul(ghr_vec a, ghr_vec b) { return vmulq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vmax(ghr_vec a, ghr_vec b) { return vmaxq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vmin(ghr_vec a, ghr_vec b) { return vminq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vdiv(ghr_vec a, ghr_vec b) { return vdivq_f32(a, b); }
GHR_INLINE ghr_vec ghr_vfma(ghr_vec a, ghr_vec b, ghr_vec c) {
  return vfmaq_f32(c, a, b);
}
GHR_INLINE ghr_vec ghr_vload_n(const float *p, int n) {
  float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < n; ++i) tmp[i] = p[i];
  return vld1q_f32(tmp);
}
GHR_INLINE void ghr_vstore_n(float *p, ghr_vec v, int n) {
  float tmp[4];
  vst1q_f32(tmp, v);
  for (int i = 0; i < n; ++i) p[i] = tmp[i];
}
GHR_INLINE float ghr_vsum(ghr_vec v) { return vaddvq_f32(v); }
GHR_INLINE ghr_vec ghr_veven(ghr_vec a, ghr_vec b) { return vuzp1q_f32(a, b); }
GHR_INLINE ghr_vec ghr_vodd(ghr_vec a, ghr_vec b) { return vuzp2q_f32(a, b); }
GHR_INLINE ghr_vec ghr_vzip_lo(ghr_vec a, ghr_vec b) { return vzip1q_f32(a, b); }
GHR_INLINE ghr_vec ghr_vzip_hi(ghr_vec a, ghr_vec b) { return vzip2q_f32(a, b); }

#else
#define GHR_VW 1
typedef float ghr_vec;
GHR_INLINE ghr_vec ghr_vload(const float *p) { return *p; }
GHR_INLINE void ghr_vstore(float *p, ghr_vec v) { *p = v; }
GHR_INLINE ghr_vec ghr_vset1(float x) { return x; }
GHR_INLINE ghr_vec ghr_vzero(void) { return 0.0f; }
GHR_INLINE ghr_vec ghr_vadd(ghr_vec a, ghr_vec b) { return a + b; }
GHR_INLINE ghr_vec ghr_vsub(ghr_vec a, ghr_vec b) { return a - b; }
GHR_INLINE ghr_vec ghr_vmul(ghr_vec a, ghr_vec b) { return a * b; }
GHR_INLINE ghr_vec ghr_vmax(ghr_vec a, ghr_vec b) { return a > b ? a : b; }
GHR_INLINE ghr_vec ghr_vmin(ghr_vec a, ghr_vec b) { return a < b ? a : b; }
GHR_INLINE ghr_vec ghr_vdiv(ghr_vec a, ghr_vec b) { return a / b; }
// Not fmaf: without hardware FMA that is a slow libm call.
GHR_INLINE ghr_vec ghr_vfma(ghr_vec a, ghr_vec b, ghr_vec c) {
  return a * b + c;
}
// With one lane, n is always 0 here; kept so kernels need no #if.
GHR_INLINE ghr_vec ghr_vload_n(const float *p, int n) {
  return n > 0 ? *p : 0.0f;
}
GHR_INLINE void ghr_vstore_n(float *p, ghr_vec v, int n) {
  if (n > 0) *p = v;
}
GHR_INLINE float ghr_vsum(ghr_vec v) { return v; }
GHR_INLINE ghr_vec ghr_veven(ghr_vec a, ghr_vec b) { (void)b; return a; }
GHR_INLINE ghr_vec ghr_vodd(ghr_vec a, ghr_vec b) { (void)a; return b; }
GHR_INLINE ghr_vec ghr_vzip_lo(ghr_vec a, ghr_vec b) { (void)b; return a; }
GHR_INLINE ghr_vec ghr_vzip_hi(ghr_vec a, ghr_vec b) { (void)a; return b; }
#endif

// act(v) for the GHR_ACT_* codes (ghr.h), lane by lane.
GHR_INLINE ghr_vec ghr_vactivate(ghr_vec v, int act) {
  const ghr_vec zero = ghr_vzero(), six = ghr_vset1(6.0f);
  switch (act) {
  case GHR_ACT_RELU: return ghr_vmax(v, zero);
  case GHR_ACT_RELU6: return ghr_vmin(ghr_vmax(v, zero), six);
  case GHR_ACT_HARD_SIGMOID:
    return ghr_vmul(ghr_vmin(ghr_vmax(ghr_vadd(v, ghr_vset1(3.0f)), zero), six),
                    ghr_vset1(1.0f / 6.0f));
  case GHR_ACT_HARD_SWISH:
    return ghr_vmul(
        v, ghr_vmul(ghr_vmin(ghr_vmax(ghr_vadd(v, ghr_vset1(3.0f)), zero), six),
                    ghr_vset1(1.0f / 6.0f)));
  default: return v;
  }
}

#endif
