"""The MSE, its gradient and LinearRegressionGD on Dask arrays, chunk by chunk.

Every function builds a lazy Dask graph: fastmse's kernels reduce each chunk to a few
partial sums, and a tree of small tasks combines them on the workers. Needs Dask
(``pip install "fastmse[dask]"``); `LinearRegressionGD` also needs scikit-learn.
"""

import contextlib
import math
import numbers
import warnings

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.array.core import unify_chunks
    from dask.array.utils import meta_from_array
except ImportError as error:
    raise ImportError(
        "fastmse.dask needs Dask; install it with: pip install 'fastmse[dask]'"
    ) from error

from . import _core
from ._accumulator import MSEAccumulator
from ._losses import _map, _weight_scale
from ._validation import (
    as_real_array,
    broadcast_weights,
    common_dtype,
    is_python_scalar,
    prepare_inputs,
    raise_for_zero_weight_sum,
    result_shape,
)

try:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.validation import check_is_fitted

    from .linear_model import LinearRegressionGD as _InMemoryLinearRegressionGD
    from .linear_model import _ProgressBar
except ImportError as error:
    _SKLEARN_IMPORT_ERROR = error

    class _InMemoryLinearRegressionGD:
        """Replaces fastmse.LinearRegressionGD, which needs scikit-learn, when it is
        missing: creating an estimator raises ImportError."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                "fastmse.dask.LinearRegressionGD needs scikit-learn; install it with "
                "pip install 'fastmse[sklearn]'"
            ) from _SKLEARN_IMPORT_ERROR


__all__ = ["LinearRegressionGD", "mse", "mse_grad", "rmse", "sse"]

# The number of parts that one task of the combining tree merges, unless the caller
# sets split_every. Merging partial sums is cheap, so a wide tree with few levels is
# best.
_SPLIT_EVERY = 8


def mse(y_true, y_pred, *, axis=None, sample_weight=None, split_every=None):
    """Compute the mean squared error of Dask arrays, ``mean((y_true - y_pred) ** 2)``.

    Each chunk is reduced by fastmse's kernels to exact partial sums (an
    `fastmse.MSEAccumulator`), and the partial sums are merged in a tree, so the result
    does not depend on the chunks (see Notes).

    Parameters
    ----------
    y_true, y_pred : dask.array.Array or array_like
        Target and predicted values. NumPy arrays are wrapped with `dask.array.asarray`,
        and Python scalars broadcast. The shapes must be equal, or one must broadcast to
        the other, as for `fastmse.mse`. Chunks need not line up: both arrays are split
        at the union of their chunk boundaries first.
    axis : None or 0, default None
        None averages over all elements. 0 gives one MSE per output: the mean over the
        rows, of the shape of one row.
    sample_weight : dask.array.Array or array_like, optional
        Non-negative finite weights, of shape ``(n,)`` (one per row) or of the data's
        shape, chunked in any way.
    split_every : int, optional
        How many partial sums one task of the tree merges; default 8.

    Returns
    -------
    dask.array.Array
        A lazy float64 result: 0-d for ``axis=None``, else of the shape of one row.
        ``.compute()`` returns the value.

    Raises
    ------
    TypeError
        At once, if an input has a complex, object, string or other non-real dtype, or
        is a masked array (or a Dask array of masked chunks).
    ValueError
        At once, if the inputs are empty, their shapes do not broadcast to one of them,
        a shape is unknown (NaN chunk sizes), the weights have the wrong shape, `axis`
        is not None or 0, or `split_every` is below 2. At compute time, if a weight is
        negative or not finite, or the weights sum to zero.

    Notes
    -----
    The result is that of ``MSEAccumulator(axis=axis)`` updated with all the data at
    once, bit for bit, whatever the chunks. Every squared error is rounded to float64
    once (float32 data is widened before subtracting). Their sum is kept to about 106
    bits within a chunk and exactly across chunks, and rounded once before the
    division. So two chunkings give the same bits, unless the exact sum lies within
    about ``n * 2**-106`` of a rounding boundary, relative. They then differ by one
    unit in the last place.

    `fastmse.mse` sums the same squares pairwise in float64 instead, with a relative
    error below ``(20 + log2 n) * 2**-53``. The two results usually agree to a unit or
    two in the last place, and may differ by a few units: by 3 for the 1000 float32
    values of ``np.linspace(0, 1, 1000)`` against 0.1.

    A chunk's invalid weight is reported by its index in `sample_weight`. When several
    chunks hold invalid weights, the error names one in whichever chunk failed first.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastmse.dask
    >>> y_true = da.from_array([1.0, 2.0, 3.0], chunks=2)
    >>> y_pred = da.from_array([1.0, 4.0, 6.0], chunks=1)
    >>> float(fastmse.dask.mse(y_true, y_pred).compute())
    4.333333333333333
    >>> fastmse.dask.mse(da.ones((4, 2)), da.zeros((4, 2)), axis=0).compute()
    array([1., 1.])
    """
    return _reduce(y_true, y_pred, axis, sample_weight, split_every, "mean")


def sse(y_true, y_pred, *, axis=None, sample_weight=None, split_every=None):
    """Compute the sum of squared errors of Dask arrays, ``sum((y_true - y_pred) ** 2)``.

    Parameters
    ----------
    y_true, y_pred, axis, sample_weight, split_every
        As for `mse`. With weights, the sum is ``sum(w * (y_true - y_pred) ** 2)``.

    Returns
    -------
    dask.array.Array
        A lazy float64 result, 0-d for ``axis=None``.

    Raises
    ------
    TypeError, ValueError
        As for `mse`.

    Notes
    -----
    The result is ``MSEAccumulator(axis=axis)``'s `sse` for all the data, with the
    precision `mse` describes.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastmse.dask
    >>> y_pred = da.from_array([1.0, 4.0, 0.0], chunks=2)
    >>> float(fastmse.dask.sse([1.0, 2.0, 3.0], y_pred).compute())
    13.0
    """
    return _reduce(y_true, y_pred, axis, sample_weight, split_every, "sum")


def rmse(y_true, y_pred, *, axis=None, sample_weight=None, split_every=None):
    """Compute the root mean squared error of Dask arrays, ``sqrt(mse(y_true, y_pred))``.

    Parameters
    ----------
    y_true, y_pred, axis, sample_weight, split_every
        As for `mse`.

    Returns
    -------
    dask.array.Array
        A lazy float64 result, 0-d for ``axis=None``.

    Raises
    ------
    TypeError, ValueError
        As for `mse`.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastmse.dask
    >>> float(fastmse.dask.rmse(da.zeros(2), [3.0, 4.0]).compute())
    3.5355339059327378
    """
    value = mse(
        y_true, y_pred, axis=axis, sample_weight=sample_weight, split_every=split_every
    )
    return da.sqrt(value)


def mse_grad(y_true, y_pred, *, sample_weight=None):
    """Compute the gradient of `mse` with respect to `y_pred`, lazily, chunk by chunk.

    The gradient is ``2 * (y_pred - y_true) / n`` for n elements, and
    ``2 * w * (y_pred - y_true) / sum(w)`` with weights. Each chunk is computed by
    fastmse's kernels with the n or the weight sum of the whole data, which a small
    Dask reduction over the weights computes first.

    Parameters
    ----------
    y_true, y_pred, sample_weight
        As for `mse`.

    Returns
    -------
    dask.array.Array
        Of the shape of `y_pred`, chunked as the aligned inputs, in float32 if the
        inputs compute in float32, else in float64. Where `y_pred` was broadcast
        against a larger `y_true`, the gradient is summed over the broadcast axes, as
        `fastmse.mse_grad` does.

    Raises
    ------
    TypeError, ValueError
        As for `mse`.

    Notes
    -----
    The gradient is computed in float64 and rounded once to the output dtype. The
    weight sum is a float64 sum of the weights, which may differ from the one of
    `fastmse.mse_grad` in the last place, and so may the gradient. Weights whose sum
    overflows or is below ``2**-1000`` are scaled by a power of two first, as in
    `fastmse.mse_grad`.

    Examples
    --------
    >>> import dask.array as da
    >>> import fastmse.dask
    >>> y_pred = da.from_array([2.0, 4.0, 6.0, 8.0], chunks=2)
    >>> fastmse.dask.mse_grad([1.0, 2.0, 3.0, 4.0], y_pred).compute()
    array([0.5, 1. , 1.5, 2. ])
    """
    inputs = _Inputs(y_true, y_pred, sample_weight)
    # A broadcast y_pred gets the sum of its copies' gradients, computed in float64 so
    # that float32 results are rounded once, as in fastmse.mse_grad.
    wide = inputs.pred_shape != inputs.shape
    dtype = np.dtype(np.float64) if wide else inputs.dtype

    if inputs.w is None:
        scaling = (1.0, 2.0 / math.prod(inputs.shape))
    else:
        scaling = _lazy_gradient_scaling(inputs)
    gradient = da.map_blocks(
        _gradient_block,
        inputs.t,
        inputs.p,
        inputs.w,
        scaling,
        row_weights=inputs.row_weights,
        starts=inputs.starts,
        wide=wide,
        result_dtype=dtype,
        dtype=dtype,
        meta=np.empty((0,) * len(inputs.shape), dtype=dtype),
        token="fastmse-mse-grad",
    )
    if wide:
        gradient = _sum_to_shape(gradient, inputs.pred_shape).astype(inputs.dtype)
    return gradient


# Validation, alignment and the per-chunk work of the losses.


class _Inputs:
    """The validated inputs of a loss, broadcast to one shape, in aligned chunks.

    `t` and `p` are Dask arrays of the result's `shape`, or Python scalars, which stay
    weak in dtype promotion as in fastmse.mse. `w` is None or a Dask array, of the data's
    shape or, when `row_weights`, of shape (n, 1, ..., 1). `dtype` is the dtype the
    kernels compute in, and `starts` the index of each chunk's first element along each
    axis.
    """

    def __init__(self, y_true, y_pred, sample_weight):
        t, t_meta = _operand(y_true, "y_true")
        p, p_meta = _operand(y_pred, "y_pred")
        self.shape = result_shape(_shaped(t), _shaped(p))
        self.pred_shape = np.shape(p)
        metas = [t_meta, p_meta]
        weak = [is_python_scalar(t), is_python_scalar(p)]
        if weak == [True, True]:
            # Dask needs at least one array to build chunks from.
            t = da.asarray(np.float64(t))

        self.row_weights = False
        w = None
        if sample_weight is not None:
            w = _as_dask_array(sample_weight, "sample_weight")
            metas.append(as_real_array(meta_from_array(w), "sample_weight"))
            weak.append(False)
            # Raises ValueError for a wrong shape, with fastmse.mse's message. The
            # check gets a broadcast array of the weights' shape, so nothing is computed.
            broadcast_weights(np.broadcast_to(np.empty((), bool), w.shape), self.shape)
            if w.shape != self.shape:
                self.row_weights = True
                w = w.reshape(w.shape + (1,) * (len(self.shape) - 1))
        self.dtype = common_dtype(metas, weak)

        t, p = (
            x if is_python_scalar(x) else da.broadcast_to(x, self.shape) for x in (t, p)
        )
        arrays = [x for x in (t, p, w) if isinstance(x, da.Array)]
        axes = tuple(range(len(self.shape)))
        chunks, arrays = unify_chunks(*[a for x in arrays for a in (x, axes)])
        aligned = iter(arrays)
        self.t, self.p, self.w = (
            next(aligned) if isinstance(x, da.Array) else x for x in (t, p, w)
        )
        self.chunks = tuple(chunks[axis] for axis in axes)
        self.starts = tuple(
            tuple(int(s) for s in np.cumsum((0,) + c[:-1])) for c in self.chunks
        )


def _operand(value, name):
    """Return y_true or y_pred as a Dask array or a Python scalar, with its meta."""
    if is_python_scalar(value):
        return value, np.asarray(value)
    array = _as_dask_array(value, name)
    return array, as_real_array(meta_from_array(array), name)


def _as_dask_array(value, name):
    """Return `value` as a Dask array, raising TypeError for dtypes fastmse rejects."""
    if isinstance(value, da.Array):
        # The meta has the array's dtype and type (a masked array for masked chunks).
        as_real_array(meta_from_array(value), name)
        array = value
    else:
        array = da.asarray(as_real_array(value, name))
    if any(math.isnan(extent) for extent in array.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {array.shape}); call "
            f"{name}.compute_chunk_sizes() first"
        )
    return array


def _shaped(operand):
    return np.asarray(operand) if is_python_scalar(operand) else operand


def _check_axis(axis):
    if axis is None or (
        isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and axis == 0
    ):
        return
    raise ValueError(
        f"axis must be None or 0, got {axis!r}: the chunks' partial sums are merged "
        "over all elements or over the rows, so fastmse.dask gives the MSE of "
        "everything or of each output (axis=0)"
    )


def _check_split_every(split_every):
    if split_every is None:
        return _SPLIT_EVERY
    if (
        not isinstance(split_every, numbers.Integral)
        or isinstance(split_every, bool)
        or split_every < 2
    ):
        raise ValueError(f"split_every must be an integer >= 2, got {split_every!r}")
    return int(split_every)


def _reduce(y_true, y_pred, axis, sample_weight, split_every, kind):
    """Return the lazy mean ("mean") or sum ("sum") of the squared errors."""
    _check_axis(axis)
    split_every = _check_split_every(split_every)
    inputs = _Inputs(y_true, y_pred, sample_weight)
    ndim = len(inputs.shape)
    if axis == 0 and ndim == 0:
        raise ValueError("with axis=0, y_true and y_pred need at least one dimension")

    # One MSEAccumulator per chunk, in an object array of one element per chunk.
    sums = da.map_blocks(
        _block_accumulator,
        inputs.t,
        inputs.p,
        inputs.w,
        axis=axis,
        row_weights=inputs.row_weights,
        starts=inputs.starts,
        dtype=object,
        chunks=tuple((1,) * len(c) for c in inputs.chunks),
        meta=np.empty((0,) * ndim, dtype=object),
        token="fastmse-chunk-sums",
    )
    leaves = sums.to_delayed()
    weighted = sample_weight is not None

    def result(parts, index):
        """Return the lazy result of the chunks `parts`, at `index` among the column
        blocks."""
        shape = tuple(inputs.chunks[d + 1][i] for d, i in enumerate(index))
        start = tuple(inputs.starts[d + 1][i] for d, i in enumerate(index))
        merged = _merge_tree(parts, _merge_accumulators, split_every)
        value = dask.delayed(_finish, pure=True)(
            merged, kind, weighted, inputs.shape[1:], start
        )
        return da.from_delayed(value, shape=shape, dtype=np.float64)

    if axis is None:
        return result(list(leaves.flat), ())
    # Chunks in different columns hold different outputs: each column of chunks is
    # merged on its own, and the results are put side by side.
    columns = leaves.shape[1:]
    if not columns:
        return result(list(leaves), ())
    return da.block(
        _nested_lists(
            columns, lambda index: result(list(leaves[(slice(None),) + index]), index)
        )
    )


def _nested_lists(shape, make, index=()):
    """Return nested lists of make(index) for every index of `shape`, for da.block."""
    if len(index) == len(shape):
        return make(index)
    return [_nested_lists(shape, make, index + (i,)) for i in range(shape[len(index)])]


def _merge_tree(parts, combine, split_every):
    """Return a Delayed of `combine` applied over `parts` in a tree, `split_every` at once."""
    while len(parts) > 1:
        parts = [
            dask.delayed(combine, pure=True)(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    return parts[0]


def _block_start(starts, block_id):
    return tuple(starts[axis][i] for axis, i in enumerate(block_id))


def _block_weights(w, row_weights, start):
    """Return a chunk's weights in the shape fastmse takes, after checking them."""
    if row_weights:
        w = w.reshape(w.shape[0])
        start = start[:1]
    _raise_for_invalid_weights(w, start)
    return w


