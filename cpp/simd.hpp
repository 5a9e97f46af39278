// Per-target vector of doubles: the only place that names intrinsics.
//
// Each kernel translation unit is compiled once per SIMD target with FASTMSE_TARGET set to
// scalar, avx2, avx512 or neon and with that target's compiler flags. This header then defines
// `Vec` for that target. float32 data is widened to double on load and narrowed on store, so
// every kernel computes and accumulates in double whatever the storage type.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

#define FASTMSE_SCALAR 1
#define FASTMSE_AVX2 2
#define FASTMSE_AVX512 3
#define FASTMSE_NEON 4

#define FASTMSE_CONCAT_(a, b) a##b
#define FASTMSE_CONCAT(a, b) FASTMSE_CONCAT_(a, b)
#define FASTMSE_TARGET_ID FASTMSE_CONCAT(FASTMSE_TARGET_ID_, FASTMSE_TARGET)
#define FASTMSE_TARGET_ID_scalar FASTMSE_SCALAR
#define FASTMSE_TARGET_ID_avx2 FASTMSE_AVX2
#define FASTMSE_TARGET_ID_avx512 FASTMSE_AVX512
#define FASTMSE_TARGET_ID_neon FASTMSE_NEON

#if FASTMSE_TARGET_ID == FASTMSE_AVX2 || FASTMSE_TARGET_ID == FASTMSE_AVX512
#include <immintrin.h>
#elif FASTMSE_TARGET_ID == FASTMSE_NEON
#include <arm_neon.h>
#endif

namespace fastmse {
namespace FASTMSE_TARGET {

#if FASTMSE_TARGET_ID == FASTMSE_AVX2 || FASTMSE_TARGET_ID == FASTMSE_AVX512
// Writes the lane sums of four 4-lane vectors, each as (lane 0 + lane 2) + (lane 1 + lane 3),
// the tree of Vec::sum: halves are paired across vectors, so one horizontal add finishes all
// four.
inline void store_sums4(__m256d a, __m256d b, __m256d c, __m256d d, double* out) {
    const __m256d ab =
        _mm256_add_pd(_mm256_permute2f128_pd(a, b, 0x20), _mm256_permute2f128_pd(a, b, 0x31));
    const __m256d cd =
        _mm256_add_pd(_mm256_permute2f128_pd(c, d, 0x20), _mm256_permute2f128_pd(c, d, 0x31));
    // hadd gives (a, c, b, d); the permute puts them in order.
    _mm256_storeu_pd(out, _mm256_permute4x64_pd(_mm256_hadd_pd(ab, cd), 0xd8));
}
#endif

#if FASTMSE_TARGET_ID == FASTMSE_AVX512

struct Vec {
    using V = __m512d;
    static constexpr int kLanes = 8;

    static __mmask8 first(int n) { return static_cast<__mmask8>((1u << n) - 1u); }

