"""Losses that outliers pull less than MSE: mean absolute error and Huber's loss."""

import math

from ._losses import reduce_loss, value_and_grad
from ._validation import real_number

__all__ = [
    "huber",
    "huber_grad",
    "huber_value_and_grad",
    "mae",
    "mae_grad",
    "mae_value_and_grad",
]


def mae(y_true, y_pred, *, axis=None, sample_weight=None):
    """Compute the mean absolute error, ``mean(abs(y_true - y_pred))``.

    Parameters
    ----------
    y_true, y_pred, axis, sample_weight
        As for `fastmse.mse`; the weighted MAE is ``sum(w * abs(d)) / sum(w)``.

    Returns
    -------
    float or ndarray of float64
        A float for ``axis=None``, else an array of the shape of the kept axes.

    Raises
    ------
    TypeError, ValueError
        As for `fastmse.mse`.

    Notes
    -----
    Each error counts in proportion to its size, so a few huge errors move the MAE far
    less than the MSE, which squares them. Sums are computed as for `fastmse.mse`.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.mae([1.0, 2.0, 3.0], [1.0, 4.0, 0.0])
    1.6666666666666667
    """
    return reduce_loss(y_true, y_pred, axis, sample_weight, "mean", "absolute")


def mae_grad(y_true, y_pred, *, sample_weight=None, out=None):
    """Compute the gradient of `mae` with respect to `y_pred`: ``sign(y_pred - y_true) / n``.

    With weights the gradient is ``w * sign(d) / sum(w)``. Where y_pred equals y_true the
    gradient is 0, the middle of the subgradient, as in ``np.sign``.

    Parameters
    ----------
    y_true, y_pred, sample_weight, out
        As for `fastmse.mse_grad`.

    Returns
    -------
    ndarray
        Of the shape of `y_pred`, in float32 if the inputs compute in float32, else in
        float64.

    Raises
    ------
    TypeError, ValueError
        As for `fastmse.mse_grad`.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.mae_grad([1.0, 2.0, 3.0], [1.0, 4.0, 0.0])
    array([ 0.        ,  0.33333333, -0.33333333])
    """
    _, gradient = value_and_grad(y_true, y_pred, sample_weight, out, "absolute")
    return gradient


def mae_value_and_grad(y_true, y_pred, *, sample_weight=None, out=None):
    """Compute `mae` and `mae_grad` together, in one pass over the data.

    Parameters and errors are those of `mae_grad`; returns ``(float, ndarray)``.

    Examples
    --------
    >>> import fastmse as fm
    >>> value, gradient = fm.mae_value_and_grad([0.0, 0.0], [2.0, -1.0])
    >>> value
    1.5
    """
    return value_and_grad(y_true, y_pred, sample_weight, out, "absolute")


def huber(y_true, y_pred, *, delta=1.0, axis=None, sample_weight=None):
    """Compute the mean Huber loss: squared for small errors, absolute for large ones.

    The loss of an error d is ``d**2 / 2`` where ``abs(d) <= delta`` and
    ``delta * (abs(d) - delta / 2)`` beyond, as in PyTorch's ``huber_loss``.

    Parameters
    ----------
    y_true, y_pred, axis, sample_weight
        As for `fastmse.mse`.
    delta : float, default 1.0
        The positive, finite error size where the loss turns from squared to absolute.

    Returns
    -------
    float or ndarray of float64

    Raises
    ------
    TypeError, ValueError
        As for `fastmse.mse`, and ValueError when `delta` is not positive and finite.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.huber([0.0, 0.0], [0.5, 3.0])
    1.3125
    """
    delta = _check_delta(delta)
    return reduce_loss(y_true, y_pred, axis, sample_weight, "mean", "huber", delta)


def huber_grad(y_true, y_pred, *, delta=1.0, sample_weight=None, out=None):
    """Compute the gradient of `huber` with respect to `y_pred`.

    The gradient is ``clip(y_pred - y_true, -delta, delta) / n``, and
    ``w * clip(d, -delta, delta) / sum(w)`` with weights.

    Parameters
    ----------
    y_true, y_pred, sample_weight, out
        As for `fastmse.mse_grad`.
    delta : float, default 1.0
        As for `huber`.

    Returns
    -------
    ndarray

    Raises
    ------
    TypeError, ValueError
        As for `fastmse.mse_grad` and `huber`.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.huber_grad([0.0, 0.0], [0.5, 3.0])
    array([0.25, 0.5 ])
    """
    delta = _check_delta(delta)
    _, gradient = value_and_grad(y_true, y_pred, sample_weight, out, "huber", delta)
    return gradient


def huber_value_and_grad(y_true, y_pred, *, delta=1.0, sample_weight=None, out=None):
    """Compute `huber` and `huber_grad` together, in one pass over the data.

    Parameters and errors are those of `huber_grad`; returns ``(float, ndarray)``.
    """
    delta = _check_delta(delta)
    return value_and_grad(y_true, y_pred, sample_weight, out, "huber", delta)


def _check_delta(delta):
    value = real_number(delta, "delta")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"delta must be positive and finite, not {delta}")
    return value
