"""scikit-learn's mean_squared_error and root_mean_squared_error, on fastmse's kernels.

The two functions take the arguments of their scikit-learn 1.9 namesakes and accept
the same inputs. They raise the same exception types with the same messages and return
the same types, so they can replace ``sklearn.metrics.mean_squared_error`` and
``sklearn.metrics.root_mean_squared_error``. The Notes of `mean_squared_error` list
the differences. scikit-learn is not needed to use them.
"""

import numbers
import sys

import numpy as np

from ._losses import mse, sse

__all__ = [
    "InvalidParameterError",
    "mean_squared_error",
    "root_mean_squared_error",
]

_MULTIOUTPUT_OPTIONS = ("raw_values", "uniform_average")


class InvalidParameterError(ValueError, TypeError):
    """An argument whose type or value the function does not accept.

    It derives from ValueError and TypeError, like scikit-learn's exception of the
    same name, but it is a different class: ``except
    sklearn.utils._param_validation.InvalidParameterError`` does not catch it, while
    ``except ValueError`` and ``except TypeError`` do.
    """


def mean_squared_error(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"
):
    """Compute the mean squared error of a regression, as scikit-learn does.

    This is a drop-in replacement for ``sklearn.metrics.mean_squared_error``
    (scikit-learn 1.9), computed by `fastmse.mse`.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,) or (n_samples, n_outputs)
        Target values. A 1-D array and an array of shape (n_samples, 1) are both
        one output.
    y_pred : array_like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted values, with as many samples and outputs as `y_true`.
    sample_weight : array_like of shape (n_samples,), optional
        One weight per sample. Weights may be negative, but not all zero, and must
        not sum to zero. The MSE of each output is then
        ``sum(w * (y_true - y_pred) ** 2) / sum(w)``.
    multioutput : {"raw_values", "uniform_average"} or array_like of shape \
(n_outputs,), default="uniform_average"
        How to combine the MSEs of several outputs: "raw_values" returns one MSE
        per output, "uniform_average" their mean, and an array of weights their
        weighted mean. Weights are accepted only for two or more outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        A Python float, or for "raw_values" an array of the dtype scikit-learn
        returns: the widest float dtype among the inputs that have a float dtype,
        else float64. float16 data with sample weights gives float64.

    Raises
    ------
    InvalidParameterError
        If `y_true`, `y_pred` or `sample_weight` is not an array-like (scalars,
        strings and sparse matrices are not), or `multioutput` is neither one of
        the two strings nor an array-like.
    TypeError
        If an input is a 0-d array or an ``np.matrix``, or contains values that
        NumPy cannot convert to float, such as complex numbers in a list.
    ValueError
        If the inputs have different numbers of samples or outputs, are empty, have
        more than 2 dimensions, contain NaN or infinity, are complex arrays or contain
        strings that are not numbers; if the weights are not 1-D or are all zero;
        if output weights are given for one output or their number differs from
        the number of outputs.
    ZeroDivisionError
        If the sample weights or the output weights sum to zero.

    Notes
    -----
    Each output's MSE is computed by fastmse's kernels, which accumulate every
    square in float64, also for float32 and float16 data; integers, bools and
    lists are converted to float64. Inputs of a float dtype wider than float64
    (``np.longdouble``) are computed by NumPy in that dtype, as scikit-learn does.
    "raw_values" results are rounded once to the returned dtype, and averages over
    outputs are computed in float64.

    Unlike `fastmse.mse`, this function follows scikit-learn's input rules: shapes
    (n,) and (n, 1) are the same single output, NaN and infinity raise, weights may
    be negative, and masked arrays are read without their mask. It reads NumPy
    arrays and anything that converts to one, such as lists and pandas or polars
    objects. The checks for NaN, infinity and invalid weights, which would read the
    data once more, run only when an MSE is not finite or `fastmse.mse` rejects a
    weight.

    It differs from scikit-learn 1.9 in these ways:

    - Results are at least as exact, so they can differ in the last bits, and
      for float32 and float16 data by about the rounding error of that dtype,
      because scikit-learn computes in the data's dtype.
    - Its InvalidParameterError is not scikit-learn's class, though both derive
      from ValueError and TypeError.
    - It ignores scikit-learn's global configuration (``assume_finite``,
      ``skip_parameter_validation``, ``array_api_dispatch``): arrays of other
      array-API libraries are converted to NumPy, and results are NumPy.
    - For data that contains both NaN and infinity, its message may name NaN where
      scikit-learn's names infinity.
    - Squares that overflow give infinity without NumPy's overflow warning.

    Examples
    --------
    >>> from fastmse.metrics import mean_squared_error
    >>> mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.375
    >>> y_true = [[0.5, 1], [-1, 1], [7, -6]]
    >>> y_pred = [[0, 2], [-1, 2], [8, -5]]
    >>> mean_squared_error(y_true, y_pred, multioutput="raw_values")
    array([0.41666667, 1.        ])
    >>> mean_squared_error(y_true, y_pred, multioutput=[0.25, 0.75])
    0.8541666666666666
    """
    _check_parameters("mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    errors, multioutput, dtype = _output_errors(
        y_true, y_pred, sample_weight, multioutput, check_output_weights=True
    )
    return _combine_outputs(errors, multioutput, dtype)


