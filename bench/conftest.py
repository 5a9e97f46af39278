"""pytest options and fixtures for the pytest-benchmark tests in bench/."""

import numpy as np
import pytest

import mse_cases

# Key under which the tests collect peer results outside their tolerance.
PEER_ERRORS = pytest.StashKey[list]()


def pytest_addoption(parser):
    parser.addoption(
        "--bench-large",
        action="store_true",
        default=False,
        help="also benchmark 5*10**7 elements per array (1.2 GB of float64 inputs)",
    )


def pytest_configure(config):
    config.stash[PEER_ERRORS] = []


def benchmark_sizes(config):
    sizes = list(mse_cases.SIZES)
    if config.getoption("--bench-large"):
        sizes.append(mse_cases.LARGE_SIZE)
    return sizes


def pytest_generate_tests(metafunc):
    if "size" in metafunc.fixturenames:
        metafunc.parametrize(
            "size",
            benchmark_sizes(metafunc.config),
            ids=lambda size: f"n={mse_cases.size_label(size)}",
        )


def pytest_collection_modifyitems(items):
    # Runs the tests of one size (or shape of X) and dtype together, so that the
    # input caches draw each input once, and the 5*10**7 inputs never sit in memory
    # beside other sizes.
    def order(item):
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        return (
            params.get("size", 0),
            params.get("shape", ()),
            np.dtype(params.get("dtype", np.float64)).name,
        )

    items.sort(key=order)


def pytest_terminal_summary(terminalreporter, config):
    errors = config.stash.get(PEER_ERRORS, [])
    if not errors:
        return
    terminalreporter.section(
        "peer results outside their tolerance (recorded, not failed)"
    )
    for line in errors:
        terminalreporter.line(line)


class InputCache:
    """The inputs of the latest size and dtype, and their NumPy float64 references."""

    def __init__(self):
        self.key = None
        self.inputs = None
        self.references = {}

    def get(self, size, dtype):
        key = (size, np.dtype(dtype).name)
        if key != self.key:
            # Drop the old arrays first: at 5*10**7 elements they take 1.2 GB.
            self.inputs = None
            self.references = {}
            self.inputs = mse_cases.make_inputs(size, dtype)
            self.key = key
        return self.inputs

    def reference(self, kernel):
        if kernel not in self.references:
            self.references[kernel] = mse_cases.numpy_reference(kernel, self.inputs)
        return self.references[kernel]


@pytest.fixture(scope="session")
def input_cache():
    return InputCache()


@pytest.fixture
def inputs(input_cache, size, dtype):
    return input_cache.get(size, dtype)


@pytest.fixture
def numpy_reference(input_cache, inputs):
    """Return a function from a kernel name to its float64 NumPy result on `inputs`."""
    return input_cache.reference


@pytest.fixture
def thread_count(threads):
    """Run the test with fastmse and every peer limited to `threads` threads."""
    mse_cases.import_optional_packages()
    with mse_cases.thread_limit(threads):
        yield threads


@pytest.fixture
def record_peer_error(request):
    """Return a function that lists a peer result in the terminal summary."""
    return request.config.stash[PEER_ERRORS].append
