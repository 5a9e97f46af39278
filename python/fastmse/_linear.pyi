from typing import overload

import numpy as np
import numpy.typing as npt

_Float = np.float32 | np.float64
_Weights = npt.ArrayLike | None

@overload
def linear_value_and_grad(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.ArrayLike,
    b: float = 0.0,
    *,
    sample_weight: _Weights = None,
    l2: float = 0.0,
) -> tuple[float, npt.NDArray[_Float], float]: ...
@overload
def linear_value_and_grad(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    sample_weight: _Weights = None,
    l2: float = 0.0,
) -> tuple[float, npt.NDArray[_Float], float | npt.NDArray[_Float]]: ...
def linear_step(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.NDArray[_Float],
    b: float | npt.ArrayLike,
    learning_rate: float,
    *,
    sample_weight: _Weights = None,
    l2: float = 0.0,
) -> tuple[float, float | npt.NDArray[_Float]]: ...
