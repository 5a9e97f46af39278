"""Fuzz every public loss with random dtypes, shapes, layouts, weights, axes and out.

Each example is judged by an independent statement of the input rules in the README.
Valid input must give the result of fastmse.reference, in the documented dtype and type.
Invalid input must raise the documented exception (TypeError or ValueError) of a rule it
breaks, and leave every input and `out` untouched.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastmse as fm
from fastmse import reference

REAL_DTYPES = ["f2", "f4", "f8", ">f4", ">f8", "i1", "i4", "i8", "u1", "u8", "?"]
# NumPy types that fastmse documents as raising TypeError.
NON_REAL_DTYPES = ["c8", "c16", "O", "U1", "M8[D]"]
WEIGHT_DTYPES = ["f8", "f4", "f2", ">f8", "i8", "?"]

REDUCTIONS = [fm.mse, fm.sse, fm.rmse, fm.mae, fm.huber]
# Functions that return an elementwise array and take `out`.
ARRAY_FUNCTIONS = [
    fm.squared_error,
    fm.mse_grad,
    fm.mse_value_and_grad,
    fm.mae_grad,
    fm.mae_value_and_grad,
    fm.huber_grad,
    fm.huber_value_and_grad,
]
TAKES_DELTA = {fm.huber, fm.huber_grad, fm.huber_value_and_grad}

FUZZ_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def is_real(dtype):
    return np.dtype(dtype).kind in "fiub" and np.dtype(dtype).itemsize <= 8


def computes_in_float32(dtype):
    """Whether fastmse computes this dtype in float32: float16 or float32."""
    return np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize <= 4


def element_values(dtype):
    """Values exact in float16, some NaN and infinities, or any integer."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        finite = st.integers(-2048, 2048).map(lambda k: k / 8)
        return st.one_of(
            finite, finite, finite, st.sampled_from([np.nan, np.inf, -np.inf])
        )
    return hnp.from_dtype(dtype.newbyteorder("="))


@st.composite
def shapes(draw):
    """Shapes of 0 to 4 dimensions, long rows for the SIMD tails, sometimes empty."""
    return draw(
        st.one_of(
            hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5),
            st.tuples(st.integers(1, 70)),
            st.tuples(st.integers(1, 3), st.integers(1, 40)),
            hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3),
        )
    )


@st.composite
def shape_pairs(draw):
    """Equal shapes, shapes where one broadcasts to the other, or any two shapes."""
    shape = draw(shapes())
    kind = draw(st.sampled_from(["equal", "equal", "broadcast", "broadcast", "any"]))
    if kind == "equal":
        return shape, shape
    if kind == "any":
        return shape, draw(shapes())
    drop = draw(st.integers(0, len(shape)))
    smaller = [draw(st.sampled_from([side, 1])) for side in shape[drop:]]
    pair = [shape, tuple(smaller)]
    if draw(st.booleans()):
        pair.reverse()
    return tuple(pair)


def with_layout(values, layout, draw):
    """Return an array equal to `values` in one of several memory layouts."""
    if values.ndim == 0 or values.size == 0 or layout == "c":
        return values
    if layout == "fortran":
        return np.asfortranarray(values)
    if layout == "transposed":
        order = draw(st.permutations(range(values.ndim)))
        base = np.ascontiguousarray(values.transpose(order))
        return base.transpose(np.argsort(order))
    if layout == "strided":
        steps = [draw(st.sampled_from([1, 2, 3, -1, -2, -3])) for _ in values.shape]
        big = np.empty(
            [side * abs(step) for side, step in zip(values.shape, steps)], values.dtype
        )
        view = big[tuple(slice(None, None, step) for step in steps)]
        view[...] = values
        return view
    if layout == "unaligned" and values.dtype.itemsize > 1 and values.dtype != object:
        raw = np.empty(values.nbytes + 1, np.uint8)
        view = raw[1:].view(values.dtype).reshape(values.shape)
        view[...] = values
        return view
    if layout == "zero-stride":
        axis = draw(st.integers(0, values.ndim - 1))
        return np.broadcast_to(values.take([0], axis=axis), values.shape)
    return values


@st.composite
def arrays(draw, shape, dtype):
    """An array of `shape` and `dtype` in a random layout, possibly read-only."""
    dtype = np.dtype(dtype)
    if not is_real(dtype):
        values = np.zeros(shape, dtype)
        if dtype.kind == "c":
            values += 1j
    else:
        native = dtype.newbyteorder("=")
        values = draw(hnp.arrays(native, shape, elements=element_values(native)))
        values = values.astype(dtype)
    layouts = ["c", "fortran", "transposed", "strided", "unaligned", "zero-stride"]
    array = with_layout(values, draw(st.sampled_from(layouts)), draw)
    if array.flags.writeable and draw(st.booleans()):
        array.flags.writeable = False
    return array


