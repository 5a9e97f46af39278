"""The input rules: dtypes, shapes, emptiness, NaN, weights, axis and out."""

import re
from fractions import Fraction

import numpy as np
import pytest

import fastmse as fm
from fastmse import reference
from fastmse._validation import AxisError

ALL_FUNCTIONS = [fm.mse, fm.sse, fm.rmse, fm.squared_error, fm.mse_grad, fm.mse_value_and_grad]
REDUCTIONS = [fm.mse, fm.sse, fm.rmse]
WEIGHTED = [fm.mse, fm.sse, fm.rmse, fm.mse_grad, fm.mse_value_and_grad]


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
@pytest.mark.parametrize(
    "bad, dtype_text",
    [
        (np.array([1 + 2j, 3j]), "complex128"),
        (np.array([1.0, None], dtype=object), "object"),
        (np.array(["a", "b"]), "<U1"),
        (np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"), "datetime64[D]"),
    ],
)
def test_non_real_dtype_raises_type_error(function, bad, dtype_text):
    message = f"y_pred has dtype {dtype_text}, but fastmse needs real numbers (float, integer or bool)"
    with pytest.raises(TypeError, match=re.escape(message)):
        function(np.zeros(2), bad)
    with pytest.raises(TypeError, match="^y_true has dtype"):
        function(bad, np.zeros(2))


def test_longdouble_raises_type_error():
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(TypeError, match="y_true has dtype float128, which float64 cannot hold"):
        fm.mse(np.zeros(2, np.longdouble), np.zeros(2))


def test_masked_array_raises_type_error():
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match=r"^y_pred is a masked array, and fastmse would ignore"):
        fm.mse([0.0, 0.0], masked)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64, np.bool_, np.float16]
)
def test_integer_bool_and_half_inputs(dtype):
    t = np.array([0, 1, 1, 0], dtype=dtype)
    p = np.array([1, 1, 0, 0], dtype=dtype)
    assert fm.mse(t, p) == 0.5


def test_int64_difference_does_not_wrap():
    t = np.array([4_000_000_000, 0], dtype=np.int64)
    p = np.array([0, 0], dtype=np.int64)
    assert fm.mse(t, p) == 8e18
    big = np.array([np.iinfo(np.int64).max], dtype=np.int64)
    small = np.array([np.iinfo(np.int64).min], dtype=np.int64)
    assert fm.mse(big, small) == pytest.approx(float(2**64) ** 2, rel=1e-15)


def test_unsigned_difference_does_not_wrap():
    assert fm.mse(np.array([0], np.uint8), np.array([255], np.uint8)) == 255.0**2


@pytest.mark.parametrize("byteorder", [">", "<"])
@pytest.mark.parametrize("kind", ["f8", "f4"])
def test_byte_swapped_inputs(byteorder, kind, rng):
    native_t = rng.standard_normal(101).astype(kind)
    native_p = rng.standard_normal(101).astype(kind)
    t = native_t.astype(byteorder + kind)
    p = native_p.astype(byteorder + kind)
    assert fm.mse(t, p) == fm.mse(native_t, native_p)
    np.testing.assert_array_equal(fm.mse_grad(t, p), fm.mse_grad(native_t, native_p))


