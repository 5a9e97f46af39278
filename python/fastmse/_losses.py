"""Mean squared error and its relatives: the public functions over the compiled kernels."""

import math

import numpy as np

from . import _core
from ._validation import (
    check_out,
    is_same_view,
    normalize_axis,
    prepare_inputs,
    raise_for_invalid_weights,
    raise_for_zero_weight_sum,
)

__all__ = [
    "mse",
    "mse_grad",
    "mse_value_and_grad",
    "rmse",
    "squared_error",
    "sse",
]


def mse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Compute the mean squared error, ``mean((y_true - y_pred) ** 2)``.

    Parameters
    ----------
    y_true : array_like
        Target values. Any real dtype; see Notes for how dtypes are computed.
    y_pred : array_like
        Predicted values, of the shape of `y_true` or broadcastable to it, or of a shape
        that `y_true` broadcasts to. A broadcast that would grow both inputs raises.
    axis : None, int or tuple of ints, optional
        Axes to average over. The default, None, averages over all elements and returns
        a float; otherwise one MSE per slice is returned. Negative axes count from the end.
    sample_weight : array_like, optional
        Non-negative weights: shape ``(n,)`` weighs the rows along the first axis, as in
        scikit-learn; the data's full shape weighs each element. The weighted MSE is
        ``sum(w * (y_true - y_pred) ** 2) / sum(w)``.

    Returns
    -------
    float or ndarray of float64
        A float for ``axis=None``, else an array of the shape of the kept axes.

    Raises
    ------
    TypeError
        If an input has a complex, object, string or other non-real dtype, or is a
        masked array.
    ValueError
        If the inputs are empty, their shapes do not broadcast to one of them, or the
        weights have the wrong shape, are negative, not finite, or sum to zero.

    Notes
    -----
    float32 and float64 inputs are read without copies when they are contiguous. Mixed
    float32 and float64 compute in float64. Integer and bool inputs compute in float64,
    exactly for integers up to 2**53 in magnitude, and float16 computes in float32.

    Every square is accumulated in float64 in a fixed pairwise tree whose shape depends
    only on the number of elements: the result is the same for every thread count and
    every memory layout of the same values, with a relative error below 1e-14.
    Large inputs run on the threads set by `set_num_threads`, without the GIL.

    NaN and infinity propagate as in ``np.mean((y_true - y_pred) ** 2)``.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.mse([250000, 300000, 450000, 500000], [230000, 330000, 420000, 480000])
    650000000.0
    >>> fm.mse([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 5.0]], axis=1)
    array([2. , 0.5])
    """
    if axis is None:
        value = _core.mse_contiguous(y_true, y_pred, sample_weight)
        if value is not None:
            return value
        return _reduce_general(y_true, y_pred, None, sample_weight, "mean")
    return reduce_loss(y_true, y_pred, axis, sample_weight, "mean")


def sse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Compute the sum of squared errors, ``sum((y_true - y_pred) ** 2)``.

    Parameters
    ----------
    y_true, y_pred : array_like
        As for `mse`.
    axis : None, int or tuple of ints, optional
        Axes to sum over; None sums over all elements.
    sample_weight : array_like, optional
        As for `mse`; the weighted sum is ``sum(w * (y_true - y_pred) ** 2)``.

    Returns
    -------
    float or ndarray of float64

    Raises
    ------
    TypeError, ValueError
        As for `mse`.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.sse([1.0, 2.0, 3.0], [1.0, 4.0, 0.0])
    13.0
    """
    if axis is None:
        value = _core.sse_contiguous(y_true, y_pred, sample_weight)
        if value is not None:
            return value
        return _reduce_general(y_true, y_pred, None, sample_weight, "sum")
    return reduce_loss(y_true, y_pred, axis, sample_weight, "sum")


