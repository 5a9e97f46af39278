"""Type stubs for fastmse's compiled kernels (private: use the fastmse functions)."""

from typing import Any

import numpy as np
import numpy.typing as npt

MIN_WEIGHT_SUM: float
SMALL_WEIGHT_SUM: float
LARGE_WEIGHT_SUM: float
UNDERFLOW_PER_ELEMENT: float

def mse_contiguous(y_true: object, y_pred: object, weights: object) -> float | None: ...
def sse_contiguous(y_true: object, y_pred: object, weights: object) -> float | None: ...
def reduce_contiguous(
    y_true: object, y_pred: object, weights: object, mean: bool, loss: str, delta: float
) -> float | None: ...
def reduce_trailing(
    y_true: object, y_pred: object, outer_dims: int, mean: bool, loss: str, delta: float
) -> npt.NDArray[np.float64] | None: ...
def reduce(
    y_true: npt.NDArray[np.floating[Any]],
    y_pred: npt.NDArray[np.floating[Any]],
    weights: npt.NDArray[np.floating[Any]] | None,
    outer_dims: int,
    loss: str = "squared",
    delta: float = 1.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]: ...
def sum_weights(weights: npt.NDArray[np.floating[Any]]) -> tuple[float, float, float]: ...
def map(
    op: str,
    y_true: npt.NDArray[np.floating[Any]],
    y_pred: npt.NDArray[np.floating[Any]],
    weights: npt.NDArray[np.floating[Any]] | None,
    out: npt.NDArray[np.floating[Any]],
    scale: float,
    loss: str = "squared",
    delta: float = 1.0,
) -> tuple[float, float, float]: ...
def stream_sum(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]]) -> float: ...
def empty(shape: tuple[int, ...], dtype: np.dtype[Any]) -> npt.NDArray[Any]: ...
def clear_buffer_cache() -> None: ...
def value_and_grad_contiguous(
    y_true: object, y_pred: object, out: object, weights: object, loss: str, delta: float
) -> tuple[float, npt.NDArray[Any]] | None: ...
def init_threads(count: int) -> None: ...
def set_num_threads(count: int) -> None: ...
def get_num_threads() -> int: ...
def config() -> dict[str, Any]: ...
def select_best_target(cap: str) -> bool: ...
def use_target(name: str) -> None: ...
def set_split_conversions(split: bool) -> None: ...
def set_prefetch_window(
    min_bytes_per_thread: int, max_bytes_per_thread: int, max_bytes: int
) -> None: ...
def linear_value_and_grad(
    X: npt.NDArray[np.floating[Any]],
    y: npt.NDArray[np.floating[Any]] | None,
    weights: npt.NDArray[np.floating[Any]] | None,
    weight_sum: float,
    coef: npt.NDArray[np.float64],
    intercept: npt.NDArray[np.float64],
    l2: float,
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

class LinearFit:
    def __init__(
        self,
        X: npt.NDArray[np.floating[Any]],
        y: npt.NDArray[np.floating[Any]] | None,
        weights: npt.NDArray[np.floating[Any]] | None,
        weight_sum: float,
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        learning_rate: float,
        auto_rate: bool,
        l2: float,
        fit_intercept: bool,
        batch_size: int,
        shuffle: bool,
        seed: int,
        tol: float,
        n_iter_no_change: int,
        momentum: bool,
        stop_early: bool,
    ) -> None: ...
    def curvature(self, iterations: int) -> float: ...
    def run(self, epochs: int) -> list[float]: ...
    @property
    def status(self) -> str: ...
    learning_rate: float
    @property
    def last_loss(self) -> float: ...
    @property
    def start_loss(self) -> float: ...
    @property
    def losses(self) -> list[float]: ...
    @property
    def coef(self) -> npt.NDArray[np.float64]: ...
    @property
    def intercept(self) -> npt.NDArray[np.float64]: ...
def exact_sums(
    y_true: npt.NDArray[np.floating[Any]],
    y_pred: npt.NDArray[np.floating[Any]],
    weights: npt.NDArray[np.floating[Any]] | None,
) -> tuple[float, float, float, float]: ...