@st.composite
def input_pairs(draw):
    shape_true, shape_pred = draw(shape_pairs())
    dtypes = st.sampled_from(REAL_DTYPES) | st.sampled_from(
        REAL_DTYPES + NON_REAL_DTYPES
    )
    y_true = draw(arrays(shape_true, draw(dtypes)))
    y_pred = draw(arrays(shape_pred, draw(dtypes)))
    return y_true, y_pred


@st.composite
def sample_weights(draw, shape):
    """None, or one weight per row or per element, sometimes in a wrong shape."""
    kind = draw(st.sampled_from(["none", "none", "rows", "full", "any"]))
    if kind == "none":
        return None
    if kind == "rows" and len(shape) >= 1:
        weight_shape = shape[:1]
    elif kind == "any":
        weight_shape = draw(shapes())
    else:
        weight_shape = shape
    dtype = np.dtype(draw(st.sampled_from(WEIGHT_DTYPES + ["c16"])))
    if dtype.kind == "c":
        return np.ones(weight_shape, dtype)
    values = st.integers(0, 32).map(lambda k: k / 8)
    if draw(st.integers(0, 9)) == 0:
        values = values | st.sampled_from([-1.0, np.nan, np.inf])
    weights = draw(hnp.arrays(np.float64, weight_shape, elements=values))
    if dtype.kind != "f":
        weights = np.abs(np.nan_to_num(weights, posinf=1.0)).round()
    return with_layout(
        weights.astype(dtype), draw(st.sampled_from(["c", "strided"])), draw
    )


def broadcast_shape(shape_a, shape_b):
    """The broadcast of two shapes if it equals one of them, else None."""
    try:
        shape = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        return None
    return shape if shape in (shape_a, shape_b) else None