def _raise_for_invalid_weights(weights, start):
    """Raise ValueError naming the first weight of a chunk that is not finite or is
    negative, by its index in the whole of sample_weight (the chunk begins at `start`).
    """
    flat = np.asarray(weights).reshape(-1)
    non_finite = np.flatnonzero(~np.isfinite(flat))
    if non_finite.size:
        first = non_finite[0]
        raise ValueError(
            f"sample_weight contains {flat[first]} at index "
            f"{_index_in_whole(first, weights.shape, start)}; weights must be finite"
        )
    negative = np.flatnonzero(flat < 0)
    if negative.size:
        first = negative[0]
        raise ValueError(
            f"sample_weight contains the negative value {flat[first]} at index "
            f"{_index_in_whole(first, weights.shape, start)}; weights must be "
            "non-negative"
        )


def _index_in_whole(position, shape, start):
    index = tuple(int(s + i) for s, i in zip(start, np.unravel_index(position, shape)))
    return index[0] if len(index) == 1 else index


def _block_accumulator(t, p, w, *, axis, row_weights, starts, block_id=None):
    """Sum one chunk into an MSEAccumulator, returned in a 1 x ... x 1 object array."""
    ndim = len(block_id)
    accumulator = MSEAccumulator(axis=axis)
    chunk_shape = next(x.shape for x in (t, p) if isinstance(x, np.ndarray))
    if w is not None:
        w = _block_weights(w, row_weights, _block_start(starts, block_id))
    # Dask allows empty chunks, which the accumulator would reject as empty data.
    if 0 not in chunk_shape:
        accumulator.update(t, p, w)

    block = np.empty((1,) * ndim, dtype=object)
    block[(0,) * ndim] = accumulator
    return block


