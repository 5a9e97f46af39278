"""Hard inputs, Python threads and fork(): the cases the input-rule tests leave out.

Cases covered elsewhere are not repeated here. test_inputs.py checks (5,) against (5, 1),
a row against a column, (3, 4) against (4,), int64 differences, big-endian and empty
inputs, invalid weights, NaN, and invalid `out` for the MSE functions.
test_accuracy.py checks float32 values near 10000 and 20,000,000 float32 unit
differences, and test_config.py checks mse from Python threads and a forked child.
"""

import math
import multiprocessing
import queue
import threading
import warnings

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference

# Every public function that returns an array takes `out`.
OUT_FUNCTIONS = [
    fm.squared_error,
    fm.mse_grad,
    fm.mse_value_and_grad,
    fm.mae_grad,
    fm.mae_value_and_grad,
    fm.huber_grad,
    fm.huber_value_and_grad,
]
ROBUST_OUT_FUNCTIONS = OUT_FUNCTIONS[3:]
# Above both the size that releases the GIL and the size that starts OpenMP threads.
THREADED = 300_001


def call_every_function(t, p, w):
    """Call every public loss on one pair and return the results in a fixed order.

    `t` and `p` have two dimensions, and `w` has one weight per row.
    """
    return [
        fm.mse(t, p),
        fm.sse(t, p),
        fm.rmse(t, p),
        fm.mse(t, p, axis=0),
        fm.mse(t, p, axis=1, sample_weight=w),
        fm.mse(t[:, ::-2], p[:, ::-2]),
        fm.squared_error(t, p),
        fm.mse_grad(t, p),
        fm.mse_grad(t, p, sample_weight=w),
        *fm.mse_value_and_grad(t, p),
        fm.mse_grad(t.T, p.T),
        fm.mae(t, p, sample_weight=w),
        fm.mae_grad(t, p),
        *fm.mae_value_and_grad(t, p, sample_weight=w),
        fm.huber(t, p, delta=0.5, axis=1),
        fm.huber_grad(t, p, sample_weight=w),
        *fm.huber_value_and_grad(t, p, delta=2.0),
    ]


def assert_same_results(got, expected):
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(got, expected)):
        assert type(a) is type(b), f"result {index}"
        # assert_array_equal treats NaN as equal to NaN, and checks shape.
        np.testing.assert_array_equal(a, b, err_msg=f"result {index}", strict=True)


def test_int64_no_wrap_in_every_function():
    t = np.array([4_000_000_000, 0], dtype=np.int64)
    p = np.array([0, 0], dtype=np.int64)
    value = fm.mse(t, p)
    assert type(value) is float
    assert value == 8e18
    assert fm.sse(t, p) == 1.6e19
    assert fm.rmse(t, p) == math.sqrt(8e18)
    np.testing.assert_array_equal(fm.squared_error(t, p), [1.6e19, 0.0], strict=True)
    np.testing.assert_array_equal(fm.mse_grad(t, p), [-4e9, 0.0], strict=True)
    assert fm.mae(t, p) == 2e9
    assert fm.huber(t, p) == (4e9 - 0.5) / 2
    np.testing.assert_array_equal(fm.huber_grad(t, p), [-0.5, 0.0], strict=True)


@pytest.mark.parametrize("rows, cols", [(7, 5), (300, 201)])
def test_step_minus_three_against_fortran(simd_target, num_threads, rows, cols, rng):
    y_true = np.asfortranarray(rng.standard_normal((rows, cols)))
    y_pred = rng.standard_normal((rows, 3 * cols))[:, ::-3]
    assert y_pred.strides[1] < 0
    assert not y_true.flags.c_contiguous
    t, p = y_true.copy(order="C"), y_pred.copy(order="C")
    w = rng.uniform(0.5, 1.5, rows)

    got = call_every_function(y_true, y_pred, w)
    assert_same_results(got, call_every_function(t, p, w))
    assert fm.mse(y_true, y_pred) == pytest.approx(reference.mse(t, p), rel=1e-14)


