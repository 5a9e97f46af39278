"""mse, sse and rmse against fastmse.reference and exact sums."""

import math
from fractions import Fraction

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference

# Lengths around every vector width (1, 4 and 8 doubles), accumulator round (16, 32), leaf
# (256) and chunk (8192) boundary, so that every tail path runs.
TAIL_LENGTHS = list(range(1, 68)) + [255, 256, 257, 8191, 8192, 8193, 4 * 8192 + 5]
LARGE = 300_001  # crosses the threading threshold and many chunks


def error_bound(n):
    """Relative error bound of a pairwise float64 sum of n squares (see cpp/mse.hpp)."""
    return (16 + math.log2(max(n, 2)) + 4) * 2.0**-53


def exact_mse(y_true, y_pred, weights=None):
    """The MSE of float64 values with no rounding at all, as a Fraction."""
    t = [Fraction(float(v)) for v in np.ravel(y_true)]
    p = [Fraction(float(v)) for v in np.ravel(y_pred)]
    if weights is None:
        return sum((a - b) ** 2 for a, b in zip(t, p)) / len(t)
    w = [Fraction(float(v)) for v in np.ravel(weights)]
    return sum(c * (a - b) ** 2 for a, b, c in zip(t, p, w)) / sum(w)


def fsum_mse(y_true, y_pred):
    """The MSE of float64 values with exactly rounded differences and squares summed by fsum."""
    d = np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64)
    return math.fsum((d * d).tolist()) / d.size


def test_worked_example_house_prices():
    y_true = [250000, 300000, 450000, 500000]
    y_pred = [230000, 330000, 420000, 480000]
    assert fm.mse(y_true, y_pred) == 650000000.0
    assert fm.mse(np.array(y_true, float), np.array(y_pred, float)) == 650000000.0
    assert fm.sse(y_true, y_pred) == 2600000000.0
    assert fm.rmse(y_true, y_pred) == math.sqrt(650000000.0)


def test_readme_one_liner():
    assert fm.mse(np.ones(3), np.zeros(3)) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", TAIL_LENGTHS)