def test_read_only_inputs(rng):
    t = rng.standard_normal(50)
    p = rng.standard_normal(50)
    t.flags.writeable = False
    p.flags.writeable = False
    assert fm.mse(t, p) == pytest.approx(reference.mse(t, p), rel=1e-15)
    assert fm.mse_grad(t, p).flags.writeable


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_column_against_vector_raises(function):
    message = (
        "y_pred has shape (5, 1) but y_true has shape (5,); broadcasting would compare "
        "them as arrays of shape (5, 5), larger than either. If both hold one value per "
        "sample, flatten them with ravel() first"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        function(np.zeros(5), np.zeros((5, 1)))


def test_row_against_column_raises():
    with pytest.raises(ValueError, match=re.escape("as arrays of shape (3, 3)")):
        fm.mse(np.zeros((1, 3)), np.zeros((3, 1)))


def test_incompatible_shapes_raise():
    message = (
        "y_pred has shape (4,) but y_true has shape (3,); the shapes must be equal, "
        "or one must broadcast to the other"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fm.mse(np.zeros(3), np.zeros(4))


def test_batch_against_row_broadcasts():
    t = np.arange(12.0).reshape(3, 4)
    p = np.ones(4)
    assert fm.mse(t, p) == pytest.approx(np.mean((t - p) ** 2), rel=1e-15)


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
def test_empty_raises(function, shape):
    with pytest.raises(ValueError, match=re.escape("the mean of no elements is undefined")):
        function(np.zeros(shape), np.zeros(shape))


def test_empty_against_scalar_raises():
    with pytest.raises(ValueError, match=r"are empty \(result shape \(0,\)\)"):
        fm.mse(np.zeros(0), 1.0)


def test_nan_and_inf_propagate():
    t = np.zeros(100)
    p = np.zeros(100)
    p[37] = np.nan
    assert np.isnan(fm.mse(t, p))
    gradient = fm.mse_grad(t, p)
    assert np.isnan(gradient[37])
    assert np.count_nonzero(np.isnan(gradient)) == 1
    p[37] = np.inf
    assert fm.mse(t, p) == np.inf
    assert np.isnan(fm.mse([np.inf], [np.inf]))


@pytest.mark.parametrize("function", WEIGHTED)
class TestWeightErrors:
    def test_negative(self, function):
        message = (
            "sample_weight contains the negative value -1.0 at index 2; "
            "weights must be non-negative"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            function(np.zeros(4), np.ones(4), sample_weight=[1.0, 2.0, -1.0, 1.0])

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_not_finite(self, function, bad):
        message = f"sample_weight contains {bad} at index 1; weights must be finite"
        with pytest.raises(ValueError, match=re.escape(message)):
            function(np.zeros(3), np.ones(3), sample_weight=[1.0, bad, 1.0])

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, -np.inf])
    def test_found_in_every_lane(self, function, simd_target, dtype, bad):
        # The kernels see a negative weight in their smallest weight and a NaN or
        # infinite one in the weight sum, in any lane, leaf or partial vector.
        for n in (1, 7, 8, 9, 33, 1000, 20000):
            for at in sorted({0, n // 2, n - 1}):
                weights = np.ones(n, dtype)
                weights[at] = bad
                with pytest.raises(ValueError, match=f"at index {at}; weights must be"):
                    function(np.zeros(n, dtype), np.ones(n, dtype), sample_weight=weights)

    def test_infinite_beside_an_overflowing_sum(self, function):
        # The weight sum is infinite with or without the infinite weight: the first row's
        # finite weights overflow it.
        weights = np.array([[1e308, 1e308], [1.0, np.inf]])
        message = "sample_weight contains inf at index (1, 1); weights must be finite"
        with pytest.raises(ValueError, match=re.escape(message)):
            function(np.zeros((2, 2)), np.ones((2, 2)), sample_weight=weights)

    def test_all_zero(self, function):
        message = "sample_weight sums to zero; at least one weight must be positive"
        with pytest.raises(ValueError, match=re.escape(message)):
            function(np.zeros(3), np.ones(3), sample_weight=np.zeros(3))

    @pytest.mark.parametrize("shape", [(2,), (4,), (3, 2), ()])
    def test_wrong_shape(self, function, shape):
        message = (
            f"sample_weight has shape {shape} but must have shape (3,), one weight per "
            "row, or the data's shape (3, 4)"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            function(np.zeros((3, 4)), np.ones((3, 4)), sample_weight=np.ones(shape))

    def test_wrong_length_for_vector(self, function):
        message = "sample_weight has shape (0,) but must have shape (2,), one weight per element"
        with pytest.raises(ValueError, match=re.escape(message)):
            function([1.0, 2.0], [1.0, 3.0], sample_weight=[])

    def test_complex(self, function):
        with pytest.raises(TypeError, match="^sample_weight has dtype complex128"):
            function(np.zeros(2), np.ones(2), sample_weight=np.ones(2, complex))


def test_zero_weight_slice_raises():
    message = (
        "sample_weight sums to zero over the slice at index 1 of the result; "
        "every slice needs a positive weight"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fm.mse(np.zeros((3, 2)), np.ones((3, 2)), axis=1, sample_weight=[1.0, 0.0, 1.0])


@pytest.mark.parametrize("function", REDUCTIONS)
class TestAxisErrors:
    def test_out_of_range(self, function):
        with pytest.raises(AxisError, match="axis 2 is out of bounds"):
            function(np.zeros((2, 3)), np.ones((2, 3)), axis=2)

    def test_repeated(self, function):
        with pytest.raises(ValueError, match=re.escape("axis (1, -1) repeats an axis")):
            function(np.zeros((2, 3)), np.ones((2, 3)), axis=(1, -1))

    def test_not_an_int(self, function):
        message = "axis must be None, an int or a tuple of ints, not float"
        with pytest.raises(TypeError, match=re.escape(message)):
            function(np.zeros((2, 3)), np.ones((2, 3)), axis=1.0)

    @pytest.mark.parametrize("axis", [True, (True, False), np.True_])
    def test_bool_rejected(self, function, axis):
        with pytest.raises(TypeError, match="^axis must be None, an int or a tuple of ints"):
            function(np.zeros((2, 3)), np.ones((2, 3)), axis=axis)

    def test_numpy_integer_accepted(self, function):
        assert function(np.zeros((2, 3)), np.ones((2, 3)), axis=np.int64(1)).shape == (2,)


@pytest.mark.parametrize("function", [fm.squared_error, fm.mse_grad, fm.mse_value_and_grad])
class TestOutErrors:
    def test_read_only(self, function):
        out = np.full(3, 7.0)
        out.flags.writeable = False
        with pytest.raises(ValueError, match=re.escape("out is read-only; pass a writable array")):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)

    def test_wrong_shape(self, function):
        out = np.full(4, 7.0)
        with pytest.raises(
            ValueError, match=re.escape("out has shape (4,) but the result has shape (3,)")
        ):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)

    def test_wrong_dtype(self, function):
        out = np.full(3, 7.0, np.float32)
        message = (
            "out has dtype float32 but the result has dtype float64; "
            "pass an array of dtype float64"
        )
        assert "byte order" not in message
        with pytest.raises(TypeError, match=re.escape(message)):
            function(np.zeros(3), np.ones(3), out=out)
        np.testing.assert_array_equal(out, 7.0)

    def test_byte_swapped(self, function):
        out = np.full(3, 7.0, ">f8")
        message = (
            "out has dtype >f8 but the result has dtype float64; "
            "pass an array of dtype float64 in native byte order"
        )
        with pytest.raises(TypeError, match=re.escape(message)):
            function(np.zeros(3), np.ones(3), out=out)

    def test_not_an_array(self, function):
        with pytest.raises(TypeError, match="^out must be a NumPy array, not list"):
            function(np.zeros(3), np.ones(3), out=[0.0, 0.0, 0.0])


def test_float32_out_accepted():
    out = np.empty(3, np.float32)
    result = fm.mse_grad(np.zeros(3, np.float32), np.ones(3, np.float32), out=out)
    assert result is out
    np.testing.assert_array_equal(out, np.float32(2 / 3))


def test_keyword_only_options():
    with pytest.raises(TypeError):
        fm.mse(np.zeros(3), np.ones(3), 0)


def test_tiny_weights_keep_their_ratios():
    t = np.array([0.0, 1.0], np.float32)
    p = np.array([1.0, 3.0], np.float32)
    tiny = np.array([5e-324, 1e-323])
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=tiny)
    assert value == fm.mse(t, p, sample_weight=tiny)
    assert value == pytest.approx(fm.mse(t, p, sample_weight=[1.0, 2.0]), rel=1e-15)
    np.testing.assert_allclose(gradient, fm.mse_grad(t, p, sample_weight=[1.0, 2.0]), rtol=1e-15)
    assert np.all(np.isfinite(fm.mse_grad([0.0], [0.0], sample_weight=[5e-324])))


def test_object_dtype_hints_at_big_integers():
    with pytest.raises(TypeError, match="integers beyond 64 bits also become objects"):
        fm.mse(2**70, 0)


def test_none_input_is_named():
    message = "^y_pred is None, but fastmse needs real numbers: pass an array or a number"
    with pytest.raises(TypeError, match=message):
        fm.mse([1.0], None)
    with pytest.raises(TypeError, match="^b is None"):
        fm.linear_value_and_grad(np.ones((3, 2)), np.ones(3), np.ones(2), None)


def test_python_scalar_keeps_float32():
    values = np.arange(4, dtype=np.float32)
    assert fm.squared_error(values, 0.5).dtype == np.float32
    assert fm.mse_grad(0.5, values).dtype == np.float32
    assert fm.squared_error(values, np.float64(0.5)).dtype == np.float64
    assert fm.squared_error(0.5, 1).dtype == np.float64


def test_more_than_32_dimensions():
    shape = (1,) * 40 + (3,)
    assert fm.mse(np.ones(shape), 0.0) == 1.0
    assert fm.mse_grad(np.ones(shape), np.zeros(shape)).shape == shape


def test_huge_finite_weights():
    assert fm.mse([0.0, 0.0], [1.0, 1.0], sample_weight=[1e308, 1e308]) == 1.0
    gradient = fm.mse_grad([0.0, 0.0], [1.0, 1.0], sample_weight=[1e308, 1e308])
    np.testing.assert_array_equal(gradient, [1.0, 1.0])
    rows = np.full((2, 4), 1.0)
    assert fm.mse(np.zeros((2, 4)), rows, sample_weight=[5e307, 5e307]) == 1.0


@pytest.mark.parametrize("weights", [[1.7e308], [1e300, 1e300], [2.0**200, 2.0**200]])
def test_weight_times_loss_does_not_overflow(weights):
    # The products overflow before the weights are scaled, but the mean does not.
    n = len(weights)
    t = np.zeros(n)
    p = np.full(n, 1e5)
    assert fm.mse(t, p, sample_weight=weights) == 1e10
    assert fm.mse(t[:, None], p[:, None], axis=0, sample_weight=weights)[0] == 1e10
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=weights)
    assert value == 1e10
    np.testing.assert_allclose(gradient, np.full(n, 2e5 / n), rtol=1e-15)
    assert fm.mae(t, p, sample_weight=weights) == pytest.approx(1e5, rel=1e-15)


def test_tiny_and_normal_weights_in_different_slices():
    t = np.zeros((2, 2))
    p = np.array([[1.0, 3.0], [1.0, 3.0]])
    w = np.array([[5e-324, 1e-323], [1.0, 2.0]])
    got = fm.mse(t, p, axis=1, sample_weight=w)
    np.testing.assert_allclose(got, [19 / 3, 19 / 3], rtol=1e-15)


def test_small_weight_beside_a_huge_one():
    # The products are ordinary numbers, so no weight may be scaled into the subnormals.
    t = np.zeros(2)
    p = np.array([0.0, 1e100])
    w = np.array([1e250, 1e-80])
    assert fm.mse(t, p, sample_weight=w) == pytest.approx(1e-130, rel=1e-14)
    assert fm.mae(t, p, sample_weight=w) == pytest.approx(1e-230, rel=1e-14)
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=w)
    assert value == pytest.approx(1e-130, rel=1e-14)
    np.testing.assert_allclose(gradient, [0.0, 2e-230], rtol=1e-14)


