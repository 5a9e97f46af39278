"""squared_error, mse_grad and mse_value_and_grad against fastmse.reference."""

import functools
import math

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference
from helpers import assert_close

LENGTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 67, 255, 257, 8193, 300_001]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", LENGTHS)
def test_gradient_every_target(simd_target, dtype, n, rng):
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    assert_close(fm.mse_grad(t, p), reference.mse_grad(t, p), dtype)
    assert_close(fm.squared_error(t, p), reference.squared_error(t, p), dtype)
    value, gradient = fm.mse_value_and_grad(t, p)
    assert value == fm.mse(t, p)
    assert_close(gradient, reference.mse_grad(t, p), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 9, 257, 300_001])
def test_weighted_gradient(simd_target, num_threads, dtype, n, rng):
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    w = rng.uniform(0, 2, n).astype(dtype)
    expected = reference.mse_grad(t, p, sample_weight=w)
    assert_close(fm.mse_grad(t, p, sample_weight=w), expected, dtype)
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=w)
    assert value == fm.mse(t, p, sample_weight=w)
    assert_close(gradient, expected, dtype)


VALUE_AND_GRAD = {
    "squared": (fm.mse_value_and_grad, fm.mse),
    "absolute": (fm.mae_value_and_grad, fm.mae),
    "huber": (
        functools.partial(fm.huber_value_and_grad, delta=0.5),
        functools.partial(fm.huber, delta=0.5),
    ),
}


@pytest.mark.parametrize("loss", VALUE_AND_GRAD)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 67, 8193, 300_001])
@pytest.mark.parametrize("weights", [None, "near 1", "sum below 0.5", "tiny", "huge"])
def test_shortcut_equals_general_path(loss, dtype, n, weights, rng):
    # 1-D contiguous arrays, with or without weights of their dtype, go to C++ without
    # the Python set-up, unless the weight sum is far from 1. A column of the same values
    # takes the general path, and so does an output that overlaps the weights.
    value_and_grad, mean_loss = VALUE_AND_GRAD[loss]
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    w = None
    if weights is not None:
        scale = {
            "near 1": 1.0,
            "sum below 0.5": 0.1 / n,
            "tiny": float(np.finfo(dtype).tiny) / 4,
            "huge": float(np.finfo(dtype).max) / 8,
        }[weights]
        w = (rng.integers(1, 5, n) * scale).astype(dtype)
    value, gradient = value_and_grad(t, p, sample_weight=w)
    assert value == mean_loss(t, p, sample_weight=w)
    column_value, column = value_and_grad(t[:, None], p[:, None], sample_weight=w)
    assert value == column_value
    np.testing.assert_array_equal(gradient, column.ravel())
    in_place = p.copy()
    assert value_and_grad(t, in_place, sample_weight=w, out=in_place)[0] == value
    np.testing.assert_array_equal(in_place, gradient)
    if w is not None:
        both = w.copy()
        assert value_and_grad(t, p, sample_weight=both, out=both)[0] == value
        np.testing.assert_array_equal(both, gradient)


def test_gradient_is_derivative_of_mse(rng):
    t = rng.standard_normal(50)
    p = rng.standard_normal(50)
    gradient = fm.mse_grad(t, p)
    step = 1e-6
    for i in (0, 17, 49):
        bumped = p.copy()
        bumped[i] += step
        slope = (fm.mse(t, bumped) - fm.mse(t, p)) / step
        assert slope == pytest.approx(gradient[i], rel=1e-4, abs=1e-9)


def test_gradient_exact_value():
    value, gradient = fm.mse_value_and_grad([0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 2.0, 0.0])
    assert value == 1.5
    np.testing.assert_array_equal(gradient, [0.5, -0.5, 1.0, 0.0])


@pytest.mark.parametrize(
    "make_view",
    [lambda a: a[::-3], lambda a: a.reshape(20, 30).T, lambda a: a.reshape(6, 100)[:, 1::2]],
    ids=["step-3", "transposed", "sliced"],
)
def test_strided_inputs_and_out(make_view, rng):
    t = make_view(rng.standard_normal(600))
    p = make_view(rng.standard_normal(600))
    out = make_view(np.zeros(600))
    value, gradient = fm.mse_value_and_grad(t, p, out=out)
    assert gradient is out
    assert value == fm.mse(np.ascontiguousarray(t), np.ascontiguousarray(p))
    assert_close(out, reference.mse_grad(t, p), np.float64)


def test_out_is_y_pred_in_place(rng):
    t = rng.standard_normal(1001)
    p = rng.standard_normal(1001)
    expected = reference.mse_grad(t, p)
    result = fm.mse_grad(t, p, out=p)
    assert result is p
    assert_close(p, expected, np.float64)


def test_out_overlapping_input_shifted(rng):
    buffer = rng.standard_normal(1001)
    t = rng.standard_normal(1000)
    p = buffer[1:]
    expected = reference.squared_error(t, p)
    fm.squared_error(t, p, out=buffer[:-1])
    assert_close(buffer[:-1], expected, np.float64)


