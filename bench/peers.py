"""The timed candidates: fastmse's kernels and the same computation in peer libraries.

Every candidate has a ``prepare`` function that does the setup (tensor views, Numba
compilation) and returns the zero-argument call to time. The peers are written as
their users would write them, without tuning, because the question is what a user
gains by switching to fastmse.
"""

import dataclasses
from collections.abc import Callable

import numpy as np

import fastmse
from mse_cases import HUBER_DELTA, PEER_PACKAGES, ROW_LENGTH, Inputs

# Relative tolerances for the check of each result against a float64 reference.
# fastmse accumulates in float64 with an error below 1e-14 (see its mse docstring).
FASTMSE_RTOL = 1e-12
# An output array rounded to float32 is within 2**-24 of the float64 value.
FLOAT32_OUTPUT_RTOL = 1e-6
PEER_RTOL = {np.float32: 1e-6, np.float64: 1e-12}


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One library's implementation of one kernel."""

    kernel: str
    library: str
    # The import name of the package the candidate needs: the peer's library, or
    # torch for fastmse's mse_loss_torch.
    package: str
    prepare: Callable[[Inputs], Callable[[], object]]
    # Looser for the peers in FLOAT32_RTOL.
    float32_rtol: float = PEER_RTOL[np.float32]

    def rtol(self, dtype):
        if self.library == "fastmse":
            return fastmse_rtol(self.kernel, dtype)
        if np.dtype(dtype) == np.float32:
            return self.float32_rtol
        return PEER_RTOL[np.float64]


def fastmse_rtol(kernel, dtype):
    """Return the relative tolerance that fastmse's result must meet."""
    # For float32 inputs, mse_loss_torch returns its loss rounded to a float32 tensor.
    rounded_to_float32 = ("mse_grad", "mse_value_and_grad", "mse_loss_torch")
    if kernel in rounded_to_float32 and np.dtype(dtype) == np.float32:
        return FLOAT32_OUTPUT_RTOL
    return FASTMSE_RTOL


def _prepare_fastmse(kernel):
    def prepare(inputs):
        t, p, w = inputs.y_true, inputs.y_pred, inputs.weights
        rows_t, rows_p = inputs.rows(t), inputs.rows(p)
        calls = {
            "mse": lambda: fastmse.mse(t, p),
            "sse": lambda: fastmse.sse(t, p),
            "mse_axis": lambda: fastmse.mse(rows_t, rows_p, axis=-1),
            "mse_weighted": lambda: fastmse.mse(t, p, sample_weight=w),
            "mse_grad": lambda: fastmse.mse_grad(t, p),
            "mse_value_and_grad": lambda: fastmse.mse_value_and_grad(t, p),
            "mae": lambda: fastmse.mae(t, p),
            "huber": lambda: fastmse.huber(t, p, delta=HUBER_DELTA),
            "stream_sum": lambda: fastmse._core.stream_sum(t, p),
        }
        return calls[kernel]

    return prepare


def _prepare_fastmse_torch(inputs):
    import torch

    import fastmse.torch

    t = torch.from_numpy(inputs.y_true)
    # A leaf tensor that shares y_pred's memory. backward() writes to its .grad.
    # fastmse.torch.mse_loss falls back to PyTorch only for tensors that fastmse does
    # not compute, and these CPU float tensors of one dtype are not among them.
    p = torch.from_numpy(inputs.y_pred).requires_grad_()

    def forward_backward():
        p.grad = None
        loss = fastmse.torch.mse_loss(p, t)
        loss.backward()
        return loss

    return forward_backward


def _prepare_numpy(kernel):
    def prepare(inputs):
        t, p, w, n = inputs.y_true, inputs.y_pred, inputs.weights, inputs.size
        rows_t, rows_p = inputs.rows(t), inputs.rows(p)

        def huber():
            d = p - t
            magnitudes = np.abs(d)
            return np.mean(
                np.where(
                    magnitudes <= HUBER_DELTA,
                    0.5 * d**2,
                    HUBER_DELTA * (magnitudes - 0.5 * HUBER_DELTA),
                )
            )

        calls = {
            "mse": lambda: np.mean((t - p) ** 2),
            "sse": lambda: np.sum((t - p) ** 2),
            "mse_axis": lambda: np.mean((rows_t - rows_p) ** 2, axis=-1),
            "mse_weighted": lambda: np.average((t - p) ** 2, weights=w),
            "mse_grad": lambda: 2 * (p - t) / n,
            "mae": lambda: np.mean(np.abs(t - p)),
            "huber": huber,
        }
        return calls[kernel]

    return prepare