def test_small_weight_beside_an_overflowing_sum():
    # The weight sum overflows, and scaling it back must not zero the small weight.
    t = np.zeros(3)
    p = np.array([0.0, 0.0, 1e150])
    w = [1.7e308, 1.7e308, 1e-30]
    weight_sum = sum(Fraction(v) for v in w)
    expected = float(Fraction(1e-30) * Fraction(1e150) ** 2 / weight_sum)
    assert fm.mse(t, p, sample_weight=w) == pytest.approx(expected, rel=1e-14)
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=w)
    assert value == fm.mse(t, p, sample_weight=w)
    slope = float(2 * Fraction(1e-30) * Fraction(1e150) / weight_sum)
    np.testing.assert_allclose(gradient, [0.0, 0.0, slope], rtol=1e-14)


def exact_weighted_gradient(slopes, weights, factor=1):
    """factor * w * slope / sum(w) for each element, rounded once, from exact fractions."""
    total = sum(Fraction(w) for w in weights)
    return [
        float(factor * Fraction(w) * Fraction(s) / total)
        for s, w in zip(slopes, weights)
    ]


@pytest.mark.parametrize(
    "case",
    [
        # w * slope overflows, but the gradient w * slope / sum(w) does not.
        ("mse", [1e308, 1e308], [2.0, 2.0]),
        ("mse", [1e308, -1e308, 5.0], [3.0, 3.0, 1e-300]),
        ("mae", [1.0, -1.0], [1.7e308, 1e300]),
        ("huber", [1.2, -0.5], [1.7e308, 1.0]),
        # (scale * w) * slope would underflow here, so the usual order must stay.
        ("mse", [1e300, 1.0], [5e-324, 1e10]),
    ],
    ids=["mse", "mse-mixed", "mae", "huber", "tiny-weight"],
)
def test_gradient_weight_product_overflow(simd_target, case):
    loss, errors, weights = case
    t = np.zeros(len(errors))
    p = np.array(errors)
    if loss == "mse":
        expected = exact_weighted_gradient(errors, weights, factor=2)
        got = fm.mse_grad(t, p, sample_weight=weights)
        _, from_value_and_grad = fm.mse_value_and_grad(t, p, sample_weight=weights)
    elif loss == "mae":
        expected = exact_weighted_gradient(np.sign(errors), weights)
        got = fm.mae_grad(t, p, sample_weight=weights)
        _, from_value_and_grad = fm.mae_value_and_grad(t, p, sample_weight=weights)
    else:
        expected = exact_weighted_gradient(np.clip(errors, -2, 2), weights)
        got = fm.huber_grad(t, p, delta=2.0, sample_weight=weights)
        _, from_value_and_grad = fm.huber_value_and_grad(
            t, p, delta=2.0, sample_weight=weights
        )
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    np.testing.assert_array_equal(from_value_and_grad, got)


