"""The one-pass linear-model kernels against the two-pass formulas of fastmse.reference."""

import tracemalloc

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference

DTYPES = [np.float32, np.float64]
# Row counts around the 4-row tiles and the 64-row minimum block; feature counts around
# every target's vector width, the 4-vector register path, and long rows.
SHAPES = [
    (1, 1),
    (3, 2),
    (5, 7),
    (9, 8),
    (13, 17),
    (64, 31),
    (65, 33),
    (130, 64),
    (41, 257),
]


def problem(rng, n, d, k, dtype, weighted):
    X = rng.standard_normal((n, d)).astype(dtype)
    y_shape = (n,) if k is None else (n, k)
    w_shape = (d,) if k is None else (d, k)
    y = rng.standard_normal(y_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = 0.25 if k is None else rng.standard_normal(k)
    weights = rng.random(n).astype(dtype) + 0.1 if weighted else None
    return X, y, w, b, weights


def assert_gradient_close(got, expected, dtype):
    """Sums of d products in float64, rounded once to dtype: relative to the largest."""
    expected = np.asarray(expected)
    scale = np.max(np.abs(expected)) if expected.size else 1.0
    if dtype == np.float32:
        np.testing.assert_allclose(got, expected, rtol=2**-23, atol=2**-23 * scale)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13 * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [None, 1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_grad_matches_reference(simd_target, rng, dtype, shape, k, weighted):
    X, y, w, b, weights = problem(rng, *shape, k, dtype, weighted)
    loss, grad_w, grad_b = fm.linear_value_and_grad(
        X, y, w, b, sample_weight=weights, l2=0.3
    )
    ref_loss, ref_w, ref_b = reference.linear_value_and_grad(
        X, y, w, b, sample_weight=weights, l2=0.3
    )

    assert isinstance(loss, float)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert grad_w.dtype == dtype
    assert grad_w.shape == w.shape
    assert_gradient_close(grad_w, ref_w, dtype)
    if k is None:
        assert isinstance(grad_b, float)
        assert grad_b == pytest.approx(ref_b, rel=1e-12, abs=1e-13)
    else:
        assert grad_b.shape == (k,)
        assert_gradient_close(grad_b, ref_b, dtype)


@pytest.mark.parametrize("d", list(range(1, 20)) + [31, 32, 33, 63, 64, 65])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9])
def test_every_row_and_feature_tail(simd_target, rng, n, d):
    X, y, w, b, _ = problem(rng, n, d, None, np.float64, False)
    loss, grad_w, grad_b = fm.linear_value_and_grad(X, y, w, b)
    ref_loss, ref_w, ref_b = reference.linear_value_and_grad(X, y, w, b)
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    assert_gradient_close(grad_w, ref_w, np.float64)
    assert grad_b == pytest.approx(ref_b, rel=1e-12, abs=1e-14)


def test_worked_example():
    # y = x0 + 2 * x1 exactly, so every residual and gradient is zero; then one step from
    # w = 0 on y = 2x, whose values follow by hand: r = (-2, -4), loss (4 + 16) / 2 = 10,
    # grad_w = (1 * -2 + 2 * -4) = -10, grad_b = -6.
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert fm.linear_value_and_grad(X, [1.0, 2.0, 3.0], [1.0, 2.0]) == (
        0.0,
        pytest.approx([0, 0]),
        0.0,
    )

    w = np.zeros(1)
    loss, b = fm.linear_step([[1.0], [2.0]], [2.0, 4.0], w, 0.0, 0.1)
    assert (loss, w.tolist(), b) == (10.0, [1.0], pytest.approx(0.6))


@pytest.mark.parametrize("layout", ["fortran", "strided", "big-endian", "int"])
def test_layouts_give_the_bits_of_a_contiguous_copy(rng, layout):
    X = rng.standard_normal((300, 12))
    if layout == "int":
        X = np.round(X * 100)
    y, w = rng.standard_normal(300), rng.standard_normal(12)
    expected = fm.linear_value_and_grad(X, y, w, 0.5)

    if layout == "fortran":
        other = np.asfortranarray(X)
    elif layout == "strided":
        other = np.repeat(X, 2, axis=1)[:, ::2]
    elif layout == "big-endian":
        other = X.astype(">f8")
    else:
        other = X.astype(np.int64)
    got = fm.linear_value_and_grad(other, y, w, 0.5)
    assert got[0] == expected[0]
    assert got[2] == expected[2]
    np.testing.assert_array_equal(got[1], expected[1])


