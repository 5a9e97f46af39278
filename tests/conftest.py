"""Fixtures that run a test once per SIMD target and thread count."""

import os

import numpy as np
import pytest
from hypothesis import settings

import fastmse
from fastmse import _core

# CI explores the same examples on every run, so that a submission cannot pass or fail by
# chance; local runs draw new examples each time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SUPPORTED_TARGETS = _core.config()["supported_targets"]
THREAD_COUNTS = [1, 2, 3]


@pytest.fixture(params=SUPPORTED_TARGETS)
def simd_target(request):
    """Run the test with each SIMD target this CPU supports, then restore the default."""
    chosen = _core.config()["target"]
    _core.use_target(request.param)
    yield request.param
    _core.use_target(chosen)


@pytest.fixture(params=THREAD_COUNTS)
def num_threads(request):
    """Run the test with 1, 2 and 3 threads, then restore the default."""
    before = fastmse.get_num_threads()
    fastmse.set_num_threads(request.param)
    yield request.param
    fastmse.set_num_threads(before)


@pytest.fixture
def rng():
    return np.random.default_rng(20261204)
