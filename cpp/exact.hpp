// Sums of squared errors that do not depend on how the data is split: the kernel behind
// MSEAccumulator, whose parts may be summed on different machines and merged in any order.
//
// Numerical note.
// - Each term is rounded once per product, with no fused multiply-add: d = y_pred - y_true
//   (exact for float32 data), then d * d, or (w * d) * d with weights. So a term's value
//   depends on its element alone, on every target.
// - Terms add up in double-double (Knuth's two-sum per lane), so a sum of n terms is off
//   by about n * 2**-106 of itself: for any n below 2**40 that is far below half a unit in
//   the last place of float64. Parts summed this way and added exactly (math.fsum) thus
//   round to the same float64 however the data was split, except when the exact sum lies
//   within that error of a rounding boundary, where they may differ by one unit.
#pragma once

#include <cstdint>

#include "kernels.hpp"
#include "simd.hpp"

namespace fastmse {
namespace FASTMSE_TARGET {

namespace exact_detail {

using V = Vec::V;
constexpr int kLanes = Vec::kLanes;

// sum + error += x, lane by lane, with the rounding error of each addition kept in error.
struct TwoSum {
    V sum = Vec::zero(), error = Vec::zero();

    inline __attribute__((always_inline)) void add(V x) {
        const V total = Vec::add(sum, x);
        const V virtual_x = Vec::sub(total, sum);
        const V lost = Vec::add(Vec::sub(sum, Vec::sub(total, virtual_x)), Vec::sub(x, virtual_x));
        sum = total;
        error = Vec::add(error, lost);
    }

    // Adds the lanes into hi + lo in lane order.
    void add_lanes_to(double& hi, double& lo) const {
        alignas(64) double sums[kLanes], errors[kLanes];
        Vec::store(sums, sum);
        Vec::store(errors, error);
        for (int lane = 0; lane < kLanes; ++lane) {
            add_double_double(hi, lo, sums[lane], errors[lane]);
        }
    }
};

template <class T>
inline __attribute__((always_inline)) V load_part(const T* p, int64_t i, int count) {
    return count == kLanes ? Vec::load(p + i) : Vec::load_first(p + i, count);
}

// Two sums per kind alternate between vectors, so that consecutive additions do not wait
// on each other.
template <class T, bool kWeighted>
ExactSums reduce_exact_with(const T* y_true, const T* y_pred, const T* weights, int64_t n) {
    TwoSum squares[2], weight_sums[2];
    for (int64_t i = 0; i < n; i += kLanes) {
        const int count = static_cast<int>(n - i < kLanes ? n - i : kLanes);
        const int k = static_cast<int>((i / kLanes) & 1);
        const V d = Vec::sub(load_part(y_pred, i, count), load_part(y_true, i, count));
        if constexpr (kWeighted) {
            const V w = load_part(weights, i, count);
            squares[k].add(Vec::mul(Vec::mul(w, d), d));
            weight_sums[k].add(w);
        } else {
            squares[k].add(Vec::mul(d, d));
        }
    }

    ExactSums result{0.0, 0.0, 0.0, 0.0};
    for (int k = 0; k < 2; ++k) {
        squares[k].add_lanes_to(result.squares_hi, result.squares_lo);
        weight_sums[k].add_lanes_to(result.weights_hi, result.weights_lo);
    }
    return result;
}

}  // namespace exact_detail

// The sums of one chunk of at most kChunk elements; weights may be null.
template <class T>
ExactSums reduce_exact(const T* y_true, const T* y_pred, const T* weights, int64_t n) noexcept {
    using namespace exact_detail;
    if (weights) return reduce_exact_with<T, true>(y_true, y_pred, weights, n);
    return reduce_exact_with<T, false>(y_true, y_pred, nullptr, n);
}

}  // namespace FASTMSE_TARGET
}  // namespace fastmse