def _unwrap(part):
    """Return the MSEAccumulator of a tree leaf (an object array) or of a merge."""
    return part.item() if isinstance(part, np.ndarray) else part


def _merge_accumulators(*parts):
    accumulators = [_unwrap(part) for part in parts]
    # A fresh accumulator, since Dask may pass the same inputs to other tasks.
    merged = MSEAccumulator(axis=accumulators[0].axis)
    for accumulator in accumulators:
        merged.merge(accumulator)
    return merged


def _finish(part, kind, weighted, row_shape, start):
    """Return the MSE (kind "mean") or the SSE ("sum") of a merged accumulator.

    `row_shape` is the shape of the whole result for axis=0, and `start` the index of
    this part's first output in it, so that a zero weight sum is reported with the
    index that fastmse.mse reports.
    """
    accumulator = _unwrap(part)
    if weighted:
        weight_sums = np.asarray(accumulator.weight_sum)
        if accumulator.axis is None:
            raise_for_zero_weight_sum(weight_sums, ())
        else:
            # Placed in a result-shaped array of ones, the sums get the index that
            # fastmse.mse would report; one float per output costs little.
            whole = np.ones(row_shape)
            region = tuple(slice(s, s + n) for s, n in zip(start, weight_sums.shape))
            whole[region] = weight_sums
            raise_for_zero_weight_sum(whole, row_shape)
    if kind == "sum":
        return np.asarray(accumulator.sse, dtype=np.float64)
    return np.asarray(accumulator.result(), dtype=np.float64)


