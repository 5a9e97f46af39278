"""Arrays of more than 2**31 elements, which need 64-bit indexing throughout."""

import numpy as np
import pytest

import fastmse as fm

N = 2**31 + 1000  # float32: about 8.6 GB per array


def available_bytes():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        available_bytes() < 12 * 2**30,
        reason="needs 12 GiB of available memory for one 8.6 GB array",
    ),
]


@pytest.fixture(scope="module")
def ones():
    values = np.ones(N + 1, dtype=np.float32)
    values[0] = 5.0
    values[-1] = 3.0
    yield values
    del values


def test_contiguous_past_two_to_the_31(ones):
    # y_true and y_pred overlap shifted by one element: only the two ends differ.
    y_true, y_pred = ones[:-1], ones[1:]
    assert fm.sse(y_true, y_pred) == 16.0 + 4.0
    assert fm.mse(y_true, y_pred) == 20.0 / N


def test_broadcast_and_axis_past_two_to_the_31(ones):
    y_true = ones[:-1]
    assert fm.sse(y_true, np.float32(1.0)) == 16.0
    rows = fm.sse(y_true[: 2 * (N // 2)].reshape(2, -1), np.ones((2, 1), np.float32), axis=1)
    np.testing.assert_array_equal(rows, [16.0, 0.0])