def _prepare_numpy_dot(kernel):
    def prepare(inputs):
        t, p, w, n = inputs.y_true, inputs.y_pred, inputs.weights, inputs.size

        def mse():
            d = p - t
            return d @ d / n

        def sse():
            d = p - t
            return d @ d

        def mse_weighted():
            d = p - t
            return (w * d) @ d / w.sum()

        def mse_value_and_grad():
            d = p - t
            return d @ d / n, d * (2 / n)

        calls = {
            "mse": mse,
            "sse": sse,
            "mse_weighted": mse_weighted,
            "mse_value_and_grad": mse_value_and_grad,
        }
        return calls[kernel]

    return prepare


def _prepare_numpy_einsum(inputs):
    t, p = inputs.rows(inputs.y_true), inputs.rows(inputs.y_pred)

    def mse_axis():
        d = p - t
        return np.einsum("ij,ij->i", d, d) / ROW_LENGTH

    return mse_axis


def _prepare_sklearn(kernel):
    def prepare(inputs):
        from sklearn.metrics import mean_absolute_error, mean_squared_error

        t, p, w = inputs.y_true, inputs.y_pred, inputs.weights
        # scikit-learn averages each output column over the samples, so the rows of
        # the (batch, features) arrays go in as the columns of their transposes.
        rows_t, rows_p = inputs.rows(t).T, inputs.rows(p).T
        calls = {
            "mse": lambda: mean_squared_error(t, p),
            "mse_axis": lambda: mean_squared_error(
                rows_t, rows_p, multioutput="raw_values"
            ),
            "mse_weighted": lambda: mean_squared_error(t, p, sample_weight=w),
            "mae": lambda: mean_absolute_error(t, p),
        }
        return calls[kernel]

    return prepare


def _prepare_torch(kernel):
    def prepare(inputs):
        import torch
        from torch.nn import functional

        t = torch.from_numpy(inputs.y_true)
        p = torch.from_numpy(inputs.y_pred)
        w = torch.from_numpy(inputs.weights)
        rows_t, rows_p = t.view(-1, ROW_LENGTH), p.view(-1, ROW_LENGTH)
        calls = {
            "mse": lambda: functional.mse_loss(p, t),
            "sse": lambda: functional.mse_loss(p, t, reduction="sum"),
            "mse_axis": lambda: functional.mse_loss(
                rows_p, rows_t, reduction="none"
            ).mean(dim=-1),
            "mse_weighted": lambda: (w * (p - t) ** 2).sum() / w.sum(),
            "mae": lambda: functional.l1_loss(p, t),
            "huber": lambda: functional.huber_loss(p, t, delta=HUBER_DELTA),
        }
        return calls[kernel]

    return prepare


def _prepare_torch_autograd(kernel):
    def prepare(inputs):
        import torch
        from torch.nn import functional

        t = torch.from_numpy(inputs.y_true)
        # A leaf tensor that shares y_pred's memory. backward() writes to its .grad.
        p = torch.from_numpy(inputs.y_pred).requires_grad_()

        def value_and_grad():
            p.grad = None
            loss = functional.mse_loss(p, t)
            loss.backward()
            return loss, p.grad

        def grad():
            return value_and_grad()[1]

        def loss():
            return value_and_grad()[0]

        calls = {
            "mse_grad": grad,
            "mse_value_and_grad": value_and_grad,
            "mse_loss_torch": loss,
        }
        return calls[kernel]

    return prepare


def _prepare_numexpr(kernel):
    def prepare(inputs):
        import numexpr

        variables = {"a": inputs.y_true, "b": inputs.y_pred, "w": inputs.weights}
        rows = {"a": inputs.rows(inputs.y_true), "b": inputs.rows(inputs.y_pred)}
        n = inputs.size

        def evaluate(expression, local_dict=variables):
            return numexpr.evaluate(expression, local_dict=local_dict)

        calls = {
            "mse": lambda: evaluate("sum((a - b)**2)") / n,
            "sse": lambda: evaluate("sum((a - b)**2)"),
            "mse_axis": lambda: evaluate("sum((a - b)**2, axis=1)", rows) / ROW_LENGTH,
            "mse_weighted": lambda: (
                evaluate("sum(w * (a - b)**2)") / evaluate("sum(w)")
            ),
        }
        return calls[kernel]

    return prepare


