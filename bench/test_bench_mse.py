"""pytest-benchmark tests: fastmse's kernels, their peers and the stream_sum probe.

Run with ``python -m pytest bench/ --benchmark-only``; add ``--bench-large`` for
5*10**7 elements. Each (kernel, size, dtype, threads) is one benchmark group, so the
table of a group ranks fastmse among its peers. fastmse's results must match NumPy in
float64; a peer's error is recorded in extra_info and listed at the end of the run
when it exceeds the peer's tolerance, but it never fails the test.
"""

import numpy as np
import pytest

import mse_cases
import peers

THREADS = mse_cases.thread_counts()
PEER_CASES = [
    (kernel, library) for kernel in mse_cases.KERNELS for library in peers.PEERS[kernel]
]


def group_name(kernel, size, dtype, threads):
    label = mse_cases.size_label(size)
    return f"{kernel} n={label} {np.dtype(dtype).name} threads={threads}"


def start_benchmark(benchmark, candidate, inputs, threads):
    """Name the benchmark's group, describe it in extra_info and prepare its call."""
    dtype = inputs.y_true.dtype
    benchmark.group = group_name(candidate.kernel, inputs.size, dtype, threads)
    benchmark.extra_info["library"] = candidate.library
    benchmark.extra_info["bytes"] = (
        mse_cases.ARRAYS_MOVED[candidate.kernel] * inputs.size * dtype.itemsize
    )
    return candidate.prepare(inputs)


def dtype_id(dtype):
    return np.dtype(dtype).name


def threads_id(threads):
    return f"threads={threads}"


@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", mse_cases.DTYPES, ids=dtype_id)
@pytest.mark.parametrize("kernel", mse_cases.KERNELS)
def test_fastmse(benchmark, kernel, inputs, thread_count, numpy_reference):
    candidate = peers.fastmse_candidate(kernel)
    if candidate.package in mse_cases.import_optional_packages():
        pytest.skip(
            f"fastmse's {kernel} is not timed: {candidate.package} could not be "
            "imported"
        )
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    result = benchmark(call)

    expected = numpy_reference(kernel)
    rtol = candidate.rtol(inputs.y_true.dtype)
    benchmark.extra_info["relative_error"] = mse_cases.relative_error(result, expected)
    if kernel == "mse_value_and_grad":
        np.testing.assert_allclose(result[0], expected[0], rtol=peers.FASTMSE_RTOL)
        np.testing.assert_allclose(result[1], expected[1], rtol=rtol)
    else:
        # to_float64 also converts mse_loss_torch's loss, a tensor that requires grad.
        np.testing.assert_allclose(mse_cases.to_float64(result), expected, rtol=rtol)


@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", mse_cases.DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("kernel", "library"), PEER_CASES, ids=[f"{k}-{lib}" for k, lib in PEER_CASES]
)
def test_peer(
    benchmark,
    kernel,
    library,
    inputs,
    thread_count,
    numpy_reference,
    record_peer_error,
):
    candidate = peers.peer_candidate(kernel, library)
    if candidate.package in mse_cases.import_optional_packages():
        pytest.skip(
            f"{library} is not timed: {candidate.package} could not be imported"
        )
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    result = benchmark(call)

    error = mse_cases.relative_error(result, numpy_reference(kernel))
    rtol = candidate.rtol(inputs.y_true.dtype)
    benchmark.extra_info["relative_error"] = error
    benchmark.extra_info["rtol"] = rtol
    benchmark.extra_info["within_tolerance"] = bool(error <= rtol)
    if not error <= rtol:
        record_peer_error(
            f"{benchmark.group}: {library} has relative error {error:.1e} > {rtol:g}"
        )


@pytest.mark.parametrize("threads", THREADS, ids=threads_id)
@pytest.mark.parametrize("dtype", mse_cases.DTYPES, ids=dtype_id)
def test_stream_sum(benchmark, inputs, thread_count, numpy_reference):
    candidate = peers.fastmse_candidate("stream_sum")
    call = start_benchmark(benchmark, candidate, inputs, thread_count)

    result = benchmark(call)

    # The sum has terms of both signs, so its error is bounded relative to the sum
    # of their magnitudes, not to the result.
    magnitude = np.sum(np.abs(inputs.y_true), dtype=np.float64) + np.sum(
        np.abs(inputs.y_pred), dtype=np.float64
    )
    assert abs(result - numpy_reference("stream_sum")) <= 1e-12 * magnitude
