"""fastmse.dask on a local two-process Dask cluster, against the in-memory functions."""

import math
import os
import re
import signal
import time

import numpy as np
import pytest

# CI installs Dask with the test extra, so these tests run there.
REASON = "fastmse.dask needs Dask: pip install 'fastmse[dask]'"
dask = pytest.importorskip("dask", reason=REASON)
pytest.importorskip("distributed", reason=REASON)

import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

import fastmse as fm  # noqa: E402
import fastmse.dask as fmd  # noqa: E402
from fastmse import reference  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: another cluster may hold 8787
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def rng():
    return np.random.default_rng(20261204)


def accumulated(y_true, y_pred, sample_weight=None, axis=None):
    """The in-memory MSEAccumulator's result for all the data in one update."""
    accumulator = fm.MSEAccumulator(axis=axis)
    return accumulator.update(y_true, y_pred, sample_weight).result()


def assert_close_to_pairwise(got, expected, n):
    """Assert that a result of n squares is as close to fastmse.mse's as both allow.

    fastmse.mse's pairwise sum is within (20 + log2 n) * 2**-53 of the exact sum,
    relative. fastmse.dask rounds the exact sum once, and both then divide once.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    rtol = (23 + math.log2(n)) * 2.0**-53
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


def relative_error(got, expected):
    return np.max(np.abs(got - expected)) / np.max(np.abs(expected))


# The losses.


def hashed_values(indices, multiplier):
    """Values in [-0.5, 0.5) from integer hashing, exact in NumPy and in Dask alike."""
    return indices * multiplier % 2**32 / 2**32 - 0.5


def test_mse_of_ten_million_with_uneven_chunks(client):
    indices = da.arange(10**7, chunks=((3_000_001, 2_999_999, 4_000_000),))
    y_true = hashed_values(indices, 2654435761)
    y_pred = hashed_values(indices, 40503)
    t = hashed_values(np.arange(10**7), 2654435761)
    p = hashed_values(np.arange(10**7), 40503)

    got = fmd.mse(y_true, y_pred)
    assert isinstance(got, da.Array)
    assert got.shape == ()
    value = got.compute()
    assert value == accumulated(t, p)
    assert_close_to_pairwise(value, fm.mse(t, p), t.size)


def test_mse_aligns_mismatched_chunks(client, rng):
    t = rng.standard_normal(10_000)
    p = rng.standard_normal(10_000)
    y_true = da.from_array(t, chunks=(1, 999, 3000, 6000))
    y_pred = da.from_array(p, chunks=2500)
    assert fmd.mse(y_true, y_pred).compute() == accumulated(t, p)
    assert fmd.mse(y_true, p).compute() == accumulated(t, p)
    # A tree of three levels over the five aligned chunks.
    assert fmd.mse(y_true, y_pred, split_every=2).compute() == accumulated(t, p)


def test_mse_with_empty_chunks(client, rng):
    t = rng.standard_normal(100)
    y_true = da.from_array(t, chunks=((0, 40, 0, 60),))
    assert fmd.mse(y_true, da.zeros(100, chunks=25)).compute() == accumulated(t, 0.0)


@pytest.mark.parametrize("axis", [None, 0])
def test_mse_of_three_outputs(client, rng, axis):
    t = rng.standard_normal((5000, 3))
    p = rng.standard_normal((5000, 3))
    y_true = da.from_array(t, chunks=(700, 2))
    y_pred = da.from_array(p, chunks=(1100, 1))

    got = fmd.mse(y_true, y_pred, axis=axis)
    assert got.shape == (() if axis is None else (3,))
    value = got.compute()
    np.testing.assert_array_equal(value, accumulated(t, p, axis=axis))
    assert_close_to_pairwise(value, fm.mse(t, p, axis=axis), t.size)


@pytest.mark.parametrize("axis", [None, 0])
@pytest.mark.parametrize("weights_chunks", [None, 333])
def test_mse_with_row_weights(client, rng, axis, weights_chunks):
    t = rng.standard_normal((4000, 3))
    p = rng.standard_normal((4000, 3))
    w = rng.random(4000)
    weights = w if weights_chunks is None else da.from_array(w, chunks=weights_chunks)
    y_true = da.from_array(t, chunks=(900, 3))

    value = fmd.mse(y_true, p, axis=axis, sample_weight=weights).compute()
    np.testing.assert_array_equal(value, accumulated(t, p, w, axis=axis))
    assert_close_to_pairwise(value, fm.mse(t, p, axis=axis, sample_weight=w), t.size)


def test_mse_with_elementwise_weights(client, rng):
    t = rng.standard_normal((3000, 4))
    p = rng.standard_normal((3000, 4))
    w = rng.random((3000, 4))
    weights = da.from_array(w, chunks=(1000, 1))
    y_true = da.from_array(t, chunks=(700, 2))

    value = fmd.mse(y_true, p, axis=0, sample_weight=weights).compute()
    np.testing.assert_array_equal(value, accumulated(t, p, w, axis=0))
    assert_close_to_pairwise(value, fm.mse(t, p, axis=0, sample_weight=w), t.size)


def test_mse_of_float32(client, rng):
    t = rng.standard_normal(20_000).astype(np.float32)
    p = rng.standard_normal(20_000).astype(np.float32)
    y_true = da.from_array(t, chunks=3000)
    y_pred = da.from_array(p, chunks=7000)

    value = fmd.mse(y_true, y_pred).compute()
    assert value.dtype == np.float64
    assert value == accumulated(t, p)
    assert_close_to_pairwise(value, fm.mse(t, p), t.size)


def test_mse_of_integers_does_not_wrap(client):
    t = np.array([2**62, -(2**62), 3], dtype=np.int64)
    p = np.array([-(2**62), 2**62, 0], dtype=np.int64)
    y_true = da.from_array(t, chunks=2)
    value = fmd.mse(y_true, p).compute()
    assert value == accumulated(t, p)
    # The differences are +-2**63, which int64 arithmetic would wrap to -2**63.
    assert value == pytest.approx((2 * 2.0**126 + 9) / 3, rel=1e-15)


def test_mse_keeps_python_scalars_weak(client):
    # 0.1 rounds to another value in float32: fastmse.mse rounds it to float32, as
    # NumPy 2 does for a Python scalar next to a float32 array.
    t = np.linspace(0, 1, 1000, dtype=np.float32)
    value = fmd.mse(da.from_array(t, chunks=300), 0.1).compute()
    assert value == accumulated(t, 0.1)
    assert_close_to_pairwise(value, fm.mse(t, 0.1), t.size)


def test_sse_and_rmse_against_reference(client, rng):
    t = rng.standard_normal((2000, 3))
    p = rng.standard_normal((2000, 3))
    w = rng.random(2000)
    y_true = da.from_array(t, chunks=(700, 3))
    y_pred = da.from_array(p, chunks=(1000, 1))
    cases = [
        {"axis": axis, "sample_weight": weights}
        for axis in (None, 0)
        for weights in (None, w)
    ]
    # One graph for all cases: each compute costs a round trip to the cluster.
    sse = [fmd.sse(y_true, y_pred, **options) for options in cases]
    rmse = [fmd.rmse(y_true, y_pred, **options) for options in cases]
    sse, rmse = dask.compute(sse, rmse)

    # The reference's NumPy sums round about log2(n) times along each path.
    rtol = 1e-14
    for options, got_sse, got_rmse in zip(cases, sse, rmse):
        np.testing.assert_allclose(got_sse, reference.sse(t, p, **options), rtol=rtol)
        np.testing.assert_allclose(got_rmse, reference.rmse(t, p, **options), rtol=rtol)


def test_rmse_is_the_root_of_mse(client, rng):
    t = rng.standard_normal(5000)
    y_true = da.from_array(t, chunks=1200)
    assert fmd.rmse(y_true, 0.5).compute() == np.sqrt(accumulated(t, 0.5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_mse_grad_against_reference(client, rng, dtype, weighted):
    t = rng.standard_normal((3000, 2)).astype(dtype)
    p = rng.standard_normal((3000, 2)).astype(dtype)
    w = rng.random(3000).astype(dtype) if weighted else None
    weights = None if w is None else da.from_array(w, chunks=1000)
    y_true = da.from_array(t, chunks=(500, 1))
    y_pred = da.from_array(p, chunks=(1200, 2))

    got = fmd.mse_grad(y_true, y_pred, sample_weight=weights)
    assert isinstance(got, da.Array)
    assert got.dtype == dtype
    gradient = got.compute()
    expected = reference.mse_grad(t, p, sample_weight=w)
    # float32 results are rounded once. In float64, the weight sum may differ from
    # fastmse.mse_grad's in the last bits.
    rtol = 2 * np.finfo(dtype).eps if dtype == np.float32 else 8 * np.finfo(dtype).eps
    assert gradient.dtype == expected.dtype
    np.testing.assert_allclose(gradient, expected, rtol=rtol, atol=0)
    np.testing.assert_allclose(
        gradient, fm.mse_grad(t, p, sample_weight=w), rtol=rtol, atol=0
    )


def test_mse_grad_of_broadcast_prediction(client, rng):
    t = rng.standard_normal((3000, 4))
    p = rng.standard_normal(4)
    got = fmd.mse_grad(da.from_array(t, chunks=(700, 3)), p)
    assert got.shape == (4,)
    np.testing.assert_allclose(got.compute(), fm.mse_grad(t, p), rtol=1e-13)


def test_broadcast_gradient_of_infinities_is_silent():
    t = da.from_array(np.array([np.inf, -np.inf]), chunks=1)
    # In this process, where a RuntimeWarning would fail the test.
    with dask.config.set(scheduler="synchronous"):
        summed = fmd.mse_grad(t, np.array(0.0)).compute()
    assert np.isnan(summed)


def test_mse_grad_rescales_tiny_weights(client, rng):
    t = rng.standard_normal(1000)
    p = rng.standard_normal(1000)
    w = rng.random(1000) * 1e-305
    gradient = fmd.mse_grad(da.from_array(t, chunks=300), p, sample_weight=w)
    expected = reference.mse_grad(t, p, sample_weight=w * 2.0**1000)
    np.testing.assert_allclose(gradient.compute(), expected, rtol=1e-14)



def test_mse_grad_of_overflowing_weights_keeps_small_ones(client, rng):
    # The weight sum overflows. Scaling by 2**-1000 would flush the weight 1e-30 and its
    # gradient to zero; the in-memory mse_grad keeps it, and so must the chunks.
    t = rng.standard_normal(1000)
    p = rng.standard_normal(1000) * 1e300
    w = np.full(1000, 1e308)
    w[2] = 1e-30
    gradient = fmd.mse_grad(da.from_array(t, chunks=300), p, sample_weight=w).compute()
    expected = fm.mse_grad(t, p, sample_weight=w)
    assert gradient[2] != 0
    np.testing.assert_allclose(gradient, expected, rtol=1e-14)

# Errors: raised when the graph is built, or for weight values when it is computed.


def test_complex_input_raises_type_error():
    y_true = da.zeros(10, dtype=np.complex128, chunks=5)
    with pytest.raises(TypeError, match=r"^y_true has dtype complex128, but fastmse"):
        fmd.mse(y_true, da.zeros(10, chunks=5))


def test_masked_input_raises_type_error():
    y_pred = da.ma.masked_less(da.arange(10.0, chunks=5), 3.0)
    with pytest.raises(TypeError, match="^y_pred is a masked array"):
        fmd.mse(da.zeros(10, chunks=5), y_pred)


def test_mismatched_shapes_raise_naming_both():
    message = (
        r"y_pred has shape \(5, 1\) but y_true has shape \(5,\); broadcasting would "
        r"compare them as arrays of shape \(5, 5\)"
    )
    with pytest.raises(ValueError, match=message):
        fmd.mse(da.zeros(5, chunks=2), da.zeros((5, 1), chunks=2))
    with pytest.raises(ValueError, match=r"y_pred has shape \(4,\) but y_true has"):
        fmd.mse_grad(da.zeros(5, chunks=2), np.zeros(4))


@pytest.mark.parametrize("axis", [1, -1, (0,), True])
def test_axis_other_than_none_or_zero_raises(axis):
    message = "^" + re.escape(f"axis must be None or 0, got {axis!r}:")
    with pytest.raises(ValueError, match=message):
        fmd.mse(da.zeros((4, 2), chunks=2), da.zeros((4, 2), chunks=2), axis=axis)


def test_empty_input_raises():
    with pytest.raises(ValueError, match="y_true and y_pred are empty"):
        fmd.mse(da.zeros(0, chunks=1), da.zeros(0, chunks=1))


def test_unknown_chunk_sizes_raise():
    y_true = da.arange(10, chunks=3)
    y_true = y_true[y_true > 4]
    with pytest.raises(ValueError, match=r"call y_true.compute_chunk_sizes\(\) first"):
        fmd.mse(y_true, 1.0)


def test_weights_of_wrong_shape_raise():
    with pytest.raises(ValueError, match=r"^sample_weight has shape \(3,\) but must"):
        fmd.mse(da.zeros((4, 2), chunks=2), 1.0, sample_weight=np.ones(3))


def test_split_every_below_two_raises():
    with pytest.raises(ValueError, match="^split_every must be an integer >= 2, got 1"):
        fmd.mse(da.zeros(4, chunks=2), 1.0, split_every=1)


def test_negative_weight_names_its_global_index(client):
    weights = np.ones(100)
    weights[57] = -2.0
    result = fmd.mse(
        da.zeros(100, chunks=10), 1.0, sample_weight=da.from_array(weights, chunks=10)
    )
    message = r"sample_weight contains the negative value -2.0 at index 57; weights"
    with pytest.raises(ValueError, match=message):
        result.compute()
    with pytest.raises(ValueError, match=message):
        fmd.mse_grad(da.zeros(100, chunks=10), 1.0, sample_weight=weights).compute()


def test_nan_weight_names_its_global_index(client):
    weights = np.ones((30, 2))
    weights[21, 1] = np.nan
    result = fmd.mse(
        da.zeros((30, 2), chunks=(10, 1)), 1.0, axis=0, sample_weight=weights
    )
    with pytest.raises(ValueError, match=r"contains nan at index \(21, 1\); weights"):
        result.compute()


def test_zero_weight_sum_raises_as_in_memory(client):
    weights = np.zeros((6, 4))
    weights[:, :2] = 1.0
    y_true = da.zeros((6, 4), chunks=(3, 2))
    result = fmd.mse(y_true, 1.0, axis=0, sample_weight=weights)
    message = r"sums to zero over the slice at index 2 of the result"
    with pytest.raises(ValueError, match=message):
        fm.mse(np.zeros((6, 4)), 1.0, axis=0, sample_weight=weights)
    with pytest.raises(ValueError, match=message):
        result.compute()
    with pytest.raises(ValueError, match="^sample_weight sums to zero; at least"):
        fmd.mse_grad(y_true, 1.0, sample_weight=np.zeros(6)).compute()


# LinearRegressionGD. A fit with learning_rate="auto" costs about 40 reductions here,
# at a few tens of milliseconds each on this cluster, so the tests share fits where
# they can and fix the rate where it does not matter.


@pytest.fixture(scope="module")
def regression():
    """Well-conditioned data: both fits converge far below 1e-10 with tol=1e-13."""
    rng = np.random.default_rng(5)
    # A wider first column separates the top eigenvalue of the Hessian, so the power
    # iterations settle after about 15 reductions instead of all 50.
    X = rng.standard_normal((20_000, 8)) * [1.2, 1, 1, 1, 1, 1, 1, 1]
    coef = rng.standard_normal((8, 2))
    Y = X @ coef + [0.3, -1.0] + 0.1 * rng.standard_normal((20_000, 2))
    weights = rng.random(20_000) + 0.5
    return X, Y, weights


def dask_rows(array):
    """`array` as a Dask array in uneven chunks of rows, and X in two column chunks."""
    rows = (3001, 5000, 7000, 4999)
    if array.shape[1:] == (8,):
        return da.from_array(array, chunks=(rows, (5, 3)))
    return da.from_array(array, chunks=(rows,) + array.shape[1:])


@pytest.fixture(scope="module")
def two_output_fit(client, regression):
    """A weighted fit of both outputs on the cluster."""
    X, Y, w = regression
    model = fmd.LinearRegressionGD(tol=1e-13)
    return model.fit(dask_rows(X), dask_rows(Y), sample_weight=dask_rows(w))


def assert_same_fit(model, expected):
    assert model.coef_.shape == expected.coef_.shape
    assert model.coef_.dtype == expected.coef_.dtype
    assert relative_error(model.coef_, expected.coef_) <= 1e-10
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-10)


def test_two_output_fit_matches_in_memory_fit(two_output_fit, regression):
    X, Y, w = regression
    expected = fm.LinearRegressionGD(tol=1e-13).fit(X, Y, sample_weight=w)
    assert_same_fit(two_output_fit, expected)
    assert two_output_fit.learning_rate_ == pytest.approx(
        expected.learning_rate_, rel=1e-12
    )
    assert two_output_fit.n_iter_ == len(two_output_fit.loss_curve_)
    assert two_output_fit.n_iter_ == pytest.approx(expected.n_iter_, abs=2)


def test_two_output_fit_matches_least_squares(two_output_fit, regression):
    X, Y, w = regression
    expected = LinearRegression().fit(X, Y, sample_weight=w)
    assert relative_error(two_output_fit.coef_, expected.coef_) <= 1e-10
    np.testing.assert_allclose(
        two_output_fit.intercept_, expected.intercept_, rtol=1e-10
    )


def test_predict_is_lazy_and_matches(two_output_fit, regression):
    X, Y, _ = regression
    predicted = two_output_fit.predict(dask_rows(X))
    assert isinstance(predicted, da.Array)
    assert predicted.shape == Y.shape
    np.testing.assert_allclose(
        predicted.compute(), two_output_fit.predict(X), rtol=1e-14
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"l2": 0.01}, {"fit_intercept": False}, {"learning_rate": 0.3}],
    ids=["plain", "l2", "no-intercept", "fixed-rate"],
)
def test_fit_matches_in_memory_fit(client, regression, options):
    X, Y, _ = regression
    expected = fm.LinearRegressionGD(tol=1e-13, **options).fit(X, Y[:, 0])
    model = fmd.LinearRegressionGD(tol=1e-13, **options)
    model.fit(dask_rows(X), dask_rows(Y[:, 0]))
    assert_same_fit(model, expected)


def test_partial_fit_matches_in_memory(client, regression):
    X, Y, _ = regression
    expected = fm.LinearRegressionGD(learning_rate=0.3)
    model = fmd.LinearRegressionGD(learning_rate=0.3)
    for _ in range(3):
        expected.partial_fit(X, Y[:, 0])
        model.partial_fit(dask_rows(X), dask_rows(Y[:, 0]))
    assert_same_fit(model, expected)
    assert model.n_iter_ == expected.n_iter_ == 3


def test_fit_of_float32_stays_float32(client, regression):
    X, Y, _ = regression
    X = X.astype(np.float32)
    expected = fm.LinearRegressionGD(learning_rate=0.3).fit(X, Y[:, 0])
    model = fmd.LinearRegressionGD(learning_rate=0.3)
    model.fit(dask_rows(X), dask_rows(Y[:, 0]))
    assert model.coef_.dtype == np.float32
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-6)


def test_fit_scales_huge_weights(client, regression):
    X, Y, w = regression
    weights = w * 1e300
    expected = fm.LinearRegressionGD(learning_rate=0.3).fit(X, Y[:, 0], weights)
    model = fmd.LinearRegressionGD(learning_rate=0.3)
    model.fit(dask_rows(X), dask_rows(Y[:, 0]), sample_weight=dask_rows(weights))
    assert_same_fit(model, expected)


def test_failed_fit_keeps_the_earlier_fit(client, regression):
    X, Y, _ = regression
    model = fmd.LinearRegressionGD(learning_rate=0.3)
    model.fit(dask_rows(X), dask_rows(Y[:, 0]))
    coef = model.coef_.copy()
    bad = X.copy()
    bad[100, 3] = np.inf
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):
        model.fit(dask_rows(bad), dask_rows(Y[:, 0]))
    np.testing.assert_array_equal(model.coef_, coef)


def test_mini_batches_raise():
    model = fmd.LinearRegressionGD(batch_size=32)
    with pytest.raises(ValueError, match="takes full batches only, so batch_size must"):
        model.fit(da.ones((10, 2), chunks=5), da.ones(10, chunks=5))


def test_fit_on_nan_raises(client):
    X = np.ones((10, 2))
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):
        fmd.LinearRegressionGD().fit(da.from_array(X, chunks=5), np.ones(10))


def test_fit_with_diverging_rate_raises(client, regression):
    X, Y, _ = regression
    model = fmd.LinearRegressionGD(learning_rate=10.0)
    with pytest.raises(ValueError, match="^LinearRegressionGD diverged"):
        model.fit(dask_rows(X), dask_rows(Y[:, 0]))


def test_fit_warns_at_max_iter(client, regression):
    X, Y, _ = regression
    model = fmd.LinearRegressionGD(learning_rate=0.1, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="stopped at max_iter=2"):
        model.fit(dask_rows(X), dask_rows(Y[:, 0]))
    assert model.n_iter_ == 2


def test_docstring_examples(client):
    import doctest

    from fastmse.dask import _linear, _losses

    for module in (_losses, _linear):
        failures, tests = doctest.testmod(module)
        assert tests > 0
        assert failures == 0


# A worker that dies mid-computation. Keep this test last: the cluster has one worker
# until the nanny has restarted the other.


def slow_sine(block):
    time.sleep(0.15)
    return np.sin(block)


def results_held(dask_scheduler):
    """Return the number of results each worker stores, by worker address."""
    return {
        address: len(state.has_what)
        for address, state in dask_scheduler.workers.items()
    }


def test_result_survives_a_killed_worker(client):
    chunks = 40
    y_true = da.arange(chunks * 1000, chunks=1000, dtype=np.float64)
    y_true = y_true.map_blocks(slow_sine, dtype=np.float64)
    y_pred = da.zeros(chunks * 1000, chunks=1000)
    expected = accumulated(np.sin(np.arange(chunks * 1000, dtype=np.float64)), 0.0)
    pids = client.run(os.getpid)

    future = client.compute(fmd.mse(y_true, y_pred))
    # Wait until a worker stores a few chunks' results, so that killing it loses them.
    deadline = time.monotonic() + 30
    while max(client.run_on_scheduler(results_held).values()) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    results = client.run_on_scheduler(results_held)
    victim = pids[max(results, key=results.get)]
    assert not future.done()
    os.kill(victim, signal.SIGKILL)

    assert future.result(timeout=60) == expected
    client.wait_for_workers(2, timeout=30)
    assert victim not in client.run(os.getpid).values()