def _lazy_gradient_scaling(inputs):
    """Return a Delayed (weight_factor, scale) for the weighted gradient.

    The gradient is ``scale * (w * weight_factor) * (y_pred - y_true)``, where scale
    includes the factor 2.
    """
    parts = [
        dask.delayed(_weight_statistics, pure=True)(block)
        for block in inputs.w.to_delayed().flat
    ]
    statistics = _merge_tree(parts, _add_weight_statistics, _SPLIT_EVERY)
    # Row weights count once per element of their row.
    repeat = math.prod(inputs.shape) // inputs.w.size
    return dask.delayed(_gradient_scaling, pure=True)(statistics, repeat)


def _weight_statistics(w):
    """Return the sums of a chunk's w, w * 2**-1000 and w * 2**1000 in float64, and
    whether all its weights are finite and non-negative."""
    w = w.astype(np.float64)
    # The scaled sums are for weights whose plain sum overflows or is subnormal; for
    # other weights, one of them overflows, which is expected.
    with np.errstate(over="ignore"):
        sums = [w.sum(), (w * 2.0**-1000).sum(), (w * 2.0**1000).sum()]
    valid = bool(np.isfinite(w).all() and (w >= 0).all())
    return np.array(sums), valid


def _add_weight_statistics(*parts):
    sums, valid = zip(*parts)
    with np.errstate(over="ignore"):
        return np.sum(sums, axis=0), all(valid)


def _gradient_scaling(statistics, repeat):
    """Return (weight_factor, scale) from the weights' sums and validity.

    As in fastmse.mse_grad, the weights are multiplied by a power of two when their sum
    overflows or falls below 2**-1000, which changes no ratio.
    """
    (total, small_total, large_total), valid = statistics
    if not valid:
        # The chunk that contains the invalid weight raises, naming it.
        return 1.0, math.nan
    totals = {
        None: float(total) * repeat,
        2.0**-1000: float(small_total) * repeat,
        2.0**1000: float(large_total) * repeat,
    }
    raise_for_zero_weight_sum(np.array(totals[None]), ())
    factor = _weight_scale(np.array(totals[None]))
    return (1.0 if factor is None else factor), 2.0 / totals[factor]


def _gradient_block(
    t, p, w, scaling, *, row_weights, starts, wide, result_dtype, block_id=None
):
    """Return the MSE gradient of one chunk, for the whole data's scaling."""
    if w is not None:
        w = _block_weights(w, row_weights, _block_start(starts, block_id))
    chunk_shape = next(x.shape for x in (t, p) if isinstance(x, np.ndarray))
    if 0 in chunk_shape:
        # Dask allows empty chunks, which prepare_inputs would reject as empty data.
        return np.empty(chunk_shape, dtype=result_dtype)
    t, p, w, shape = prepare_inputs(t, p, w)
    weight_factor, scale = scaling
    if wide:
        t, p = t.astype(np.float64), p.astype(np.float64)
        w = None if w is None else w.astype(np.float64)
    if weight_factor != 1.0:
        # Only float64 weights can need the factor (the sums of float32 weights stay in
        # range), and they make the data compute in float64 too.
        w = w * weight_factor
    gradient, _ = _map("gradient", t, p, w, shape, None, scale)
    return gradient


def _sum_to_shape(full, shape):
    """Sum `full` over the axes that broadcasting added or stretched to reach `shape`."""
    lead = full.ndim - len(shape)
    stretched = tuple(
        lead + d
        for d, extent in enumerate(shape)
        if extent == 1 and full.shape[lead + d] != 1
    )
    summed = da.reduction(
        full,
        _sum_quietly,
        _sum_quietly,
        axis=tuple(range(lead)) + stretched,
        keepdims=True,
        dtype=np.float64,
    )
    return summed.reshape(shape)


def _sum_quietly(block, axis=None, keepdims=False):
    # inf + -inf gives NaN, as in fastmse.mse_grad, which warns nothing either.
    with np.errstate(invalid="ignore", over="ignore"):
        return np.sum(block, axis=axis, keepdims=keepdims)


# LinearRegressionGD: the data on the cluster, the fit loop on the driver.

# Power iterations for the curvature at most, as in fastmse.LinearRegressionGD.
_POWER_ITERATIONS = 50
# A loss above this factor times its starting value has diverged (as in the C++ fit).
_GROWTH = 1.0 + 1e-9
# Halvings of an automatic rate after which a fit counts as diverged.
_MAX_HALVINGS = 64
# partial_fit calls whose loss rises past this multiple of the first call's have
# diverged, as in fastmse.LinearRegressionGD.
_PARTIAL_FIT_GROWTH = 10.0
# Weights whose largest value has a binary exponent outside this range are scaled by a
# power of two, as in fastmse.LinearRegressionGD, so their sum cannot overflow.
_WEIGHT_EXPONENTS = (-500, 500)