def rmse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Compute the root mean squared error, ``sqrt(mse(y_true, y_pred))``.

    Parameters
    ----------
    y_true, y_pred, axis, sample_weight
        As for `mse`.

    Returns
    -------
    float or ndarray of float64

    Raises
    ------
    TypeError, ValueError
        As for `mse`.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.rmse([0.0, 0.0], [3.0, 4.0])
    3.5355339059327378
    """
    value = mse(y_true, y_pred, axis=axis, sample_weight=sample_weight)
    if isinstance(value, float):
        return math.sqrt(value)
    # Through out=, so that a 0-d result stays an array, as mse returns it.
    return np.sqrt(value, out=value)


def squared_error(y_true, y_pred, *, out=None):
    """Compute the elementwise squared error, ``(y_pred - y_true) ** 2``.

    Parameters
    ----------
    y_true, y_pred : array_like
        As for `mse`.
    out : ndarray, optional
        A writable array of the result's shape and dtype to write into. It may be one of
        the inputs.

    Returns
    -------
    ndarray
        Of the broadcast shape of the inputs, in float32 if both inputs compute in
        float32, else in float64.

    Raises
    ------
    TypeError
        As for `mse`, or if `out` is not an ndarray of the result's dtype.
    ValueError
        As for `mse`, or if `out` has the wrong shape or is read-only.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.squared_error([1.0, 2.0], [3.0, 2.5])
    array([4.  , 0.25])
    """
    t, p, _, shape = prepare_inputs(y_true, y_pred)
    result, _ = _map("loss", t, p, None, shape, out, 1.0)
    return result


def mse_grad(y_true, y_pred, *, sample_weight=None, out=None):
    """Compute the gradient of `mse` with respect to `y_pred`.

    The gradient is ``2 * (y_pred - y_true) / n`` for n elements, and
    ``2 * w * (y_pred - y_true) / sum(w)`` with weights.

    Parameters
    ----------
    y_true, y_pred : array_like
        As for `mse`.
    sample_weight : array_like, optional
        As for `mse`.
    out : ndarray, optional
        A writable array of the shape of `y_pred` and the result's dtype to write the
        gradient into. It may be `y_pred` itself, for an update in place.

    Returns
    -------
    ndarray
        Of the shape of `y_pred`, in float32 if the inputs compute in float32, else in
        float64. Where `y_pred` was broadcast against a larger `y_true`, the gradient is
        summed over the broadcast axes, as automatic differentiation would.

    Raises
    ------
    TypeError, ValueError
        As for `mse` and `squared_error`.

    Notes
    -----
    The gradient is computed in float64 and rounded once to the output dtype.

    Examples
    --------
    >>> import fastmse as fm
    >>> fm.mse_grad([1.0, 2.0], [2.0, 4.0])
    array([1., 2.])
    """
    _, gradient = value_and_grad(y_true, y_pred, sample_weight, out)
    return gradient


def mse_value_and_grad(y_true, y_pred, *, sample_weight=None, out=None):
    """Compute `mse` and `mse_grad` together, in one pass over the data.

    Parameters
    ----------
    y_true, y_pred, sample_weight, out
        As for `mse_grad`.

    Returns
    -------
    value : float
        The MSE, identical to ``mse(y_true, y_pred, sample_weight=sample_weight)``.
    gradient : ndarray
        As returned by `mse_grad`.

    Raises
    ------
    TypeError, ValueError
        As for `mse_grad`.

    Examples
    --------
    >>> import fastmse as fm
    >>> value, gradient = fm.mse_value_and_grad([1.0, 2.0], [2.0, 4.0])
    >>> value
    2.5
    >>> gradient
    array([1., 2.])
    """
    return value_and_grad(y_true, y_pred, sample_weight, out)


# The compiled shortcuts test weight sums against the same limits, so _core defines them.
# Weight sums below this lose bits to subnormal rounding, and 2 / sum(w) overflows.
_MIN_WEIGHT_SUM = _core.MIN_WEIGHT_SUM  # 2**-1000
# Below this weight sum, products of weights and losses may underflow where the mean does
# not. A loss sum below _UNDERFLOW_PER_ELEMENT per element then marks lost bits, and the
# weights are scaled to a sum in [0.5, 1).
_SMALL_WEIGHT_SUM = _core.SMALL_WEIGHT_SUM  # 0.5
_UNDERFLOW_PER_ELEMENT = _core.UNDERFLOW_PER_ELEMENT  # 2**-1022
# Above this weight sum, a weighted gradient first checks that no weight times a loss
# overflows (see value_and_grad). Below it, that needs a loss within 2**200 of overflow.
_LARGE_WEIGHT_SUM = _core.LARGE_WEIGHT_SUM  # 2**200


def _overflow_exponent(count):
    """Return an exponent of two that makes any sum of `count` finite weights finite."""
    return int(count).bit_length() + 1


def _slice_weight_exponents(sums, weight_sums, count, kind):
    """Return the exponent of two that divides each slice's weights, or None.

    For a mean (`kind` "mean"), a slice's weights are scaled to a sum in [0.5, 1) in three
    cases. Their sum is below 2**-1000. Or the sum of weights times losses overflows while
    the weight sum is 2**200 or more, because then a weight times a loss may have
    overflowed. Or that sum is below 2**-1022 per element while the weight sum is below
    0.5, because then one may have underflowed. A weight sum that overflows is divided by
    a power of two just above the `count` weights of a slice.

    A sum ("sum") is not divided by its weights, so only the cases that scale them up
    apply to it: a weight sum below 2**-1000, where a weight times a loss may have lost
    bits as a subnormal number on the way, and underflow. Other slices keep their
    weights, so that a slice's result depends on its own values only.
    """
    loss_underflowed = (weight_sums < _SMALL_WEIGHT_SUM) & (
        sums < count * _UNDERFLOW_PER_ELEMENT
    )
    too_small = weight_sums < _MIN_WEIGHT_SUM
    if kind == "sum":
        overflowed = np.zeros_like(loss_underflowed)
        rescaled = too_small | loss_underflowed
    else:
        overflowed = np.isinf(weight_sums)
        loss_overflowed = np.isinf(sums) & (weight_sums >= _LARGE_WEIGHT_SUM)
        rescaled = (too_small | loss_overflowed | loss_underflowed) & ~overflowed
    if not (overflowed.any() or rescaled.any()):
        return None
    exponents = np.where(rescaled, np.frexp(weight_sums)[1], 0)
    return np.where(overflowed, _overflow_exponent(count), exponents)


def _has_invalid_weight(min_weight, sums_finite, weights):
    """Return whether a weight is negative, NaN or infinite.

    The kernels return the smallest of 0 and the weights, which is negative when a weight
    is, and weight sums, which are NaN or infinite when a weight is (`sums_finite` is then
    False). A sum of finite weights can overflow too, so only then are the weights read
    again.
    """
    return min_weight != 0 or (not sums_finite and not np.isfinite(weights).all())


def _loss_sum_out_of_range(total, weight_sum, count):
    """Return whether reduce_loss scales the weights of one slice for its mean.

    This is _slice_weight_exponents's test on floats, for a finite weight sum of at least
    2**-1000: a weight times a loss may have overflowed or underflowed.
    """
    if weight_sum >= _LARGE_WEIGHT_SUM:
        return math.isinf(total)
    return weight_sum < _SMALL_WEIGHT_SUM and total < count * _UNDERFLOW_PER_ELEMENT


def _reduce_trailing(y_true, y_pred, axis, kind, loss, delta):
    """Return reduce_loss's unweighted result by `axis` without work in Python, or None.

    It takes the inputs that _core.reduce_trailing takes, with `axis` naming the last
    axes. reduce_loss handles the rest, and raises for an invalid axis.
    """
    if type(y_true) is not np.ndarray:
        return None
    try:
        axes = normalize_axis(axis, y_true.ndim)
    except (TypeError, ValueError):
        return None
    outer_dims = y_true.ndim - len(axes)
    if axes != tuple(range(outer_dims, y_true.ndim)):
        return None
    return _core.reduce_trailing(
        y_true, y_pred, outer_dims, kind == "mean", loss, delta
    )


def reduce_loss(
    y_true, y_pred, axis, sample_weight, kind, loss="squared", delta=1.0
):
    """Return the mean (`kind` "mean") or the sum ("sum") of a loss, as `mse` documents."""
    if axis is None:
        # Valid weights that need no scaling, and no weights, take no work in Python.
        value = _core.reduce_contiguous(
            y_true, y_pred, sample_weight, kind == "mean", loss, delta
        )
        if value is not None:
            return value
    elif sample_weight is None:
        values = _reduce_trailing(y_true, y_pred, axis, kind, loss, delta)
        if values is not None:
            return values
    return _reduce_general(y_true, y_pred, axis, sample_weight, kind, loss, delta)


def _reduce_general(
    y_true, y_pred, axis, sample_weight, kind, loss="squared", delta=1.0
):
    """Compute reduce_loss's result for any inputs, without trying the shortcuts."""
    t, p, w, shape = prepare_inputs(y_true, y_pred, sample_weight)
    axes = normalize_axis(axis, len(shape))
    kept = tuple(d for d in range(len(shape)) if d not in axes)
    order = kept + axes
    out_shape = tuple(shape[d] for d in kept)

    def view(array):
        array = _broadcast(array, shape)
        return array if order == tuple(range(len(shape))) else array.transpose(order)

    weights = None if w is None else view(w)
    sums, weight_sums, min_weight = _core.reduce(
        view(t), view(p), weights, len(kept), loss, delta
    )

    if w is not None:
        if _has_invalid_weight(min_weight, np.isfinite(weight_sums).all(), w):
            raise_for_invalid_weights(sample_weight)
        raise_for_zero_weight_sum(weight_sums, out_shape)
        # For means, a second round scales a slice whose weight sum overflowed if a
        # weight times a loss then still overflows. Sums take one round at most.
        # NOTE: scaling down to a sum in [0.5, 1) flushes weights far below the largest.
        # Where they carry much of the loss, the mean loses bits (1e-11 relative seen).
        count = math.prod(shape[d] for d in axes)
        for _ in range(2 if kind == "mean" else 1):
            exponents = _slice_weight_exponents(sums, weight_sums, count, kind)
            if exponents is None:
                break
            shaped = exponents.reshape(out_shape + (1,) * len(axes))
            weights = np.ldexp(weights, -shaped).astype(t.dtype, copy=False)
            scaled_sums, weight_sums, _ = _core.reduce(
                view(t), view(p), weights, len(kept), loss, delta
            )
            if kind == "sum":
                # Scaled back, a sum rounds once. The kernels multiply w * d by d, so
                # with w scaled up that can overflow where the first sum did not (w =
                # 1e-310, d = 1e300): that sum stays.
                scaled_sums = np.ldexp(scaled_sums, exponents)
                sums = np.where(np.isinf(scaled_sums), sums, scaled_sums)
            else:
                # Scaling down can flush a weight to zero, and zero times an infinite
                # loss is NaN. A sum that was infinite before (losses are never
                # negative, so not by inf - inf) is infinite with that weight.
                sums = np.where(
                    np.isnan(scaled_sums) & np.isinf(sums), sums, scaled_sums
                )
    if kind == "sum":
        values = sums
    elif w is not None:
        values = sums / weight_sums
    else:
        values = sums / math.prod(shape[d] for d in axes)

    if axis is None:
        return float(values[0])
    return values.reshape(out_shape)