def test_step_minus_three_row_against_fortran_batch(rng):
    y_true = np.asfortranarray(rng.standard_normal((400, 150)))
    y_pred = rng.standard_normal(450)[::-3]
    t, p = y_true.copy(order="C"), y_pred.copy()
    assert fm.mse(y_true, y_pred) == fm.mse(t, p)
    np.testing.assert_array_equal(fm.mse_grad(y_true, y_pred), fm.mse_grad(t, p))
    np.testing.assert_array_equal(
        fm.squared_error(y_true, y_pred), fm.squared_error(t, p)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("position", [0, 8191, THREADED // 2, THREADED - 1])
def test_nan_stays_at_its_element(simd_target, num_threads, dtype, position, rng):
    t = rng.standard_normal(THREADED).astype(dtype)
    p = rng.standard_normal(THREADED).astype(dtype)
    p[position] = np.nan
    for loss in (fm.mse, fm.sse, fm.rmse, fm.mae, fm.huber):
        assert math.isnan(loss(t, p)), loss.__name__
    for gradient_of in (
        fm.mse_value_and_grad,
        fm.mae_value_and_grad,
        fm.huber_value_and_grad,
    ):
        value, gradient = gradient_of(t, p)
        assert math.isnan(value), gradient_of.__name__
        assert np.flatnonzero(np.isnan(gradient)).tolist() == [position], (
            gradient_of.__name__
        )
    squares = fm.squared_error(t, p)
    assert np.flatnonzero(np.isnan(squares)).tolist() == [position]


@pytest.mark.parametrize("function", ROBUST_OUT_FUNCTIONS)
class TestRobustOutErrors:
    def test_read_only(self, function):
        out = np.full(3, 7.0)
        out.flags.writeable = False
        with pytest.raises(
            ValueError, match="^out is read-only; pass a writable array$"
        ):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)

    def test_wrong_shape(self, function):
        out = np.full(4, 7.0)
        with pytest.raises(
            ValueError, match=r"^out has shape \(4,\) but the result has shape \(3,\)$"
        ):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)

    def test_wrong_dtype(self, function):
        out = np.full(3, 7.0, np.float32)
        with pytest.raises(
            TypeError, match="^out has dtype float32 but the result has"
        ):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)


@pytest.mark.parametrize("function", OUT_FUNCTIONS)
@pytest.mark.parametrize(
    "y_true, y_pred, error",
    [
        (np.zeros(5), np.zeros((5, 1)), ValueError),
        (np.zeros(5, complex), np.zeros(5), TypeError),
        (np.zeros(0), np.zeros(0), ValueError),
    ],
    ids=["shapes", "complex", "empty"],
)
def test_invalid_input_leaves_out_untouched(function, y_true, y_pred, error):
    out = np.full(5, 7.0)
    with pytest.raises(error):
        function(y_true, y_pred, out=out)
    np.testing.assert_array_equal(out, 7.0)


@pytest.mark.parametrize("function", OUT_FUNCTIONS[1:])
@pytest.mark.parametrize(
    "weights",
    [[1, 1, -1, 1, 1], [1, 1, np.nan, 1, 1], np.zeros(5), np.ones(4)],
    ids=["negative", "nan", "zeros", "wrong-length"],
)
def test_invalid_weights_leave_out_untouched(function, weights):
    out = np.full(5, 7.0)
    with pytest.raises(ValueError, match="^sample_weight "):
        function(np.zeros(5), np.ones(5), sample_weight=weights, out=out)
    np.testing.assert_array_equal(out, 7.0)


