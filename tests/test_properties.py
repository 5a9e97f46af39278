"""Property tests: random dtypes, shapes, strides, axes and weights against the reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastmse as fm
from fastmse import reference

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_]


def elements(dtype):
    if np.dtype(dtype).kind == "f":
        limit = 1e4 if dtype == np.float16 else 1e6
        return st.floats(
            -limit, limit, width=np.finfo(dtype).bits, allow_nan=False, allow_infinity=False
        )
    return None


@st.composite
def array_pairs(draw):
    """Two arrays of one shape and any of DTYPES, possibly reversed or strided views."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=6))
    arrays = []
    for _ in range(2):
        dtype = draw(st.sampled_from(DTYPES))
        array = draw(hnp.arrays(dtype, shape, elements=elements(dtype)))
        view = draw(st.sampled_from(["same", "reversed", "strided", "fortran"]))
        if view == "reversed" and array.ndim:
            array = np.ascontiguousarray(array[::-1])[::-1]
        elif view == "strided" and array.ndim:
            wide = np.repeat(array, 2, axis=-1)
            array = wide[..., ::2]
        elif view == "fortran":
            array = np.asfortranarray(array)
        arrays.append(array)
    return arrays


def tolerance(*arrays):
    low = any(np.asarray(a).dtype in (np.float16, np.float32) for a in arrays)
    return 1e-6 if low else 1e-12


@settings(max_examples=300, deadline=None)
@given(array_pairs(), st.data())
def test_mse_matches_reference(pair, data):
    t, p = pair
    ndim = t.ndim
    axis = data.draw(
        st.none() | (st.integers(-ndim, ndim - 1) if ndim else st.none())
        | st.lists(st.integers(0, max(ndim - 1, 0)), unique=True, max_size=ndim).map(tuple)
    )
    expected = reference.mse(t, p, axis=axis)
    got = fm.mse(t, p, axis=axis)
    # The reference squares float64 copies, fastmse the values widened from their dtype:
    # both are exact for these dtypes, so only the float32 rounding of results differs.
    np.testing.assert_allclose(got, expected, rtol=tolerance(t, p), atol=1e-30)


@settings(max_examples=200, deadline=None)
@given(array_pairs(), st.data())
def test_weighted_mse_and_gradient_match_reference(pair, data):
    t, p = pair
    if t.ndim == 0:
        return
    rows = t.shape[0]
    # No subnormal weights: the reference's w * d**2 rounds them, fastmse scales them up.
    weight = st.just(0.0) | st.floats(1e-200, 10.0)
    weights = data.draw(
        hnp.arrays(np.float64, rows, elements=weight).filter(
            lambda w: w.sum() * (t.size // rows) > 0
        )
    )
    np.testing.assert_allclose(
        fm.mse(t, p, sample_weight=weights),
        reference.mse(t, p, sample_weight=weights),
        rtol=tolerance(t, p),
    )
    np.testing.assert_allclose(
        fm.mse_grad(t, p, sample_weight=weights),
        reference.mse_grad(t, p, sample_weight=weights),
        rtol=tolerance(t, p),
        atol=1e-30,
    )


@settings(max_examples=200, deadline=None)
@given(array_pairs())
def test_elementwise_match_reference(pair):
    t, p = pair
    rtol = tolerance(t, p)
    got = fm.squared_error(t, p)
    expected = reference.squared_error(t, p)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-30)
    value, gradient = fm.mse_value_and_grad(t, p)
    np.testing.assert_allclose(gradient, reference.mse_grad(t, p), rtol=rtol, atol=1e-30)
    assert value == fm.mse(t, p)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(DTYPES + [np.complex64, object, np.str_]),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
def test_any_input_gives_result_or_documented_error(dtype, shape_t, shape_p):
    t = np.zeros(shape_t, dtype=dtype)
    p = np.ones(shape_p, dtype=dtype)
    try:
        value = fm.mse(t, p)
    except (TypeError, ValueError):
        return
    assert value == pytest.approx(reference.mse(t, p))