def test_tails_every_target(simd_target, dtype, n, rng):
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    expected = exact_mse(t, p) if n <= 67 else Fraction(fsum_mse(t, p))
    got = fm.mse(t, p)
    assert abs(Fraction(got) - expected) <= abs(expected) * Fraction(error_bound(n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [1, 2, 3, 7])
def test_unaligned_start(simd_target, dtype, offset, rng):
    base_t = rng.standard_normal(1000 + offset).astype(dtype)
    base_p = rng.standard_normal(1000 + offset).astype(dtype)
    t, p = base_t[offset:], base_p[offset:]
    assert fm.mse(t, p) == fm.mse(t.copy(), p.copy())


def test_misaligned_buffer_is_copied(rng):
    raw = np.zeros(8 * 101 + 1, np.uint8)
    t = np.frombuffer(raw.data, np.float64, 101, offset=1)
    assert not t.flags.aligned
    p = rng.standard_normal(101)
    assert fm.mse(t, p) == fm.mse(np.ascontiguousarray(t), p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_against_reference(simd_target, num_threads, dtype, rng):
    t = rng.standard_normal(LARGE).astype(dtype)
    p = (t + rng.standard_normal(LARGE)).astype(dtype)
    assert fm.mse(t, p) == pytest.approx(fsum_mse(t, p), rel=1e-14)
    assert fm.sse(t, p) == pytest.approx(fsum_mse(t, p) * LARGE, rel=1e-14)
    assert fm.rmse(t, p) == pytest.approx(math.sqrt(fsum_mse(t, p)), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_bits_for_every_thread_count(dtype, rng):
    # Above 2 * 10**6 elements, reduce_shared_chunks keeps its chunk sums on the heap.
    n = 2_100_003
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    results = set()
    before = fm.get_num_threads()
    try:
        for threads in (1, 2, 3, 4):
            fm.set_num_threads(threads)
            results.add(fm.mse(t, p))
            results.add(float(fm.mse(t, p, axis=0)))
            results.add(fm.mse_value_and_grad(t, p)[0])
    finally:
        fm.set_num_threads(before)
    assert len(results) == 1


@pytest.mark.parametrize("n", [32_768, 32_769, 33_300, 4 * 8192 + 5, 100_000, 300_001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_chunk_keeps_every_bit(simd_target, dtype, n, rng):
    # On several threads, a contiguous reduction gives each thread an equal share of the
    # leaves, so two threads can share a chunk (reduce_shared_chunks in cpp/driver.cpp).
    # Every loss, weighted or not, must keep the bits of one thread and of a strided view,
    # which goes through the general path chunk by chunk.
    t = rng.standard_normal(n).astype(dtype)
    p = (t + rng.standard_normal(n)).astype(dtype)
    w = rng.random(n).astype(dtype)

    def losses(t, p, w):
        return [
            fm.mse(t, p),
            fm.mse(t, p, sample_weight=w),
            fm.mae(t, p),
            fm.mae(t, p, sample_weight=w),
            fm.huber(t, p, delta=0.5),
            fm.huber(t, p, delta=0.5, sample_weight=w),
        ]

    before = fm.get_num_threads()
    try:
        fm.set_num_threads(1)
        expected = losses(t, p, w)
        for threads in (2, 3, 4, 7, 100):
            fm.set_num_threads(threads)
            assert losses(t, p, w) == expected, f"{threads} threads"
    finally:
        fm.set_num_threads(before)

    def strided(a):
        return np.repeat(a, 2)[::2]

    assert losses(strided(t), strided(p), strided(w)) == expected


@pytest.mark.parametrize(
    "make_view",
    [
        lambda a: a[::2],
        lambda a: a[::-1],
        lambda a: a[::-3],
        lambda a: a.reshape(30, 40).T,
        lambda a: np.asfortranarray(a.reshape(30, 40)),
        lambda a: a.reshape(2, 3, 4, 50)[:, ::2, 1:, ::5],
    ],
    ids=["step2", "reversed", "step-3", "transposed", "fortran", "4d-slices"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_equals_contiguous_copy(simd_target, make_view, dtype, rng):
    t = make_view(rng.standard_normal(1200).astype(dtype))
    p = make_view(rng.standard_normal(1200).astype(dtype))
    expected = fm.mse(np.ascontiguousarray(t), np.ascontiguousarray(p))
    assert fm.mse(t, p) == expected
    assert fm.mse(t, np.ascontiguousarray(p)) == expected
    assert fm.mse(t, p) == pytest.approx(reference.mse(t, p), rel=1e-14)


def test_strided_large_equals_contiguous(num_threads, rng):
    t = rng.standard_normal(3 * LARGE)[::3]
    p = rng.standard_normal(2 * LARGE)[::-2]
    assert fm.mse(t, p) == fm.mse(t.copy(), p.copy())


@pytest.mark.parametrize("shape", [(), (1,), (3, 1), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_zero_to_four_dims(shape, dtype, rng):
    t = rng.standard_normal(shape).astype(dtype)
    p = rng.standard_normal(shape).astype(dtype)
    assert fm.mse(t, p) == pytest.approx(reference.mse(t, p), rel=1e-14)


def test_scalars_and_lists():
    assert fm.mse(3.0, 1.0) == 4.0
    assert fm.mse([1, 2, 3], (1, 2, 5)) == pytest.approx(4 / 3, rel=1e-15)
    assert fm.mse(np.float32(2), np.float64(0)) == 4.0


@pytest.mark.parametrize(
    "axis", [0, 1, 2, -1, -2, (0, 1), (1, 2), (0, 2), (0, 1, 2), (-1, 0), ()]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axis_against_reference(simd_target, axis, dtype, rng):
    t = rng.standard_normal((5, 6, 7)).astype(dtype)
    p = rng.standard_normal((5, 6, 7)).astype(dtype)
    got = fm.mse(t, p, axis=axis)
    expected = reference.mse(t, p, axis=axis)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(fm.sse(t, p, axis=axis), reference.sse(t, p, axis=axis), rtol=1e-14)
    np.testing.assert_allclose(
        fm.rmse(t, p, axis=axis), reference.rmse(t, p, axis=axis), rtol=1e-14
    )


@pytest.mark.parametrize("shape, axis", [((3, 40000), 1), ((40000, 3), 0), ((2, 20000), -1)])
def test_axis_long_slices(num_threads, shape, axis, rng):
    t = rng.standard_normal(shape)
    p = rng.standard_normal(shape)
    np.testing.assert_allclose(
        fm.mse(t, p, axis=axis), reference.mse(t, p, axis=axis), rtol=1e-14
    )


def test_axis_rows_match_mse_of_each_row(rng):
    t = rng.standard_normal((50, 1000))
    p = rng.standard_normal((50, 1000))
    rows = fm.mse(t, p, axis=1)
    for i in range(50):
        assert rows[i] == fm.mse(t[i], p[i])


def test_axis_none_tuple_of_all_axes_matches_none(rng):
    t = rng.standard_normal((4, 5))
    p = rng.standard_normal((4, 5))
    assert fm.mse(t, p, axis=(0, 1)).shape == ()
    assert fm.mse(t, p, axis=(0, 1))[()] == fm.mse(t, p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcast_row_against_batch(simd_target, dtype, rng):
    t = rng.standard_normal((3, 4)).astype(dtype)
    p = rng.standard_normal(4).astype(dtype)
    expected = reference.mse(t, p)
    assert fm.mse(t, p) == pytest.approx(expected, rel=1e-14)
    assert fm.mse(p, t) == pytest.approx(expected, rel=1e-14)
    assert fm.mse(t, 0.5) == pytest.approx(reference.mse(t, 0.5), rel=1e-14)
    assert fm.mse(t, np.broadcast_to(p, (3, 4))) == fm.mse(t, np.tile(p, (3, 1)))


class TestWeights:
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("n", [1, 7, 33, 257, LARGE])
    def test_rows_weighted(self, simd_target, dtype, n, rng):
        t = rng.standard_normal(n).astype(dtype)
        p = rng.standard_normal(n).astype(dtype)
        w = rng.uniform(0, 3, n).astype(dtype)
        expected = reference.mse(t, p, sample_weight=w)
        assert fm.mse(t, p, sample_weight=w) == pytest.approx(expected, rel=1e-13)
        assert fm.sse(t, p, sample_weight=w) == pytest.approx(
            reference.sse(t, p, sample_weight=w), rel=1e-13
        )

    def test_exact_small(self):
        t = np.array([1.0, 2.0, 3.0, 4.0])
        p = np.array([0.5, 2.0, 5.0, 0.0])
        w = np.array([1.0, 3.0, 0.0, 0.25])
        assert Fraction(fm.mse(t, p, sample_weight=w)) == exact_mse(t, p, w)

    def test_row_weights_on_2d_match_sklearn_semantics(self, rng):
        t = rng.standard_normal((20, 3))
        p = rng.standard_normal((20, 3))
        w = rng.uniform(0.1, 2, 20)
        per_output = [np.average((t[:, j] - p[:, j]) ** 2, weights=w) for j in range(3)]
        assert fm.mse(t, p, sample_weight=w) == pytest.approx(np.mean(per_output), rel=1e-14)
        np.testing.assert_allclose(fm.mse(t, p, axis=0, sample_weight=w), per_output, rtol=1e-14)

    def test_full_shape_weights(self, rng):
        t = rng.standard_normal((6, 5))
        p = rng.standard_normal((6, 5))
        w = rng.uniform(0, 1, (6, 5))
        assert fm.mse(t, p, sample_weight=w) == pytest.approx(
            np.sum(w * (t - p) ** 2) / np.sum(w), rel=1e-14
        )

    def test_unit_weights_equal_unweighted(self, rng):
        t = rng.standard_normal(1000)
        p = rng.standard_normal(1000)
        assert fm.mse(t, p, sample_weight=np.ones(1000)) == pytest.approx(fm.mse(t, p), rel=1e-15)

    def test_integer_weights_count_repeats(self):
        t = np.array([0.0, 1.0, 2.0])
        p = np.array([1.0, 1.0, 0.0])
        repeated = fm.mse([0.0, 0.0, 1.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
        assert fm.mse(t, p, sample_weight=[2, 1, 3]) == pytest.approx(repeated, rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axis", [((300, 37), 0), ((9000, 20), 0), ((3, 5, 40), (0, 1))])
def test_column_slices_equal_contiguous_copies(num_threads, dtype, shape, axis, rng):
    t = rng.standard_normal(shape).astype(dtype)
    p = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0, 1, shape[0]).astype(dtype)
    got = fm.mse(t, p, axis=axis)
    weighted = fm.mse(t, p, axis=axis, sample_weight=w)
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = [d for d in range(len(shape)) if d not in axes]
    moved_t = np.moveaxis(t, kept, list(range(len(kept)))).reshape(got.size, -1)
    moved_p = np.moveaxis(p, kept, list(range(len(kept)))).reshape(got.size, -1)
    full_w = np.broadcast_to(w.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
    moved_w = np.moveaxis(full_w, kept, list(range(len(kept)))).reshape(got.size, -1)
    for j in range(got.size):
        row_t, row_p = moved_t[j].copy(), moved_p[j].copy()
        assert got.ravel()[j] == fm.mse(row_t, row_p)
        assert weighted.ravel()[j] == fm.mse(row_t, row_p, sample_weight=moved_w[j].copy())


@pytest.mark.parametrize("name", ["mse", "sse", "rmse", "mae", "huber"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 67, 8193, LARGE])
def test_contiguous_shortcut_equals_general_path(name, dtype, n, rng):
    # 1-D contiguous arrays, with or without weights of their dtype, go to C++ without
    # the Python set-up. A column of the same values takes the general path.
    function = getattr(fm, name)
    t = rng.standard_normal(n).astype(dtype)
    p = rng.standard_normal(n).astype(dtype)
    w = rng.random(n).astype(dtype)
    for weights in (None, w):
        shortcut = function(t, p, sample_weight=weights)
        assert type(shortcut) is float
        assert shortcut == function(t[:, None], p[:, None], sample_weight=weights)


@pytest.mark.parametrize("name", ["mse", "sse", "rmse", "mae", "huber"])
@pytest.mark.parametrize(
    ("weight_scale", "difference"),
    [
        (2.0**-1060, 1.0),  # the weight sum is subnormal
        (2.0**-600, 2.0**-300),  # each weight times a squared error underflows
        (2.0**900, 2.0**100),  # each weight times a squared error overflows
        (2.0**1020, 1.0),  # the weight sum overflows
    ],
)
def test_shortcut_leaves_scaling_to_general_path(name, weight_scale, difference, rng):
    # Where weighted results need scaled weights, the C++ shortcut must hand over to the
    # general path, which a column of the same values takes. Small integers times powers
    # of two make every difference exactly +-difference.
    function = getattr(fm, name)
    t = rng.integers(-4, 5, 1000) * difference
    p = t + rng.choice([-1.0, 1.0], 1000) * difference
    w = rng.integers(1, 5, 1000) * weight_scale
    shortcut = function(t, p, sample_weight=w)
    assert shortcut == function(t[:, None], p[:, None], sample_weight=w)
    if name == "mse":
        assert shortcut == pytest.approx(difference**2, rel=1e-14)


@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
@pytest.mark.parametrize("column", [False, True])
def test_flushed_weight_keeps_an_infinite_loss(name, column):
    # The product 1e300 * inf makes the weights scale down, and that flushes 1e-300 to
    # zero. Zero times the infinite loss must not turn the result into NaN.
    t, p = np.array([0.0, np.inf]), np.zeros(2)
    w = np.array([1e300, 1e-300])
    if column:
        t, p = t[:, None], p[:, None]
    assert getattr(fm, name)(t, p, sample_weight=w) == np.inf


@pytest.mark.parametrize("column", [False, True])
def test_sse_of_tiny_weights_rounds_once(column):
    # 5e-324 * d rounds to a subnormal number before the second factor d, unless the
    # weights are scaled up first and the sum scaled back.
    d = 1.2345678912345e10
    t, p, w = np.zeros(1), np.array([d]), np.array([5e-324])
    if column:
        t, p = t[:, None], p[:, None]
    exact = float(Fraction(5e-324) * Fraction(d) ** 2)
    assert fm.sse(t, p, sample_weight=w) == pytest.approx(exact, rel=2e-16, abs=0)
    # Scaled up, w * d * d overflows for this d, so the unscaled sum is kept.
    d = 1e300
    p = np.full_like(t, d)
    w = np.array([1e-310])
    exact = float(Fraction(1e-310) * Fraction(d) ** 2)
    assert fm.sse(t, p, sample_weight=w) == pytest.approx(exact, rel=1e-15, abs=0)


@pytest.mark.parametrize("scale", [2.0**-1060, 2.0**1020])
def test_shortcut_rescales_extreme_weights(scale, rng):
    # Small integer weights stay exact at either scale. Their sums are subnormal or
    # overflow, so the general path rescales them.
    t = rng.standard_normal(1000)
    p = rng.standard_normal(1000)
    w = rng.integers(1, 5, 1000).astype(np.float64)
    expected = fm.mse(t, p, sample_weight=w)
    assert fm.mse(t, p, sample_weight=w * scale) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("name", ["mse", "sse", "rmse", "mae", "huber"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((5, 7), -1),
        ((5, 7), 1),
        ((3, 4, 9), (1, 2)),
        ((3, 4, 9), (-1, -2)),
        ((2, 3, 4), 0),
        ((3000, 7), -1),
        ((3, 8193), -1),
    ],
)
def test_trailing_axis_shortcut_equals_general_path(name, dtype, shape, axis, rng):
    # C-contiguous arrays reduced over their last axes go to C++ without the Python
    # set-up. A Fortran-ordered copy of the same values takes the general path.
    function = getattr(fm, name)
    t = rng.standard_normal(shape).astype(dtype)
    p = rng.standard_normal(shape).astype(dtype)
    shortcut = function(t, p, axis=axis)
    general = function(np.asfortranarray(t), np.asfortranarray(p), axis=axis)
    assert shortcut.shape == general.shape
    assert shortcut.dtype == general.dtype
    np.testing.assert_array_equal(shortcut, general)


@pytest.mark.parametrize("shape", [(20_000, 3), (9, 8192), (2, 3, 40_000)])
def test_trailing_axis_shortcut_every_thread_count(num_threads, shape, rng):
    t = rng.standard_normal(shape)
    p = rng.standard_normal(shape)
    general = fm.mse(np.asfortranarray(t), np.asfortranarray(p), axis=-1)
    np.testing.assert_array_equal(fm.mse(t, p, axis=-1), general)
