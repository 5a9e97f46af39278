"""pytest-benchmark tests: one linear-regression gradient step, its peers and read-X.

Run with ``python -m pytest bench/test_bench_linear.py --benchmark-only``. Each
(shape of X, dtype, threads) is one benchmark group, such as
"linear_step X=1e6x32 float64 threads=2", so the table of a group ranks fastmse's
linear_value_and_grad beside NumPy's two-pass step, PyTorch's autograd step and the
time of one read of X. fastmse's loss and gradients must match the float64 reference.
A peer's error is recorded in extra_info and listed at the end of the run when it
exceeds the peer's tolerance, but it never fails the test.
"""

import numpy as np
import pytest

import linear_cases
import mse_cases

THREADS = mse_cases.thread_counts()
PEERS = ("numpy", "torch-autograd")


class LinearInputCache:
    """The inputs of the latest shape and dtype, and their float64 reference.

    conftest.py orders the tests so that those of one shape and dtype run together.
    Each input is then drawn once, and the largest X (410 MB in float64) never sits
    in memory beside another.
    """

    def __init__(self):
        self.key = None
        self.inputs = None
        self.reference = None

    def get(self, shape, dtype):
        key = (shape, np.dtype(dtype).name)
        if key != self.key:
            self.inputs = None
            self.reference = None
            self.inputs = linear_cases.make_inputs(shape, dtype)
            self.reference = linear_cases.compute_reference(self.inputs)
            self.key = key
        return self.inputs, self.reference


# Module scope frees the last inputs before the MSE benchmarks run.
@pytest.fixture(scope="module")
def linear_cache():
    return LinearInputCache()


@pytest.fixture
def linear_case(linear_cache, shape, dtype):
    """Return the (inputs, reference) pair of `shape` and `dtype`."""
    return linear_cache.get(shape, dtype)


def start_benchmark(benchmark, candidate, inputs, threads):
    """Name the benchmark's group, describe it in extra_info and prepare its call."""
    label = linear_cases.shape_label(inputs.shape)
    benchmark.group = (
        f"{linear_cases.KERNEL} X={label} {inputs.dtype.name} threads={threads}"
    )
    benchmark.extra_info["library"] = candidate.library
    benchmark.extra_info["x_bytes"] = inputs.x_bytes
    return candidate.prepare(inputs)


def skip_if_missing(candidate):
    if candidate.package in mse_cases.import_optional_packages():
        pytest.skip(
            f"{candidate.library} is not timed: {candidate.package} could not be "
            "imported"
        )


def shape_id(shape):
    return f"X={linear_cases.shape_label(shape)}"


def dtype_id(dtype):
    return np.dtype(dtype).name


def threads_id(threads):
    return f"threads={threads}"


@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", linear_cases.DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", linear_cases.SHAPES, ids=shape_id)
def test_fastmse(benchmark, linear_case, thread_count):
    inputs, reference = linear_case
    candidate = linear_cases.CANDIDATES["fastmse"]
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    loss, grad_w, grad_b = benchmark(call)

    rtol = candidate.rtol(inputs.dtype)
    errors = candidate.errors((loss, grad_w, grad_b), reference)
    benchmark.extra_info["relative_error"] = errors
    expected_loss, expected_grad_w, expected_grad_b = reference.step
    np.testing.assert_allclose(loss, expected_loss, rtol=rtol["loss"])
    np.testing.assert_allclose(grad_w, expected_grad_w, rtol=rtol["grad_w"])
    np.testing.assert_allclose(grad_b, expected_grad_b, rtol=rtol["grad_b"])


@pytest.mark.parametrize("library", PEERS)
@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", linear_cases.DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", linear_cases.SHAPES, ids=shape_id)
def test_peer(benchmark, library, linear_case, thread_count, record_peer_error):
    inputs, reference = linear_case
    candidate = linear_cases.CANDIDATES[library]
    skip_if_missing(candidate)
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    result = benchmark(call)

    errors = candidate.errors(result, reference)
    rtol = candidate.rtol(inputs.dtype)
    outside = [part for part in errors if not errors[part] <= rtol[part]]
    benchmark.extra_info["relative_error"] = errors
    benchmark.extra_info["rtol"] = rtol
    benchmark.extra_info["within_tolerance"] = not outside
    for part in outside:
        record_peer_error(
            f"{benchmark.group}: {library} has {part} relative error "
            f"{errors[part]:.1e} > {rtol[part]:g}"
        )


@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", linear_cases.DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", linear_cases.SHAPES, ids=shape_id)
def test_read_x(benchmark, linear_case, thread_count):
    inputs, reference = linear_case
    candidate = linear_cases.CANDIDATES["read-x"]
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    result = benchmark(call)

    error = candidate.errors(result, reference)["sum"]
    benchmark.extra_info["relative_error"] = error
    assert error <= linear_cases.READ_X_RTOL
