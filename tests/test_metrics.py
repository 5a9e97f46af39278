"""Tests of fastmse.metrics against scikit-learn's functions of the same names."""

import doctest
import inspect
import math
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
from fastmse import metrics

sklearn_metrics = pytest.importorskip("sklearn.metrics")

MSE_PAIR = (metrics.mean_squared_error, sklearn_metrics.mean_squared_error)
RMSE_PAIR = (metrics.root_mean_squared_error, sklearn_metrics.root_mean_squared_error)
FUNCTION_PAIRS = [
    pytest.param(MSE_PAIR, id="mse"),
    pytest.param(RMSE_PAIR, id="rmse"),
]

# scikit-learn computes in the data's float dtype, with NumPy's pairwise sums of
# the squares. For the few hundred positive terms used here, its relative error is,
# by estimate, within 20 eps of that dtype. The tests allow 64 eps.
EPS_FACTOR = 64


def relative_tolerance(dtype):
    return EPS_FACTOR * np.finfo(dtype).eps


def assert_same_result(ours, theirs, rtol):
    """Assert that two results have the same type, dtype and shape, and agree."""
    assert type(ours) is type(theirs)
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


def exact_mse(y_true, y_pred, sample_weight=None):
    """Return the MSE of each column of 2-D arrays as exact Fractions."""
    n_samples, n_outputs = y_true.shape
    if sample_weight is None:
        sample_weight = np.ones(n_samples)
    weights = [Fraction(float(w)) for w in sample_weight]

    errors = []
    for column in range(n_outputs):
        squares = sum(
            w * (Fraction(float(t)) - Fraction(float(p))) ** 2
            for w, t, p in zip(weights, y_true[:, column], y_pred[:, column])
        )
        errors.append(squares / sum(weights))
    return errors


def make_targets(rng, shape, dtype):
    y_true = rng.normal(size=shape).astype(dtype)
    y_pred = (y_true + rng.normal(scale=0.5, size=shape)).astype(dtype)
    return y_true, y_pred


def test_signatures_match_sklearn():
    for ours, theirs in (MSE_PAIR, RMSE_PAIR):
        assert inspect.signature(ours) == inspect.signature(theirs)


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, multioutput",
    [
        ((257,), "raw_values"),
        ((257,), "uniform_average"),
        ((257, 1), "raw_values"),
        ((257, 1), "uniform_average"),
        ((257, 3), "raw_values"),
        ((257, 3), "uniform_average"),
        # mean_squared_error rejects output weights for a single output.
        ((257, 3), "weights"),
    ],
)
@pytest.mark.parametrize("weight_kind", [None, "float", "integer"])
def test_random_data_matches_sklearn(
    functions, dtype, shape, multioutput, weight_kind, rng
):
    ours, theirs = functions
    y_true, y_pred = make_targets(rng, shape, dtype)
    if multioutput == "weights":
        multioutput = rng.uniform(0.1, 1.0, size=shape[1])
    weights = None
    if weight_kind == "float":
        weights = rng.uniform(0.1, 2.0, size=shape[0])
    elif weight_kind == "integer":
        weights = rng.integers(1, 5, size=shape[0])

    kwargs = {"sample_weight": weights, "multioutput": multioutput}
    expected = theirs(y_true, y_pred, **kwargs)
    result = ours(y_true, y_pred, **kwargs)

    assert_same_result(result, expected, relative_tolerance(dtype))


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
@pytest.mark.parametrize(
    "y_true_dtype, y_pred_dtype, weight_dtype",
    [
        (np.float16, np.float16, None),
        (np.float16, np.float16, np.float64),
        (np.float16, np.int64, np.float16),
        (np.float32, np.float32, np.float32),
        (np.float32, np.float32, np.int64),
        (np.float32, np.float64, None),
        (np.int64, np.int64, None),
        (np.int64, np.int64, np.float32),
        (np.bool_, np.float32, None),
        (np.longdouble, np.float64, None),
        (np.float64, np.float64, np.longdouble),
    ],
)
@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average"])
def test_result_dtype_matches_sklearn(
    functions, y_true_dtype, y_pred_dtype, weight_dtype, multioutput, rng
):
    ours, theirs = functions
    y_true = rng.integers(0, 8, size=(50, 2)).astype(y_true_dtype)
    y_pred = rng.integers(0, 8, size=(50, 2)).astype(y_pred_dtype)
    weights = None
    if weight_dtype is not None:
        weights = rng.integers(1, 4, size=50).astype(weight_dtype)

    kwargs = {"sample_weight": weights, "multioutput": multioutput}
    expected = theirs(y_true, y_pred, **kwargs)
    result = ours(y_true, y_pred, **kwargs)

    # scikit-learn computes in the widest float dtype of the inputs.
    dtypes = [np.dtype(d) for d in (y_true_dtype, y_pred_dtype, weight_dtype) if d]
    float_dtypes = [dtype for dtype in dtypes if dtype.kind == "f"]
    computed = np.result_type(*float_dtypes) if float_dtypes else np.float64
    assert_same_result(result, expected, relative_tolerance(computed))


