// MSE kernels, written once and compiled once per SIMD target (see simd.hpp).
//
// The family: the squared loss (MSE), the absolute loss (MAE) and Huber's loss, as sums and
// as elementwise losses and gradients.
//
// Numerical note.
// - Every difference, square and product is computed in double, for float32 storage too, and
//   y_pred - y_true is squared with one fused multiply-add where the target has FMA.
// - A leaf of kLeaf elements is summed by kAccumulators vectors, lane by lane, so each lane
//   adds 16 terms in sequence (NumPy's pairwise sum adds 16 per accumulator too). The
//   accumulators of a leaf add up in a tree, the leaves of a chunk combine pairwise lane by
//   lane, the lanes add up once per chunk, and chunks combine pairwise. The relative error
//   of a sum of n losses is thus at most about (16 + log2(n / 16) + 2) * 2**-53, plus the
//   rounding of each loss. Since all terms are non-negative, that is below 1e-14 for n up
//   to 2**60.
// - The order of every addition depends on n alone: not on alignment, strides or threads.
// - A partial vector at the end of a leaf is loaded with the missing lanes set to zero, which
//   adds exact zeros. Weights get the same treatment, so padding never counts as weight.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels.hpp"
#include "simd.hpp"

namespace fastmse {
namespace FASTMSE_TARGET {

constexpr int kLanes = Vec::kLanes;
// At least 4 vectors in flight hide the add latency; at least 16 lanes keep each lane's
// sequential run at 16 terms per leaf.
constexpr int kAccumulators = kLanes >= 4 ? 4 : 16 / kLanes;
constexpr int kStride = kLanes * kAccumulators;
constexpr int64_t kLeaf = 16 * kStride;
static_assert(kChunk % kLeaf == 0, "a chunk must hold whole leaves");

using V = Vec::V;

// The kernels' inner functions and lambdas must inline into their loops: a call would force
// the accumulators out of registers. GCC's own limits stop short of that in the largest
// kernels (reduce_pieces), so inlining is forced.
#define FASTMSE_INLINE inline __attribute__((always_inline))
#define FASTMSE_INLINE_LAMBDA __attribute__((always_inline))

// The three sums of a reduction, one per lane (see Sums): the sum of the losses, the sum of
// the weights and the smallest of 0 and the weights.
struct LaneSums {
    V squares, weights, min_weight;

    Sums total() const { return {Vec::sum(squares), Vec::sum(weights), Vec::lowest(min_weight)}; }
};

inline LaneSums operator+(const LaneSums& a, const LaneSums& b) {
    return {Vec::add(a.squares, b.squares), Vec::add(a.weights, b.weights),
            Vec::min(a.min_weight, b.min_weight)};
}

// Accumulators for one leaf. Keeping the smallest weight costs one instruction per vector;
// a sum of |w| - w, which would also catch NaN and infinite weights, costs three. On AMD
// Zen 4 the float32 weighted sums are 17% faster with the smallest weight.
struct LeafSums {
    V squares[kAccumulators];
    V weights[kAccumulators];
    V min_weight[kAccumulators];

    LeafSums() {
        for (int k = 0; k < kAccumulators; ++k) {
            squares[k] = weights[k] = min_weight[k] = Vec::zero();
        }
    }

    struct Add {
        FASTMSE_INLINE V operator()(V a, V b) const { return Vec::add(a, b); }
    };
    struct Min {
        FASTMSE_INLINE V operator()(V a, V b) const { return Vec::min(a, b); }
    };

    // Joins the accumulators in a fixed tree, with `join` (by default, addition).
    template <class Join = Add>
    FASTMSE_INLINE static V tree(const V* acc, Join join = {}) {
        V level[kAccumulators];
        for (int k = 0; k < kAccumulators; ++k) level[k] = acc[k];
        for (int width = kAccumulators / 2; width >= 1; width /= 2) {
            for (int k = 0; k < width; ++k) level[k] = join(level[2 * k], level[2 * k + 1]);
        }
        return level[0];
    }

