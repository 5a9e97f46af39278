// The interface between the target-independent driver and the per-target MSE kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace fastmse {

// Elements per chunk: the unit of the pairwise sum and of gathering strided data. Chunk
// boundaries depend on the data size only, which makes every sum independent of the thread
// count. A multiple of every target's leaf size (mse.hpp), so the leaves inside chunks are
// exactly the leaves of the array.
constexpr int64_t kChunk = 8192;

// Whether the AVX-512 float32 reductions (and stream_sum) widen float32 to double four
// values at a time (HalfVec in simd.hpp) rather than eight. Only the speed differs, never
// a result. dispatch.cpp sets it from the CPU model, and tests switch it.
bool split_conversions() noexcept;
void set_split_conversions(bool split) noexcept;

// Running sums of one reduction: the (weighted) squared errors and the weights, and the
// smallest of 0 and the weights, which is negative when a weight is. A NaN weight shows in
// the weight sum, and so does an infinite one, whose sum is infinite as an overflowing sum
// of finite weights can be (see mse.hpp).
// No member initializers, so that arrays of them cost nothing to create; `Sums{}` is zero.
struct Sums {
    double squares;
    double weights;
    double min_weight;
};

// Joins the sums of two parts: the sums add up, the smallest weight is the smaller one.
inline Sums operator+(const Sums& a, const Sums& b) {
    return {a.squares + b.squares, a.weights + b.weights, std::min(a.min_weight, b.min_weight)};
}

// Adds values in a fixed binary tree: value i joins the others like a carry in a binary
// counter, so 2**k values are summed as a perfect pairwise tree. The rounding error grows
// with log2 of the count, not with the count, and the order depends only on the count.
template <class S>
class PairwiseSum {
  public:
    void add(S value) {
        int level = 0;
        for (uint64_t carry = count_; carry & 1u; carry >>= 1u, ++level) {
            value = levels_[level] + value;
        }
        levels_[level] = value;
        ++count_;
    }

    S total() const {
        S result{};
        int level = 0;
        for (uint64_t bits = count_; bits != 0; bits >>= 1u, ++level) {
            if (bits & 1u) result = levels_[level] + result;
        }
        return result;
    }

  private:
    S levels_[64];  // only the levels whose bit is set in count_ are ever read
    uint64_t count_ = 0;
};

// Sums of squared errors and of weights, each kept as an unevaluated pair hi + lo (a
// double-double, about 106 bits): enough that any split of the data into parts, summed
// this way and added exactly, rounds to the same float64 (see reduce_exact in exact.hpp).
struct ExactSums {
    double squares_hi, squares_lo;
    double weights_hi, weights_lo;
};

// hi + lo += x_hi + x_lo, in double-double arithmetic: Knuth's two-sum of the high parts,
// whose rounding error joins the low parts. An infinite or NaN sum is kept as it is, in
// hi: its rounding error would be NaN.
inline void add_double_double(double& hi, double& lo, double x_hi, double x_lo) {
    const double sum = hi + x_hi;
    if (!std::isfinite(sum)) {
        hi = sum;
        lo = 0.0;
        return;
    }
    const double virtual_x = sum - hi;
    double error = (hi - (sum - virtual_x)) + (x_hi - virtual_x);
    error += lo + x_lo;
    hi = sum + error;
    lo = error - (hi - sum);
}

inline ExactSums operator+(ExactSums a, const ExactSums& b) {
    add_double_double(a.squares_hi, a.squares_lo, b.squares_hi, b.squares_lo);
    add_double_double(a.weights_hi, a.weights_lo, b.weights_hi, b.weights_lo);
    return a;
}

// The loss of one difference d = y_pred - y_true: squared d**2, absolute |d|, or Huber's
// d**2 / 2 for |d| <= delta and delta * (|d| - delta / 2) beyond.
enum class Loss { squared, absolute, huber };

// The elementwise result that a map kernel writes to `out`: the loss of each element, or
// scale * w * the loss's slope. The slope of the squared loss is d, whose factor 2 belongs
// in scale. The slope of the absolute loss is sign(d), and Huber's is d clipped to +-delta.
enum class MapOp { loss, gradient };