class LinearRegressionGD(_InMemoryLinearRegressionGD):
    """`fastmse.LinearRegressionGD` for Dask arrays: each step is one Dask reduction.

    The data stays on the cluster, persisted once per fit and split into chunks of
    whole rows. Each full-batch step sends the coefficients to the workers, every chunk
    sums its share of the loss and its gradients with fastmse's one-pass kernel
    (`fastmse.linear_value_and_grad`), a tree of tasks adds the shares, and the driver
    takes the step.

    The algorithm is the in-memory estimator's. With an intercept, the fit runs on
    centered features, from the uncentered chunks' sums, with the intercept at the
    (weighted) mean of y. The rate is one over the curvature found by power iterations,
    one reduction each. The steps use Nesterov's momentum with O'Donoghue and Candes'
    gradient restart, and the fit has the same tolerance on the gradient norm and the
    same divergence checks.

    Parameters
    ----------
    learning_rate, max_iter, tol, l2, fit_intercept, verbose
        As for `fastmse.LinearRegressionGD`.
    batch_size : None, default=None
        Only full batches are supported; any other value raises ValueError in `fit`.
    shuffle, random_state, n_iter_no_change
        Accepted for compatibility with `fastmse.LinearRegressionGD`, and unused, since
        they concern mini-batches.

    Attributes
    ----------
    coef_, intercept_, n_iter_, loss_curve_, learning_rate_, n_features_in_
        As for `fastmse.LinearRegressionGD`: NumPy arrays and floats.

    Notes
    -----
    Each step, and each of the up to 50 power iterations of ``learning_rate="auto"``,
    costs one round trip to the cluster whatever the data size: 25 to 40 milliseconds
    on a two-process `distributed.LocalCluster` on a 2-core virtual machine. Data that
    fits in memory fits faster with `fastmse.LinearRegressionGD`.

    The chunks' sums are added in another order than the in-memory kernel's blocks,
    so the coefficients match `fastmse.LinearRegressionGD`'s to about the tolerance of
    the fit, not bit for bit.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastmse.dask
    >>> X = da.from_array(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]),
    ...                   chunks=(2, 2))
    >>> y = X @ np.array([2.0, -1.0]) + 0.5
    >>> model = fastmse.dask.LinearRegressionGD().fit(X, y)
    >>> np.round(model.coef_, 6), round(model.intercept_, 6)
    (array([ 2., -1.]), 0.5)
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the model from zero coefficients, on data that stays on the cluster.

        Parameters
        ----------
        X : dask.array.Array or array_like of shape (n_samples, n_features)
            Training data, rechunked to whole rows if needed. float32 stays float32;
            other real dtypes become float64.
        y : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_targets)
            Targets, rechunked to X's rows.
        sample_weight : dask.array.Array or array_like of shape (n_samples,), optional
            Non-negative finite weights, not all zero.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            For parameters of the wrong type, or if an input has a complex, object,
            string or other non-real dtype.
        ValueError
            For invalid parameters (including a `batch_size`), shapes or values (NaN or
            infinity in X or y, invalid weights), and when a fixed learning rate makes
            the loss diverge. A failed fit leaves the estimator as it was.
        """
        self._check_params()
        self._reject_mini_batches()
        with _restored_on_error(self):
            data = _LinearData(X, y, sample_weight)
            self._start(data)
            # With an intercept, the fit runs on centered features, with the intercept
            # fixed at its optimum, the (weighted) mean of y. The coefficients'
            # curvature then no longer depends on the features' means.
            offset = data.x_mean if self.fit_intercept else None
            fit = _DaskFit(
                self, data, self._coef, self._intercept, offset, full_fit=True
            )
            self._choose_rate(fit, data.k)
            self._run_steps(fit, self.max_iter)
        if fit.status == "running" and self.tol is not None:
            warnings.warn(
                f"LinearRegressionGD stopped at max_iter={self.max_iter} before reaching "
                f"tol={self.tol}; raise max_iter, or scale the features (for example with "
                "dask_ml.preprocessing.StandardScaler) to speed up convergence",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Take one plain gradient step on (X, y), from the current coefficients.

        The first call fixes the number of features and outputs and, for
        ``learning_rate="auto"``, the rate, from that call's data. As in
        `fastmse.LinearRegressionGD`, the features are not centered, and a call whose
        loss rises past ten times the first call's raises ValueError.

        Parameters
        ----------
        X, y, sample_weight
            As for `fit`.

        Returns
        -------
        self
        """
        first = not hasattr(self, "coef_")
        if first:
            self._check_params()
        self._reject_mini_batches()
        with _restored_on_error(self):
            data = _LinearData(X, y, sample_weight)
            if first:
                self._start(data)
            else:
                self._check_like_earlier_calls(data)
            coef, intercept = self._coef.copy(), self._intercept.copy()

            fit = _DaskFit(self, data, coef, intercept, None, full_fit=False)
            if first:
                self._choose_rate(fit, data.k)
            else:
                fit.learning_rate = self.learning_rate_
            self._run_steps(fit, 1)
            self._raise_if_partial_fit_diverged(fit)
        return self

    def predict(self, X):
        """Predict with the fitted linear model; lazily for a Dask array.

        Parameters
        ----------
        X : dask.array.Array or array_like of shape (n_samples, n_features)

        Returns
        -------
        dask.array.Array or ndarray of shape (n_samples,) or (n_samples, n_targets)
            A Dask array, chunked as X's rows, when X is one; else as
            `fastmse.LinearRegressionGD.predict` returns.
        """
        if not isinstance(X, da.Array):
            return super().predict(X)
        check_is_fitted(self)
        X = _design_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but LinearRegressionGD was fitted with "
                f"{self.n_features_in_}"
            )
        single_output = self.coef_.ndim == 1
        chunks = (
            (X.chunks[0],) if single_output else (X.chunks[0], self.coef_.shape[:1])
        )
        return X.map_blocks(
            _predict_block,
            coef=self.coef_,
            intercept=self.intercept_,
            chunks=chunks,
            drop_axis=[1] if single_output else [],
            dtype=X.dtype,
            meta=np.empty((0,) * len(chunks), dtype=X.dtype),
        )

    # The steps of fit and partial_fit.

    def _reject_mini_batches(self):
        if self.batch_size is not None:
            raise ValueError(
                "fastmse.dask.LinearRegressionGD takes full batches only, so batch_size "
                f"must be None, got {self.batch_size!r}; for mini-batches, fit "
                "fastmse.LinearRegressionGD on data that fits in memory"
            )

    def _start(self, data):
        """Set the input attributes and the starting point, before any step."""
        self.n_features_in_ = data.d
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._dtype = data.dtype
        self._multi_output = data.multi_output
        self._coef = np.zeros((data.k, data.d))
        if self.fit_intercept:
            self._intercept = data.y_mean.copy()
        else:
            self._intercept = np.zeros(data.k)
        self.loss_curve_ = []
        self._publish()

    def _check_like_earlier_calls(self, data):
        if data.d != self.n_features_in_:
            raise ValueError(
                f"X has {data.d} features, but earlier calls of partial_fit had "
                f"{self.n_features_in_}"
            )
        if data.multi_output != self._multi_output:
            raise ValueError(
                f"y has shape {data.y.shape}, but earlier calls of partial_fit had y of "
                f"{'2' if self._multi_output else '1'} dimension(s)"
            )
        if data.k != len(self._intercept):
            raise ValueError(
                f"y has {data.k} outputs, but earlier calls of partial_fit had "
                f"{len(self._intercept)}"
            )
        self._dtype = data.dtype

    def _choose_rate(self, fit, k):
        """Set the step size: the user's, or 1 / (a bound on the curvature)."""
        if self.learning_rate != "auto":
            fit.learning_rate = float(self.learning_rate)
        else:
            # The loss divides by k * sum(w); curvature() returns the Hessian's top
            # eigenvalue for one output.
            curvature = fit.curvature(_POWER_ITERATIONS) / k + 2 * self.l2
            if not math.isfinite(curvature):
                raise ValueError(
                    "LinearRegressionGD cannot choose a learning rate: the curvature of "
                    f"the loss is {curvature}, beyond what float64 holds; scale X and y"
                )
            fit.learning_rate = 1.0 / curvature if curvature > 0 else 1.0
        self.learning_rate_ = fit.learning_rate

    def _run_steps(self, fit, epochs):
        """Run up to `epochs` steps and keep the result, also on KeyboardInterrupt."""
        earlier = self.loss_curve_
        try:
            if self.verbose:
                bar = _ProgressBar(epochs)
                try:
                    for _ in range(epochs):
                        if fit.status != "running":
                            break
                        bar.update(len(fit.run(1)), fit.last_loss)
                finally:
                    bar.close()
            else:
                fit.run(epochs)
        finally:
            self.loss_curve_ = earlier + fit.losses
            self._coef, self._intercept = fit.coef, fit.intercept
            self.learning_rate_ = fit.learning_rate
            self._publish()

        if fit.status == "overflow":
            raise ValueError(
                f"LinearRegressionGD cannot fit: at the starting point the loss is "
                f"{fit.start_loss:.6g} and its gradient is beyond what float64 holds; "
                "scale X and y"
            )
        if fit.status == "diverged":
            raise ValueError(
                f"LinearRegressionGD diverged: with learning_rate={fit.learning_rate:g} "
                f"the loss reached {fit.last_loss:.6g}, above its starting value "
                f"{fit.start_loss:.6g}; scale the features, lower the learning rate, or "
                "use learning_rate='auto'"
            )

    def _raise_if_partial_fit_diverged(self, fit):
        first, last = self.loss_curve_[0], self.loss_curve_[-1]
        if math.isfinite(last) and last <= _PARTIAL_FIT_GROWTH * first:
            return
        raise ValueError(
            f"LinearRegressionGD.partial_fit diverged: with learning_rate="
            f"{fit.learning_rate:g} the loss reached {last:.6g}, more than "
            f"{_PARTIAL_FIT_GROWTH:g} times the first call's {first:.6g}; scale the "
            "features or lower the learning rate"
        )

    def _publish(self):
        """Set coef_, intercept_ and n_iter_ from the float64 coefficients."""
        self.n_iter_ = len(self.loss_curve_)
        if self._multi_output:
            self.coef_ = self._coef.astype(self._dtype)
            self.intercept_ = self._intercept.astype(self._dtype)
        else:
            self.coef_ = self._coef[0].astype(self._dtype)
            self.intercept_ = float(self._intercept[0])


@contextlib.contextmanager
def _restored_on_error(estimator):
    """Leave the estimator as it was when the block raises.

    A KeyboardInterrupt after the starting point was set keeps the coefficients of the
    last completed step instead, as fastmse.LinearRegressionGD does.
    """
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException as error:
        started = estimator.__dict__.get("_coef") is not saved.get("_coef")
        if not (isinstance(error, KeyboardInterrupt) and started):
            estimator.__dict__.clear()
            estimator.__dict__.update(saved)
        raise


def _design_matrix(X):
    """Return X as a 2-d Dask array of float32 or float64, in chunks of whole rows."""
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"X has shape {X.shape} but must be 2-d, of shape (n_samples, n_features)"
        )
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    # Keeps the row chunks, which grow by the number of column chunks.
    return X.astype(dtype).rechunk({1: -1})