def test_float32_raw_values_round_the_exact_mse(rng):
    y_true, y_pred = make_targets(rng, (301, 2), np.float32)
    weights = rng.uniform(0.1, 2.0, size=301).astype(np.float32)
    exact = exact_mse(y_true, y_pred, weights)

    result = metrics.mean_squared_error(
        y_true, y_pred, sample_weight=weights, multioutput="raw_values"
    )
    expected = sklearn_metrics.mean_squared_error(
        y_true, y_pred, sample_weight=weights, multioutput="raw_values"
    )

    assert result.dtype == np.float32
    for ours, theirs, value in zip(result, expected, exact):
        assert ours == np.float32(float(value))
        assert abs(Fraction(float(ours)) - value) <= abs(
            Fraction(float(theirs)) - value
        )


def test_float32_average_is_exact_in_float64(rng):
    y_true, y_pred = make_targets(rng, (301, 3), np.float32)
    exact = sum(exact_mse(y_true, y_pred)) / 3

    result = metrics.mean_squared_error(y_true, y_pred)

    assert isinstance(result, float)
    assert abs(Fraction(result) - exact) <= 4 * 2.0**-53 * exact


def test_int64_near_2_pow_40_is_exact(rng):
    # Integers below 2**53 convert to float64 exactly, and so do these
    # differences and their squares: scikit-learn and fastmse are both exact.
    y_true = 2**40 + rng.integers(0, 1000, size=(999, 2))
    y_pred = y_true + rng.integers(-50, 51, size=(999, 2))
    exact = exact_mse(y_true, y_pred)

    result = metrics.mean_squared_error(y_true, y_pred, multioutput="raw_values")
    expected = sklearn_metrics.mean_squared_error(
        y_true, y_pred, multioutput="raw_values"
    )

    assert list(result) == [float(value) for value in exact]
    assert list(result) == list(expected)


def test_int64_large_squares_match_sklearn(rng):
    y_true = rng.integers(2**40, 2**41, size=999)
    y_pred = -rng.integers(2**40, 2**41, size=999)
    exact = exact_mse(y_true.reshape(-1, 1), y_pred.reshape(-1, 1))[0]
    # The README's bound for fastmse's sums of n squares.
    bound = (20 + math.log2(999)) * 2.0**-53

    result = metrics.mean_squared_error(y_true, y_pred)
    expected = sklearn_metrics.mean_squared_error(y_true, y_pred)

    assert abs(Fraction(result) - exact) <= bound * exact
    assert result == pytest.approx(expected, rel=relative_tolerance(np.float64))


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
def test_negative_weights_match_sklearn(functions, rng):
    ours, theirs = functions
    y_true, y_pred = make_targets(rng, (40, 2), np.float64)
    weights = rng.uniform(0.5, 2.0, size=40)
    weights[::4] *= -0.25

    for multioutput in ("raw_values", "uniform_average"):
        expected = theirs(
            y_true, y_pred, sample_weight=weights, multioutput=multioutput
        )
        result = ours(y_true, y_pred, sample_weight=weights, multioutput=multioutput)
        assert_same_result(result, expected, relative_tolerance(np.float64))