def test_inputs_are_never_written(rng):
    t = rng.standard_normal((30, 7))
    p = rng.standard_normal(7)
    w = rng.uniform(0, 1, 30)
    copies = [t.copy(), p.copy(), w.copy()]
    fm.mse(t, p, sample_weight=w)
    fm.mse(t, p, axis=0, sample_weight=w)
    fm.squared_error(t, p)
    fm.mse_grad(t, p)
    fm.mse_value_and_grad(t, p, sample_weight=w)
    for before, after in zip(copies, [t, p, w]):
        np.testing.assert_array_equal(before, after)


def test_broadcast_y_true_row(rng):
    t = rng.standard_normal(4)
    p = rng.standard_normal((3, 4))
    assert_close(fm.mse_grad(t, p), reference.mse_grad(t, p), np.float64)
    assert_close(fm.squared_error(t, p), reference.squared_error(t, p), np.float64)


def test_broadcast_y_pred_sums_gradient_over_copies(rng):
    t = rng.standard_normal((3, 4))
    p = rng.standard_normal(4)
    gradient = fm.mse_grad(t, p)
    assert gradient.shape == (4,)
    np.testing.assert_allclose(gradient, 2 * (p - t).sum(axis=0) / 12, rtol=1e-14)
    out = np.empty(4)
    value, result = fm.mse_value_and_grad(t, p, out=out)
    assert result is out
    assert value == pytest.approx(reference.mse(t, p), rel=1e-14)
    np.testing.assert_allclose(out, gradient, rtol=0)


def test_mixed_dtypes_compute_in_float64(rng):
    t = rng.standard_normal(10).astype(np.float32)
    p = rng.standard_normal(10)
    assert fm.mse_grad(t, p).dtype == np.float64
    assert fm.squared_error(t, p).dtype == np.float64
    assert fm.mse_grad(t, t.astype(np.float16)).dtype == np.float32
    assert fm.mse_grad([1, 2], [3, 4]).dtype == np.float64


def test_float32_gradient_of_unit_differences():
    n = 1000
    t = np.full(n, 1.5, np.float32)
    p = np.full(n, 0.5, np.float32)
    gradient = fm.mse_grad(t, p)
    assert np.all(gradient == np.float32(-2 / n))


def test_fresh_outputs_reuse_freed_memory(rng):
    from fastmse import _core

    _core.clear_buffer_cache()
    t = rng.standard_normal(300_000)
    p = rng.standard_normal(300_000)
    first = fm.mse_grad(t, p)
    address = first.ctypes.data
    assert first.flags.writeable
    assert first.flags.c_contiguous
    assert address % 64 == 0
    del first
    assert _core.config()["cached_bytes"] >= 300_000 * 8
    second = fm.mse_grad(t, p)
    assert second.ctypes.data == address
    assert_close(second, reference.mse_grad(t, p), np.float64)
    held = fm.mse_grad(t, p)
    assert held.ctypes.data != second.ctypes.data
    _core.clear_buffer_cache()
    assert _core.config()["cached_bytes"] == 0


def test_large_streamed_output_matches_reference(rng):
    # 2.5 * 10**6 doubles pass the size above which outputs use non-temporal stores.
    t = rng.standard_normal(2_500_003)
    p = rng.standard_normal(2_500_003)
    assert_close(fm.mse_grad(t, p), reference.mse_grad(t, p), np.float64)
    assert_close(fm.squared_error(t, p), reference.squared_error(t, p), np.float64)
    t32, p32 = t.astype(np.float32), p.astype(np.float32)
    w = rng.uniform(0, 1, t.size).astype(np.float32)
    expected = reference.mse_grad(t32, p32, sample_weight=w)
    assert_close(fm.mse_grad(t32, p32, sample_weight=w), expected, np.float32)


@pytest.mark.parametrize("shift", [1, -1])
def test_gradient_out_overlapping_y_pred_shifted(shift, rng):
    buffer = rng.standard_normal(1001)
    t = rng.standard_normal(1000)
    p = buffer[1:] if shift == 1 else buffer[:-1]
    out = buffer[:-1] if shift == 1 else buffer[1:]
    expected = reference.mse_grad(t, p)
    result = fm.mse_grad(t, p, out=out)
    assert result is out
    assert_close(out, expected, np.float64)


def test_broadcast_float32_gradient_rounds_once(rng):
    t = rng.standard_normal((100_000, 3)).astype(np.float32)
    p = rng.standard_normal(3).astype(np.float32)
    exact = [
        2 * math.fsum((float(p[j]) - t[:, j].astype(np.float64)).tolist()) / t.size
        for j in range(3)
    ]
    gradient = fm.mse_grad(t, p)
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, np.array(exact).astype(np.float32))


def test_out_overlapping_weights(rng):
    base = rng.random(1001) + 0.5
    weights, out = base[:-1], base[1:]
    t = rng.standard_normal(1000)
    p = rng.standard_normal(1000)
    expected = fm.mse_grad(t, p, sample_weight=weights.copy())
    result = fm.mse_grad(t, p, sample_weight=weights, out=out)
    np.testing.assert_array_equal(result, expected)
