"""Inputs, exact references and thread limits shared by the fastmse benchmarks.

Both the pytest-benchmark tests and ``report.py`` use these, with the candidates of
``peers.py``, so that they time the same calls on the same data.
"""

import contextlib
import dataclasses
import functools
import importlib
import math
import os
import sys

import numpy as np

import fastmse

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
LARGE_SIZE = 5 * 10**7
DTYPES = (np.float32, np.float64)

# The axis=-1 kernel reshapes n elements to (n // ROW_LENGTH, ROW_LENGTH): one MSE per
# row of 1000 features. Every benchmark size is a multiple of it.
ROW_LENGTH = 1000

KERNELS = (
    "mse",
    "sse",
    "mse_axis",
    "mse_weighted",
    "mse_grad",
    "mse_value_and_grad",
    "mae",
    "huber",
    "mse_loss_torch",
)

# The delta of every huber benchmark: the error size where the loss turns from
# squared to absolute.
HUBER_DELTA = 1.0

# Arrays of n elements that one call reads plus those it writes, for effective GB/s.
# A written array is counted once, although most CPUs also read its cache lines
# before writing them.
ARRAYS_MOVED = {
    "mse": 2,
    "sse": 2,
    "mse_axis": 2,
    "mse_weighted": 3,
    "mse_grad": 3,
    "mse_value_and_grad": 3,
    "mae": 2,
    "huber": 2,
    # Reads both inputs and writes the gradient of the forward + backward pass.
    "mse_loss_torch": 3,
    "stream_sum": 2,
}

# Import names of the optional peer packages, by the library label used in reports.
PEER_PACKAGES = {
    "numpy": "numpy",
    "numpy-dot": "numpy",
    "numpy-einsum": "numpy",
    "sklearn": "sklearn",
    "torch": "torch",
    "torch-autograd": "torch",
    "numexpr": "numexpr",
    "numba": "numba",
    "simsimd": "simsimd",
}

# Distribution names for the version report, which differ from the import names
# for scikit-learn.
DISTRIBUTIONS = {
    "fastmse": "fastmse",
    "numpy": "numpy",
    "sklearn": "scikit-learn",
    "torch": "torch",
    "numexpr": "numexpr",
    "numba": "numba",
    "simsimd": "simsimd",
    "threadpoolctl": "threadpoolctl",
    "matplotlib": "matplotlib",
}


@dataclasses.dataclass(frozen=True)
class Inputs:
    """One benchmark's data: 1-D arrays of one dtype, and positive weights."""

    y_true: np.ndarray
    y_pred: np.ndarray
    weights: np.ndarray

    @property
    def size(self):
        return self.y_true.size

    def rows(self, array):
        """Return `array` as a (size // ROW_LENGTH, ROW_LENGTH) view."""
        return array.reshape(-1, ROW_LENGTH)