def value_and_grad(y_true, y_pred, sample_weight, out, loss="squared", delta=1.0):
    """Return the mean loss and its gradient with respect to y_pred, as `mse_grad` does."""
    # Weights whose sum lies in [_SMALL_WEIGHT_SUM, _LARGE_WEIGHT_SUM) need no scaling
    # below, so the compiled function handles them too.
    result = _core.value_and_grad_contiguous(
        y_true, y_pred, out, sample_weight, loss, delta
    )
    if result is not None:
        return result
    t, p, w, shape = prepare_inputs(y_true, y_pred, sample_weight)
    # The squared loss's slope d lacks the factor 2 of the derivative of d**2.
    factor = 2.0 if loss == "squared" else 1.0
    far = False
    if w is None:
        scale = factor / math.prod(shape)
        weight_sum = None
    else:
        _, weight_sum, min_weight = _core.sum_weights(w)
        if _has_invalid_weight(min_weight, math.isfinite(weight_sum), w):
            raise_for_invalid_weights(sample_weight)
        raise_for_zero_weight_sum(np.array(weight_sum), ())
        # Weight sums that overflow, or whose inverse overflows, are scaled as reduce_loss
        # scales them, so that the value equals its result.
        exponent = 0
        if math.isinf(weight_sum):
            exponent = _overflow_exponent(math.prod(shape))
        elif weight_sum < _MIN_WEIGHT_SUM:
            exponent = math.frexp(weight_sum)[1]
        if exponent != 0:
            weights = np.ldexp(np.asarray(sample_weight, dtype=np.float64), -exponent)
            # The scaled sum is finite and at least 0.5: at most two more calls follow.
            return value_and_grad(y_true, y_pred, weights, out, loss, delta)
        scale = factor / weight_sum
        far = not _SMALL_WEIGHT_SUM <= weight_sum < _LARGE_WEIGHT_SUM
        if far and _out_overlaps_inputs(out, (y_true, y_pred, sample_weight)):
            # The value may need reduce_loss (below), which must read the inputs before
            # the gradient overwrites them.
            value = reduce_loss(
                y_true, y_pred, None, sample_weight, "mean", loss, delta
            )
            gradient, _ = _gradient(t, p, w, shape, out, scale, loss, delta)
            return value, gradient

    gradient, sums = _gradient(t, p, w, shape, out, scale, loss, delta)
    if w is None:
        return sums / math.prod(shape), gradient
    if far and _loss_sum_out_of_range(sums, weight_sum, math.prod(shape)):
        # The value comes from reduce_loss, which scales the weights for it. The gradient
        # keeps them: scaling would flush small weights to zero, and the kernel keeps each
        # w * slope in range.
        value = _reduce_general(
            y_true, y_pred, None, sample_weight, "mean", loss, delta
        )
        return value, gradient
    return sums / weight_sum, gradient