@pytest.mark.parametrize(
    "case",
    [
        # w * slope underflows, but the gradient does not.
        ("mse", [1e-30, 1e-30], [1e-300, 1e-300]),
        ("huber", [1.0, 1.0], [1e-300, 1e-300]),
        # The weighted loss sum overflows, and scaling the weights for the value must
        # not flush the small one to zero in the gradient.
        ("mse", [1e200, 1e200], [1e200, 1e-200]),
        ("huber", [1e100, 1e100], [1e300, 1e-100]),
        # w * slope is subnormal but exact, and scale * w would round.
        ("mse", [1e15, 1.0], [5e-324, 3e-10]),
    ],
    ids=[
        "mse-underflow",
        "huber-underflow",
        "mse-far-weights",
        "huber-far-weights",
        "subnormal-weight",
    ],
)
def test_gradient_of_far_apart_weights(simd_target, case):
    loss, errors, weights = case
    t = np.zeros(len(errors))
    if loss == "mse":
        expected = exact_weighted_gradient(errors, weights, factor=2)
        got = fm.mse_grad(t, np.array(errors), sample_weight=weights)
    else:
        delta = 1e-30 if errors[0] == 1.0 else 1e100
        expected = exact_weighted_gradient(np.clip(errors, -delta, delta), weights)
        got = fm.huber_grad(t, np.array(errors), delta=delta, sample_weight=weights)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_out_that_is_the_weights():
    # The value needs the weights after the gradient has overwritten them.
    w = np.array([1e300, 1e300])
    t = np.zeros(2)
    p = np.array([1e100, 2e100])
    expected = fm.mse(t, p, sample_weight=w.copy())
    value, gradient = fm.mse_value_and_grad(t, p, sample_weight=w, out=w)
    assert value == expected
    assert gradient is w
    np.testing.assert_allclose(gradient, [1e100, 2e100], rtol=1e-15)


