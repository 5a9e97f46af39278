"""Accuracy on adversarial data, against exact sums."""

import math
from fractions import Fraction

import numpy as np
import pytest

import fastmse as fm


def exact_mse(y_true, y_pred):
    """The exact MSE of the values as stored, rounded once to float64."""
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    total = Fraction(0)
    # fsum of the exact squares: each difference and square is split into exact float parts.
    for a, b in zip(t.tolist(), p.tolist()):
        d = Fraction(a) - Fraction(b)
        total += d * d
    return float(total / t.size)


def fsum_exact_mse(y_true, y_pred):
    """The same exact MSE for large inputs, from error-free float64 parts and math.fsum.

    y_pred - y_true is exact for float32 data widened to float64, and the square of a
    float64 d is exactly hi + lo with hi = d*d and lo from Dekker's product.
    """
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    hi = d * d
    split = d * 134217729.0  # 2**27 + 1
    d_hi = split - (split - d)
    d_lo = d - d_hi
    lo = ((d_hi * d_hi - hi) + 2 * d_hi * d_lo) + d_lo * d_lo
    return math.fsum(np.concatenate([hi, lo]).tolist()) / d.size


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-12), (np.float64, 1e-14)])
def test_large_offsets(simd_target, dtype, tolerance):
    rng = np.random.default_rng(7)
    n = 100_000
    t = (1e6 + rng.standard_normal(n)).astype(dtype)
    p = (1e6 + rng.standard_normal(n)).astype(dtype)
    expected = exact_mse(t, p)
    assert fm.mse(t, p) == pytest.approx(expected, rel=tolerance)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-12), (np.float64, 1e-14)])
def test_mixed_magnitudes(simd_target, dtype, tolerance):
    rng = np.random.default_rng(8)
    n = 50_000
    scale = 10.0 ** rng.integers(-15 if dtype == np.float64 else -6, 16, n)
    t = (rng.standard_normal(n) * scale).astype(dtype)
    p = (t + rng.standard_normal(n) * scale * 1e-3).astype(dtype)
    expected = exact_mse(t, p)
    assert fm.mse(t, p) == pytest.approx(expected, rel=tolerance)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-12), (np.float64, 1e-14)])
def test_ten_million_elements(num_threads, dtype, tolerance):
    rng = np.random.default_rng(9)
    n = 10**7
    t = (100.0 + rng.standard_normal(n)).astype(dtype)
    p = (100.0 + 0.5 * rng.standard_normal(n)).astype(dtype)
    expected = fsum_exact_mse(t, p)
    assert fm.mse(t, p) == pytest.approx(expected, rel=tolerance)


def test_float32_sum_past_two_to_the_24():
    # A float32 running sum stops growing at 2**24 when every term is 1.
    n = 20_000_000
    t = np.full(n, 1.5, np.float32)
    p = np.full(n, 0.5, np.float32)
    assert fm.mse(t, p) == 1.0
    value, gradient = fm.mse_value_and_grad(t, p)
    assert value == 1.0
    assert np.all(gradient == np.float32(-2 / n))


def test_float32_constant_offset_matches_float64():
    t = np.full(10**6, 10000.0, np.float32)
    p = np.full(10**6, 10000.1, np.float32)
    expected = float(np.float64(p[0]) - np.float64(t[0])) ** 2
    assert fm.mse(t, p) == pytest.approx(expected, rel=1e-12)


def test_beats_numpy_on_ill_conditioned_float64():
    rng = np.random.default_rng(10)
    n = 2**20
    d = np.concatenate([np.full(n - 1, 1.0), [1e8]])
    rng.shuffle(d)
    t = np.zeros(n)
    expected = exact_mse(t, d)
    error = abs(fm.mse(t, d) - expected) / expected
    assert error <= 2**-52