    static V zero() { return _mm512_setzero_pd(); }
    static V set(double x) { return _mm512_set1_pd(x); }
    static V load(const double* p) { return _mm512_loadu_pd(p); }
    static V load(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
    // Lanes n and above read as zero; masked loads never touch memory past the end.
    static V load_first(const double* p, int n) { return _mm512_maskz_loadu_pd(first(n), p); }
    static V load_first(const float* p, int n) {
        return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(first(n), p));
    }
    static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
    static void store_first(double* p, V v, int n) { _mm512_mask_storeu_pd(p, first(n), v); }
    static void store_first(float* p, V v, int n) {
        _mm256_mask_storeu_ps(p, first(n), _mm512_cvtpd_ps(v));
    }
    // Non-temporal stores bypass the caches; p must be aligned to the stored width.
    static void stream(double* p, V v) { _mm512_stream_pd(p, v); }
    static void stream(float* p, V v) { _mm256_stream_ps(p, _mm512_cvtpd_ps(v)); }
    static void stream_fence() { _mm_sfence(); }
    static V add(V a, V b) { return _mm512_add_pd(a, b); }
    static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
    // a - b as a * 1 - b: the same single rounding, on the multiply-add units, which are
    // less busy than the add units in these loops, above all where float32 loads are
    // widened (see HalfVec).
    static V difference(V a, V b) { return _mm512_fmsub_pd(a, _mm512_set1_pd(1.0), b); }
    static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
    static V mul_add(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    static V abs(V a) { return _mm512_abs_pd(a); }
    // The smaller and larger of a bound and x; NaN when x is NaN (the x86 rule: a NaN in
    // either operand returns the second one).
    static V min(V bound, V x) { return _mm512_min_pd(bound, x); }
    static V max(V bound, V x) { return _mm512_max_pd(bound, x); }
    // Whether any lane of v is zero, subnormal or infinite: out of the normal range.
    static bool any_out_of_range(V v) { return _mm512_fpclass_pd_mask(v, kOutOfRange) != 0; }
    // a, except fallback in the lanes where test is out of the normal range and fallback
    // is finite.
    static V fall_back(V test, V a, V fallback) {
        const __mmask8 use = _mm512_fpclass_pd_mask(test, kOutOfRange) &
                             ~_mm512_fpclass_pd_mask(fallback, kNotFinite);
        return _mm512_mask_blend_pd(use, a, fallback);
    }
    // vfpclasspd categories: +-0, subnormal and +-inf; and NaN and +-inf.
    static constexpr int kOutOfRange = 0x02 | 0x04 | 0x20 | 0x08 | 0x10;
    static constexpr int kNotFinite = 0x01 | 0x80 | 0x08 | 0x10;
    // A fixed tree, so the lane order of the sum never depends on the compiler.
    static double sum(V v) {
        __m256d quad = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
        __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(quad), _mm256_extractf128_pd(quad, 1));
        return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
    }
    // The smallest lane; which lane wins among NaNs is unspecified.
    static double lowest(V v) { return _mm512_reduce_min_pd(v); }
    // Makes the compiler keep v in a register. Without it, GCC folds the load of a value
    // that several instructions use into each of them, so the value is read once per use.
    static void keep(V& v) { asm("" : "+v"(v)); }
    // sum(a), sum(b), sum(c), sum(d) with the same tree as sum, in fewer instructions.
    static void sum4(V a, V b, V c, V d, double* out) {
        auto quad = [](V v) {
            return _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
        };
        store_sums4(quad(a), quad(b), quad(c), quad(d), out);
    }
};

// Half a vector, four doubles. AMD Zen 4 executes each 512-bit instruction as two 256-bit
// halves, but widens eight float32 values to double at half the rate of two 256-bit
// conversions of four. On that CPU (see split_conversions in kernels.hpp) the float32 sums
// convert, subtract and accumulate four lanes at a time and join the halves at the end of a
// leaf, which gives the same bits as full vectors.
struct HalfVec {
    using V = __m256d;

    static V zero() { return _mm256_setzero_pd(); }
    static V set(double x) { return _mm256_set1_pd(x); }
    static V load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
    static V difference(V a, V b) { return _mm256_fmsub_pd(a, _mm256_set1_pd(1.0), b); }
    static V add(V a, V b) { return _mm256_add_pd(a, b); }
    static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
    static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    static V mul_add(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static V abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
    // As Vec::min: NaN when x is NaN.
    static V min(V bound, V x) { return _mm256_min_pd(bound, x); }
    // The vector whose lanes 0 to 3 are low's and 4 to 7 are high's.
    static Vec::V join(V low, V high) {
        return _mm512_insertf64x4(_mm512_castpd256_pd512(low), high, 1);
    }
};

#elif FASTMSE_TARGET_ID == FASTMSE_AVX2

struct Vec {
    using V = __m256d;
    static constexpr int kLanes = 4;

    static __m256i first64(int n) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
    }
    static __m128i first32(int n) {
        return _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
    }

