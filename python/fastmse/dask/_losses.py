"""The MSE and its gradient on Dask arrays, chunk by chunk.

Every function builds a lazy Dask graph: fastmse's kernels reduce each chunk to a few
partial sums, and a tree of small tasks combines them on the workers.
"""

import math
import numbers

import numpy as np

import dask
import dask.array as da
from dask.array.core import unify_chunks
from dask.array.utils import meta_from_array

from .._accumulator import MSEAccumulator
from .._losses import _map, _overflow_exponent
from .._validation import (
    as_real_array,
    broadcast_weights,
    common_dtype,
    is_python_scalar,
    prepare_inputs,
    raise_for_zero_weight_sum,
    result_shape,
)

__all__ = ["mse", "mse_grad", "rmse", "sse"]

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
    count = math.prod(inputs.shape)
    return dask.delayed(_gradient_scaling, pure=True)(statistics, repeat, count)


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


def _gradient_scaling(statistics, repeat, count):
    """Return (weight_factor, scale) from the weights' sums and validity.

    As in fastmse.mse_grad, the weights of `count` elements are multiplied by a power of
    two when their sum overflows or falls below 2**-1000, which changes no ratio. An
    overflowing sum is divided by a power of two just above `count`, the least that
    makes it finite, so that small weights keep their bits. A sum below 2**-1000 loses
    bits to subnormal rounding, and 2 / sum(w) overflows; the weights, all below
    2**-1000 then, are multiplied by 2**1000.
    """
    (total, small_total, large_total), valid = statistics
    if not valid:
        # The chunk that contains the invalid weight raises, naming it.
        return 1.0, math.nan
    total = float(total) * repeat
    raise_for_zero_weight_sum(np.array(total), ())
    if math.isinf(total):
        exponent = _overflow_exponent(count)
        # sum(w * 2**-exponent) is small_total * 2**(1000 - exponent).
        return 2.0**-exponent, 2.0 ** (exponent - 999) / (float(small_total) * repeat)
    if total < 2.0**-1000:
        return 2.0**1000, 2.0 / (float(large_total) * repeat)
    return 1.0, 2.0 / total


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