// Rows of a linear model's problem for linear_block: X is C-contiguous with d columns, y (if
// not null) is C-contiguous with k columns, and the block is the rows index[first + i] (or
// first + i when index is null) for i < count. coef contains the k outputs' coefficients one
// after the other (k x d, output-major) and intercept their k intercepts.
//
// linear_block writes k * d + k + 1 sums: sum of w * r_j * x for each output j (k x d), sum
// of w * r_j for each output (k), and sum of w * r**2 over all outputs (1), where r_j is
// the residual x . coef_j + intercept_j - y_j. A null y counts as zeros, a null weights as
// ones.
template <class T>
struct LinearRows {
    const T* x;
    int64_t d;
    const T* y;
    int64_t k;
    const T* weights;
    const int64_t* index;
    int64_t first;
    int64_t count;
    const double* coef;
    const double* intercept;
};

// One target's kernels for storage type T. Most work on one contiguous chunk of at most
// kChunk elements; the driver cuts arrays into chunks, threads them and combines the sums.
// `weights` may be null for unweighted sums. Kernels never allocate, validate or throw.
template <class T>
struct KernelSet {
    // Sum of w * loss(y_pred - y_true), of w, and the smallest of 0 and the weights.
    Sums (*reduce)(Loss loss, double delta, const T* y_true, const T* y_pred, const T* weights,
                   int64_t n) noexcept;
    // reduce's sums of each piece of `piece` <= kChunk elements of the n elements, written
    // to out[0], ..., out[ceil(n / piece) - 1]: the chunks of an array (piece = kChunk), or
    // its rows. One call streams through all of them. `prefetch` requests that the loop fetch
    // the inputs ahead of its loads. Some targets ignore it, and it never changes the sums.
    void (*reduce_pieces)(Loss loss, double delta, const T* y_true, const T* y_pred,
                          const T* weights, int64_t n, int64_t piece, bool prefetch,
                          Sums* out) noexcept;
    // The lane sums of each leaf in n elements of a chunk that threads share, written to out
    // with leaf_doubles per leaf. The n elements start at a leaf boundary and end at one or
    // at the end of the array, and out is the slot of their first leaf. `prefetch` as above.
    void (*store_leaves)(Loss loss, double delta, const T* y_true, const T* y_pred,
                         const T* weights, int64_t n, bool prefetch, double* out) noexcept;
    // The sums of a chunk from the `count` leaves that store_leaves wrote: reduce's sums.
    Sums (*sum_stored_leaves)(const double* leaves, int64_t count) noexcept;
    // Sum of w and the smallest of 0 and the weights only.
    Sums (*sum_weights)(const T* weights, int64_t n) noexcept;
    // Writes the elementwise result of `op` to out and returns the same sums as `reduce`.
    // `out` may be y_true or y_pred. `stream` writes with non-temporal stores, which needs
    // `out` aligned to 64 bytes.
    Sums (*map)(MapOp op, Loss loss, double delta, const T* y_true, const T* y_pred,
                const T* weights, double scale, T* out, int64_t n, bool stream) noexcept;
    // Sum of a + b: the plain read stream that measures memory bandwidth.
    double (*stream_sum)(const T* a, const T* b, int64_t n) noexcept;
    // Sum of w * (y_pred - y_true)**2 and of w, in double-double (ExactSums).
    ExactSums (*reduce_exact)(const T* y_true, const T* y_pred, const T* weights,
                              int64_t n) noexcept;
    // The sums of a linear model's loss and gradient over a block of rows (LinearRows).
    void (*linear_block)(const LinearRows<T>& rows, double* sums) noexcept;
    // Elements per leaf, which divides kChunk, and doubles per leaf from store_leaves.
    int64_t leaf_size;
    int64_t leaf_doubles;
};

struct KernelTable {
    const char* name;
    KernelSet<float> f32;
    KernelSet<double> f64;
};

namespace scalar { const KernelTable& kernel_table(); }
namespace avx2 { const KernelTable& kernel_table(); }
namespace avx512 { const KernelTable& kernel_table(); }
namespace neon { const KernelTable& kernel_table(); }

}  // namespace fastmse