@pytest.mark.parametrize("threads", [1, 2])
def test_python_threads_every_kernel(threads, rng):
    # Fresh gradients of 2.4 MB come from the shared buffer cache, so threads that
    # allocate and free them at once also test its lock.
    pairs = [
        (
            rng.standard_normal((600, 500)),
            rng.standard_normal((600, 500)),
            rng.uniform(0.5, 1.5, 600),
        )
        for _ in range(8)
    ]
    before = fm.get_num_threads()
    fm.set_num_threads(threads)
    try:
        expected = [call_every_function(*pair) for pair in pairs]
        results = [[] for _ in pairs]
        errors = []
        start = threading.Barrier(len(pairs))

        def work(index):
            try:
                start.wait()
                for _ in range(3):
                    results[index].append(call_every_function(*pairs[index]))
            except Exception as error:  # noqa: BLE001 (reported by the main thread)
                errors.append(error)

        workers = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert not any(worker.is_alive() for worker in workers), "a thread hung"
    finally:
        fm.set_num_threads(before)

    assert errors == []
    for index, runs in enumerate(results):
        assert len(runs) == 3
        for run in runs:
            assert_same_results(run, expected[index])


def child_calls_every_function(pairs, results):
    results.put([call_every_function(*pair) for pair in pairs] + [fm.get_num_threads()])


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="no fork on this platform",
)
def test_forked_child_calls_every_kernel(rng):
    pairs = []
    for dtype in (np.float32, np.float64):
        t = rng.standard_normal((600, 500)).astype(dtype)
        p = rng.standard_normal((600, 500)).astype(dtype)
        pairs.append((t, p, rng.uniform(0.5, 1.5, 600).astype(dtype)))
    before = fm.get_num_threads()
    fm.set_num_threads(2)
    try:
        # The parent runs every kernel on two OpenMP threads before it forks.
        expected = [call_every_function(*pair) for pair in pairs]
    finally:
        fm.set_num_threads(before)

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=child_calls_every_function, args=(pairs, results))
    with warnings.catch_warnings():
        # Python 3.12 warns that fork() in a process with threads may deadlock: this
        # test forks after OpenMP started its threads on purpose.
        warnings.filterwarnings(
            "ignore", "This process .* is multi-threaded", DeprecationWarning
        )
        child.start()
    try:
        # Read before join(): a child blocks in put() until its large results are read.
        got = results.get(timeout=120)
    except queue.Empty:
        pytest.fail("the forked child sent no results in 120 s: it hung or crashed")
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    assert got[-1] == 1
    for got_pair, expected_pair in zip(got[:-1], expected):
        assert_same_results(got_pair, expected_pair)


def test_float32_unit_differences_strided():
    # The strided path of mse and mse_grad, which test_float32_sum_past_two_to_the_24
    # leaves out: 20,000,000 differences of exactly 1.
    n = 20_000_000
    t = np.full(2 * n, 1.5, np.float32)[::2]
    p = np.full(2 * n, 0.5, np.float32)[::-2]
    assert fm.mse(t, p) == 1.0
    gradient = fm.mse_grad(t, p)
    assert gradient.dtype == np.float32
    assert np.all(gradient == np.float32(-2 / n))


def test_zero_stride_past_two_to_the_31():
    # 64-bit indexing without test_large.py's 8.6 GB: a broadcast view reads one value.
    n = 2**31 + 7
    ones = np.broadcast_to(np.float32(1.5), (n,))
    assert fm.sse(ones, np.float32(0.5)) == float(n)
    rows = np.broadcast_to(2.0, (3, n // 3 + 5))
    np.testing.assert_array_equal(fm.mse(rows, 0.0, axis=1), [4.0, 4.0, 4.0])


def test_rmse_over_every_axis_returns_array():
    t = np.ones((2, 3))
    for axis in [(0, 1), (1, 0)]:
        expected = fm.mse(t, 0.0, axis=axis)
        assert isinstance(expected, np.ndarray)
        got = fm.rmse(t, 0.0, axis=axis)
        assert isinstance(got, np.ndarray), f"rmse(axis={axis}) returned {type(got)}"
        assert got.shape == ()
    assert isinstance(fm.rmse(np.ones(3), 0.0, axis=0), np.ndarray)


def test_broadcast_gradient_of_infinities_is_silent():
    # The same gradients without broadcasting warn nothing.
    t = np.array([np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = fm.mse_grad(t, np.zeros(2))
        summed = fm.mse_grad(t, np.array(0.0))
    np.testing.assert_array_equal(full, [-np.inf, np.inf])
    assert np.isnan(summed)