def root_mean_squared_error(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"
):
    """Compute the root mean squared error of a regression, as scikit-learn does.

    This is a drop-in replacement for ``sklearn.metrics.root_mean_squared_error``
    (scikit-learn 1.9). The RMSE of each output is the square root of its MSE, as
    computed by `mean_squared_error`.

    Parameters
    ----------
    y_true, y_pred, sample_weight
        As for `mean_squared_error`.
    multioutput : {"raw_values", "uniform_average"} or array_like of shape \
(n_outputs,), default="uniform_average"
        How to combine the RMSEs of several outputs, as for `mean_squared_error`.
        As in scikit-learn, output weights are passed to `numpy.average` without
        the checks that `mean_squared_error` makes: weights for a single output are
        accepted, and a wrong number of weights raises NumPy's TypeError.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        As for `mean_squared_error`.

    Raises
    ------
    InvalidParameterError, TypeError, ValueError, ZeroDivisionError
        As for `mean_squared_error`, apart from the output weights (see above).

    Notes
    -----
    The square roots are taken in float64 before any rounding to the returned
    dtype. See `mean_squared_error` for precision and for the input rules.

    Examples
    --------
    >>> from fastmse.metrics import root_mean_squared_error
    >>> root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.6123724356957945
    >>> y_true = [[0.5, 1], [-1, 1], [7, -6]]
    >>> y_pred = [[0, 2], [-1, 2], [8, -5]]
    >>> root_mean_squared_error(y_true, y_pred, multioutput="raw_values")
    array([0.64549722, 1.        ])
    """
    _check_parameters(
        "root_mean_squared_error", y_true, y_pred, sample_weight, multioutput
    )
    errors, _, dtype = _output_errors(
        y_true, y_pred, sample_weight, multioutput, check_output_weights=False
    )
    return _combine_outputs(np.sqrt(errors), multioutput, dtype)


def _output_errors(y_true, y_pred, sample_weight, multioutput, check_output_weights):
    """Check the inputs as scikit-learn does and return the MSE of each output.

    Returns (errors, multioutput, dtype): the MSEs, in float64 or long double, the
    output weights, converted and checked if `check_output_weights` is true, and
    the dtype of scikit-learn's "raw_values" result.

    Checking for NaN and infinity reads the data once more, which takes about as
    long as computing the MSE, and checking the weights reads them once more. The
    first attempt skips both: NaN or infinity in the data always makes an MSE NaN
    or infinite, also where its weight is zero, and `fastmse.mse` raises for
    weights that are negative, all zero, NaN or infinite. Only if an MSE is not
    finite or the first attempt raises does the second attempt run every check in
    scikit-learn's order. It raises the error that scikit-learn raises, or
    computes the MSE, with negative weights if there are any.
    """
    inputs = (y_true, y_pred, sample_weight, multioutput, check_output_weights)
    try:
        errors, multioutput, dtype = _checked_output_errors(*inputs, False)
    except (TypeError, ValueError, ZeroDivisionError):
        return _checked_output_errors(*inputs, True)

    if not np.isfinite(errors).all():
        return _checked_output_errors(*inputs, True)
    return errors, multioutput, dtype


def _checked_output_errors(
    y_true, y_pred, sample_weight, multioutput, check_output_weights, full_checks
):
    y_true, y_pred, sample_weight, dtype = _check_targets(
        y_true, y_pred, sample_weight, full_checks
    )
    if check_output_weights and not isinstance(multioutput, str):
        multioutput = _check_output_weights(multioutput, y_true.shape[1])

    if dtype.itemsize > 8:
        # fastmse has no long double kernels: compute in long double, as
        # scikit-learn does, rather than round the data to float64.
        squares = (y_true.astype(dtype) - y_pred.astype(dtype)) ** 2
        errors = np.average(squares, axis=0, weights=sample_weight)
    elif full_checks and sample_weight is not None and sample_weight.min() < 0:
        errors = _signed_weight_mse(y_true, y_pred, sample_weight)
    elif y_true.shape[1] == 1:
        # The same sum as for axis=0, by fastmse's faster path for whole arrays.
        errors = np.array([mse(y_true, y_pred, sample_weight=sample_weight)])
    else:
        errors = mse(y_true, y_pred, axis=0, sample_weight=sample_weight)
    return errors, multioutput, dtype


