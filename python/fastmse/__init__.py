"""fastmse: fast, exact mean squared error and its gradient."""

import os as _os

# Read before the compiled module starts OpenMP, which may pin this process to one CPU.
_USABLE_CORES = (
    len(_os.sched_getaffinity(0)) if hasattr(_os, "sched_getaffinity") else None
)

from . import _core, metrics, reference  # noqa: E402, F401 (public submodules)
from ._config import (  # noqa: E402
    _apply_environment,
    empty_cache,
    get_num_threads,
    set_num_threads,
    show_config,
)
from ._accumulator import MSEAccumulator  # noqa: E402
from ._linear import linear_step, linear_value_and_grad  # noqa: E402
from ._losses import mse, mse_grad, mse_value_and_grad, rmse, squared_error, sse  # noqa: E402
from ._robust import (  # noqa: E402
    huber,
    huber_grad,
    huber_value_and_grad,
    mae,
    mae_grad,
    mae_value_and_grad,
)

__version__ = _core.config()["version"]

__all__ = [
    "empty_cache",
    "get_num_threads",
    "huber",
    "huber_grad",
    "huber_value_and_grad",
    "linear_step",
    "linear_value_and_grad",
    "LinearRegressionGD",
    "MSEAccumulator",
    "mae",
    "mae_grad",
    "mae_value_and_grad",
    "mse",
    "mse_grad",
    "mse_value_and_grad",
    "rmse",
    "set_num_threads",
    "show_config",
    "squared_error",
    "sse",
]

_apply_environment(_USABLE_CORES or _os.cpu_count() or 1)


def __getattr__(name):
    # The estimator needs scikit-learn, which fastmse does not need otherwise: import it
    # on first use.
    if name == "LinearRegressionGD":
        try:
            from .linear_model import LinearRegressionGD
        except ImportError as error:
            raise ImportError(
                "fastmse.LinearRegressionGD needs scikit-learn; install it with "
                "pip install 'fastmse[sklearn]'"
            ) from error
        return LinearRegressionGD
    raise AttributeError(f"module 'fastmse' has no attribute {name!r}")
