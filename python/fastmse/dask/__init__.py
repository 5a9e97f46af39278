"""The MSE, its gradient and LinearRegressionGD on Dask arrays, chunk by chunk.

Every function builds a lazy Dask graph: fastmse's kernels reduce each chunk to a few
partial sums, and a tree of small tasks combines them on the workers. Needs Dask
(``pip install "fastmse[dask]"``); `LinearRegressionGD` also needs scikit-learn.
"""

try:
    import dask  # noqa: F401
except ImportError as error:
    raise ImportError(
        "fastmse.dask needs Dask; install it with: pip install 'fastmse[dask]'"
    ) from error

from ._linear import LinearRegressionGD
from ._losses import mse, mse_grad, rmse, sse

__all__ = ["LinearRegressionGD", "mse", "mse_grad", "rmse", "sse"]
