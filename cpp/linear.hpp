// The linear model's kernel: one pass over a block of rows gives the loss and the gradient.
//
// For the model y ~ x @ coef + intercept, with k outputs, a row x (d values) forms its k
// residuals r = coef_j . x + intercept_j - y_j and, while x is still in registers or L1, adds
// w * r_j to the intercept sums and w * r_j * x to the coefficient sums of output j. So X is
// read once per gradient, where X @ w followed by X.T @ r reads it twice.
//
// Numerical note.
// - Everything is computed in double, for float32 storage too. Each dot product is summed in
//   vector lanes over d, then across lanes.
// - Each coefficient sum adds the rows of the block in row order. The driver (linear_driver)
//   combines the blocks pairwise, so the gradient's error grows with the block size plus
//   log2 of the block count, and the order depends on the sizes alone, never on threads.
#pragma once

#include <cstdint>

#include "kernels.hpp"
#include "simd.hpp"

namespace fastmse {
namespace FASTMSE_TARGET {

namespace linear_detail {

using V = Vec::V;
constexpr int kLanes = Vec::kLanes;
// Rows handled together: their dot products run side by side, and each coefficient sum is
// loaded and stored once per tile rather than once per row.
constexpr int kTile = 4;
// Up to this many vectors per row, coefficients and sums stay in registers for a whole block
// (d <= 32 in float64 on AVX-512, d <= 16 on AVX2).
constexpr int kRegisterVectors = 4;

// How far ahead the long-row path prefetches X: two tiles.
constexpr int kPrefetchRows = 2 * kTile;

#define FASTMSE_LINEAR_INLINE inline __attribute__((always_inline))

// Lanes [i, i + count) of p, with count < kLanes for the partial vector at the end of a row.
template <class T>
FASTMSE_LINEAR_INLINE V load_part(const T* p, int64_t i, int count) {
    return count == kLanes ? Vec::load(p + i) : Vec::load_first(p + i, count);
}

// Lanes in vector v of a row of d values.
FASTMSE_LINEAR_INLINE int lanes_of(int64_t v, int64_t d) {
    const int64_t left = d - v * kLanes;
    return static_cast<int>(left < kLanes ? left : kLanes);
}

// Vector v of a row of kVectors vectors, whose last vector has `last` lanes (1 to
// kLanes): only the last one needs a test, whose outcome is the same for every row.
template <int kVectors, class T>
FASTMSE_LINEAR_INLINE V load_vector(const T* row, int v, int last) {
    return v + 1 < kVectors ? Vec::load(row + v * kLanes) : load_part(row, v * kLanes, last);
}

// One tile's rows: where each row starts, its weight and its target for output j.
// The row of X at position i of the block.
template <class T>
FASTMSE_LINEAR_INLINE int64_t row_at(const LinearRows<T>& rows, int64_t i) {
    return rows.index ? rows.index[rows.first + i] : rows.first + i;
}

template <class T>
struct Tile {
    const T* x[kTile];
    double weight[kTile];
    int64_t row[kTile];

    FASTMSE_LINEAR_INLINE void load(const LinearRows<T>& rows, int64_t i, int size) {
        for (int t = 0; t < size; ++t) {
            row[t] = row_at(rows, i + t);
            x[t] = rows.x + row[t] * rows.d;
            weight[t] = rows.weights ? static_cast<double>(rows.weights[row[t]]) : 1.0;
        }
    }

    FASTMSE_LINEAR_INLINE double target(const LinearRows<T>& rows, int t, int64_t j) const {
        return rows.y ? static_cast<double>(rows.y[row[t] * rows.k + j]) : 0.0;
    }
};

// The dot products of a tile's rows with one output's coefficients, summed across lanes.
template <int kSize>
FASTMSE_LINEAR_INLINE void lane_sums(const V* dot, double* out) {
    if constexpr (kSize == kTile) {
        Vec::sum4(dot[0], dot[1], dot[2], dot[3], out);
    } else {
        for (int t = 0; t < kSize; ++t) out[t] = Vec::sum(dot[t]);
    }
}

// Adds a tile's residuals to the loss and the intercept sum; turns dots into w * r.
template <class T, int kSize>
FASTMSE_LINEAR_INLINE void weigh_residuals(const LinearRows<T>& rows, const Tile<T>& tile,
                                           int64_t j, double* dot, double* intercept_sum,
                                           double* loss) {
#pragma GCC unroll 4
    for (int t = 0; t < kSize; ++t) {
        const double residual = dot[t] + rows.intercept[j] - tile.target(rows, t, j);
        const double weighted = tile.weight[t] * residual;
        *loss += weighted * residual;
        *intercept_sum += weighted;
        dot[t] = weighted;
    }
}

// A tile of kSize rows for one output with at most kVectors vectors per row: the rows are
// loaded (and widened, for float32) once, and the coefficients and their sums stay in
// registers for the whole block.
template <class T, int kVectors, int kSize>
FASTMSE_LINEAR_INLINE void add_tile_in_registers(const LinearRows<T>& rows, int64_t i,
                                                 const V* coef, V* grad, double* intercept_sum,
                                                 double* loss) {
    Tile<T> tile;
    tile.load(rows, i, kSize);
    const int last = static_cast<int>(rows.d - (kVectors - 1) * kLanes);
    V x[kSize][kVectors];
    V dot[kSize];
#pragma GCC unroll 4
    for (int t = 0; t < kSize; ++t) {
        dot[t] = Vec::zero();
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) {
            x[t][v] = load_vector<kVectors>(tile.x[t], v, last);
            dot[t] = Vec::mul_add(x[t][v], coef[v], dot[t]);
        }
    }

