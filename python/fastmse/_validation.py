"""Input rules shared by every public function: dtypes, shapes, weights, axes and out."""

import numbers
import operator

import numpy as np

AxisError = getattr(np, "exceptions", np).AxisError


def real_number(value, name):
    """Return `value` as a float: a real number, or a 0-d array of one; else TypeError."""
    if type(value) in (float, int):
        # The common cases, which skip the slow check against numbers.Real.
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def as_real_array(value, name):
    """Convert `value` to an ndarray of float32 or float64, the dtypes the kernels take.

    float32 and float64 stay as they are, float16 becomes float32, and integers and bools
    become float64, so that no integer difference can overflow. Byte-swapped and unaligned
    arrays are copied into native, aligned ones.
    """
    if value is None:
        # np.asarray(None) is an object array, whose message would not say "None".
        raise TypeError(f"{name} is None, but fastmse needs real numbers: pass an array or a number")
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array, and fastmse would ignore its mask; select the "
            f"unmasked elements of both inputs, for example with ~{name}.mask, or pass "
            f"{name}.filled(value)"
        )

    try:
        array = np.asarray(value)
    except ValueError as error:
        # NumPy's message for a ragged list does not say which argument it was.
        raise ValueError(f"{name} could not be converted to an array: {error}") from None
    dtype = array.dtype
    if dtype.kind == "f" and dtype.itemsize in (4, 8):
        target = dtype.newbyteorder("=")
    elif dtype.kind == "f" and dtype.itemsize == 2:
        target = np.dtype(np.float32)
    elif dtype.kind in "biu":
        target = np.dtype(np.float64)
    elif dtype.kind == "f":
        raise TypeError(
            f"{name} has dtype {dtype}, which float64 cannot hold without rounding; "
            f"convert it with {name}.astype(np.float64) if that is acceptable"
        )
    else:
        hint = ""
        if dtype.kind == "O":
            hint = (
                "; integers beyond 64 bits also become objects, so convert such values "
                "to float first"
            )
        raise TypeError(
            f"{name} has dtype {dtype}, but fastmse needs real numbers "
            f"(float, integer or bool){hint}"
        )

    if array.dtype != target or not array.flags.aligned:
        array = array.astype(target)
    return array


def common_dtype(arrays, weak):
    """Return float64 if any array is float64, else float32.

    Arrays made from Python scalars (`weak`) count only when every input is one, as in
    NumPy 2's promotion rules: ``squared_error(float32_array, 0.5)`` stays float32.
    """
    strong = [array for array, is_weak in zip(arrays, weak) if not is_weak] or arrays
    if any(array.dtype == np.float64 for array in strong):
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def is_python_scalar(value):
    return type(value) in (int, float, bool)


def result_shape(y_true, y_pred):
    """Return the shape of the elementwise result of y_true and y_pred.

    The shapes must be equal or broadcast to one of them. A broadcast that grows both,
    such as (n,) against (n, 1), would compare every element with every other one.
    """
    if y_true.shape == y_pred.shape:
        shape = y_true.shape
        if 0 in shape:
            _raise_empty(shape)
        return shape

    shape = _broadcast_shapes(y_true.shape, y_pred.shape)
    if shape is None:
        raise ValueError(
            f"y_pred has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            "the shapes must be equal, or one must broadcast to the other"
        )

    if shape != y_true.shape and shape != y_pred.shape:
        raise ValueError(
            f"y_pred has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
            f"broadcasting would compare them as arrays of shape {shape}, larger than "
            "either. If both hold one value per sample, flatten them with ravel() first"
        )

    if 0 in shape:
        _raise_empty(shape)
    return shape


def _broadcast_shapes(a, b):
    """Return the broadcast of two shapes, or None when they do not broadcast.

    Unlike np.broadcast_shapes, this has no limit of 32 dimensions.
    """
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + tuple(a)
    b = (1,) * (ndim - len(b)) + tuple(b)
    shape = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            return None
        shape.append(y if x == 1 else x)
    return tuple(shape)


def _raise_empty(shape):
    raise ValueError(
        f"y_true and y_pred are empty (result shape {shape}); fastmse needs at least one "
        "element, since the mean of no elements is undefined"
    )