def _signed_weight_mse(y_true, y_pred, sample_weight):
    """Return the MSE of each column for weights of which some are negative."""
    # fastmse's kernels take non-negative weights only, so the weighted sum of
    # squares is split into the sums over the positive and the negative weights.
    weight_sum = np.sum(sample_weight, dtype=np.float64)
    if weight_sum == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    negative = np.maximum(-sample_weight, 0)
    squares = -sse(y_true, y_pred, axis=0, sample_weight=negative)
    positive = np.maximum(sample_weight, 0)
    if positive.any():
        squares += sse(y_true, y_pred, axis=0, sample_weight=positive)
    return squares / weight_sum


def _combine_outputs(errors, multioutput, dtype):
    """Return the errors as scikit-learn's "raw_values", or their average."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors.astype(dtype, copy=False)
        multioutput = None
    # float() of a 0-d array raises TypeError for complex output weights, as in
    # scikit-learn, where float() of a NumPy complex scalar would only warn.
    return float(np.asarray(np.average(errors, weights=multioutput)))


def _check_parameters(function_name, y_true, y_pred, sample_weight, multioutput):
    """Raise InvalidParameterError for an argument of a type that is never valid."""
    if not _is_array_like(y_true):
        _raise_invalid(function_name, "y_true", "an array-like", y_true)
    if not _is_array_like(y_pred):
        _raise_invalid(function_name, "y_pred", "an array-like", y_pred)
    if sample_weight is not None and not _is_array_like(sample_weight):
        _raise_invalid(
            function_name, "sample_weight", "an array-like or None", sample_weight
        )

    if isinstance(multioutput, str) and multioutput in _MULTIOUTPUT_OPTIONS:
        return
    if not _is_array_like(multioutput):
        options = ", ".join(repr(option) for option in _MULTIOUTPUT_OPTIONS)
        expected = f"a str among {{{options}}} or an array-like"
        _raise_invalid(function_name, "multioutput", expected, multioutput)


def _raise_invalid(function_name, name, expected, value):
    raise InvalidParameterError(
        f"The {name!r} parameter of {function_name} must be {expected}. "
        f"Got {value!r} instead."
    )


def _is_array_like(value):
    """Return whether scikit-learn's parameter validation takes `value` as an array."""
    # A sparse matrix can only exist if SciPy is imported already, so the check
    # needs no import.
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(value):
        return False
    has_array_attribute = any(
        hasattr(value, attribute) for attribute in ("__len__", "shape", "__array__")
    )
    return has_array_attribute and not np.isscalar(value)


def _check_targets(y_true, y_pred, sample_weight, full_checks):
    """Convert and check the data in the order scikit-learn does.

    Returns (y_true, y_pred, sample_weight, dtype): the targets as 2-D float
    arrays of shape (n_samples, n_outputs), the weights as a 1-D float array or
    None, and the dtype of scikit-learn's "raw_values" result. NaN, infinity and
    all-zero weights raise only if `full_checks` is true.
    """
    dtype = _matching_float_dtype(y_true, y_pred, sample_weight)
    _check_consistent_length(y_true, y_pred, sample_weight)
    y_true = _as_float_array(y_true, dtype, "", full_checks)
    y_pred = _as_float_array(y_pred, dtype, "", full_checks)

    if sample_weight is not None:
        # scikit-learn converts weights to float32 or float64 only, and
        # numpy.average returns the wider of the data's and the weights' dtypes.
        weight_dtype = np.dtype(np.float64)
        if dtype in (np.float32, np.float64):
            weight_dtype = dtype
        sample_weight = _as_float_array(
            sample_weight, weight_dtype, "sample_weight", full_checks
        )
        if sample_weight.ndim != 1:
            raise ValueError(
                "Sample weights must be 1D array or scalar, got "
                f"{sample_weight.ndim}D array. Expected either a scalar value or a "
                f"1D array of length {y_true.shape[0]}."
            )
        if full_checks and not sample_weight.any():
            raise ValueError(
                "Sample weights must contain at least one non-zero number."
            )
        dtype = np.result_type(dtype, weight_dtype)

    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
    if y_pred.ndim == 1:
        y_pred = y_pred.reshape(-1, 1)
    if y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(
            "y_true and y_pred have different number of output "
            f"({y_true.shape[1]}!={y_pred.shape[1]})"
        )
    return y_true, y_pred, sample_weight, dtype


def _matching_float_dtype(*values):
    """Return the widest float dtype among the values that have a dtype, or float64."""
    dtypes = [np.asarray(value).dtype for value in values if hasattr(value, "dtype")]
    float_dtypes = [dtype for dtype in dtypes if dtype.kind == "f"]
    if float_dtypes:
        return np.result_type(*float_dtypes)
    return np.dtype(np.float64)