def test_all_negative_weights_match_sklearn(rng):
    y_true, y_pred = make_targets(rng, (40,), np.float64)
    weights = -rng.uniform(0.5, 2.0, size=40)

    result = metrics.mean_squared_error(y_true, y_pred, sample_weight=weights)
    expected = sklearn_metrics.mean_squared_error(y_true, y_pred, sample_weight=weights)

    assert result == pytest.approx(expected, rel=relative_tolerance(np.float64))


def test_large_input_matches_sklearn(rng):
    # Large enough for fastmse to split the sums between threads.
    y_true, y_pred = make_targets(rng, (300_001, 2), np.float64)
    weights = rng.uniform(0.1, 2.0, size=300_001)

    for ours, theirs in (MSE_PAIR, RMSE_PAIR):
        expected = theirs(y_true, y_pred, sample_weight=weights)
        result = ours(y_true, y_pred, sample_weight=weights)
        assert result == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
def test_overflow_returns_infinity_like_sklearn(functions):
    ours, theirs = functions
    # Finite data whose squares overflow float64 is valid input.
    y_true = [1e200, 0.0]
    y_pred = [-1e200, 0.0]

    with np.errstate(over="ignore"):
        expected = theirs(y_true, y_pred, multioutput="raw_values")
    result = ours(y_true, y_pred, multioutput="raw_values")

    assert np.isinf(expected).all()
    np.testing.assert_array_equal(result, expected)


def test_rmse_is_root_of_mse(rng):
    y_true, y_pred = make_targets(rng, (100, 3), np.float64)

    mse = metrics.mean_squared_error(y_true, y_pred, multioutput="raw_values")
    rmse = metrics.root_mean_squared_error(y_true, y_pred, multioutput="raw_values")

    np.testing.assert_array_equal(rmse, np.sqrt(mse))


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        pytest.param([3, -0.5, 2, 7], [2.5, 0.0, 2, 8], id="lists"),
        pytest.param((3, -0.5, 2, 7), (2.5, 0.0, 2, 8), id="tuples"),
        pytest.param(
            np.array([[3], [-0.5], [2], [7]]), [2.5, 0.0, 2, 8], id="column-and-1d"
        ),
        pytest.param(
            [[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]], id="nested-lists"
        ),
        pytest.param(np.array([1, 2, 3], dtype=object), [1.5, 2, 2], id="object-array"),
        pytest.param(
            np.ma.array([1.0, 2.0, 9.0], mask=[0, 0, 1]), [1.5, 2, 2], id="masked"
        ),
        pytest.param(["1.5", "2", "3"], [1, 2, 3], id="numeric-strings"),
    ],
)
def test_input_types_match_sklearn(functions, y_true, y_pred):
    ours, theirs = functions

    for multioutput in ("raw_values", "uniform_average"):
        expected = theirs(y_true, y_pred, multioutput=multioutput)
        result = ours(y_true, y_pred, multioutput=multioutput)
        assert_same_result(result, expected, relative_tolerance(np.float64))


def test_column_and_1d_are_one_output():
    y_true = np.array([1.0, 2.0, 3.0])
    y_pred = np.array([1.5, 2.0, 1.0])

    flat = metrics.mean_squared_error(y_true, y_pred, multioutput="raw_values")
    column = metrics.mean_squared_error(
        y_true.reshape(-1, 1), y_pred, multioutput="raw_values"
    )

    assert flat.shape == (1,)
    np.testing.assert_array_equal(column, flat)


def test_rmse_accepts_weights_for_one_output():
    # scikit-learn's RMSE passes output weights to numpy.average unchecked.
    result = metrics.root_mean_squared_error([1.0, 2.0], [1.0, 4.0], multioutput=[3])
    expected = sklearn_metrics.root_mean_squared_error(
        [1.0, 2.0], [1.0, 4.0], multioutput=[3]
    )

    assert result == expected


def test_docstring_examples():
    failures, tests = doctest.testmod(metrics)

    assert tests > 0
    assert failures == 0


def test_invalid_parameter_error_bases():
    assert issubclass(metrics.InvalidParameterError, ValueError)
    assert issubclass(metrics.InvalidParameterError, TypeError)