def test_mixed_dtypes_compute_in_float64(rng):
    X = rng.standard_normal((50, 4)).astype(np.float32)
    y, w = rng.standard_normal(50), np.ones(4, dtype=np.float32)
    _, grad_w, _ = fm.linear_value_and_grad(X, y, w)
    assert grad_w.dtype == np.float64


def test_float64_coefficients_keep_float32_data(rng):
    # w's dtype sets the gradients' dtype only: X stays float32, without a float64 copy.
    X = rng.standard_normal((100_000, 8)).astype(np.float32)
    y = rng.standard_normal(100_000).astype(np.float32)
    w = rng.standard_normal(8)
    fm.linear_value_and_grad(X[:10], y[:10], w)  # first-call set-up, outside the trace
    tracemalloc.start()
    try:
        loss, grad_w, grad_b = fm.linear_value_and_grad(X, y, w, 0.25)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes
    assert grad_w.dtype == np.float64
    expected = fm.linear_value_and_grad(X.astype(np.float64), y.astype(np.float64), w, 0.25)
    assert loss == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(grad_w, expected[1], rtol=1e-12)
    assert grad_b == pytest.approx(expected[2], rel=1e-12)


@pytest.mark.parametrize("scale", [1e39, 1e-44, 1e-50])
def test_float64_weights_keep_data_float64(rng, scale):
    # Weights beyond float32's range make the data float64 rather than being rounded.
    X = rng.standard_normal((6, 2)).astype(np.float32)
    y = rng.standard_normal(6).astype(np.float32)
    w = np.array([0.5, -0.25])
    weights = scale * np.arange(1.0, 7.0)
    loss, grad_w, grad_b = fm.linear_value_and_grad(X, y, w, 0.1, sample_weight=weights)
    expected = reference.linear_value_and_grad(
        X.astype(np.float64), y.astype(np.float64), w, 0.1, sample_weight=weights
    )
    assert loss == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(grad_w, expected[1], rtol=1e-12)
    assert grad_b == pytest.approx(expected[2], rel=1e-12)


def test_results_do_not_depend_on_threads(rng):
    X = rng.standard_normal((100_003, 20))
    y, w = rng.standard_normal(100_003), rng.standard_normal(20)
    weights = rng.random(100_003)
    results = []
    before = fm.get_num_threads()
    try:
        for threads in (1, 2, 3):
            fm.set_num_threads(threads)
            results.append(
                fm.linear_value_and_grad(X, y, w, 0.1, sample_weight=weights)
            )
    finally:
        fm.set_num_threads(before)
    for loss, grad_w, grad_b in results[1:]:
        assert loss == results[0][0]
        assert grad_b == results[0][2]
        np.testing.assert_array_equal(grad_w, results[0][1])


def test_inputs_are_not_modified(rng):
    X, y, w, b, weights = problem(rng, 40, 5, 2, np.float64, True)
    copies = [a.copy() for a in (X, y, w, b, weights)]
    fm.linear_value_and_grad(X, y, w, b, sample_weight=weights, l2=0.1)
    for array, copy in zip((X, y, w, b, weights), copies):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [None, 2])
def test_linear_step_matches_reference(rng, dtype, k):
    X, y, w, b, weights = problem(rng, 70, 6, k, dtype, True)
    ref_loss, ref_w, ref_b = reference.linear_step(
        X, y, w, b, 0.05, sample_weight=weights, l2=0.2
    )

    loss, new_b = fm.linear_step(X, y, w, b, 0.05, sample_weight=weights, l2=0.2)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert w.dtype == dtype
    assert_gradient_close(w, ref_w, dtype)
    assert_gradient_close(np.asarray(new_b), np.asarray(ref_b), dtype)


def test_linear_step_keeps_the_dtype_of_w(rng):
    X = rng.standard_normal((20, 3))
    w = np.ones(3, dtype=np.float32)
    fm.linear_step(X, rng.standard_normal(20), w, 0.0, 0.1)
    assert w.dtype == np.float32