def _check_consistent_length(*values):
    lengths = [_count_samples(value) for value in values if value is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[int(length) for length in lengths]!r}"
        )


def _count_samples(value):
    """Return the length of the first axis of `value`, as scikit-learn counts it."""
    message = f"Expected sequence or array-like, got {type(value)}"
    # An ensemble estimator has a length, which is not a number of samples.
    if callable(getattr(value, "fit", None)):
        raise TypeError(message)

    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                "Input should have at least 1 dimension i.e. satisfy "
                f"`len(x.shape) > 0`, got scalar `{value!r}` instead."
            )
        if isinstance(shape[0], numbers.Integral):
            return shape[0]

    if not hasattr(value, "__len__") and not hasattr(value, "shape"):
        if not hasattr(value, "__array__"):
            raise TypeError(message)
        value = np.asarray(value)
    try:
        return len(value)
    except TypeError as error:
        raise TypeError(message) from error


def _as_float_array(value, dtype, name, check_finite):
    """Convert `value` to a float array and check it as scikit-learn checks it.

    scikit-learn converts every input to `dtype`. Here, float arrays keep their
    dtype and everything else becomes float64, or long double when `dtype` is that:
    no value is rounded to a narrower float before fastmse computes.
    """
    _reject_unsupported_type(value)
    value_dtype = getattr(value, "dtype", None)
    if isinstance(value_dtype, np.dtype) and value_dtype.kind == "f":
        array = np.asarray(value)
    else:
        target = dtype if dtype.itemsize > 8 else np.float64
        array = np.asarray(value, dtype=target)

    _check_array(array, name, dtype, check_finite)
    return array


def _check_output_weights(multioutput, n_outputs):
    """Convert and check output weights as scikit-learn's `mean_squared_error` does."""
    _reject_unsupported_type(multioutput)
    array = np.asarray(multioutput)
    if array.dtype.kind == "O":
        array = array.astype(np.float64)
    elif array.dtype.kind in "USV":
        raise ValueError(
            "dtype='numeric' is not compatible with arrays of bytes/strings."
            "Convert your data to numeric values explicitly instead."
        )
    elif array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{array}\n")
    _check_array(array, "", array.dtype, check_finite=True)

    if n_outputs == 1:
        raise ValueError("Custom weights are useful only in multi-output cases.")
    if array.shape[0] != n_outputs:
        raise ValueError(
            f"There must be equally many custom weights ({array.shape[0]}) as "
            f"outputs ({n_outputs})."
        )
    return array


def _reject_unsupported_type(value):
    if isinstance(value, np.matrix):
        raise TypeError(
            "np.matrix is not supported. Please convert to a numpy array with "
            "np.asarray. For more information see: "
            "https://numpy.org/doc/stable/reference/generated/numpy.matrix.html"
        )
    value_dtype = getattr(value, "dtype", None)
    if getattr(value_dtype, "kind", None) == "c":
        raise ValueError(f"Complex data not supported\n{value}\n")


def _check_array(array, name, dtype, check_finite):
    """Raise as scikit-learn's `check_array` does for a converted array.

    `name` is the name that the NaN and infinity messages give the input, and
    `dtype` is the dtype that they name. NaN and infinity raise only if
    `check_finite` is true.
    """
    if array.ndim >= 3:
        raise ValueError(
            f"Found array with dim {array.ndim}, while dim <= 2 is required."
        )
    if check_finite:
        _check_finite(array, name, dtype)

    n_samples = _count_samples(array)
    if n_samples < 1:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={array.shape}) while a "
            "minimum of 1 is required."
        )
    if array.ndim == 2 and array.shape[1] < 1:
        raise ValueError(
            f"Found array with {array.shape[1]} feature(s) (shape={array.shape}) "
            "while a minimum of 1 is required."
        )


def _check_finite(array, name, dtype):
    if array.dtype.kind != "f":
        return
    # One sum finds the common case, all finite, without a temporary array. A sum
    # that overflows on finite values is checked element by element.
    with np.errstate(over="ignore"):
        if np.isfinite(np.sum(array)):
            return

    # NOTE: scikit-learn's compiled check names the first non-finite value of a
    # contiguous float32 or float64 array, so for data containing both infinity
    # and NaN its message may name infinity where this one names NaN.
    if np.isnan(array).any():
        problem = "NaN"
    elif np.isinf(array).any():
        problem = f"infinity or a value too large for {dtype!r}"
    else:
        return
    subject = f"Input {name} " if name else "Input "
    raise ValueError(f"{subject}contains {problem}.")
