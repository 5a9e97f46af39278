from typing import overload

import numpy as np
import numpy.typing as npt

_Axis = int | tuple[int, ...]
_Weights = npt.ArrayLike | None
_Float = np.float32 | np.float64

@overload
def mae(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: None = None, sample_weight: _Weights = None
) -> float: ...
@overload
def mae(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: _Axis, sample_weight: _Weights = None
) -> npt.NDArray[np.float64]: ...
def mae_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> npt.NDArray[_Float]: ...
def mae_value_and_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> tuple[float, npt.NDArray[_Float]]: ...
@overload
def huber(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    delta: float = 1.0,
    axis: None = None,
    sample_weight: _Weights = None,
) -> float: ...
@overload
def huber(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    delta: float = 1.0,
    axis: _Axis,
    sample_weight: _Weights = None,
) -> npt.NDArray[np.float64]: ...
def huber_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    delta: float = 1.0,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> npt.NDArray[_Float]: ...
def huber_value_and_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    delta: float = 1.0,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> tuple[float, npt.NDArray[_Float]]: ...