# Errors raised by both functions. "{name}" stands for the function's name.
COMMON_ERRORS = [
    (
        "y_true-scalar",
        {"y_true": 5, "y_pred": [1]},
        metrics.InvalidParameterError,
        "The 'y_true' parameter of {name} must be an array-like. Got 5 instead.",
    ),
    (
        "y_pred-string",
        {"y_true": [1], "y_pred": "ab"},
        metrics.InvalidParameterError,
        "The 'y_pred' parameter of {name} must be an array-like. Got 'ab' instead.",
    ),
    (
        "sample_weight-scalar",
        {"y_true": [1], "y_pred": [1], "sample_weight": 3},
        metrics.InvalidParameterError,
        (
            "The 'sample_weight' parameter of {name} must be an array-like or None. "
            "Got 3 instead."
        ),
    ),
    (
        "multioutput-unknown-string",
        {"y_true": [1], "y_pred": [1], "multioutput": "variance_weighted"},
        metrics.InvalidParameterError,
        (
            "The 'multioutput' parameter of {name} must be a str among {{'raw_values', "
            "'uniform_average'}} or an array-like. Got 'variance_weighted' instead."
        ),
    ),
    (
        "multioutput-none",
        {"y_true": [1], "y_pred": [1], "multioutput": None},
        metrics.InvalidParameterError,
        (
            "The 'multioutput' parameter of {name} must be a str among {{'raw_values', "
            "'uniform_average'}} or an array-like. Got None instead."
        ),
    ),
    (
        "y_true-0d",
        {"y_true": np.array(1.0), "y_pred": [1.0]},
        TypeError,
        (
            "Input should have at least 1 dimension i.e. satisfy `len(x.shape) > 0`, "
            "got scalar `array(1.)` instead."
        ),
    ),
    (
        "matrix",
        # A view, because np.matrix() itself raises PendingDeprecationWarning.
        {"y_true": np.array([[1.0, 2.0]]).view(np.matrix), "y_pred": [[1.0, 3.0]]},
        TypeError,
        (
            "np.matrix is not supported. Please convert to a numpy array with "
            "np.asarray. For more information see: "
            "https://numpy.org/doc/stable/reference/generated/numpy.matrix.html"
        ),
    ),
    (
        "inconsistent-lengths",
        {"y_true": [1, 2, 3], "y_pred": [1, 2]},
        ValueError,
        "Found input variables with inconsistent numbers of samples: [3, 2]",
    ),
    (
        "inconsistent-weights",
        {"y_true": [1, 2, 3], "y_pred": [1, 2, 3], "sample_weight": [1, 2]},
        ValueError,
        "Found input variables with inconsistent numbers of samples: [3, 3, 2]",
    ),
    (
        "3d",
        {"y_true": [[[1.0]]], "y_pred": [[[1.0]]]},
        ValueError,
        "Found array with dim 3, while dim <= 2 is required.",
    ),
    (
        "empty",
        {"y_true": [], "y_pred": []},
        ValueError,
        "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required.",
    ),
    (
        "no-outputs",
        {"y_true": np.zeros((2, 0)), "y_pred": np.zeros((2, 0))},
        ValueError,
        (
            "Found array with 0 feature(s) (shape=(2, 0)) while a minimum of 1 is "
            "required."
        ),
    ),
    (
        "different-outputs",
        {"y_true": [[1, 2]], "y_pred": [[1, 2, 3]]},
        ValueError,
        "y_true and y_pred have different number of output (2!=3)",
    ),
    (
        "2d-against-1d",
        {"y_true": [[1, 2], [3, 4]], "y_pred": [1, 2]},
        ValueError,
        "y_true and y_pred have different number of output (2!=1)",
    ),
    (
        "nan",
        {"y_true": [1.0, 2.0], "y_pred": [1.0, np.nan]},
        ValueError,
        "Input contains NaN.",
    ),
    (
        "nan-where-weight-is-zero",
        {"y_true": [np.nan, 1.0], "y_pred": [1.0, 1.0], "sample_weight": [0, 1]},
        ValueError,
        "Input contains NaN.",
    ),
    (
        "infinity-with-negative-weights",
        {
            "y_true": [[1.0, 2.0], [1.0, 2.0]],
            "y_pred": [[1.0, np.inf], [1.0, 2.0]],
            "sample_weight": [-1, 2],
        },
        ValueError,
        "Input contains infinity or a value too large for dtype('float64').",
    ),
    (
        "nan-long-double",
        {"y_true": np.array([np.nan, 1], np.longdouble), "y_pred": [1.0, 1.0]},
        ValueError,
        "Input contains NaN.",
    ),
    (
        "infinity-float32",
        {"y_true": np.array([1, np.inf], np.float32), "y_pred": [1.0, 2.0]},
        ValueError,
        "Input contains infinity or a value too large for dtype('float32').",
    ),
    (
        "complex-array",
        {"y_true": np.array([1 + 1j, 2]), "y_pred": [1.0, 2.0]},
        ValueError,
        "Complex data not supported\n[1.+1.j 2.+0.j]\n",
    ),
    (
        "complex-list",
        {"y_true": [1 + 1j, 2], "y_pred": [1.0, 2.0]},
        TypeError,
        "float() argument must be a string or a real number, not 'complex'",
    ),
    (
        "string",
        {"y_true": ["a", "b"], "y_pred": [1.0, 2.0]},
        ValueError,
        "could not convert string to float: 'a'",
    ),
    (
        "sample_weight-nan",
        {"y_true": [1, 2], "y_pred": [1, 2], "sample_weight": [1, np.nan]},
        ValueError,
        "Input sample_weight contains NaN.",
    ),
    (
        "sample_weight-nan-and-negative",
        {"y_true": [1, 2, 3], "y_pred": [1, 2, 3], "sample_weight": [-1, np.nan, 3]},
        ValueError,
        "Input sample_weight contains NaN.",
    ),
    (
        "sample_weight-infinity",
        {"y_true": [1, 2], "y_pred": [1, 2], "sample_weight": [1, np.inf]},
        ValueError,
        (
            "Input sample_weight contains infinity or a value too large for "
            "dtype('float64')."
        ),
    ),
    (
        "sample_weight-complex",
        {"y_true": [1, 2], "y_pred": [1, 2], "sample_weight": np.array([1j, 2])},
        ValueError,
        "Complex data not supported\n[0.+1.j 2.+0.j]\n",
    ),
    (
        "sample_weight-2d",
        {"y_true": [1, 2], "y_pred": [1, 2], "sample_weight": [[1, 2], [3, 4]]},
        ValueError,
        (
            "Sample weights must be 1D array or scalar, got 2D array. Expected either a "
            "scalar value or a 1D array of length 2."
        ),
    ),
    (
        "sample_weight-all-zero",
        {"y_true": [1, 2], "y_pred": [1, 2], "sample_weight": [0, 0]},
        ValueError,
        "Sample weights must contain at least one non-zero number.",
    ),
    (
        "sample_weight-sum-zero",
        {"y_true": [1, 2], "y_pred": [1, 3], "sample_weight": [1.5, -1.5]},
        ZeroDivisionError,
        "Weights sum to zero, can't be normalized",
    ),
]

