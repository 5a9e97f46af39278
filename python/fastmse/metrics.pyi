from collections.abc import Sequence
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import numpy.typing as npt

__all__ = ["InvalidParameterError", "mean_squared_error", "root_mean_squared_error"]

# Output weights: any array-like but a str, so that the overloads do not overlap.
_OutputWeights: TypeAlias = Sequence[float] | npt.NDArray[Any]

class InvalidParameterError(ValueError, TypeError): ...

@overload
def mean_squared_error(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    multioutput: Literal["raw_values"],
) -> npt.NDArray[np.floating[Any]]: ...
@overload
def mean_squared_error(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    multioutput: Literal["uniform_average"] | _OutputWeights = "uniform_average",
) -> float: ...
@overload
def root_mean_squared_error(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    multioutput: Literal["raw_values"],
) -> npt.NDArray[np.floating[Any]]: ...
@overload
def root_mean_squared_error(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    multioutput: Literal["uniform_average"] | _OutputWeights = "uniform_average",
) -> float: ...