def result_dtype(*arrays):
    arrays = [a for a in arrays if a is not None]
    if all(computes_in_float32(a.dtype) for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def weight_sums(weights, shape, axes):
    """Sum weights of shape (n,) or `shape` over `axes` of the data."""
    values = weights.astype(np.float64)
    if values.shape != shape:
        values = values.reshape(values.shape + (1,) * (len(shape) - 1))
    return np.broadcast_to(values, shape).sum(axis=axes)


def expected_errors(y_true, y_pred, weights, axes, out=None, out_shape=None):
    """Return every exception type that the input rules call for, or an empty set.

    The README does not say which rule is checked first, so a call that breaks several
    may raise any of their types. `axes` is the tuple of axes to reduce, or None for an
    invalid axis argument. `out_shape` is the shape that `out` must have.
    """
    errors = set()
    for array in (y_true, y_pred):
        if not is_real(array.dtype):
            errors.add(TypeError)
    shape = broadcast_shape(y_true.shape, y_pred.shape)
    if shape is None or 0 in shape:
        errors.add(ValueError)
    if axes is None:
        errors.add(ValueError)

    if weights is not None and not is_real(weights.dtype):
        errors.add(TypeError)
    elif weights is not None:
        values = weights.astype(np.float64)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            errors.add(ValueError)
        elif shape is not None:
            rows = (
                weights.ndim == 1 and len(shape) >= 1 and weights.shape[0] == shape[0]
            )
            if weights.shape != shape and not rows:
                errors.add(ValueError)
            elif axes is not None and np.any(weight_sums(weights, shape, axes) == 0):
                errors.add(ValueError)

    if out is not None:
        if not isinstance(out, np.ndarray):
            errors.add(TypeError)
        elif not errors and out.dtype != result_dtype(y_true, y_pred, weights):
            errors.add(TypeError)
        elif out.shape != out_shape or not out.flags.writeable:
            errors.add(ValueError)
    return errors


@st.composite
def axis_arguments(draw, ndim):
    """Return (axis argument, the axes it reduces or None when it is invalid)."""
    kind = draw(st.sampled_from(["none", "none", "int", "tuple", "invalid"]))
    if kind == "none":
        return None, tuple(range(ndim))
    if kind == "int" and ndim:
        axis = draw(st.integers(-ndim, ndim - 1))
        return axis, (axis % ndim,)
    if kind == "tuple":
        axes = draw(
            st.lists(st.integers(0, max(ndim - 1, 0)), unique=True, max_size=ndim)
        )
        signed = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
        return signed, tuple(sorted(axes))
    if ndim:
        return draw(st.sampled_from([ndim, -ndim - 1, (0, -ndim)])), None
    return 0, None


@st.composite
def out_arguments(draw, shape, dtype):
    """None, a writable array of `shape` and `dtype` in any layout, or a wrong one."""
    kind = draw(
        st.sampled_from(
            ["none", "good", "good", "shape", "dtype", "swapped", "read-only"]
        )
    )
    if kind == "none":
        return None
    if kind == "shape":
        shape = shape + (2,)
    elif kind == "dtype":
        dtype = np.float64 if dtype == np.float32 else np.float32
    elif kind == "swapped":
        dtype = np.dtype(dtype).newbyteorder(">")
    values = np.full(shape, 7.0, dtype)
    out = with_layout(values, draw(st.sampled_from(["c", "fortran", "strided"])), draw)
    if kind == "read-only":
        out.flags.writeable = False
    return out


def snapshot(*arrays):
    return [None if a is None else np.array(a, copy=True) for a in arrays]


def assert_unchanged(arrays, copies):
    for array, copy in zip(arrays, copies):
        if array is not None:
            np.testing.assert_array_equal(array, copy, strict=True)


def tolerances(dtype, y_true, y_pred):
    """Return (rtol, atol) for a result of `dtype` computed from these inputs.

    Every input value but int64 and uint64 beyond 2**53 is exact in float64. Results
    then differ from the reference's only in the roundings of the last steps, a few in
    float64 or one to float32. The absolute part covers gradient sums that cancel.
    """
    rtol = 3 * np.finfo(dtype).eps if dtype == np.float32 else 1e-12
    differences = [np.abs(np.asarray(a, np.float64)) for a in (y_true, y_pred)]
    finite = [d[np.isfinite(d)] for d in differences]
    largest = sum(float(d.max()) if d.size else 0.0 for d in finite)
    return rtol, rtol * 4 * largest


@pytest.mark.parametrize("function", REDUCTIONS, ids=lambda f: f.__name__)
@FUZZ_SETTINGS
@given(data=st.data())
def test_reduction_matches_reference_or_raises(function, data):
    y_true, y_pred = data.draw(input_pairs(), label="inputs")
    shape = broadcast_shape(y_true.shape, y_pred.shape) or y_true.shape
    weights = data.draw(sample_weights(shape), label="sample_weight")
    axis, axes = data.draw(axis_arguments(len(shape)), label="axis")
    options = {"axis": axis, "sample_weight": weights}
    if function in TAKES_DELTA:
        options["delta"] = data.draw(st.sampled_from([0.25, 1.0, 3.0]), label="delta")
    copies = snapshot(y_true, y_pred, weights)

    errors = expected_errors(y_true, y_pred, weights, axes)
    event("raises" if errors else "valid")
    if errors:
        with pytest.raises(tuple(errors)):
            function(y_true, y_pred, **options)
        assert_unchanged([y_true, y_pred, weights], copies)
        return

    got = function(y_true, y_pred, **options)
    # The reference is plain NumPy, which warns where NaN and infinity arise.
    with np.errstate(all="ignore"):
        expected = getattr(reference, function.__name__)(y_true, y_pred, **options)
    assert_unchanged([y_true, y_pred, weights], copies)
    if axis is None:
        assert type(got) is float
    else:
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        assert np.shape(got) == tuple(
            shape[d] for d in range(len(shape)) if d not in axes
        )
    # Sums of non-negative losses cannot cancel, so no absolute tolerance is needed.
    rtol, _ = tolerances(np.float64, y_true, y_pred)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


def reference_gradient(function, y_true, y_pred, options):
    name = function.__name__
    if name == "squared_error":
        return None, reference.squared_error(y_true, y_pred)
    if name.endswith("_value_and_grad"):
        return getattr(reference, name)(y_true, y_pred, **options)
    return None, getattr(reference, name)(y_true, y_pred, **options)


@pytest.mark.parametrize("function", ARRAY_FUNCTIONS, ids=lambda f: f.__name__)
@FUZZ_SETTINGS
@given(data=st.data())
def test_array_result_matches_reference_or_raises(function, data):
    y_true, y_pred = data.draw(input_pairs(), label="inputs")
    shape = broadcast_shape(y_true.shape, y_pred.shape) or y_true.shape
    weights = None
    if function is not fm.squared_error:
        weights = data.draw(sample_weights(shape), label="sample_weight")
    out_shape = shape if function is fm.squared_error else y_pred.shape
    dtype = result_dtype(y_true, y_pred, weights)
    out = data.draw(out_arguments(out_shape, dtype), label="out")
    options = {} if weights is None else {"sample_weight": weights}
    if function in TAKES_DELTA:
        options["delta"] = data.draw(st.sampled_from([0.25, 1.0, 3.0]), label="delta")
    copies = snapshot(y_true, y_pred, weights, out)

    every_axis = tuple(range(len(shape)))
    errors = expected_errors(y_true, y_pred, weights, every_axis, out, out_shape)
    event("raises" if errors else "valid")
    if errors:
        with pytest.raises(tuple(errors)):
            function(y_true, y_pred, out=out, **options)
        assert_unchanged([y_true, y_pred, weights, out], copies)
        return

    got = function(y_true, y_pred, out=out, **options)
    with np.errstate(all="ignore"):
        expected_value, expected = reference_gradient(function, y_true, y_pred, options)
    assert_unchanged([y_true, y_pred, weights], copies)
    if expected_value is not None:
        value, got = got
        assert type(value) is float
        rtol, _ = tolerances(np.float64, y_true, y_pred)
        np.testing.assert_allclose(value, expected_value, rtol=rtol, atol=0)
    if out is not None:
        assert got is out
    assert isinstance(got, np.ndarray)
    assert got.dtype == dtype
    assert got.shape == out_shape
    rtol, atol = tolerances(dtype, y_true, y_pred)
    if math.isinf(atol):
        atol = 0.0
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=rtol, atol=atol)