@pytest.mark.parametrize("in_place", [False, True])
def test_weighted_loss_that_underflows(in_place):
    # Each weight times its loss underflows, but the mean is an ordinary number.
    t = np.zeros(2)
    p = np.array([1e-30, 3e-30])
    w = [1e-299, 2e-299]
    expected = float(
        sum(Fraction(c) * Fraction(e) for c, e in zip(w, p)) / sum(map(Fraction, w))
    )
    assert fm.mae(t, p, sample_weight=w) == pytest.approx(expected, rel=1e-15)
    assert fm.mae(t[None], p[None], axis=1, sample_weight=[w])[0] == pytest.approx(
        expected, rel=1e-15
    )
    value, gradient = fm.mae_value_and_grad(
        t, p, sample_weight=w, out=p if in_place else None
    )
    assert value == fm.mae(t, np.array([1e-30, 3e-30]), sample_weight=w)
    np.testing.assert_allclose(gradient, [1 / 3, 2 / 3], rtol=1e-15)


@pytest.mark.parametrize("weights", [[1.0, 1.0], [1e10, 1e10], [1e250, 1e250]])
def test_value_and_grad_value_equals_mse_near_overflow(weights):
    t = np.zeros(2)
    p = np.full(2, 1.3e154)
    value, _ = fm.mse_value_and_grad(t, p, sample_weight=weights)
    expected = fm.mse(t, p, sample_weight=weights)
    assert value == expected or (np.isinf(value) and np.isinf(expected))