    double weighted[kTile];
    lane_sums<kSize>(dot, weighted);
    weigh_residuals<T, kSize>(rows, tile, 0, weighted, intercept_sum, loss);

#pragma GCC unroll 4
    for (int t = 0; t < kSize; ++t) {
        const V factor = Vec::set(weighted[t]);
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) grad[v] = Vec::mul_add(factor, x[t][v], grad[v]);
    }
}

template <class T, int kVectors>
void block_in_registers(const LinearRows<T>& rows, double* sums) {
    V coef[kVectors], grad[kVectors];
    for (int v = 0; v < kVectors; ++v) {
        coef[v] = load_part(rows.coef, v * kLanes, lanes_of(v, rows.d));
        grad[v] = Vec::zero();
    }

    double intercept_sum = 0.0, loss = 0.0;
    int64_t i = 0;
    for (; i + kTile <= rows.count; i += kTile) {
        add_tile_in_registers<T, kVectors, kTile>(rows, i, coef, grad, &intercept_sum, &loss);
    }
    for (; i < rows.count; ++i) {
        add_tile_in_registers<T, kVectors, 1>(rows, i, coef, grad, &intercept_sum, &loss);
    }

    for (int v = 0; v < kVectors; ++v) {
        const int lanes = lanes_of(v, rows.d);
        if (lanes == kLanes) {
            Vec::store(sums + v * kLanes, grad[v]);
        } else {
            Vec::store_first(sums + v * kLanes, grad[v], lanes);
        }
    }
    sums[rows.d] = intercept_sum;
    sums[rows.d + 1] = loss;
}

// A tile of kSize rows for every output, with the coefficient sums in memory (L1 or L2):
// for long rows or several outputs. The tile's rows are read twice per output, from L1.
template <class T, int kSize>
FASTMSE_LINEAR_INLINE void add_tile(const LinearRows<T>& rows, int64_t i, double* sums,
                                    double* loss) {
    const int64_t d = rows.d, k = rows.k;
    const int64_t full = d / kLanes * kLanes;
    const int tail = static_cast<int>(d - full);
    Tile<T> tile;
    tile.load(rows, i, kSize);

    for (int64_t j = 0; j < k; ++j) {
        const double* coef = rows.coef + j * d;
        // Row by row, so that X is read in address order, which the hardware prefetcher
        // follows; interleaving the rows' vectors ran at a third of the speed for d = 64.
        // The rows kPrefetchRows ahead are fetched on the way: long rows outrun the
        // hardware prefetcher otherwise.
        V dot[kSize];
#pragma GCC unroll 4
        for (int t = 0; t < kSize; ++t) {
            dot[t] = Vec::zero();
            const int64_t later = i + t + kPrefetchRows;
            const T* ahead =
                j == 0 && later < rows.count ? rows.x + row_at(rows, later) * d : nullptr;
            for (int64_t v = 0; v < full; v += kLanes) {
                if (ahead) __builtin_prefetch(ahead + v);
                dot[t] = Vec::mul_add(Vec::load(tile.x[t] + v), Vec::load(coef + v), dot[t]);
            }
            if (tail) {
                dot[t] = Vec::mul_add(Vec::load_first(tile.x[t] + full, tail),
                                      Vec::load_first(coef + full, tail), dot[t]);
            }
        }

        double weighted[kTile];
        lane_sums<kSize>(dot, weighted);
        weigh_residuals<T, kSize>(rows, tile, j, weighted, sums + k * d + j, loss);
        V factor[kSize];
#pragma GCC unroll 4
        for (int t = 0; t < kSize; ++t) factor[t] = Vec::set(weighted[t]);

        double* grad = sums + j * d;
        for (int64_t v = 0; v < full; v += kLanes) {
            V sum = Vec::load(grad + v);
#pragma GCC unroll 4
            for (int t = 0; t < kSize; ++t) {
                sum = Vec::mul_add(factor[t], Vec::load(tile.x[t] + v), sum);
            }
            Vec::store(grad + v, sum);
        }
        if (tail) {
            V sum = Vec::load_first(grad + full, tail);
#pragma GCC unroll 4
            for (int t = 0; t < kSize; ++t) {
                sum = Vec::mul_add(factor[t], Vec::load_first(tile.x[t] + full, tail), sum);
            }
            Vec::store_first(grad + full, sum, tail);
        }
    }
}

template <class T>
void block_in_memory(const LinearRows<T>& rows, double* sums) {
    const int64_t stride = rows.k * rows.d + rows.k + 1;
    for (int64_t j = 0; j < stride; ++j) sums[j] = 0.0;

    double loss = 0.0;
    int64_t i = 0;
    for (; i + kTile <= rows.count; i += kTile) add_tile<T, kTile>(rows, i, sums, &loss);
    for (; i < rows.count; ++i) add_tile<T, 1>(rows, i, sums, &loss);
    sums[stride - 1] = loss;
}

}  // namespace linear_detail

// Writes the sums of one block of rows to `sums` (see LinearRows in kernels.hpp for the
// layout). Each sum adds the block's rows in row order, whichever path runs.
template <class T>
void linear_block(const LinearRows<T>& rows, double* sums) noexcept {
    using namespace linear_detail;
    if (rows.k == 1) {
        switch ((rows.d + kLanes - 1) / kLanes) {
            case 1:
                return block_in_registers<T, 1>(rows, sums);
            case 2:
                return block_in_registers<T, 2>(rows, sums);
            case 3:
                return block_in_registers<T, 3>(rows, sums);
            case 4:
                return block_in_registers<T, kRegisterVectors>(rows, sums);
            default:
                break;
        }
    }
    block_in_memory(rows, sums);
}

}  // namespace FASTMSE_TARGET
}  // namespace fastmse