# Errors for output weights, which only mean_squared_error checks.
MSE_ERRORS = [
    (
        "multioutput-one-output",
        {"y_true": [1, 2], "y_pred": [1, 2], "multioutput": [1]},
        ValueError,
        "Custom weights are useful only in multi-output cases.",
    ),
    (
        "multioutput-count",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": [1, 2, 3]},
        ValueError,
        "There must be equally many custom weights (3) as outputs (2).",
    ),
    (
        "multioutput-sum-zero",
        {"y_true": [[1, 2]], "y_pred": [[1, 3]], "multioutput": [1, -1]},
        ZeroDivisionError,
        "Weights sum to zero, can't be normalized",
    ),
    (
        "multioutput-strings",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": np.array(["a", "b"])},
        ValueError,
        (
            "dtype='numeric' is not compatible with arrays of bytes/strings."
            "Convert your data to numeric values explicitly instead."
        ),
    ),
    (
        "multioutput-nan",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": [np.nan, 1]},
        ValueError,
        "Input contains NaN.",
    ),
    (
        "multioutput-empty",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": []},
        ValueError,
        "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required.",
    ),
    (
        "multioutput-complex",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": [1j, 1]},
        ValueError,
        "Complex data not supported\n[0.+1.j 1.+0.j]\n",
    ),
]

