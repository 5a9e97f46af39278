"""Numba peers of the MSE and MAE kernels: parallel loops as a Numba user writes them.

Each loop accumulates in float64, also for float32 inputs, because ``total = 0.0`` is a
float64 and Numba widens each float32 square or absolute error before adding it.
``cache=True`` keeps the compiled code in ``__pycache__``, so later runs skip the
compilation. The timed calls never include it, because every benchmark calls the loop
once before timing.
"""

import numba
import numpy as np

_jit = numba.njit(parallel=True, fastmath=True, cache=True)


@_jit
def sum_of_squares(y_true, y_pred):
    total = 0.0
    for i in numba.prange(y_true.size):
        error = y_pred[i] - y_true[i]
        total += error * error
    return total


@_jit
def row_means(y_true, y_pred):
    rows, columns = y_true.shape
    means = np.empty(rows)
    for row in numba.prange(rows):
        total = 0.0
        for column in range(columns):
            error = y_pred[row, column] - y_true[row, column]
            total += error * error
        means[row] = total / columns
    return means


@_jit
def weighted_mse(y_true, y_pred, weights):
    total = 0.0
    weight_total = 0.0
    for i in numba.prange(y_true.size):
        error = y_pred[i] - y_true[i]
        total += weights[i] * error * error
        weight_total += weights[i]
    return total / weight_total


@_jit
def sum_of_absolute_errors(y_true, y_pred):
    total = 0.0
    for i in numba.prange(y_true.size):
        total += abs(y_pred[i] - y_true[i])
    return total
