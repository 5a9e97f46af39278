"""A linear model's MSE and its gradient in one pass over X, and one gradient step."""

import math

import numpy as np

from . import _core
from ._validation import as_real_array, raise_for_invalid_weights, real_number


class LinearProblem:
    """Validated arrays of a linear model, in the form the compiled kernels take.

    Attributes: ``X`` (n, d) C-contiguous, ``y`` (n,) or (n, k) and ``weights`` (n,) or
    None, all in the common dtype of X, y and the weights; ``weight_sum``; ``coef``
    (k, d) and ``intercept`` (k,) in float64; ``dtype``, that of the gradients, which
    includes w's; ``single_output``, true when y is 1-d.

    w's dtype does not change the data's: the kernels multiply in float64 anyway, so
    float64 coefficients with float32 data need no float64 copy of X. Float64 weights
    do, since float32 would round them or overflow.
    """

    def __init__(self, X, y, w, b, sample_weight):
        X = as_real_array(X, "X")
        if X.ndim != 2:
            raise ValueError(
                f"X has shape {X.shape} but must be 2-d, of shape (n_samples, n_features)"
            )
        n, d = X.shape
        y = as_real_array(y, "y")
        k = check_linear_shapes(X.shape, y.shape)
        self.single_output = y.ndim == 1

        w = as_real_array(w, "w")
        expected = (d,) if self.single_output else (d, k)
        if w.shape != expected:
            raise ValueError(
                f"w has shape {w.shape} but must have shape {expected} for X of shape "
                f"{X.shape} and y of shape {y.shape}"
            )

        data_dtypes = [X.dtype, y.dtype]
        if sample_weight is not None:
            sample_weight = as_real_array(sample_weight, "sample_weight")
            data_dtypes.append(sample_weight.dtype)
        data_dtype = np.result_type(*data_dtypes)
        self.dtype = np.result_type(data_dtype, w.dtype)
        self.X = np.ascontiguousarray(X, dtype=data_dtype)
        self.y = np.ascontiguousarray(y, dtype=data_dtype)
        self.coef = np.ascontiguousarray(w.reshape(d, k).T, dtype=np.float64)
        self.intercept = _intercepts(b, k, self.single_output)
        self.weights, self.weight_sum = _weights(sample_weight, n, data_dtype)

    @property
    def n_outputs(self):
        return self.coef.shape[0]

    def value_and_grad(self, l2):
        """Return the loss, the gradient of the coefficients and of the intercepts."""
        return _core.linear_value_and_grad(
            self.X, self.y, self.weights, self.weight_sum, self.coef, self.intercept, l2
        )


def check_linear_shapes(x_shape, y_shape):
    """Return the number of outputs of X and y of these shapes, or raise ValueError."""
    n, d = x_shape
    if n == 0 or d == 0:
        raise ValueError(
            f"X has shape {x_shape}; it needs at least one sample and one feature"
        )
    if len(y_shape) not in (1, 2) or y_shape[0] != n:
        raise ValueError(
            f"y has shape {y_shape} but X has shape {x_shape}; y must have shape "
            f"({n},) or ({n}, n_outputs)"
        )
    k = 1 if len(y_shape) == 1 else y_shape[1]
    if k == 0:
        raise ValueError(f"y has shape {y_shape}; it needs at least one output")
    return k


def _intercepts(b, k, single_output):
    """Return the intercept(s) `b` as a float64 array of shape (k,)."""
    b = as_real_array(b, "b")
    if b.shape not in ((), (k,)) or (single_output and b.ndim):
        expected = "a scalar" if single_output else f"a scalar or of shape ({k},)"
        raise ValueError(f"b has shape {b.shape} but must be {expected}")
    return np.array(np.broadcast_to(b, (k,)), dtype=np.float64)


def _weights(sample_weight, n, dtype):
    """Return the validated weights in `dtype` (or None) and their sum."""
    if sample_weight is None:
        return None, float(n)
    weights = as_real_array(sample_weight, "sample_weight")
    if weights.shape != (n,):
        raise ValueError(
            f"sample_weight has shape {weights.shape} but must have shape ({n},), one "
            "weight per row of X"
        )
    raise_for_invalid_weights(weights)
    largest = float(np.max(weights))
    if largest == 0:
        raise ValueError(
            "sample_weight sums to zero; at least one weight must be positive"
        )
    # The loss divides by the weights' sum, so scaling them all by a power of two changes
    # nothing but their range. Bringing the largest to [0.5, 1) keeps the sum and its
    # reciprocal finite, for weights near the float limits too.
    exponent = math.frexp(largest)[1]
    if not -500 < exponent < 500:
        weights = np.ldexp(weights.astype(np.float64), -exponent)
    weights = np.ascontiguousarray(weights, dtype=dtype)
    weight_sum = math.fsum(weights.astype(np.float64))
    if weight_sum == 0:
        raise ValueError(
            f"sample_weight sums to zero in {np.dtype(dtype).name}; its positive values "
            "underflow there, so use weights nearer to 1"
        )
    return weights, weight_sum


def check_l2(l2):
    """Return `l2` as a float; raise unless it is a finite number >= 0."""
    value = real_number(l2, "l2")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return value


def _gradient_of_w(problem, grad_coef):
    """Return the coefficient gradient (k, d) shaped like w, in the problem's dtype."""
    if problem.single_output:
        return grad_coef[0].astype(problem.dtype)
    return np.ascontiguousarray(grad_coef.T, dtype=problem.dtype)


