"""Inputs, references and candidates of the linear-regression gradient-step benchmarks.

One step of full-batch gradient descent on a linear model's MSE computes, from a design
matrix X of shape (n, d), targets y, coefficients w and an intercept b, the residuals
r = X @ w + b - y, the loss mean(r**2) and the gradients 2 / n * X.T @ r and
2 / n * sum(r). fastmse reads X once for all three. NumPy's formulas read it twice,
once for X @ w and once for X.T @ r. The read-X probe, stream_sum over the two halves
of X, is the time that one read of X takes at this run's bandwidth.

Both report.py and test_bench_linear.py time these candidates on the same data, with
the thread limits of mse_cases.thread_limit.
"""

import dataclasses
from collections.abc import Callable

import numpy as np

import fastmse
import fastmse.reference
from mse_cases import relative_error, size_label

KERNEL = "linear_step"
# (n_samples, n_features) of X. The first two are hundreds of MB in float64, far
# larger than the CPU caches. The last is 6.4 MB in float32 and 12.8 MB in float64.
SHAPES = ((10**6, 32), (2 * 10**5, 256), (10**5, 16))
QUICK_SHAPES = ((10**5, 16),)
DTYPES = (np.float32, np.float64)
LIBRARIES = ("fastmse", "numpy", "torch-autograd", "read-x")
PARTS = ("loss", "grad_w", "grad_b")

# Relative tolerances of the loss and both gradients against the float64 reference.
# fastmse sums in float64 for float32 data too, so only its float32 grad_w, which it
# returns rounded to float32, is looser.
FASTMSE_RTOL = {
    "float32": {"loss": 1e-10, "grad_w": 1e-6, "grad_b": 1e-10},
    "float64": {"loss": 1e-10, "grad_w": 1e-10, "grad_b": 1e-10},
}
# NumPy and PyTorch compute in the dtype of X. Their float32 errors grow with n, as
# from float32 accumulators: on X of shape (10**6, 32), NumPy's (OpenBLAS 0.3.31) loss
# was off by 1.0e-6 and its grad_w by 7.4e-6, and PyTorch 2.13's grad_w by 1.9e-5.
# Measured with report.py on a 2-core AMD EPYC (AVX-512) virtual machine.
PEER_RTOL = {
    "float32": {"loss": 1e-4, "grad_w": 1e-4, "grad_b": 1e-4},
    "float64": {"loss": 1e-12, "grad_w": 1e-12, "grad_b": 1e-12},
}
# The probe's sum has terms of both signs, so its error is bounded relative to the
# sum of their magnitudes.
READ_X_RTOL = 1e-12


@dataclasses.dataclass(frozen=True)
class LinearInputs:
    """One benchmark's data: X, y and w of one dtype, and b as a Python float."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: float

    @property
    def shape(self):
        return self.X.shape

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def x_bytes(self):
        return self.X.nbytes


@dataclasses.dataclass(frozen=True)
class LinearReference:
    """The float64 results that every candidate's result is checked against."""

    # (loss, grad_w, grad_b) from fastmse.reference.linear_value_and_grad.
    step: tuple
    sum_x: float
    sum_abs_x: float


@dataclasses.dataclass(frozen=True)
class LinearCandidate:
    """One library's gradient step, or the read-X probe."""

    library: str
    # The import name of the package that the candidate needs.
    package: str
    prepare: Callable[[LinearInputs], Callable[[], object]]

    def rtol(self, dtype):
        """Return the tolerance of each part of the result, by part name."""
        name = np.dtype(dtype).name
        if self.library == "read-x":
            return {"sum": READ_X_RTOL}
        if self.library == "fastmse":
            return FASTMSE_RTOL[name]
        return PEER_RTOL[name]

    def errors(self, result, reference):
        """Return the relative error of each part of `result`, by part name."""
        if self.library == "read-x":
            return {"sum": abs(result - reference.sum_x) / reference.sum_abs_x}
        return {
            part: relative_error(value, expected)
            for part, value, expected in zip(PARTS, result, reference.step, strict=True)
        }


def shape_label(shape):
    """Format a shape as in the benchmark groups: (1000000, 32) -> '1e6x32'."""
    n, d = shape
    return f"{size_label(n)}x{d}"


def make_inputs(shape, dtype):
    """Draw a seeded linear-regression problem of `shape`, converted to `dtype`.

    X is standard normal, y = X @ w_true + 0.5 plus normal noise of standard
    deviation 0.1, and w is drawn independently of w_true, as early in training. With
    b = 0.25, the residuals have mean -0.25, so no gradient is close to zero.
    """
    rng = np.random.default_rng(20240601)
    n, d = shape
    X = rng.standard_normal((n, d)).astype(dtype)
    w_true = rng.standard_normal(d) / np.sqrt(d)
    y = X @ w_true.astype(dtype) + 0.5 + 0.1 * rng.standard_normal(n)
    w = rng.standard_normal(d) / np.sqrt(d)
    return LinearInputs(X, y.astype(dtype), w.astype(dtype), 0.25)


def compute_reference(inputs):
    """Compute the float64 reference of the step and of the probe's sum."""
    step = fastmse.reference.linear_value_and_grad(
        inputs.X, inputs.y, inputs.w, inputs.b
    )
    return LinearReference(
        step=step,
        sum_x=float(np.sum(inputs.X, dtype=np.float64)),
        sum_abs_x=float(np.sum(np.abs(inputs.X), dtype=np.float64)),
    )


def _prepare_fastmse(inputs):
    X, y, w, b = inputs.X, inputs.y, inputs.w, inputs.b
    return lambda: fastmse.linear_value_and_grad(X, y, w, b)


def _prepare_numpy(inputs):
    X, y, w, b = inputs.X, inputs.y, inputs.w, inputs.b
    n = len(X)

    def step():
        r = X @ w + b - y
        loss = r @ r / n
        grad_w = (2 / n) * (X.T @ r)
        grad_b = 2 / n * r.sum()
        return loss, grad_w, grad_b

    return step


def _prepare_torch_autograd(inputs):
    import torch
    from torch.nn import functional

    # Tensors that share the arrays' memory, so the timed call copies nothing.
    X = torch.from_numpy(inputs.X)
    y = torch.from_numpy(inputs.y)
    # Leaf tensors: backward() writes their .grad.
    w = torch.from_numpy(inputs.w).requires_grad_()
    b = torch.tensor(inputs.b, dtype=X.dtype, requires_grad=True)

    def step():
        w.grad = None
        b.grad = None
        loss = functional.mse_loss(X @ w + b, y)
        loss.backward()
        return loss, w.grad, b.grad

    return step


def _prepare_read_x(inputs):
    flat = inputs.X.ravel()
    if flat.size % 2:
        raise ValueError(
            f"the read-X probe needs an even number of elements in X, but X has "
            f"shape {inputs.shape}"
        )
    half = flat.size // 2
    first, second = flat[:half], flat[half:]
    return lambda: fastmse._core.stream_sum(first, second)


CANDIDATES = {
    "fastmse": LinearCandidate("fastmse", "fastmse", _prepare_fastmse),
    "numpy": LinearCandidate("numpy", "numpy", _prepare_numpy),
    "torch-autograd": LinearCandidate(
        "torch-autograd", "torch", _prepare_torch_autograd
    ),
    "read-x": LinearCandidate("read-x", "fastmse", _prepare_read_x),
}