def all_threads():
    """Return the number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_counts():
    """Return the thread counts to benchmark: 1 and all CPUs."""
    return sorted({1, all_threads()})


def size_label(size):
    """Format a size as a short power of ten: 1000 -> '1e3', 50000000 -> '5e7'."""
    exponent = math.floor(math.log10(size))
    mantissa = size / 10**exponent
    if mantissa == int(mantissa):
        return f"{int(mantissa)}e{exponent}"
    return str(size)


def make_inputs(size, dtype):
    """Draw seeded inputs of `size` elements, converted to `dtype`.

    y_true is standard normal, y_pred adds normal noise of standard deviation 0.5 to
    it, and the weights are uniform in [0.5, 2).
    """
    rng = np.random.default_rng(20240601)
    y_true = rng.standard_normal(size)
    y_pred = y_true + 0.5 * rng.standard_normal(size)
    weights = rng.uniform(0.5, 2.0, size)
    return Inputs(y_true.astype(dtype), y_pred.astype(dtype), weights.astype(dtype))


@functools.cache
def import_optional_packages():
    """Import every peer package and threadpoolctl, and return those that failed.

    Imports happen before any thread limit is set, because threadpoolctl only limits
    the thread pools of libraries that are already loaded. Later calls return the
    first call's tuple without importing again.
    """
    missing = []
    for package in sorted(set(PEER_PACKAGES.values()) | {"threadpoolctl"}):
        try:
            importlib.import_module(package)
        except ImportError:
            missing.append(package)
    return tuple(missing)


@contextlib.contextmanager
def thread_limit(count):
    """Run fastmse and every imported peer on `count` threads inside the block.

    SimSIMD's sqeuclidean runs on the calling thread, and scikit-learn's
    mean_squared_error runs on NumPy, so neither has a setting of its own.
    """
    with contextlib.ExitStack() as stack:
        previous = fastmse.get_num_threads()
        fastmse.set_num_threads(count)
        stack.callback(fastmse.set_num_threads, previous)

        threadpoolctl = sys.modules.get("threadpoolctl")
        if threadpoolctl is not None:
            # Limits BLAS (numpy's matmul and dot) and every loaded OpenMP runtime.
            stack.enter_context(threadpoolctl.threadpool_limits(count))

        torch = sys.modules.get("torch")
        if torch is not None:
            stack.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(count)

        numba = sys.modules.get("numba")
        if numba is not None:
            stack.callback(numba.set_num_threads, numba.get_num_threads())
            numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))

        numexpr = sys.modules.get("numexpr")
        if numexpr is not None:
            stack.callback(numexpr.set_num_threads, numexpr.set_num_threads(count))

        # A peer that shares fastmse's OpenMP runtime can lower fastmse's threads.
        if fastmse.get_num_threads() != count:
            raise RuntimeError(
                f"fastmse runs on {fastmse.get_num_threads()} threads after the thread "
                f"limits were set, not on the {count} requested"
            )
        yield


def to_float64(result):
    """Convert a float, NumPy scalar, array, tensor or tuple of them to float64."""
    if isinstance(result, tuple):
        return tuple(to_float64(item) for item in result)
    if hasattr(result, "detach"):
        result = result.detach().numpy()
    return np.asarray(result, dtype=np.float64)


def relative_error(result, reference):
    """Return the error of `result` relative to `reference`.

    Scalars give |result - reference| / |reference|. Arrays give the largest absolute
    difference over the largest absolute reference element, so elements near zero do
    not dominate. A (value, gradient) pair gives the larger of its two errors.
    """
    if isinstance(reference, tuple):
        return max(
            relative_error(item, expected)
            for item, expected in zip(result, reference, strict=True)
        )
    result = to_float64(result)
    reference = np.asarray(reference, dtype=np.float64)
    if result.shape != reference.shape:
        return math.inf
    scale = float(np.max(np.abs(reference)))
    difference = float(np.max(np.abs(result - reference)))
    if scale == 0.0:
        return 0.0 if difference == 0.0 else math.inf
    return difference / scale


def huber_losses(errors, delta=HUBER_DELTA):
    """Return the elementwise Huber loss of `errors`, in their dtype."""
    magnitudes = np.abs(errors)
    return np.where(
        magnitudes <= delta, 0.5 * errors * errors, delta * (magnitudes - 0.5 * delta)
    )


def numpy_reference(kernel, inputs):
    """Compute `kernel` with NumPy in float64, the reference of the pytest checks."""
    y_true = inputs.y_true.astype(np.float64)
    y_pred = inputs.y_pred.astype(np.float64)
    weights = inputs.weights.astype(np.float64)
    errors = y_pred - y_true
    n = inputs.size

    if kernel == "mse":
        return np.mean(errors**2)
    if kernel == "sse":
        return np.sum(errors**2)
    if kernel == "mse_axis":
        return np.mean(inputs.rows(errors) ** 2, axis=-1)
    if kernel == "mse_weighted":
        return np.sum(weights * errors**2) / np.sum(weights)
    if kernel == "mse_grad":
        return 2.0 * errors / n
    if kernel == "mse_value_and_grad":
        return np.mean(errors**2), 2.0 * errors / n
    if kernel == "mae":
        return np.mean(np.abs(errors))
    if kernel == "huber":
        return np.mean(huber_losses(errors))
    if kernel == "mse_loss_torch":
        # The timed call returns the loss of the forward + backward pass.
        return np.mean(errors**2)
    if kernel == "stream_sum":
        return np.sum(y_true) + np.sum(y_pred)
    raise ValueError(f"kernel must be one of {KERNELS} or 'stream_sum', not {kernel!r}")


# The exact references sum in np.longdouble where it is the x87 80-bit format (64-bit
# significand, as on x86-64 Linux), else with math.fsum on float64 values.
EXTENDED_PRECISION = np.finfo(np.longdouble).nmant >= 63
REFERENCE_METHOD = "np.longdouble" if EXTENDED_PRECISION else "math.fsum"
# Elements per block of the reference computation: whole rows, and few enough that the
# long double temporaries stay near 16 MB each.
_REFERENCE_BLOCK = 1000 * ROW_LENGTH


def _block_total(values):
    if EXTENDED_PRECISION:
        return np.sum(values, dtype=np.longdouble)
    return math.fsum(values.tolist())


def _row_totals(values):
    rows = values.reshape(-1, ROW_LENGTH)
    if EXTENDED_PRECISION:
        return np.sum(rows, axis=1, dtype=np.longdouble)
    return np.array([math.fsum(row.tolist()) for row in rows])


def _grand_total(block_totals):
    if EXTENDED_PRECISION:
        return np.sum(np.array(block_totals, dtype=np.longdouble))
    return math.fsum(block_totals)


def exact_references(inputs):
    """Compute every kernel's result to within about one float64 rounding.

    Returns a dict from kernel name to its reference, rounded to float64 at the end.
    With np.longdouble, each difference, square and product rounds with a relative
    error of at most 2**-64. NumPy's pairwise sums add at most about log2(n) such
    errors, so a sum of squares is within 1e-17 of the exact value, relatively, before
    its final rounding.

    With math.fsum, the differences are formed in float64 (exactly, for float32
    inputs) and each square rounds once. Each block of a million squares is then
    summed exactly and rounded, so the error is a few units in the last place.

    The absolute errors and Huber losses are summed the same way. A Huber loss rounds
    at most twice per element (a square, or a subtraction and a product by delta), so
    its error stays within about twice these bounds.
    """
    wide = np.longdouble if EXTENDED_PRECISION else np.float64
    n = inputs.size
    gradient = np.empty(n)
    totals = {
        "squares": [],
        "absolute": [],
        "huber": [],
        "weighted": [],
        "weights": [],
        "stream": [],
    }
    row_totals = []

    for start in range(0, n, _REFERENCE_BLOCK):
        block = slice(start, start + _REFERENCE_BLOCK)
        y_true = inputs.y_true[block].astype(wide)
        y_pred = inputs.y_pred[block].astype(wide)
        weights = inputs.weights[block].astype(wide)
        errors = y_pred - y_true
        squares = errors * errors

        totals["squares"].append(_block_total(squares))
        totals["absolute"].append(_block_total(np.abs(errors)))
        totals["huber"].append(_block_total(huber_losses(errors)))
        totals["weighted"].append(_block_total(weights * squares))
        totals["weights"].append(_block_total(weights))
        totals["stream"].append(_block_total(y_true) + _block_total(y_pred))
        row_totals.append(_row_totals(squares))
        gradient[block] = errors * 2 / n

    sum_of_squares = _grand_total(totals["squares"])
    weighted = _grand_total(totals["weighted"]) / _grand_total(totals["weights"])
    row_means = np.concatenate(row_totals) / ROW_LENGTH
    mse = float(sum_of_squares / n)
    return {
        "mse": mse,
        "sse": float(sum_of_squares),
        "mse_axis": row_means.astype(np.float64),
        "mse_weighted": float(weighted),
        "mse_grad": gradient,
        "mse_value_and_grad": (mse, gradient),
        "mae": float(_grand_total(totals["absolute"]) / n),
        "huber": float(_grand_total(totals["huber"]) / n),
        "mse_loss_torch": mse,
        "stream_sum": float(_grand_total(totals["stream"])),
    }