def _predict_block(X, coef, intercept):
    return X @ coef.T + intercept


class _LinearData:
    """X, y and the weights of a fit, persisted on the cluster in chunks of rows.

    Creating it checks the data and computes the weight sum and the (weighted) means of
    y and of X's columns, in one pass over the data. Then each `value_and_grad` call
    runs one reduction.
    """

    def __init__(self, X, y, sample_weight):
        X = _design_matrix(X)
        n, d = X.shape
        if n == 0 or d == 0:
            raise ValueError(
                f"X has shape {X.shape}; it needs at least one sample and one feature"
            )
        y = _as_dask_array(y, "y")
        if y.ndim not in (1, 2) or y.shape[0] != n:
            raise ValueError(
                f"y has shape {y.shape} but X has shape {X.shape}; y must have shape "
                f"({n},) or ({n}, n_outputs)"
            )
        self.multi_output = y.ndim == 2
        k = y.shape[1] if self.multi_output else 1
        if k == 0:
            raise ValueError(f"y has shape {y.shape}; it needs at least one output")
        weights = None
        if sample_weight is not None:
            weights = _as_dask_array(sample_weight, "sample_weight")
            if weights.shape != (n,):
                raise ValueError(
                    f"sample_weight has shape {weights.shape} but must have shape "
                    f"({n},), one weight per row of X"
                )

        self.n, self.d, self.k, self.dtype = n, d, k, X.dtype
        y = y.astype(self.dtype).rechunk((X.chunks[0],) + ((k,),) * (y.ndim - 1))
        if weights is not None:
            # In float64 until any scaling (see _check_and_summarize), then in X's dtype.
            weights = weights.astype(np.float64).rechunk((X.chunks[0],))
        # Persisted once, so that each step reads the chunks from the workers' memory
        # instead of recomputing them from their sources.
        self.X, self.y, weights = dask.persist(X, y, weights)
        self._set_weights(weights)
        self._check_and_summarize()

    def _set_weights(self, weights):
        self.weights = weights
        if weights is None:
            weight_blocks = [None] * self.X.numblocks[0]
        else:
            weight_blocks = weights.to_delayed(optimize_graph=False).ravel()
        self._blocks = list(
            zip(
                self.X.to_delayed(optimize_graph=False).ravel(),
                self.y.to_delayed(optimize_graph=False).ravel(),
                weight_blocks,
                (int(s) for s in np.cumsum((0,) + self.X.chunks[0][:-1])),
            )
        )

    def _check_and_summarize(self, rescaled=False):
        parts = [
            dask.delayed(_block_statistics, pure=True)(X, y, weights, start, self.k)
            for X, y, weights, start in self._blocks
        ]
        total = _merge_tree(parts, _add_statistics, _SPLIT_EVERY).compute()
        x_finite, y_finite, weight_sum, largest_weight, x_sum, y_sum = total
        for name, finite in (("X", x_finite), ("y", y_finite)):
            if not finite:
                raise ValueError(
                    f"{name} contains NaN or infinity; LinearRegressionGD needs finite "
                    "values"
                )

        if self.weights is not None:
            if largest_weight == 0:
                raise ValueError(
                    "sample_weight sums to zero; at least one weight must be positive"
                )
            # The loss divides by the weights' sum, so scaling them all by a power of
            # two changes nothing but the range, as in fastmse.LinearRegressionGD.
            exponent = math.frexp(largest_weight)[1]
            low, high = _WEIGHT_EXPONENTS
            if not rescaled and not low < exponent < high:
                self._set_weights(dask.persist(self.weights * 2.0**-exponent)[0])
                return self._check_and_summarize(rescaled=True)
            if weight_sum == 0:
                raise ValueError(
                    f"sample_weight sums to zero in {self.dtype.name}; its positive "
                    "values underflow there, so use weights nearer to 1"
                )
            if self.weights.dtype != self.dtype:
                self._set_weights(dask.persist(self.weights.astype(self.dtype))[0])
        self.weight_sum = weight_sum
        self.x_mean = x_sum / weight_sum
        self.y_mean = y_sum / weight_sum

    def value_and_grad(self, coef, intercept, l2, *, target=True):
        """Return the loss and the gradients at one point, over all rows.

        As `fastmse._core.linear_value_and_grad` computes them: `coef` has shape (k, d)
        and `intercept` (k,), both float64. With ``target=False``, y counts as zero.
        """
        # The point is small next to the chunks, and passed in every task: as a key
        # of its own, it would cost one more transfer to each worker per step.
        parts = [
            dask.delayed(_block_value_and_grad, pure=True)(
                X, y if target else None, weights, self.weight_sum, coef, intercept
            )
            for X, y, weights, _ in self._blocks
        ]
        loss, grad_coef, grad_intercept = _merge_tree(
            parts, _add_value_and_grad, _SPLIT_EVERY
        ).compute()
        loss += l2 * float(np.sum(coef * coef))
        return loss, grad_coef + 2.0 * l2 * coef, grad_intercept