    FASTMSE_INLINE LaneSums total() const {
        return {tree(squares), tree(weights), tree(min_weight, Min{})};
    }
};

// Loads lanes [i, i + count) of p, where count < kLanes marks the partial vector at the end.
template <class T>
FASTMSE_INLINE V load(const T* p, int64_t i, int count) {
    return count == kLanes ? Vec::load(p + i) : Vec::load_first(p + i, count);
}

template <bool kStream, class T>
FASTMSE_INLINE void store(T* p, int64_t i, V v, int count) {
    if (count != kLanes) {
        Vec::store_first(p + i, v, count);
    } else if constexpr (kStream) {
        Vec::stream(p + i, v);
    } else {
        Vec::store(p + i, v);
    }
}

// Calls step(accumulator, index, count) over one leaf of n <= kLeaf elements: whole rounds of
// kAccumulators vectors, then the remaining whole vectors and the partial one, each on the
// next accumulator in turn. The loops over accumulators are unrolled so that the accumulator
// index is a constant and the accumulators stay in registers.
template <class Step>
FASTMSE_INLINE void for_each_vector(int64_t n, Step step) {
    int64_t i = 0;
    for (; i + kStride <= n; i += kStride) {
#pragma GCC unroll 16
        for (int k = 0; k < kAccumulators; ++k) step(k, i + k * kLanes, kLanes);
    }

#pragma GCC unroll 16
    for (int k = 0; k < kAccumulators; ++k) {
        const int64_t j = i + k * kLanes;
        if (j < n) step(k, j, static_cast<int>(std::min<int64_t>(kLanes, n - j)));
    }
}

// The loss of differences d, for the losses other than the squared one, whose sums use a
// fused multiply-add instead (see accumulate).
// W is the vector adapter: Vec, or HalfVec for half vectors.
template <Loss kLoss, class W = Vec>
FASTMSE_INLINE typename W::V loss_of(typename W::V d, typename W::V delta) {
    if constexpr (kLoss == Loss::squared) {
        return W::mul(d, d);
    } else if constexpr (kLoss == Loss::absolute) {
        return W::abs(d);
    } else {
        // With q = min(|d|, delta), q * (|d| - q / 2) is d**2 / 2 inside and
        // delta * (|d| - delta / 2) outside, without a branch.
        const typename W::V a = W::abs(d);
        const typename W::V q = W::min(delta, a);
        return W::mul(q, W::sub(a, W::mul(W::set(0.5), q)));
    }
}

// The slope of the loss at d, without the squared loss's factor 2.
template <Loss kLoss>
FASTMSE_INLINE V slope_of(V d, V delta) {
    if constexpr (kLoss == Loss::squared) {
        return d;
    } else if constexpr (kLoss == Loss::absolute) {
        // sign(d): any non-zero d, even the smallest subnormal, times 2**1100 is beyond +-1,
        // so clipping gives +-1, and 0 stays 0. NaN stays NaN (see Vec::min).
        V huge = Vec::mul(Vec::mul(d, Vec::set(0x1p1000)), Vec::set(0x1p100));
        return Vec::max(Vec::set(-1.0), Vec::min(Vec::set(1.0), huge));
    } else {
        return Vec::max(Vec::sub(Vec::zero(), delta), Vec::min(delta, d));
    }
}

// Adds w * loss(d) to acc. The squared loss squares with one rounding, in a fused
// multiply-add where the target has FMA.
template <Loss kLoss, bool kWeighted, class W = Vec>
FASTMSE_INLINE typename W::V accumulate(typename W::V acc, typename W::V d, typename W::V weight,
                                        typename W::V delta) {
    if constexpr (kLoss == Loss::squared) {
        return W::mul_add(kWeighted ? W::mul(weight, d) : d, d, acc);
    } else if constexpr (kWeighted) {
        return W::mul_add(weight, loss_of<kLoss, W>(d, delta), acc);
    } else {
        return W::add(acc, loss_of<kLoss, W>(d, delta));
    }
}

// Adds the terms of one vector (or half vector) of differences d and weights to the three
// accumulators of a reduction: w * loss(d), w, and w to the smallest weight.
template <Loss kLoss, bool kWeighted, class W = Vec>
FASTMSE_INLINE void add_terms(typename W::V& squares, typename W::V& weights,
                              typename W::V& min_weight, typename W::V d, typename W::V weight,
                              typename W::V delta) {
    squares = accumulate<kLoss, kWeighted, W>(squares, d, weight, delta);
    if constexpr (kWeighted) {
        weights = W::add(weights, weight);
        min_weight = W::min(min_weight, weight);
    }
}

// Whether reduce_leaf can prefetch its inputs, and how far ahead, in bytes. Data beyond the
// L1 cache arrive late for the AVX2 and AVX-512 loops. Where the data sat in the L2 or L3
// cache, prefetching made sums 5% to 21% faster on the 2-core AMD Zen 5 and Intel Xeon
// development machines, on one and two threads, for both float types, weighted or not.
// From main memory it was often slower, so the driver requests it only inside a window of
// sizes (PrefetchWindow in dispatch.hpp). The float32 loop with HalfVec, the scalar and the
// NEON loops do not prefetch: they were not measured.
constexpr bool kCanPrefetch = FASTMSE_TARGET_ID == FASTMSE_AVX512 ||
                              FASTMSE_TARGET_ID == FASTMSE_AVX2;
constexpr int64_t kPrefetchBytes = 1024;

// Prefetches into L1 the data kPrefetchBytes ahead of vector k of a round, once per 64
// bytes of input (for AVX-512 float32, at vectors 0 and 2).
template <bool kPrefetch, class T>
FASTMSE_INLINE void prefetch_ahead(const T* p, int k, int64_t i) {
    if constexpr (kPrefetch) {
        if (k * kLanes * sizeof(T) % 64 == 0) {
            __builtin_prefetch(p + i + kPrefetchBytes / sizeof(T), 0, 3);
        }
    }
}

template <class T, Loss kLoss, bool kWeighted, bool kPrefetch = false>
FASTMSE_INLINE LaneSums reduce_leaf(const T* y_true, const T* y_pred, const T* w, double delta,
                                    int64_t n) {
    LeafSums acc;
    const V bound = Vec::set(delta);
    for_each_vector(n, [&](int k, int64_t i, int count) {
        prefetch_ahead<kPrefetch>(y_pred, k, i);
        prefetch_ahead<kPrefetch>(y_true, k, i);
        if constexpr (kWeighted) prefetch_ahead<kPrefetch>(w, k, i);
        V d = Vec::difference(load(y_pred, i, count), load(y_true, i, count));
        V weight = kWeighted ? load(w, i, count) : Vec::zero();
        if constexpr (kWeighted) Vec::keep(weight);
        add_terms<kLoss, kWeighted>(acc.squares[k], acc.weights[k], acc.min_weight[k], d, weight,
                                    bound);
    });
    return acc.total();
}

// sum_leaves for unweighted sums, whose weight sums are zero: the pairwise sum keeps the
// lane sums of the losses alone. leaf(i, count) returns them for one leaf.
template <class Leaf>
FASTMSE_INLINE Sums sum_unweighted_leaves(int64_t n, Leaf leaf) {
    // A class around the vector: a vector type loses its attributes as a template argument.
    struct Losses {
        V lanes;
        Losses operator+(const Losses& other) const { return {Vec::add(lanes, other.lanes)}; }
    };
    PairwiseSum<Losses> chunk;
    for (int64_t i = 0; i < n; i += kLeaf) chunk.add({leaf(i, std::min(kLeaf, n - i))});
    return {Vec::sum(chunk.total().lanes), 0.0, 0.0};
}

#if FASTMSE_TARGET_ID == FASTMSE_AVX512
constexpr bool kHasHalfVec = true;

// reduce_leaf for float32 data with HalfVec: accumulator k of each sum is kept as its low
// and high halves, and each whole vector is converted, subtracted and summed half by half.
// Every lane adds the same terms in the same order as in reduce_leaf and the halves are
// joined before the tree, so the sums are bit-identical to its sums. The partial vector at
// the end, if any, is the last term of its accumulator and is added after the join, with
// full vectors.
template <Loss kLoss, bool kWeighted>
FASTMSE_INLINE LaneSums reduce_leaf_in_halves(const float* y_true, const float* y_pred,
                                              const float* w, double delta, int64_t n) {
    using H = HalfVec;
    constexpr int kHalf = kLanes / 2;
    H::V squares[2][kAccumulators], weights[2][kAccumulators], min_weight[2][kAccumulators];
    for (int half = 0; half < 2; ++half) {
        for (int k = 0; k < kAccumulators; ++k) {
            squares[half][k] = weights[half][k] = min_weight[half][k] = H::zero();
        }
    }
    const H::V bound = H::set(delta);
    int partial_k = 0, partial_count = 0;
    int64_t partial_i = 0;
    for_each_vector(n, [&](int k, int64_t i, int count) {
        if (count < kLanes) {
            partial_k = k, partial_i = i, partial_count = count;
            return;
        }
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const int64_t j = i + half * kHalf;
            H::V d = H::difference(H::load(y_pred + j), H::load(y_true + j));
            H::V weight = kWeighted ? H::load(w + j) : H::zero();
            add_terms<kLoss, kWeighted, H>(squares[half][k], weights[half][k], min_weight[half][k],
                                           d, weight, bound);
        }
    });