def _out_overlaps_inputs(out, inputs):
    """Return whether writing `out` may change one of `inputs`."""
    if out is None:
        return False
    return any(
        isinstance(a, np.ndarray) and np.may_share_memory(out, a) for a in inputs
    )


def _gradient(t, p, w, shape, out, scale, loss, delta):
    """Return the gradient with respect to p (scale * w * slope) and the loss sum."""
    if p.shape == shape:
        return _map("gradient", t, p, w, shape, out, scale, loss, delta)
    # y_pred was broadcast: its gradient sums the contributions of every copy, in
    # float64 so that float32 results are rounded once.
    if out is not None:
        check_out(out, p.shape, p.dtype)
    wide = [None if a is None else a.astype(np.float64, copy=False) for a in (t, p, w)]
    full, sums = _map("gradient", *wide, shape, None, scale, loss, delta)
    gradient = _sum_to_shape(full, p.shape).astype(p.dtype, copy=False)
    if out is not None:
        out[...] = gradient
        gradient = out
    return gradient, sums


def _map(op, t, p, w, shape, out, scale, loss="squared", delta=1.0):
    """Run an elementwise kernel; returns (result, sum of the losses)."""
    dtype = t.dtype
    if out is None:
        result = target = _core.empty(shape, dtype)
    else:
        check_out(out, shape, dtype)
        result = target = out
        # Writing over an input is safe only element for element, in the same layout.
        inputs_overlap = any(
            np.may_share_memory(out, array) and not is_same_view(out, array)
            for array in (t, p)
        )
        weights_overlap = w is not None and np.may_share_memory(out, w)
        if inputs_overlap or weights_overlap or not out.flags.aligned:
            target = _core.empty(shape, dtype)

    sums, _, _ = _core.map(
        op, _broadcast(t, shape), _broadcast(p, shape), w, target, scale, loss, delta
    )
    if target is not result:
        result[...] = target
    return result, sums


def _broadcast(array, shape):
    return array if array.shape == shape else np.broadcast_to(array, shape)


def _sum_to_shape(full, shape):
    """Sum `full` over the axes that broadcasting added or stretched to reach `shape`."""
    lead = full.ndim - len(shape)
    # inf + -inf is NaN, as in the kernels, which do not warn about it either.
    with np.errstate(invalid="ignore"):
        summed = full.sum(axis=tuple(range(lead))) if lead else full
        stretched = tuple(
            d for d, extent in enumerate(shape) if extent == 1 and summed.shape[d] != 1
        )
        if stretched:
            summed = summed.sum(axis=stretched, keepdims=True)
    return np.asarray(summed).reshape(shape)
