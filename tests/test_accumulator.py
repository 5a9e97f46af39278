"""MSEAccumulator: any split of the data, merged in any order, gives the same bits."""

import math
import pickle

import numpy as np
import pytest

import fastmse as fm


def exact_mse(y_true, y_pred, weights=None):
    """The exact sum of the rounded float64 terms, rounded once, over the exact weights."""
    d = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    if weights is None:
        return math.fsum((d * d).ravel().tolist()) / d.size
    w = np.asarray(weights, dtype=np.float64)
    return math.fsum(((w * d) * d).tolist()) / math.fsum(w.tolist())


def adversarial(rng, kind, n):
    if kind == "offset":
        y_true = 1e8 + rng.standard_normal(n)
        return y_true, y_true + rng.standard_normal(n) * 1e-3
    if kind == "magnitudes":
        scale = 10.0 ** rng.integers(-150, 150, n)
        y_true = rng.standard_normal(n) * scale
        return y_true, y_true * (1 + rng.standard_normal(n))
    if kind == "one-huge":
        y_true = rng.standard_normal(n)
        y_pred = y_true + 1e-8 * rng.standard_normal(n)
        y_pred[n // 3] += 1e8
        return y_true, y_pred
    y_true = rng.standard_normal(n)
    return y_true, y_true + rng.standard_normal(n)


def split_and_merge(rng, arrays, parts, axis=None):
    """Update one accumulator per random part, then merge them in a random order."""
    n = len(arrays[0])
    cuts = np.sort(rng.integers(0, n, parts - 1))
    pieces = [np.split(a, cuts) if a is not None else [None] * parts for a in arrays]
    accumulators = [
        fm.MSEAccumulator(axis=axis).update(t, p, sample_weight=w)
        for t, p, w in zip(*pieces)
    ]
    rng.shuffle(accumulators)
    total = fm.MSEAccumulator(axis=axis)
    while accumulators:
        # Merge as a random tree: pairs join until one is left.
        if len(accumulators) > 1 and rng.random() < 0.5:
            a, b = accumulators.pop(), accumulators.pop()
            accumulators.append(pickle.loads(pickle.dumps(a.merge(b))))
        else:
            total.merge(accumulators.pop())
    return total


@pytest.mark.parametrize("kind", ["normal", "offset", "magnitudes", "one-huge"])
@pytest.mark.parametrize("weighted", [False, True])
def test_splits_and_merge_orders_give_the_same_bits(simd_target, rng, kind, weighted):
    y_true, y_pred = adversarial(rng, kind, 20_011)
    weights = rng.random(20_011) * 2 if weighted else None
    expected = exact_mse(y_true, y_pred, weights)
    whole = fm.MSEAccumulator().update(y_true, y_pred, sample_weight=weights)
    assert whole.result() == expected

    for parts in (1, 2, 7, 50, 400):
        merged = split_and_merge(rng, (y_true, y_pred, weights), parts)
        assert merged.result() == expected
        assert merged.count == 20_011


def test_ten_million_elements_match_fastmse_mse_within_two_ulps(rng):
    y_true = rng.standard_normal(10**7)
    y_pred = y_true + rng.standard_normal(10**7)
    result = fm.MSEAccumulator().update(y_true, y_pred).result()
    assert result == exact_mse(y_true, y_pred)
    assert abs(result - fm.mse(y_true, y_pred)) <= 2 * math.ulp(result)


def test_float32_parts(rng):
    y_true = rng.standard_normal(5000).astype(np.float32)
    y_pred = (y_true + rng.standard_normal(5000)).astype(np.float32)
    merged = split_and_merge(rng, (y_true, y_pred, None), 9)
    assert merged.result() == exact_mse(y_true, y_pred)


def test_axis_0_gives_one_mse_per_output(rng):
    y_true = rng.standard_normal((3001, 2, 3))
    y_pred = y_true + rng.standard_normal((3001, 2, 3))
    merged = split_and_merge(rng, (y_true, y_pred, None), 5, axis=0)
    result = merged.result()
    assert result.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert result[i, j] == exact_mse(y_true[:, i, j], y_pred[:, i, j])
    np.testing.assert_allclose(result, fm.mse(y_true, y_pred, axis=0), rtol=1e-15)


def test_weights_of_rows_and_of_elements(rng):
    y_true = rng.standard_normal((200, 3))
    y_pred = y_true + 1
    rows = rng.random(200)
    by_rows = fm.MSEAccumulator().update(y_true, y_pred, sample_weight=rows)
    by_elements = fm.MSEAccumulator().update(
        y_true, y_pred, sample_weight=np.repeat(rows[:, None], 3, axis=1)
    )
    assert by_rows.result() == by_elements.result() == pytest.approx(1.0)
    assert by_rows.weight_sum == pytest.approx(3 * rows.sum())


@pytest.mark.parametrize("axis", [None, 0])
def test_invalid_row_weight_names_its_row(axis):
    # Row weights are spread over the elements of their row; the error names the row,
    # as for fastmse.mse.
    message = "sample_weight contains the negative value -1.0 at index 1; "
    with pytest.raises(ValueError, match=message):
        fm.MSEAccumulator(axis=axis).update(
            np.zeros((3, 2)), np.ones((3, 2)), sample_weight=[1.0, -1.0, 1.0]
        )


def test_sse_count_reset_and_repr():
    accumulator = fm.MSEAccumulator().update([1.0, 2.0], [2.0, 4.0])
    assert (accumulator.sse, accumulator.count, accumulator.weight_sum) == (5.0, 2, 2.0)
    assert repr(accumulator) == "MSEAccumulator(count=2)"
    accumulator.reset()
    with pytest.raises(ValueError, match="has seen no data yet"):
        accumulator.result()


def test_empty_parts_are_allowed_and_nan_inf_propagate():
    accumulator = fm.MSEAccumulator().update([], []).update([1.0], [3.0])
    assert accumulator.result() == 4.0
    assert math.isinf(fm.MSEAccumulator().update([1.0, 0.0], [np.inf, 0.0]).result())
    assert math.isnan(
        fm.MSEAccumulator()
        .update([1.0], [2.0])
        .merge(fm.MSEAccumulator().update([np.nan], [0.0]))
        .result()
    )


def test_invalid_use_raises():
    with pytest.raises(ValueError, match="axis must be None or 0, got 1"):
        fm.MSEAccumulator(axis=1)
    with pytest.raises(
        ValueError, match=r"rows have shape \(3,\), but earlier parts had \(2,\)"
    ):
        fm.MSEAccumulator(axis=0).update(np.ones((2, 2)), np.ones((2, 2))).update(
            np.ones((2, 3)), np.ones((2, 3))
        )
    with pytest.raises(TypeError, match="can only merge an MSEAccumulator, not float"):
        fm.MSEAccumulator().merge(1.0)
    accumulator = fm.MSEAccumulator().update([1.0], [2.0])
    with pytest.raises(ValueError, match="cannot merge an accumulator into itself"):
        accumulator.merge(accumulator)
    with pytest.raises(ValueError, match="cannot merge an accumulator of axis=0"):
        fm.MSEAccumulator().merge(fm.MSEAccumulator(axis=0).update([[1.0]], [[1.0]]))
    with pytest.raises(ValueError, match="negative value"):
        fm.MSEAccumulator().update([1.0, 2.0], [1.0, 2.0], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="sum to zero"):
        fm.MSEAccumulator().update([1.0], [2.0], sample_weight=[0.0]).result()
    # Finite weights whose sum overflows: a quotient of two infinite sums would be NaN.
    with pytest.raises(ValueError, match="sum to more than the largest float64"):
        fm.MSEAccumulator().update(
            [0.0, 0.0], [1.0, 1.0], sample_weight=[1e308] * 2
        ).result()
    with pytest.raises(
        ValueError, match=r"y_pred has shape \(5, 1\) but y_true has shape \(5,\)"
    ):
        fm.MSEAccumulator().update(np.ones(5), np.ones((5, 1)))


def test_pickled_size_is_small(rng):
    accumulator = fm.MSEAccumulator().update(
        rng.standard_normal(10**5), np.zeros(10**5)
    )
    assert len(pickle.dumps(accumulator)) < 1000


def test_docstring_examples():
    import doctest

    from fastmse import _accumulator

    failures, tests = doctest.testmod(_accumulator)
    assert tests > 0
    assert failures == 0