    LeafSums acc;
    for (int k = 0; k < kAccumulators; ++k) {
        acc.squares[k] = H::join(squares[0][k], squares[1][k]);
        if constexpr (kWeighted) {
            acc.weights[k] = H::join(weights[0][k], weights[1][k]);
            acc.min_weight[k] = H::join(min_weight[0][k], min_weight[1][k]);
        }
    }
    if (partial_count > 0) {
        V d = Vec::difference(load(y_pred, partial_i, partial_count),
                              load(y_true, partial_i, partial_count));
        V weight = kWeighted ? load(w, partial_i, partial_count) : Vec::zero();
        add_terms<kLoss, kWeighted>(acc.squares[partial_k], acc.weights[partial_k],
                                    acc.min_weight[partial_k], d, weight, Vec::set(delta));
    }
    return acc.total();
}

#else
constexpr bool kHasHalfVec = false;
// Declared for reduce_loss, which calls it only where kHasHalfVec is true.
template <Loss kLoss, bool kWeighted>
LaneSums reduce_leaf_in_halves(const float* y_true, const float* y_pred, const float* w,
                               double delta, int64_t n);
#endif

template <class T>
FASTMSE_INLINE LaneSums sum_weights_leaf(const T* w, int64_t n) {
    LeafSums acc;
    for_each_vector(n, [&](int k, int64_t i, int count) {
        V weight = load(w, i, count);
        Vec::keep(weight);
        acc.weights[k] = Vec::add(acc.weights[k], weight);
        acc.min_weight[k] = Vec::min(acc.min_weight[k], weight);
    });
    return acc.total();
}

// The sums repeat reduce_leaf's operations in the same order, so the loss that a
// value-and-gradient call returns is bit-identical to the reduction's.
template <class T, MapOp kOp, Loss kLoss, bool kWeighted, bool kStream>
FASTMSE_INLINE LaneSums map_leaf(const T* y_true, const T* y_pred, const T* w, double delta,
                                 double scale, T* out, int64_t n) {
    LeafSums acc;
    const V factor = Vec::set(scale);
    const V bound = Vec::set(delta);
    for_each_vector(n, [&](int k, int64_t i, int count) {
        V d = Vec::difference(load(y_pred, i, count), load(y_true, i, count));
        V weight = kWeighted ? load(w, i, count) : Vec::zero();
        acc.squares[k] = accumulate<kLoss, kWeighted>(acc.squares[k], d, weight, bound);
        if constexpr (kWeighted) acc.weights[k] = Vec::add(acc.weights[k], weight);

        V result;
        if constexpr (kOp == MapOp::loss) {
            result = loss_of<kLoss>(d, bound);
        } else if constexpr (kWeighted) {
            // scale * (w * slope), or (scale * w) * slope in the lanes where w * slope
            // overflows, or underflows while scale * w does not. Other lanes keep the
            // first order, since scale * w can underflow too.
            const V slope = slope_of<kLoss>(d, bound);
            const V product = Vec::mul(weight, slope);
            result = Vec::mul(factor, product);
            if (Vec::any_out_of_range(product)) {
                const V scaled_weight = Vec::mul(factor, weight);
                result = Vec::fall_back(product, result, Vec::mul(scaled_weight, slope));
                // Back to the first order where scale * w underflowed (and that is finite).
                result = Vec::fall_back(scaled_weight, result, Vec::mul(factor, product));
            }
        } else {
            result = Vec::mul(factor, slope_of<kLoss>(d, bound));
        }
        store<kStream>(out, i, result, count);
    });
    return acc.total();
}

// Sums the leaves of one chunk pairwise, lane by lane, then the lanes; leaf(i, count)
// returns the lane sums of one leaf.
template <class Leaf>
FASTMSE_INLINE Sums sum_leaves(int64_t n, Leaf leaf) {
    PairwiseSum<LaneSums> chunk;
    for (int64_t i = 0; i < n; i += kLeaf) chunk.add(leaf(i, std::min(kLeaf, n - i)));
    return chunk.total().total();
}

// Leaf policies of reduce_loss. SumLeaves adds the lane sums of one chunk's leaves pairwise.
// SumPieces does so for many chunks or rows in one call, about 2% faster at 10**6 elements
// on two threads than a call per chunk. StoreLeaves stores them for sum_stored_leaves.
struct SumLeaves {
    template <class Leaf>
    FASTMSE_INLINE Sums unweighted(int64_t n, Leaf leaf) const {
        return sum_unweighted_leaves(n, leaf);
    }
    template <class Leaf>
    FASTMSE_INLINE Sums weighted(int64_t n, Leaf leaf) const {
        return sum_leaves(n, leaf);
    }
};

struct SumPieces {
    Sums* out;
    int64_t piece;