def _gradient_of_b(problem, grad_intercept):
    if problem.single_output:
        return float(grad_intercept[0])
    return grad_intercept.astype(problem.dtype)


def linear_value_and_grad(X, y, w, b=0.0, *, sample_weight=None, l2=0.0):
    """Compute a linear model's MSE and its gradient in one pass over `X`.

    The model predicts ``X @ w + b``. With residuals ``r = X @ w + b - y``, the loss is
    ``mean(r**2) + l2 * sum(w**2)``, and the gradients are
    ``2 / r.size * X.T @ r + 2 * l2 * w`` for `w` and ``2 / r.size * r.sum(axis=0)``
    for `b`. With weights, the mean becomes ``sum(sample_weight * r**2) /
    (k * sum(sample_weight))`` for k outputs, and the gradients follow.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        The design matrix. A C-contiguous float32 or float64 array is read in place;
        other layouts and dtypes are copied first.
    y : array_like of shape (n_samples,) or (n_samples, n_outputs)
        The targets.
    w : array_like of shape (n_features,) or (n_features, n_outputs)
        The coefficients: 1-d when `y` is 1-d, else one column per output.
    b : float or array_like of shape (n_outputs,), default 0.0
        The intercept(s). Not penalised by `l2`.
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative finite weights of the rows, not all zero.
    l2 : float, default 0.0
        The ridge penalty's factor.

    Returns
    -------
    loss : float
        The (weighted) MSE over all ``n_samples * n_outputs`` predictions, plus the
        penalty.
    grad_w : ndarray
        Of the shape of `w`, in float32 if `X`, `y` and `w` are float32, else in float64.
        With float64 `w`, float32 `X` and `y` are still read in place, not copied
        (float64 `sample_weight` makes them float64, as float32 would round it).
    grad_b : float or ndarray
        A float when `y` is 1-d, else an array of shape (n_outputs,).

    Raises
    ------
    TypeError
        If an input is complex, object or string.
    ValueError
        If `X` is not 2-d or is empty, if the shapes disagree, if `l2` is negative, or if
        `sample_weight` is invalid.

    Notes
    -----
    NumPy computes the same with ``X @ w`` and ``X.T @ r``, reading `X` twice. Here each
    block of rows forms its residuals and adds its share of ``X.T @ r`` while the rows are
    in cache, so `X` is read once. Sums are in float64 for float32 data too, and blocks
    combine in a fixed pairwise order, so the result does not depend on the thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import fastmse as fm
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> loss, grad_w, grad_b = fm.linear_value_and_grad(X, [1.0, 2.0, 3.0], [1.0, 2.0])
    >>> loss
    0.0
    >>> grad_w
    array([0., 0.])
    """
    l2 = check_l2(l2)
    problem = LinearProblem(X, y, w, b, sample_weight)
    loss, grad_coef, grad_intercept = problem.value_and_grad(l2)
    return (
        loss,
        _gradient_of_w(problem, grad_coef),
        _gradient_of_b(problem, grad_intercept),
    )


def linear_step(X, y, w, b, learning_rate, *, sample_weight=None, l2=0.0):
    """Take one full-batch gradient step on a linear model's MSE, updating `w` in place.

    Parameters
    ----------
    X, y, sample_weight, l2
        As for `linear_value_and_grad`.
    w : ndarray of shape (n_features,) or (n_features, n_outputs)
        The coefficients, a writable float32 or float64 array, updated in place to
        ``w - learning_rate * grad_w``.
    b : float or array_like of shape (n_outputs,)
        The intercept(s); not modified.
    learning_rate : float
        The step size, positive.

    Returns
    -------
    loss : float
        The loss before the step, as `linear_value_and_grad` returns it.
    new_b : float or ndarray
        ``b - learning_rate * grad_b``.

    Raises
    ------
    TypeError
        If `w` is not a writable float32 or float64 ndarray, or as for
        `linear_value_and_grad`.
    ValueError
        If `learning_rate` is not positive and finite, or as for `linear_value_and_grad`.

    Examples
    --------
    >>> import numpy as np
    >>> import fastmse as fm
    >>> X = np.array([[1.0], [2.0]])
    >>> w = np.zeros(1)
    >>> loss, b = fm.linear_step(X, [2.0, 4.0], w, 0.0, 0.1)
    >>> loss, w, b
    (10.0, array([1.]), 0.6000000000000001)
    """
    if (
        not isinstance(w, np.ndarray)
        or w.dtype not in (np.float32, np.float64)
        or not w.dtype.isnative
        or not w.flags.writeable
    ):
        got = type(w).__name__ if not isinstance(w, np.ndarray) else _describe(w)
        raise TypeError(
            "w must be a writable float32 or float64 ndarray in native byte order, "
            f"since linear_step updates it in place; got {got}"
        )
    rate = real_number(learning_rate, "learning_rate")
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(
            f"learning_rate must be a positive finite number, got {learning_rate!r}"
        )
    learning_rate = rate

    l2 = check_l2(l2)
    problem = LinearProblem(X, y, w, b, sample_weight)
    loss, grad_coef, grad_intercept = problem.value_and_grad(l2)
    step = learning_rate * _gradient_of_w(problem, grad_coef)
    np.subtract(w, step, out=w, casting="same_kind")
    new_b = problem.intercept - learning_rate * grad_intercept
    return loss, float(new_b[0]) if problem.single_output else new_b.astype(
        problem.dtype
    )


def _describe(array):
    flags = "" if array.flags.writeable else "read-only "
    return f"a {flags}{array.dtype} array"
