"""mae and huber, with their gradients, against fastmse.reference."""

import math
import re

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference
from helpers import assert_close

LENGTHS = [1, 3, 7, 8, 9, 17, 33, 67, 257, 8193, 300_001]
DELTAS = [0.1, 1.0, 3.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", LENGTHS)
def test_mae_every_target(simd_target, dtype, n, rng):
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    t[::5] = p[::5]  # exact zeros, where the gradient is 0
    assert fm.mae(t, p) == pytest.approx(reference.mae(t, p), rel=1e-14)
    assert_close(fm.mae_grad(t, p), reference.mae_grad(t, p), dtype)
    value, gradient = fm.mae_value_and_grad(t, p)
    assert value == fm.mae(t, p)
    assert_close(gradient, reference.mae_grad(t, p), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("delta", DELTAS)
def test_huber_every_target(simd_target, dtype, n, delta, rng):
    t = rng.standard_normal(n).astype(dtype)
    p = (2 * rng.standard_normal(n)).astype(dtype)
    assert fm.huber(t, p, delta=delta) == pytest.approx(
        reference.huber(t, p, delta=delta), rel=1e-14
    )
    expected = reference.huber_grad(t, p, delta=delta)
    assert_close(fm.huber_grad(t, p, delta=delta), expected, dtype)
    value, gradient = fm.huber_value_and_grad(t, p, delta=delta)
    assert value == fm.huber(t, p, delta=delta)
    assert_close(gradient, expected, dtype)


@pytest.mark.parametrize("function", ["mae", "huber"])
def test_weights_and_axis(num_threads, function, rng):
    t = rng.standard_normal((400, 30))
    p = rng.standard_normal((400, 30))
    w = rng.uniform(0, 2, 400)
    ours = getattr(fm, function)
    theirs = getattr(reference, function)
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(
            ours(t, p, axis=axis, sample_weight=w),
            theirs(t, p, axis=axis, sample_weight=w),
            rtol=1e-14,
        )
    gradient = getattr(fm, function + "_grad")(t, p, sample_weight=w)
    expected = getattr(reference, function + "_grad")(t, p, sample_weight=w)
    assert_close(gradient, expected, np.float64)


def test_exact_small_values():
    assert fm.mae([0.0, 0.0, 0.0], [1.0, -2.0, 0.0]) == 1.0
    np.testing.assert_array_equal(fm.mae_grad([0.0, 0.0, 0.0], [1.0, -2.0, 0.0]), [1 / 3, -1 / 3, 0.0])
    # |d| = 0.5 is inside delta = 1, |d| = 3 outside: (0.125 + 2.5) / 2
    assert fm.huber([0.0, 0.0], [0.5, -3.0]) == 1.3125
    np.testing.assert_array_equal(fm.huber_grad([0.0, 0.0], [0.5, -3.0]), [0.25, -0.5])
    assert fm.huber([0.0], [2.0], delta=2.0) == 2.0
    assert fm.huber([0.0], [2.0], delta=4.0) == fm.mse([0.0], [2.0]) / 2


def test_gradients_are_derivatives(rng):
    t = rng.standard_normal(40)
    p = t + rng.standard_normal(40)
    step = 1e-7
    for value_function, grad_function in [(fm.mae, fm.mae_grad), (fm.huber, fm.huber_grad)]:
        gradient = grad_function(t, p)
        for i in (0, 13, 39):
            bumped = p.copy()
            bumped[i] += step
            slope = (value_function(t, bumped) - value_function(t, p)) / step
            assert slope == pytest.approx(gradient[i], rel=1e-4)


def test_smallest_difference_has_unit_sign():
    t = np.zeros(3)
    p = np.array([5e-324, -5e-324, 1e308])
    np.testing.assert_array_equal(fm.mae_grad(t, p), [1 / 3, -1 / 3, 1 / 3])


def test_nan_propagates():
    t = np.zeros(20)
    p = np.ones(20)
    p[7] = np.nan
    for function in (fm.mae, fm.huber):
        assert math.isnan(function(t, p))
    for function in (fm.mae_grad, fm.huber_grad):
        gradient = function(t, p)
        assert np.isnan(gradient[7])
        assert np.count_nonzero(np.isnan(gradient)) == 1


def test_infinite_difference():
    assert fm.mae([0.0], [np.inf]) == np.inf
    assert fm.huber([0.0], [np.inf]) == np.inf
    assert fm.huber_grad([0.0], [-np.inf])[0] == -1.0
    assert fm.mae_grad([0.0], [np.inf])[0] == 1.0


@pytest.mark.parametrize("delta", [0, -1.0, np.inf, np.nan])
def test_invalid_delta(delta):
    with pytest.raises(ValueError, match=re.escape(f"delta must be positive and finite, not {delta}")):
        fm.huber([0.0], [1.0], delta=delta)


@pytest.mark.parametrize("delta", ["1", None, True, np.array(True), np.array([1.0])])
def test_delta_of_wrong_type(delta):
    with pytest.raises(TypeError, match="^delta must be a real number"):
        fm.huber_grad([0.0], [1.0], delta=delta)


@pytest.mark.parametrize("delta", [np.array(0.5), np.array(2), np.float32(0.5)])
def test_delta_as_numpy_number(delta):
    expected = fm.huber([0.0, 0.0], [0.25, 3.0], delta=float(delta))
    assert fm.huber([0.0, 0.0], [0.25, 3.0], delta=delta) == expected


def test_input_rules_apply():
    with pytest.raises(ValueError, match=re.escape("y_pred has shape (5, 1) but y_true has shape (5,)")):
        fm.mae(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(TypeError, match="^y_true has dtype complex128"):
        fm.huber(np.zeros(2, complex), np.zeros(2))
    with pytest.raises(ValueError, match="sample_weight contains the negative value"):
        fm.mae_grad([0.0, 1.0], [1.0, 1.0], sample_weight=[1.0, -1.0])


def test_outliers_move_mse_most(rng):
    t = rng.standard_normal(1000)
    p = t + 0.1 * rng.standard_normal(1000)
    corrupted = p.copy()
    corrupted[:5] += 1000.0
    growth = {
        name: getattr(fm, name)(t, corrupted) / getattr(fm, name)(t, p)
        for name in ("mse", "mae", "huber")
    }
    assert growth["mse"] > growth["huber"] > 1
    assert growth["mse"] > growth["mae"] > 1
