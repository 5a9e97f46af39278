// Cuts arrays into chunks, runs the active target's kernels on threads, combines the sums.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kernels.hpp"

namespace fastmse {

enum class DType { f32, f64 };

// Operands of one call, all of `shape` (broadcasting has been applied by strides of zero).
// Strides are in bytes; a null data pointer marks an absent operand (no weights, no output).
// The trailing `shape.size() - outer_dims` axes are reduced; the leading ones are kept.
struct Problem {
    enum Operand { y_true, y_pred, weights, out, count };

    DType dtype = DType::f64;
    Loss loss = Loss::squared;
    double delta = 1.0;  // Huber's threshold
    std::vector<int64_t> shape;
    int outer_dims = 0;
    std::array<char*, count> data = {};
    std::array<std::vector<int64_t>, count> strides;
};

// Sums per slice, one per element of the kept axes in C order (one in all when none are kept).
std::vector<Sums> reduce_slices(const Problem& problem);
// Sums of the weights over the whole array.
Sums sum_weights(const Problem& problem);
// Writes the elementwise result to `out` and returns the sums over the whole array.
Sums map(const Problem& problem, MapOp op, double scale);

// The same reduction for contiguous arrays of n elements, without the general set-up.
template <class T>
Sums reduce_contiguous(Loss loss, double delta, const T* y_true, const T* y_pred, const T* weights,
                       int64_t n);

// map and sum_weights for contiguous arrays of n elements (weights may be null), without
// the general set-up: the same chunks, threads and results.
template <class T>
Sums map_contiguous(MapOp op, Loss loss, double delta, const T* y_true, const T* y_pred,
                    const T* weights, double scale, T* out, int64_t n);
template <class T>
Sums sum_weights_contiguous(const T* weights, int64_t n);

// The unweighted loss sum of each of `rows` contiguous rows of row_size elements, at most
// kChunk, into out[rows]: the sums that reduce_slices gives for such rows, without its set-up.
template <class T>
void reduce_rows(Loss loss, double delta, const T* y_true, const T* y_pred, int64_t rows,
                 int64_t row_size, double* out);

// The double-double sums of squared errors and weights of contiguous arrays (exact.hpp).
// Chunks add up in chunk order; weights may be null.
template <class T>
ExactSums reduce_exact_contiguous(const T* y_true, const T* y_pred, const T* weights, int64_t n);

// Sum of a + b over contiguous arrays, on all threads: the bandwidth probe of bench/.
template <class T>
double stream_sum(const T* a, const T* b, int64_t n);

}  // namespace fastmse