def test_linear_step_leaves_b_unchanged(rng):
    # The intercept array of a multi-output model is read, never written.
    X, y, w, b, _ = problem(rng, 10, 3, 2, np.float64, False)
    b_before = b.copy()
    fm.linear_step(X, y, w, b, 0.1)
    np.testing.assert_array_equal(b, b_before)


X3 = np.ones((4, 3))
Y4 = np.ones(4)
W3 = np.ones(3)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((np.ones(4), Y4, W3), {}, ValueError, r"X has shape \(4,\) but must be 2-d"),
        ((np.ones((0, 3)), [], W3), {}, ValueError, r"X has shape \(0, 3\); it needs"),
        (
            (X3, np.ones(5), W3),
            {},
            ValueError,
            r"y has shape \(5,\) but X has shape \(4, 3\)",
        ),
        (
            (X3, Y4, np.ones(4)),
            {},
            ValueError,
            r"w has shape \(4,\) but must have shape \(3,\)",
        ),
        ((X3, np.ones((4, 2)), W3), {}, ValueError, r"must have shape \(3, 2\)"),
        (
            (X3, Y4, W3, [1.0, 2.0]),
            {},
            ValueError,
            "b has shape \\(2,\\) but must be a scalar",
        ),
        ((X3.astype(complex), Y4, W3), {}, TypeError, "X has dtype complex128"),
        (
            (X3, Y4, W3),
            {"l2": -1.0},
            ValueError,
            "l2 must be a finite number >= 0, got -1.0",
        ),
        (
            (X3, Y4, W3),
            {"sample_weight": [1, 1, -1, 1]},
            ValueError,
            "negative value -1",
        ),
        ((X3, Y4, W3), {"sample_weight": np.zeros(4)}, ValueError, "sums to zero"),
        (
            (X3, Y4, W3),
            {"sample_weight": np.ones(3)},
            ValueError,
            r"one weight per row of X",
        ),
    ],
)
def test_invalid_inputs_raise(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fm.linear_value_and_grad(*args, **kwargs)


def test_numbers_may_be_zero_dimensional_arrays_but_not_strings():
    loss, _, _ = fm.linear_value_and_grad(X3, Y4, W3, l2=np.array(0.5))
    assert loss == pytest.approx(0.5 * 3 + 4.0)
    with pytest.raises(TypeError, match="l2 must be a real number, got str"):
        fm.linear_value_and_grad(X3, Y4, W3, l2="0.5")
    with pytest.raises(
        TypeError, match="learning_rate must be a real number, got NoneType"
    ):
        fm.linear_step(X3, Y4, np.ones(3), 0.0, None)


def test_ragged_lists_name_the_argument():
    with pytest.raises(ValueError, match="X could not be converted to an array"):
        fm.linear_value_and_grad([[1.0, 2.0], [1.0]], [1.0, 2.0], [1.0, 1.0])


def test_linear_step_needs_a_writable_float_w():
    with pytest.raises(
        TypeError, match="w must be a writable float32 or float64 ndarray.*got list"
    ):
        fm.linear_step(X3, Y4, [1.0, 1.0, 1.0], 0.0, 0.1)
    read_only = np.ones(3)
    read_only.flags.writeable = False
    with pytest.raises(TypeError, match="got a read-only float64 array"):
        fm.linear_step(X3, Y4, read_only, 0.0, 0.1)
    with pytest.raises(
        ValueError, match="learning_rate must be a positive finite number, got 0"
    ):
        fm.linear_step(X3, Y4, np.ones(3), 0.0, 0)


def test_nan_propagates(rng):
    X = rng.standard_normal((10, 3))
    X[4, 1] = np.nan
    loss, grad_w, grad_b = fm.linear_value_and_grad(X, np.zeros(10), np.ones(3))
    assert np.isnan(loss)
    assert np.isnan(grad_w).all()
    assert np.isnan(grad_b)


def test_docstring_examples():
    import doctest

    from fastmse import _linear

    failures, tests = doctest.testmod(_linear)
    assert tests > 0
    assert failures == 0