@pytest.mark.parametrize("second_row", [[2.0**150, 1e-300], [1.0, 3 * 2.0**-1074]])
def test_each_slice_depends_on_its_own_weights(second_row):
    t = np.zeros((2, 2))
    p = np.array([[0.0, 1e100], [0.0, 1e100]])
    w = np.array([[1e300, 1e300], second_row])
    alone = fm.mse(t[1], p[1], sample_weight=w[1])
    assert fm.mse(t, p, axis=1, sample_weight=w)[1] == alone


@pytest.mark.parametrize(
    "weights", [[5e-324, 1e7], [1e-310, 1e300], [1e-310, 1.7e308], [1.0, 1.7e308]]
)
@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_slices_of_far_apart_weights(weights, name):
    # Each row has one weight, so each row's weighted loss is its unweighted loss.
    t = np.zeros((2, 3))
    p = np.array([[0.3, 0.7, 1.1], [0.3, 0.7, 1.1]])
    function = getattr(fm, name)
    expected = function(t, p, axis=1)
    np.testing.assert_allclose(
        function(t, p, axis=1, sample_weight=weights), expected, rtol=1e-15
    )
    full = np.repeat(np.array(weights)[:, None], 3, axis=1)
    np.testing.assert_allclose(
        function(t.T, p.T, axis=0, sample_weight=full.T), expected, rtol=1e-15
    )


def test_gradient_of_scalar_y_pred_is_an_array():
    gradient = fm.mse_grad(np.ones((2, 3)), 0.5)
    assert isinstance(gradient, np.ndarray)
    assert gradient.shape == ()
    assert gradient == pytest.approx(-1.0)