# The same output weights reach numpy.average unchecked in the RMSE.
RMSE_ERRORS = [
    (
        "multioutput-count",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": [1, 2, 3]},
        TypeError,
        "Axis must be specified when shapes of a and weights differ.",
    ),
    (
        "multioutput-sum-zero",
        {"y_true": [[1, 2]], "y_pred": [[1, 3]], "multioutput": [1, -1]},
        ZeroDivisionError,
        "Weights sum to zero, can't be normalized",
    ),
    (
        "multioutput-complex",
        {"y_true": [[1, 2]], "y_pred": [[1, 2]], "multioutput": [1j, 1]},
        TypeError,
        "float() argument must be a string or a real number, not 'complex'",
    ),
]


def error_cases():
    mse, rmse = metrics.mean_squared_error, metrics.root_mean_squared_error
    sk_mse = sklearn_metrics.mean_squared_error
    sk_rmse = sklearn_metrics.root_mean_squared_error
    groups = [
        ("mse", mse, sk_mse, COMMON_ERRORS + MSE_ERRORS),
        ("rmse", rmse, sk_rmse, COMMON_ERRORS + RMSE_ERRORS),
    ]
    for prefix, ours, theirs, cases in groups:
        for case_id, kwargs, error, message in cases:
            yield pytest.param(
                ours, theirs, kwargs, error, message, id=f"{prefix}-{case_id}"
            )


def raised_by(function, kwargs):
    with pytest.raises(Exception) as info:
        function(**kwargs)
    return info.value


@pytest.mark.parametrize("ours, theirs, kwargs, error, message", list(error_cases()))
def test_error_matches_sklearn(ours, theirs, kwargs, error, message):
    message = message.format(name=ours.__name__)

    ours_error = raised_by(ours, kwargs)
    theirs_error = raised_by(theirs, kwargs)

    assert type(ours_error) is error
    assert str(ours_error) == message
    # scikit-learn raises its own InvalidParameterError, and lists the options of
    # a str parameter in the order of a set, which changes between processes.
    assert type(theirs_error).__name__ == error.__name__
    theirs_message = str(theirs_error).replace(
        "{'uniform_average', 'raw_values'}", "{'raw_values', 'uniform_average'}"
    )
    assert theirs_message == message


@pytest.mark.parametrize("functions", FUNCTION_PAIRS)
def test_sparse_input_rejected_like_sklearn(functions):
    sparse = pytest.importorskip("scipy.sparse")
    ours, theirs = functions
    y_true = sparse.csr_matrix([[1.0], [2.0]])

    ours_error = raised_by(ours, {"y_true": y_true, "y_pred": [[1.0], [2.0]]})
    theirs_error = raised_by(theirs, {"y_true": y_true, "y_pred": [[1.0], [2.0]]})

    assert type(ours_error) is metrics.InvalidParameterError
    assert str(ours_error) == (
        f"The 'y_true' parameter of {ours.__name__} must be an array-like. "
        f"Got {y_true!r} instead."
    )
    assert str(ours_error) == str(theirs_error)


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_does_not_import_sklearn():
    output = run_python(
        """
        import sys
        import fastmse.metrics
        print("sklearn" in sys.modules)
        """
    )

    assert output.split() == ["False"]


def test_works_without_sklearn_and_scipy():
    output = run_python(
        """
        import sys
        # None in sys.modules makes an import of that name raise ImportError.
        sys.modules["sklearn"] = None
        sys.modules["scipy"] = None
        from fastmse.metrics import InvalidParameterError, mean_squared_error
        print(mean_squared_error([[1, 2], [3, 4]], [[1, 3], [3, 6]]))
        try:
            mean_squared_error([1], [1], multioutput="variance_weighted")
        except InvalidParameterError as error:
            print(type(error).__name__)
        """
    )

    assert output.split() == ["1.25", "InvalidParameterError"]