def _block_statistics(X, y, weights, start, k):
    """Return the statistics of a chunk of rows that _LinearData needs.

    They are whether X and y are finite, the weight sum, the largest weight, and the
    weighted column sums of X and of y, in float64.
    """
    targets = y.reshape(len(y), k)
    if weights is None:
        weight_sum, largest = float(len(X)), 0.0
        x_sum = X.sum(axis=0, dtype=np.float64)
        y_sum = targets.sum(axis=0, dtype=np.float64)
    else:
        _raise_for_invalid_weights(weights, (start,))
        cast = weights.astype(X.dtype)
        weight_sum = math.fsum(cast.astype(np.float64))
        largest = float(weights.max(initial=0.0))
        x_sum = np.einsum("i,ij->j", cast, X, dtype=np.float64)
        y_sum = np.einsum("i,ij->j", cast, targets, dtype=np.float64)
    finite = bool(np.isfinite(X).all()), bool(np.isfinite(y).all())
    return (*finite, weight_sum, largest, x_sum, y_sum)


def _add_statistics(*parts):
    x_finite, y_finite, weight_sums, largest, x_sums, y_sums = zip(*parts)
    return (
        all(x_finite),
        all(y_finite),
        math.fsum(weight_sums),
        max(largest),
        np.sum(x_sums, axis=0),
        np.sum(y_sums, axis=0),
    )


def _block_value_and_grad(X, y, weights, weight_sum, coef, intercept):
    """Return a chunk's share of the loss and gradients, normalised by the whole data's
    weight sum, without the l2 terms."""
    if len(X) == 0:
        return 0.0, np.zeros_like(coef), np.zeros_like(intercept)
    # Chunks that Dask received from another worker may sit unaligned in the message's
    # buffer, and the kernel takes aligned C-contiguous arrays only.
    X, y, weights = (
        None if a is None else np.require(a, requirements="CA") for a in (X, y, weights)
    )
    return _core.linear_value_and_grad(X, y, weights, weight_sum, coef, intercept, 0.0)


def _add_value_and_grad(*parts):
    losses, grad_coefs, grad_intercepts = zip(*parts)
    # Non-finite sums are the fit's to detect, as in the C++ loop.
    with np.errstate(over="ignore", invalid="ignore"):
        return (
            math.fsum(losses),
            np.sum(grad_coefs, axis=0),
            np.sum(grad_intercepts, axis=0),
        )


