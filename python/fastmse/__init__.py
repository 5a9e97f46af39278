"""fastmse: fast, exact mean squared error, its gradient and gradient steps."""

from . import _core, reference
from ._config import _apply_environment, get_num_threads, set_num_threads, show_config
from ._losses import mse, mse_grad, mse_value_and_grad, rmse, squared_error, sse

__version__ = _core.config()["version"]

__all__ = [
    "get_num_threads",
    "mse",
    "mse_grad",
    "mse_value_and_grad",
    "rmse",
    "set_num_threads",
    "show_config",
    "squared_error",
    "sse",
]

_apply_environment()