    static V zero() { return _mm256_setzero_pd(); }
    static V set(double x) { return _mm256_set1_pd(x); }
    static V load(const double* p) { return _mm256_loadu_pd(p); }
    static V load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
    static V load_first(const double* p, int n) { return _mm256_maskload_pd(p, first64(n)); }
    static V load_first(const float* p, int n) {
        return _mm256_cvtps_pd(_mm_maskload_ps(p, first32(n)));
    }
    static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
    static void store(float* p, V v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
    static void store_first(double* p, V v, int n) { _mm256_maskstore_pd(p, first64(n), v); }
    static void store_first(float* p, V v, int n) {
        _mm_maskstore_ps(p, first32(n), _mm256_cvtpd_ps(v));
    }
    static void stream(double* p, V v) { _mm256_stream_pd(p, v); }
    static void stream(float* p, V v) { _mm_stream_ps(p, _mm256_cvtpd_ps(v)); }
    static void stream_fence() { _mm_sfence(); }
    static V add(V a, V b) { return _mm256_add_pd(a, b); }
    static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
    // a - b on the multiply-add units, as in the AVX-512 Vec.
    static V difference(V a, V b) { return _mm256_fmsub_pd(a, _mm256_set1_pd(1.0), b); }
    static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    static V mul_add(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static V abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
    static V min(V bound, V x) { return _mm256_min_pd(bound, x); }
    static V max(V bound, V x) { return _mm256_max_pd(bound, x); }
    static V out_of_range(V v) {
        const V magnitude = abs(v);
        return _mm256_or_pd(_mm256_cmp_pd(magnitude, _mm256_set1_pd(DBL_MIN), _CMP_LT_OQ),
                            _mm256_cmp_pd(magnitude, _mm256_set1_pd(HUGE_VAL), _CMP_EQ_OQ));
    }
    static bool any_out_of_range(V v) { return _mm256_movemask_pd(out_of_range(v)) != 0; }
    static V fall_back(V test, V a, V fallback) {
        const V finite = _mm256_cmp_pd(abs(fallback), _mm256_set1_pd(HUGE_VAL), _CMP_LT_OQ);
        return _mm256_blendv_pd(a, fallback, _mm256_and_pd(out_of_range(test), finite));
    }
    static double sum(V v) {
        __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
    }
    static void keep(V& v) { asm("" : "+v"(v)); }
    static double lowest(V v) {
        __m128d pair = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_min_sd(pair, _mm_unpackhi_pd(pair, pair)));
    }
    static void sum4(V a, V b, V c, V d, double* out) { store_sums4(a, b, c, d, out); }
};

#elif FASTMSE_TARGET_ID == FASTMSE_NEON

// NOTE: tested by scripts/check_arm64.sh under qemu's arm64 emulation, not yet on arm64
// hardware, and the Python package has not been built on arm64.
struct Vec {
    using V = float64x2_t;
    static constexpr int kLanes = 2;