class _DaskFit:
    """LinearFit's full-batch fit (cpp/linear_driver.cpp), with gradients from Dask.

    It has the attributes of fastmse._core.LinearFit that a fit reads: `curvature`,
    `run`, `status`, `learning_rate`, `last_loss`, `start_loss`, `losses`, `coef`
    (k, d) and `intercept` (k,).

    With an `offset` of d column means, the fit runs on the centered rows
    ``x - offset``, and `intercept` is the centered model's, fixed. Each gradient comes
    from the uncentered chunks' sums: with the residuals of the same model,
    ``sum r * (x - offset) = sum r * x - offset * sum r``. `coef` and `intercept` still
    describe the model on x.
    """

    def __init__(self, estimator, data, coef, intercept, offset, *, full_fit):
        self.data = data
        self.offset = offset
        self.l2 = float(estimator.l2)
        # Centered fits keep the intercept at its optimum: no steps for it.
        self.fit_intercept = bool(estimator.fit_intercept) and offset is None
        self.auto_rate = estimator.learning_rate == "auto"
        self.tol = 0.0 if estimator.tol is None else float(estimator.tol)
        self.momentum = full_fit
        self.stop_early = full_fit and estimator.tol is not None
        self.learning_rate = 1.0

        self._coef, self._intercept = coef, intercept
        self.status = "running"
        self.losses = []
        self.start_loss = -1.0  # negative until the first step computes it
        self.last_loss = 0.0
        # Nesterov's state, and the best point seen, for a restart after divergence.
        self._previous = (coef, intercept)
        self._best = (coef, intercept)
        self._best_loss = 0.0
        self._first_gradient_norm = -1.0
        self._momentum_t = 1.0
        self._halvings = 0

    @property
    def coef(self):
        return self._coef.copy()

    @property
    def intercept(self):
        return self._plain_intercept(self._coef, self._intercept)

    def _plain_intercept(self, coef, intercept):
        """Return the intercepts of the model on uncentered rows."""
        if self.offset is None:
            return intercept.copy()
        return intercept - coef @ self.offset

    def _gradient_at(self, coef, intercept, l2=None, *, target=True):
        """Return the loss and gradients at a point of the (centered) fit."""
        loss, grad_coef, grad_intercept = self.data.value_and_grad(
            coef,
            self._plain_intercept(coef, intercept),
            self.l2 if l2 is None else l2,
            target=target,
        )
        if self.offset is not None:
            grad_coef = grad_coef - np.outer(grad_intercept, self.offset)
        return loss, grad_coef, grad_intercept

    def curvature(self, iterations):
        """Return the top eigenvalue of the Hessian of one output's loss.

        Power iterations on ``H = 2 / W * sum_i w_i [x_i, 1] [x_i, 1]^T`` (without the 1
        when the intercept is fixed, and with x centered when there is an offset):
        ``H v`` is the gradient at y = 0 and coefficients v, one Dask reduction.
        """
        d = self.data.d
        v = _power_iteration_start(d + 1)
        if not self.fit_intercept:
            v[d] = 0.0

        estimate = 0.0
        for _ in range(iterations):
            # An infinite norm ends the iterations, and _choose_rate reports it.
            with np.errstate(over="ignore", invalid="ignore"):
                norm = math.sqrt(float(v @ v))
            if not (norm > 0.0) or not math.isfinite(norm):
                break
            v = v / norm
            _, hv_coef, hv_intercept = self._gradient_at(
                v[:d].reshape(1, d), v[d:], 0.0, target=False
            )
            hv = np.append(hv_coef[0], hv_intercept if self.fit_intercept else 0.0)
            rayleigh = float(v @ hv)
            v = hv
            # The Rayleigh quotient approaches the top eigenvalue from below. The step
            # 1 / estimate stays safe while the estimate is above half of it, so a
            # relative change of 1e-4 is close enough.
            settled = abs(rayleigh - estimate) <= 1e-4 * rayleigh
            estimate = rayleigh
            if settled:
                break
        return estimate

    def run(self, epochs):
        """Run up to `epochs` steps and return their losses.

        Stops once the fit converges or diverges, and sets `status` to match.
        """
        before = len(self.losses)
        for _ in range(epochs):
            if self.status != "running":
                break
            # Overflow to inf or NaN is what the divergence checks look for.
            with np.errstate(over="ignore", invalid="ignore"):
                result = self._step()
            if result == "stepped":
                self.losses.append(self.last_loss)
            if result == "stopped":
                break
        return self.losses[before:]

    def _step(self):
        """Take one step and return "stepped", "retried" (rate halved) or "stopped".

        With momentum, the gradient is taken at the look-ahead point
        ``x + beta * (x - x_previous)`` (Nesterov), and beta drops to zero whenever the
        step points uphill from x (O'Donoghue and Candes' adaptive restart).
        """
        coef, intercept = self._coef, self._intercept
        next_t = 1.0
        point_coef, point_intercept = coef, intercept
        if self.momentum:
            next_t = (1.0 + math.sqrt(1.0 + 4.0 * self._momentum_t**2)) / 2.0
            beta = (self._momentum_t - 1.0) / next_t
            previous_coef, previous_intercept = self._previous
            point_coef = coef + beta * (coef - previous_coef)
            point_intercept = intercept + beta * (intercept - previous_intercept)

        loss, grad_coef, grad_intercept = self._gradient_at(point_coef, point_intercept)
        if not self.fit_intercept:
            grad_intercept = np.zeros_like(grad_intercept)
        grad_norm = math.sqrt(
            float(np.sum(grad_coef**2)) + float(np.sum(grad_intercept**2))
        )
        self.last_loss = loss
        if self.start_loss < 0.0:
            self.start_loss = self._best_loss = loss
            self._first_gradient_norm = grad_norm
            # Overflow at the start: no rate can help, and the tolerance means nothing.
            if not math.isfinite(loss) or not math.isfinite(grad_norm):
                self.status = "overflow"
                return "stopped"

        if not math.isfinite(loss) or loss > _GROWTH * self.start_loss:
            if not self.auto_rate:
                self.status = "diverged"
                return "stopped"
            self._restore(*self._best)
            return self._halve_rate()
        if loss <= self._best_loss:
            self._best_loss = loss
            self._best = (point_coef, point_intercept)
        if self.stop_early and grad_norm <= self.tol * self._first_gradient_norm:
            self._coef, self._intercept = point_coef, point_intercept
            self.status = "converged"
            return "stepped"

        self._previous = (coef, intercept)
        self._coef = point_coef - self.learning_rate * grad_coef
        self._intercept = point_intercept
        if self.fit_intercept:
            self._intercept = point_intercept - self.learning_rate * grad_intercept
        if self.momentum:
            uphill = float(np.sum(grad_coef * (self._coef - coef))) + float(
                np.sum(grad_intercept * (self._intercept - intercept))
            )
            self._momentum_t = 1.0 if uphill > 0.0 else next_t
        return "stepped"

    def _restore(self, coef, intercept):
        self._coef, self._intercept = coef, intercept
        self._previous = (coef, intercept)
        self._momentum_t = 1.0

    def _halve_rate(self):
        # A rate halved this often is a sign of data that no rate fits (such as
        # gradients that overflow on the way), so the fit ends.
        self.learning_rate /= 2.0
        self._halvings += 1
        if self._halvings <= _MAX_HALVINGS:
            return "retried"
        self.status = "diverged"
        return "stopped"


def _power_iteration_start(size):
    """Return the C++ fit's start vector: fixed, so fits are deterministic, and with no
    zero entry, so no direction is left out (splitmix64 from seed 12345)."""
    mask = 2**64 - 1
    state = 12345
    v = np.empty(size)
    for j in range(size):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        v[j] = 0.5 + (z >> 11) * 2.0**-53
    return v