def _prepare_numba(kernel):
    def prepare(inputs):
        import numba_loops

        t, p, w, n = inputs.y_true, inputs.y_pred, inputs.weights, inputs.size
        rows_t, rows_p = inputs.rows(t), inputs.rows(p)
        calls = {
            "mse": lambda: numba_loops.sum_of_squares(t, p) / n,
            "sse": lambda: numba_loops.sum_of_squares(t, p),
            "mse_axis": lambda: numba_loops.row_means(rows_t, rows_p),
            "mse_weighted": lambda: numba_loops.weighted_mse(t, p, w),
            "mae": lambda: numba_loops.sum_of_absolute_errors(t, p) / n,
        }
        call = calls[kernel]
        call()  # Compiles for this dtype and layout, outside the timed calls.
        return call

    return prepare


def _prepare_simsimd(kernel):
    def prepare(inputs):
        import simsimd

        t, p, n = inputs.y_true, inputs.y_pred, inputs.size
        rows_t, rows_p = inputs.rows(t), inputs.rows(p)
        calls = {
            "mse": lambda: simsimd.sqeuclidean(t, p) / n,
            "sse": lambda: simsimd.sqeuclidean(t, p),
            # Given two matrices of one shape, sqeuclidean returns one distance per row.
            "mse_axis": lambda: (
                np.asarray(simsimd.sqeuclidean(rows_t, rows_p)) / ROW_LENGTH
            ),
        }
        return calls[kernel]

    return prepare


_PEER_FACTORIES = {
    "numpy": _prepare_numpy,
    "numpy-dot": _prepare_numpy_dot,
    "sklearn": _prepare_sklearn,
    "torch": _prepare_torch,
    "torch-autograd": _prepare_torch_autograd,
    "numexpr": _prepare_numexpr,
    "numba": _prepare_numba,
    "simsimd": _prepare_simsimd,
}

# The peers of each kernel, in the column order of the report.
PEERS = {
    "mse": ("numpy", "numpy-dot", "sklearn", "torch", "numexpr", "numba", "simsimd"),
    "sse": ("numpy", "numpy-dot", "torch", "numexpr", "numba", "simsimd"),
    "mse_axis": (
        "numpy",
        "numpy-einsum",
        "sklearn",
        "torch",
        "numexpr",
        "numba",
        "simsimd",
    ),
    "mse_weighted": ("numpy", "numpy-dot", "sklearn", "torch", "numexpr", "numba"),
    "mse_grad": ("numpy", "torch-autograd"),
    "mse_value_and_grad": ("numpy-dot", "torch-autograd"),
    "mae": ("numpy", "sklearn", "torch", "numba"),
    "huber": ("numpy", "torch"),
    "mse_loss_torch": ("torch-autograd",),
}

# Peers whose float32 results are known to be less accurate than PEER_RTOL. Their
# errors grow with n, as from a float32 accumulator. The figures in the comments are
# relative errors that bench/report.py measured at n = 10**7 on a 2-core AMD EPYC
# (Zen 4, AVX-512) virtual machine.
FLOAT32_RTOL = {
    # numexpr 2.14 sum(): 1.6e-2 for mse and sse, 3.8e-2 for the weighted mse. At
    # 5*10**7 these reach 0.14 and 0.61, above even this tolerance.
    "numexpr": 1e-1,
    # SimSIMD 6.5 sqeuclidean: 2.6e-4.
    "simsimd": 1e-2,
    # d @ d with OpenBLAS 0.3.31 sdot: 3.3e-5.
    "numpy-dot": 1e-3,
}


def peer_candidate(kernel, library):
    """Return the Candidate for `library`'s version of `kernel`."""
    if library == "numpy-einsum":
        prepare = _prepare_numpy_einsum
    else:
        prepare = _PEER_FACTORIES[library](kernel)
    rtol = FLOAT32_RTOL.get(library, PEER_RTOL[np.float32])
    return Candidate(kernel, library, PEER_PACKAGES[library], prepare, rtol)


def fastmse_candidate(kernel):
    """Return the Candidate for fastmse's version of `kernel`, or of stream_sum."""
    if kernel == "mse_loss_torch":
        return Candidate(kernel, "fastmse", "torch", _prepare_fastmse_torch)
    return Candidate(kernel, "fastmse", "fastmse", _prepare_fastmse(kernel))


def candidates(kernel):
    """Return fastmse's candidate for `kernel`, then its peers in report order."""
    return [fastmse_candidate(kernel)] + [
        peer_candidate(kernel, library) for library in PEERS[kernel]
    ]