    static V zero() { return vdupq_n_f64(0.0); }
    static V set(double x) { return vdupq_n_f64(x); }
    static V load(const double* p) { return vld1q_f64(p); }
    static V load(const float* p) { return vcvt_f64_f32(vld1_f32(p)); }
    // With two lanes, a partial vector contains exactly one element.
    static V load_first(const double* p, int) { return vsetq_lane_f64(p[0], zero(), 0); }
    static V load_first(const float* p, int) {
        return vsetq_lane_f64(static_cast<double>(p[0]), zero(), 0);
    }
    static void store(double* p, V v) { vst1q_f64(p, v); }
    static void store(float* p, V v) { vst1_f32(p, vcvt_f32_f64(v)); }
    static void store_first(double* p, V v, int) { p[0] = vgetq_lane_f64(v, 0); }
    static void store_first(float* p, V v, int) { p[0] = static_cast<float>(vgetq_lane_f64(v, 0)); }
    static void stream(double* p, V v) { store(p, v); }
    static void stream(float* p, V v) { store(p, v); }
    static void stream_fence() {}
    static V add(V a, V b) { return vaddq_f64(a, b); }
    static V sub(V a, V b) { return vsubq_f64(a, b); }
    static V difference(V a, V b) { return sub(a, b); }
    static V mul(V a, V b) { return vmulq_f64(a, b); }
    static V mul_add(V a, V b, V c) { return vfmaq_f64(c, a, b); }
    static V abs(V a) { return vabsq_f64(a); }
    // NEON's min and max return NaN when either operand is NaN.
    static V min(V bound, V x) { return vminq_f64(bound, x); }
    static V max(V bound, V x) { return vmaxq_f64(bound, x); }
    static uint64x2_t out_of_range(V v) {
        const V magnitude = vabsq_f64(v);
        return vorrq_u64(vcltq_f64(magnitude, vdupq_n_f64(DBL_MIN)),
                         vceqq_f64(magnitude, vdupq_n_f64(HUGE_VAL)));
    }
    static bool any_out_of_range(V v) {
        const uint64x2_t lanes = out_of_range(v);
        return (vgetq_lane_u64(lanes, 0) | vgetq_lane_u64(lanes, 1)) != 0;
    }
    static V fall_back(V test, V a, V fallback) {
        const uint64x2_t finite = vcltq_f64(vabsq_f64(fallback), vdupq_n_f64(HUGE_VAL));
        return vbslq_f64(vandq_u64(out_of_range(test), finite), fallback, a);
    }
    static double sum(V v) { return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1); }
    static double lowest(V v) { return vminvq_f64(v); }
    static void keep(V&) {}
    static void sum4(V a, V b, V c, V d, double* out) {
        out[0] = sum(a), out[1] = sum(b), out[2] = sum(c), out[3] = sum(d);
    }
};

#else

// Plain C++ for any CPU. The compiler may still use the baseline vector unit (SSE2 on
// x86-64), but never reorders the sums, so results match a strict reading of the code.
struct Vec {
    using V = double;
    static constexpr int kLanes = 1;

    static V zero() { return 0.0; }
    static V set(double x) { return x; }
    static V load(const double* p) { return *p; }
    static V load(const float* p) { return static_cast<double>(*p); }
    static V load_first(const double* p, int) { return *p; }
    static V load_first(const float* p, int) { return static_cast<double>(*p); }
    static void store(double* p, V v) { *p = v; }
    static void store(float* p, V v) { *p = static_cast<float>(v); }
    static void store_first(double* p, V v, int) { *p = v; }
    static void store_first(float* p, V v, int) { *p = static_cast<float>(v); }
    static void stream(double* p, V v) { *p = v; }
    static void stream(float* p, V v) { *p = static_cast<float>(v); }
    static void stream_fence() {}
    static V add(V a, V b) { return a + b; }
    static V sub(V a, V b) { return a - b; }
    static V difference(V a, V b) { return a - b; }
    static V mul(V a, V b) { return a * b; }
    // No hardware FMA on the baseline: two roundings, the same on every x86-64 CPU.
    static V mul_add(V a, V b, V c) { return a * b + c; }
    static V abs(V a) { return std::fabs(a); }
    // Written out, not std::min, so that a NaN x is returned as on x86.
    static V min(V bound, V x) { return bound < x ? bound : x; }
    static V max(V bound, V x) { return bound > x ? bound : x; }
    static bool any_out_of_range(V v) { return std::fabs(v) < DBL_MIN || std::isinf(v); }
    static V fall_back(V test, V a, V fallback) {
        return any_out_of_range(test) && std::isfinite(fallback) ? fallback : a;
    }
    static double sum(V v) { return v; }
    static double lowest(V v) { return v; }
    static void keep(V&) {}
    static void sum4(V a, V b, V c, V d, double* out) {
        out[0] = a, out[1] = b, out[2] = c, out[3] = d;
    }
};

#endif

}  // namespace FASTMSE_TARGET
}  // namespace fastmse