    template <class Leaf>
    FASTMSE_INLINE Sums unweighted(int64_t n, Leaf leaf) const {
        for (int64_t begin = 0, k = 0; begin < n; begin += piece, ++k) {
            out[k] = sum_unweighted_leaves(std::min(piece, n - begin),
                                           [&](int64_t i, int64_t count) FASTMSE_INLINE_LAMBDA {
                                               return leaf(begin + i, count);
                                           });
        }
        return {};
    }
    template <class Leaf>
    FASTMSE_INLINE Sums weighted(int64_t n, Leaf leaf) const {
        for (int64_t begin = 0, k = 0; begin < n; begin += piece, ++k) {
            out[k] = sum_leaves(std::min(piece, n - begin),
                                [&](int64_t i, int64_t count)
                                    FASTMSE_INLINE_LAMBDA { return leaf(begin + i, count); });
        }
        return {};
    }
};

constexpr int64_t kLeafDoubles = 3 * kLanes;

struct StoreLeaves {
    double* out;

    static void put(double* p, const LaneSums& sums) {
        Vec::store(p, sums.squares);
        Vec::store(p + kLanes, sums.weights);
        Vec::store(p + 2 * kLanes, sums.min_weight);
    }
    template <class Leaf>
    FASTMSE_INLINE Sums unweighted(int64_t n, Leaf leaf) const {
        for (int64_t i = 0; i < n; i += kLeaf) {
            put(out + i / kLeaf * kLeafDoubles,
                {leaf(i, std::min(kLeaf, n - i)), Vec::zero(), Vec::zero()});
        }
        return {};
    }
    template <class Leaf>
    FASTMSE_INLINE Sums weighted(int64_t n, Leaf leaf) const {
        for (int64_t i = 0; i < n; i += kLeaf) {
            put(out + i / kLeaf * kLeafDoubles, leaf(i, std::min(kLeaf, n - i)));
        }
        return {};
    }
};

// reduce_loss with whole vectors, prefetching or not.
template <class T, Loss kLoss, bool kPrefetch, class Leaves>
Sums reduce_whole_vectors(const T* y_true, const T* y_pred, const T* w, double delta, int64_t n,
                          Leaves leaves) {
    if (w == nullptr) {
        return leaves.unweighted(n, [&](int64_t i, int64_t count) FASTMSE_INLINE_LAMBDA {
            return reduce_leaf<T, kLoss, false, kPrefetch>(y_true + i, y_pred + i, nullptr, delta,
                                                           count)
                .squares;
        });
    }
    return leaves.weighted(n, [&](int64_t i, int64_t count) FASTMSE_INLINE_LAMBDA {
        return reduce_leaf<T, kLoss, true, kPrefetch>(y_true + i, y_pred + i, w + i, delta,
                                                      count);
    });
}

// `prefetch` is a request that only the loops of kCanPrefetch follow; it never changes a sum.
template <class T, Loss kLoss, class Leaves>
Sums reduce_loss(const T* y_true, const T* y_pred, const T* w, double delta, int64_t n,
                 Leaves leaves, bool prefetch) {
    if constexpr (kHasHalfVec && std::is_same_v<T, float>) {
        if (split_conversions()) {
            if (w == nullptr) {
                return leaves.unweighted(n, [&](int64_t i, int64_t count) FASTMSE_INLINE_LAMBDA {
                    return reduce_leaf_in_halves<kLoss, false>(y_true + i, y_pred + i, nullptr,
                                                               delta, count)
                        .squares;
                });
            }
            return leaves.weighted(n, [&](int64_t i, int64_t count) FASTMSE_INLINE_LAMBDA {
                return reduce_leaf_in_halves<kLoss, true>(y_true + i, y_pred + i, w + i, delta,
                                                          count);
            });
        }
    }
    if constexpr (kCanPrefetch) {
        if (prefetch) {
            return reduce_whole_vectors<T, kLoss, true>(y_true, y_pred, w, delta, n, leaves);
        }
    }
    return reduce_whole_vectors<T, kLoss, false>(y_true, y_pred, w, delta, n, leaves);
}

template <class T, class Leaves>
Sums reduce_with(Loss loss, double delta, const T* y_true, const T* y_pred, const T* w, int64_t n,
                 Leaves leaves, bool prefetch) {
    switch (loss) {
        case Loss::absolute:
            return reduce_loss<T, Loss::absolute>(y_true, y_pred, w, delta, n, leaves, prefetch);
        case Loss::huber:
            return reduce_loss<T, Loss::huber>(y_true, y_pred, w, delta, n, leaves, prefetch);
        default:
            return reduce_loss<T, Loss::squared>(y_true, y_pred, w, delta, n, leaves, prefetch);
    }
}

template <class T>
Sums reduce(Loss loss, double delta, const T* y_true, const T* y_pred, const T* w,
            int64_t n) noexcept {
    return reduce_with(loss, delta, y_true, y_pred, w, n, SumLeaves{}, false);
}

template <class T>
void reduce_pieces(Loss loss, double delta, const T* y_true, const T* y_pred, const T* w, int64_t n,
                   int64_t piece, bool prefetch, Sums* out) noexcept {
    reduce_with(loss, delta, y_true, y_pred, w, n, SumPieces{out, piece}, prefetch);
}

template <class T>
void store_leaves(Loss loss, double delta, const T* y_true, const T* y_pred, const T* w, int64_t n,
                  bool prefetch, double* out) noexcept {
    reduce_with(loss, delta, y_true, y_pred, w, n, StoreLeaves{out}, prefetch);
}

// The tree of sum_leaves, over leaves that StoreLeaves stored instead of computed ones.
inline Sums sum_stored_leaves(const double* leaves, int64_t count) noexcept {
    return sum_leaves(count * kLeaf, [&](int64_t i, int64_t) FASTMSE_INLINE_LAMBDA {
        const double* p = leaves + i / kLeaf * kLeafDoubles;
        return LaneSums{Vec::load(p), Vec::load(p + kLanes), Vec::load(p + 2 * kLanes)};
    });
}

template <class T>
Sums sum_weights(const T* w, int64_t n) noexcept {
    return sum_leaves(n, [&](int64_t i, int64_t count) { return sum_weights_leaf(w + i, count); });
}

// The arguments of one map call, passed down the dispatch below unchanged.
template <class T>
struct MapArguments {
    const T* y_true;
    const T* y_pred;
    const T* weights;
    double delta;
    double scale;
    T* out;
    int64_t n;
};

template <class T, MapOp kOp, Loss kLoss, bool kWeighted, bool kStream>
Sums map_chunk(const MapArguments<T>& a) {
    Sums sums = sum_leaves(a.n, [&](int64_t i, int64_t count) {
        const T* leaf_weights = kWeighted ? a.weights + i : nullptr;
        return map_leaf<T, kOp, kLoss, kWeighted, kStream>(a.y_true + i, a.y_pred + i, leaf_weights,
                                                           a.delta, a.scale, a.out + i, count);
    });
    // Streaming stores are weakly ordered: make them visible before the caller reads out.
    if (kStream) Vec::stream_fence();
    return sums;
}

template <class T, MapOp kOp, Loss kLoss>
Sums map_with_loss(const MapArguments<T>& a, bool stream) {
    const bool weighted = a.weights != nullptr;
    if (stream) {
        return weighted ? map_chunk<T, kOp, kLoss, true, true>(a)
                        : map_chunk<T, kOp, kLoss, false, true>(a);
    }
    return weighted ? map_chunk<T, kOp, kLoss, true, false>(a)
                    : map_chunk<T, kOp, kLoss, false, false>(a);
}

template <class T, MapOp kOp>
Sums map_with_op(Loss loss, const MapArguments<T>& a, bool stream) {
    switch (loss) {
        case Loss::absolute:
            return map_with_loss<T, kOp, Loss::absolute>(a, stream);
        case Loss::huber:
            return map_with_loss<T, kOp, Loss::huber>(a, stream);
        default:
            return map_with_loss<T, kOp, Loss::squared>(a, stream);
    }
}

template <class T>
Sums map(MapOp op, Loss loss, double delta, const T* y_true, const T* y_pred, const T* w,
         double scale, T* out, int64_t n, bool stream) noexcept {
    const MapArguments<T> arguments{y_true, y_pred, w, delta, scale, out, n};
    if (op == MapOp::loss) return map_with_op<T, MapOp::loss>(loss, arguments, stream);
    return map_with_op<T, MapOp::gradient>(loss, arguments, stream);
}

#if FASTMSE_TARGET_ID == FASTMSE_AVX512
// stream_sum of float32 data with HalfVec loads, for the CPUs where the kernels use them.
inline double stream_sum_in_halves(const float* a, const float* b, int64_t n) {
    using H = HalfVec;
    constexpr int kHalf = kLanes / 2;
    H::V acc[2 * kAccumulators];
    for (int k = 0; k < 2 * kAccumulators; ++k) acc[k] = H::zero();
    int64_t i = 0;
    for (; i + kStride <= n; i += kStride) {
        for (int k = 0; k < 2 * kAccumulators; ++k) {
            int64_t j = i + k * kHalf;
            acc[k] = H::add(acc[k], H::add(H::load(a + j), H::load(b + j)));
        }
    }

    V joined[kAccumulators];
    for (int k = 0; k < kAccumulators; ++k) joined[k] = H::join(acc[2 * k], acc[2 * k + 1]);
    double total = Vec::sum(LeafSums::tree(joined));
    for (; i < n; ++i) total += static_cast<double>(a[i]) + static_cast<double>(b[i]);
    return total;
}
#endif

template <class T>
double stream_sum(const T* a, const T* b, int64_t n) noexcept {
#if FASTMSE_TARGET_ID == FASTMSE_AVX512
    if constexpr (std::is_same_v<T, float>) {
        if (split_conversions()) return stream_sum_in_halves(a, b, n);
    }
#endif
    V acc[kAccumulators];
    for (int k = 0; k < kAccumulators; ++k) acc[k] = Vec::zero();
    int64_t i = 0;
    for (; i + kStride <= n; i += kStride) {
        for (int k = 0; k < kAccumulators; ++k) {
            int64_t j = i + k * kLanes;
            acc[k] = Vec::add(acc[k], Vec::add(Vec::load(a + j), Vec::load(b + j)));
        }
    }

    double total = Vec::sum(LeafSums::tree(acc));
    for (; i < n; ++i) total += static_cast<double>(a[i]) + static_cast<double>(b[i]);
    return total;
}

}  // namespace FASTMSE_TARGET
}  // namespace fastmse
