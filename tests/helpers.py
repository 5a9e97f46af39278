"""Assertions shared by the test modules."""

import numpy as np


def assert_close(got, expected, dtype):
    """Assert that an elementwise result matches the reference in dtype, shape and value."""
    # One rounding of a double to the output dtype, plus a few in double before it.
    rtol = 2 * np.finfo(dtype).eps if dtype == np.float32 else 8 * np.finfo(np.float64).eps
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)