def prepare_inputs(y_true, y_pred, sample_weight=None):
    """Convert the inputs of one call to arrays of one float dtype.

    Returns (y_true, y_pred, weights, shape), where weights is None or the weights
    broadcast to `shape` (a read-only view, not a copy).
    """
    t = as_real_array(y_true, "y_true")
    p = as_real_array(y_pred, "y_pred")
    shape = result_shape(t, p)

    arrays = [t, p]
    weak = [is_python_scalar(y_true), is_python_scalar(y_pred)]
    w = None
    if sample_weight is not None:
        w = as_real_array(sample_weight, "sample_weight")
        arrays.append(w)
        weak.append(False)
    dtype = common_dtype(arrays, weak)
    t = t.astype(dtype, copy=False)
    p = p.astype(dtype, copy=False)
    if w is not None:
        w = broadcast_weights(w.astype(dtype, copy=False), shape)
    return t, p, w, shape


def broadcast_weights(weights, shape):
    """Broadcast sample weights of shape (n,) or of the data's shape to `shape`."""
    if weights.shape == shape:
        return weights
    if weights.ndim == 1 and len(shape) >= 1 and weights.shape[0] == shape[0]:
        row_shape = weights.shape + (1,) * (len(shape) - 1)
        return np.broadcast_to(weights.reshape(row_shape), shape)

    if len(shape) == 1:
        expected = f"{shape}, one weight per element"
    elif shape:
        expected = f"({shape[0]},), one weight per row, or the data's shape {shape}"
    else:
        expected = "(), since the data is a single value"
    raise ValueError(
        f"sample_weight has shape {weights.shape} but must have shape {expected}"
    )


def raise_for_invalid_weights(weights):
    """Raise ValueError naming the first weight that is not finite or is negative."""
    flat = np.asarray(weights).ravel()
    non_finite = np.flatnonzero(~np.isfinite(flat))
    if non_finite.size:
        index = np.unravel_index(non_finite[0], np.shape(weights))
        raise ValueError(
            f"sample_weight contains {flat[non_finite[0]]} at index {_index(index)}; "
            "weights must be finite"
        )

    negative = np.flatnonzero(flat < 0)
    if negative.size:
        index = np.unravel_index(negative[0], np.shape(weights))
        raise ValueError(
            f"sample_weight contains the negative value {flat[negative[0]]} at index "
            f"{_index(index)}; weights must be non-negative"
        )


def raise_for_zero_weight_sum(weight_sums, out_shape):
    """Raise ValueError when the weights of the whole input, or of one slice, sum to 0."""
    if weight_sums.item() != 0 if weight_sums.size == 1 else weight_sums.all():
        return
    zero = np.flatnonzero(weight_sums == 0)
    if not out_shape:
        raise ValueError(
            "sample_weight sums to zero; at least one weight must be positive"
        )
    index = np.unravel_index(zero[0], out_shape)
    raise ValueError(
        f"sample_weight sums to zero over the slice at index {_index(index)} of the "
        "result; every slice needs a positive weight"
    )


def normalize_axis(axis, ndim):
    """Return the axes to reduce as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)

    normalized = []
    for item in axes:
        index = None if isinstance(item, (bool, np.bool_)) else _as_index(item)
        if index is None:
            raise TypeError(
                "axis must be None, an int or a tuple of ints, "
                f"not {type(item).__name__}"
            )
        if not -ndim <= index < ndim:
            raise AxisError(index, ndim)
        normalized.append(index % ndim)

    if len(set(normalized)) != len(normalized):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(normalized))


def _as_index(value):
    try:
        return operator.index(value)
    except TypeError:
        return None


def check_out(out, shape, dtype):
    """Check that `out` can receive a result of `shape` and `dtype`."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array, not {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape} but the result has shape {shape}")
    if out.dtype != dtype:
        order = ""
        if out.dtype.newbyteorder("=") == dtype:
            order = " in native byte order"
        raise TypeError(
            f"out has dtype {out.dtype} but the result has dtype {dtype}; "
            f"pass an array of dtype {dtype}{order}"
        )
    if not out.flags.writeable:
        raise ValueError("out is read-only; pass a writable array")


def is_same_view(a, b):
    """Return whether a and b are the same elements of memory, in the same layout."""
    return (
        a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _index(index):
    values = tuple(int(i) for i in index)
    return values[0] if len(values) == 1 else values
