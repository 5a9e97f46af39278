from typing import overload

import numpy as np
import numpy.typing as npt

_Axis = int | tuple[int, ...]
_Weights = npt.ArrayLike | None
_Float = np.float32 | np.float64

@overload
def mse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: None = None, sample_weight: _Weights = None
) -> float: ...
@overload
def mse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: _Axis, sample_weight: _Weights = None
) -> npt.NDArray[np.float64]: ...
@overload
def sse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: None = None, sample_weight: _Weights = None
) -> float: ...
@overload
def sse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: _Axis, sample_weight: _Weights = None
) -> npt.NDArray[np.float64]: ...
@overload
def rmse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: None = None, sample_weight: _Weights = None
) -> float: ...
@overload
def rmse(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, axis: _Axis, sample_weight: _Weights = None
) -> npt.NDArray[np.float64]: ...
def squared_error(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, out: npt.NDArray[_Float] | None = None
) -> npt.NDArray[_Float]: ...
def mse_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> npt.NDArray[_Float]: ...
def mse_value_and_grad(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: _Weights = None,
    out: npt.NDArray[_Float] | None = None,
) -> tuple[float, npt.NDArray[_Float]]: ...
