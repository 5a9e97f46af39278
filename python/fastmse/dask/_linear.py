"""LinearRegressionGD on Dask arrays: the data on the cluster, the fit loop on the driver."""

import math

import dask
import dask.array as da
import numpy as np

from .. import _core
from .._linear import check_linear_shapes
from ._losses import (
    _SPLIT_EVERY,
    _as_dask_array,
    _merge_tree,
    _raise_for_invalid_weights,
)

try:
    from sklearn.utils.validation import check_is_fitted

    from ..linear_model import LinearRegressionGD as _InMemoryLinearRegressionGD
except ImportError as error:
    _SKLEARN_IMPORT_ERROR = error

    class _InMemoryLinearRegressionGD:
        """Replaces fastmse.LinearRegressionGD, which needs scikit-learn, when it is
        missing: creating an estimator raises ImportError."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                "fastmse.dask.LinearRegressionGD needs scikit-learn; install it with "
                "pip install 'fastmse[sklearn]'"
            ) from _SKLEARN_IMPORT_ERROR


__all__ = ["LinearRegressionGD"]

# A loss above this factor times its starting value has diverged (as in the C++ fit).
_GROWTH = 1.0 + 1e-9
# Halvings of an automatic rate after which a fit counts as diverged.
_MAX_HALVINGS = 64
# Weights whose largest value has a binary exponent outside this range are scaled by a
# power of two, as in fastmse.LinearRegressionGD, so their sum cannot overflow.
_WEIGHT_EXPONENTS = (-500, 500)


class LinearRegressionGD(_InMemoryLinearRegressionGD):
    """`fastmse.LinearRegressionGD` for Dask arrays: each step is one Dask reduction.

    The data stays on the cluster, persisted once per fit and split into chunks of
    whole rows. Each full-batch step sends the coefficients to the workers, every chunk
    sums its share of the loss and its gradients with fastmse's one-pass kernel
    (`fastmse.linear_value_and_grad`), a tree of tasks adds the shares, and the driver
    takes the step.

    The algorithm is the in-memory estimator's. With an intercept, the fit runs on
    centered features, from the uncentered chunks' sums, with the intercept at the
    (weighted) mean of y. The rate is one over the curvature found by power iterations,
    one reduction each. The steps use Nesterov's momentum with O'Donoghue and Candes'
    gradient restart, and the fit has the same tolerance on the gradient norm and the
    same divergence checks.

    Parameters
    ----------
    learning_rate, max_iter, tol, l2, fit_intercept, verbose
        As for `fastmse.LinearRegressionGD`.
    batch_size : None, default=None
        Only full batches are supported; any other value raises ValueError in `fit`.
    shuffle, random_state, n_iter_no_change
        Accepted for compatibility with `fastmse.LinearRegressionGD`, and unused, since
        they concern mini-batches.

    Attributes
    ----------
    coef_, intercept_, n_iter_, loss_curve_, learning_rate_, n_features_in_
        As for `fastmse.LinearRegressionGD`: NumPy arrays and floats.

    Notes
    -----
    Each step, and each of the up to 50 power iterations of ``learning_rate="auto"``,
    costs one round trip to the cluster whatever the data size: 25 to 40 milliseconds
    on a two-process `distributed.LocalCluster` on a 2-core virtual machine. Data that
    fits in memory fits faster with `fastmse.LinearRegressionGD`.

    The chunks' sums are added in another order than the in-memory kernel's blocks,
    so the coefficients match `fastmse.LinearRegressionGD`'s to about the tolerance of
    the fit, not bit for bit.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import fastmse.dask
    >>> X = da.from_array(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]),
    ...                   chunks=(2, 2))
    >>> y = X @ np.array([2.0, -1.0]) + 0.5
    >>> model = fastmse.dask.LinearRegressionGD().fit(X, y)
    >>> np.round(model.coef_, 6), round(model.intercept_, 6)
    (array([ 2., -1.]), 0.5)
    """

    _scaler = "dask_ml.preprocessing.StandardScaler"

    def fit(self, X, y, sample_weight=None):
        """Fit the model from zero coefficients, on data that stays on the cluster.

        Parameters
        ----------
        X : dask.array.Array or array_like of shape (n_samples, n_features)
            Training data, rechunked to whole rows if needed. float32 stays float32;
            other real dtypes become float64.
        y : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_targets)
            Targets, rechunked to X's rows.
        sample_weight : dask.array.Array or array_like of shape (n_samples,), optional
            Non-negative finite weights, not all zero.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            For parameters of the wrong type, or if an input has a complex, object,
            string or other non-real dtype.
        ValueError
            For invalid parameters (including a `batch_size`), shapes or values (NaN or
            infinity in X or y, invalid weights), and when a fixed learning rate makes
            the loss diverge. A failed fit leaves the estimator as it was.
        """
        self._check_params()
        self._reject_mini_batches()
        with self._restored_on_error():
            data = _LinearData(X, y, sample_weight)
            self._start(data)
            # With an intercept, the fit runs on centered features, with the intercept
            # fixed at its optimum, the (weighted) mean of y. The coefficients'
            # curvature then no longer depends on the features' means.
            offset = data.x_mean if self.fit_intercept else None
            fit = _DaskFit(
                self, data, self._coef, self._intercept, offset, full_fit=True
            )
            self.learning_rate_ = self._set_rate(
                fit, data.X, None, data.weight_sum, None
            )
            self._run(fit, self.max_iter)
        self._warn_unless_converged(fit)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Take one plain gradient step on (X, y), from the current coefficients.

        The first call fixes the number of features and outputs and, for
        ``learning_rate="auto"``, the rate, from that call's data. As in
        `fastmse.LinearRegressionGD`, the features are not centered, and a call whose
        loss rises past ten times the first call's raises ValueError.

        Parameters
        ----------
        X, y, sample_weight
            As for `fit`.

        Returns
        -------
        self
        """
        first = not hasattr(self, "coef_")
        if first:
            self._check_params()
        self._reject_mini_batches()
        with self._restored_on_error():
            data = _LinearData(X, y, sample_weight)
            if first:
                self._start(data)
            else:
                self._check_like_earlier_calls(data)
            coef, intercept = self._coef.copy(), self._intercept.copy()

            fit = _DaskFit(self, data, coef, intercept, None, full_fit=False)
            if first:
                self.learning_rate_ = self._set_rate(
                    fit, data.X, None, data.weight_sum, None
                )
            else:
                fit.learning_rate = self.learning_rate_
            self._run(fit, 1)
            self._check_partial_fit_loss(fit)
        return self

    def predict(self, X):
        """Predict with the fitted linear model; lazily for a Dask array.

        Parameters
        ----------
        X : dask.array.Array or array_like of shape (n_samples, n_features)

        Returns
        -------
        dask.array.Array or ndarray of shape (n_samples,) or (n_samples, n_targets)
            A Dask array, chunked as X's rows, when X is one; else as
            `fastmse.LinearRegressionGD.predict` returns.
        """
        if not isinstance(X, da.Array):
            return super().predict(X)
        check_is_fitted(self)
        X = _design_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but LinearRegressionGD was fitted with "
                f"{self.n_features_in_}"
            )
        single_output = self.coef_.ndim == 1
        chunks = (
            (X.chunks[0],) if single_output else (X.chunks[0], self.coef_.shape[:1])
        )
        return X.map_blocks(
            _predict_block,
            coef=self.coef_,
            intercept=self.intercept_,
            chunks=chunks,
            drop_axis=[1] if single_output else [],
            dtype=X.dtype,
            meta=np.empty((0,) * len(chunks), dtype=X.dtype),
        )

    # The steps of fit and partial_fit.

    def _reject_mini_batches(self):
        if self.batch_size is not None:
            raise ValueError(
                "fastmse.dask.LinearRegressionGD takes full batches only, so batch_size "
                f"must be None, got {self.batch_size!r}; for mini-batches, fit "
                "fastmse.LinearRegressionGD on data that fits in memory"
            )

    def _start(self, data):
        """Set the input attributes and the starting point, before any step."""
        self.n_features_in_ = data.d
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._dtype = data.dtype
        self._multi_output = data.multi_output
        self._coef = np.zeros((data.k, data.d))
        if self.fit_intercept:
            self._intercept = data.y_mean.copy()
        else:
            self._intercept = np.zeros(data.k)
        self.loss_curve_ = []
        self._set_public_attributes()

    def _check_like_earlier_calls(self, data):
        if data.d != self.n_features_in_:
            raise ValueError(
                f"X has {data.d} features, but earlier calls of partial_fit had "
                f"{self.n_features_in_}"
            )
        if data.multi_output != self._multi_output:
            raise ValueError(
                f"y has shape {data.y.shape}, but earlier calls of partial_fit had y of "
                f"{'2' if self._multi_output else '1'} dimension(s)"
            )
        if data.k != len(self._intercept):
            raise ValueError(
                f"y has {data.k} outputs, but earlier calls of partial_fit had "
                f"{len(self._intercept)}"
            )
        self._dtype = data.dtype


def _design_matrix(X):
    """Return X as a 2-d Dask array of float32 or float64, in chunks of whole rows."""
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"X has shape {X.shape} but must be 2-d, of shape (n_samples, n_features)"
        )
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    # Keeps the row chunks, which grow by the number of column chunks.
    return X.astype(dtype).rechunk({1: -1})


def _predict_block(X, coef, intercept):
    return X @ coef.T + intercept


class _LinearData:
    """X, y and the weights of a fit, persisted on the cluster in chunks of rows.

    Creating it checks the data and computes the weight sum and the (weighted) means of
    y and of X's columns, in one pass over the data. Then each `value_and_grad` call
    runs one reduction.
    """

    def __init__(self, X, y, sample_weight):
        X = _design_matrix(X)
        n, d = X.shape
        y = _as_dask_array(y, "y")
        k = check_linear_shapes(X.shape, y.shape)
        self.multi_output = y.ndim == 2
        weights = None
        if sample_weight is not None:
            weights = _as_dask_array(sample_weight, "sample_weight")
            if weights.shape != (n,):
                raise ValueError(
                    f"sample_weight has shape {weights.shape} but must have shape "
                    f"({n},), one weight per row of X"
                )

        self.n, self.d, self.k, self.dtype = n, d, k, X.dtype
        y = y.astype(self.dtype).rechunk((X.chunks[0],) + ((k,),) * (y.ndim - 1))
        if weights is not None:
            # In float64 until any scaling (see _check_and_summarize), then in X's dtype.
            weights = weights.astype(np.float64).rechunk((X.chunks[0],))
        # Persisted once, so that each step reads the chunks from the workers' memory
        # instead of recomputing them from their sources.
        self.X, self.y, weights = dask.persist(X, y, weights)
        self._set_weights(weights)
        self._check_and_summarize()

    def _set_weights(self, weights):
        self.weights = weights
        if weights is None:
            weight_blocks = [None] * self.X.numblocks[0]
        else:
            weight_blocks = weights.to_delayed(optimize_graph=False).ravel()
        self._blocks = list(
            zip(
                self.X.to_delayed(optimize_graph=False).ravel(),
                self.y.to_delayed(optimize_graph=False).ravel(),
                weight_blocks,
                (int(s) for s in np.cumsum((0,) + self.X.chunks[0][:-1])),
            )
        )

    def _check_and_summarize(self, rescaled=False):
        parts = [
            dask.delayed(_block_statistics, pure=True)(X, y, weights, start, self.k)
            for X, y, weights, start in self._blocks
        ]
        total = _merge_tree(parts, _add_statistics, _SPLIT_EVERY).compute()
        x_finite, y_finite, weight_sum, largest_weight, x_sum, y_sum = total
        for name, finite in (("X", x_finite), ("y", y_finite)):
            if not finite:
                raise ValueError(
                    f"{name} contains NaN or infinity; LinearRegressionGD needs finite "
                    "values"
                )

        if self.weights is not None:
            if largest_weight == 0:
                raise ValueError(
                    "sample_weight sums to zero; at least one weight must be positive"
                )
            # The loss divides by the weights' sum, so scaling them all by a power of
            # two changes nothing but the range, as in fastmse.LinearRegressionGD.
            exponent = math.frexp(largest_weight)[1]
            low, high = _WEIGHT_EXPONENTS
            if not rescaled and not low < exponent < high:
                self._set_weights(dask.persist(self.weights * 2.0**-exponent)[0])
                return self._check_and_summarize(rescaled=True)
            if weight_sum == 0:
                raise ValueError(
                    f"sample_weight sums to zero in {self.dtype.name}; its positive "
                    "values underflow there, so use weights nearer to 1"
                )
            if self.weights.dtype != self.dtype:
                self._set_weights(dask.persist(self.weights.astype(self.dtype))[0])
        self.weight_sum = weight_sum
        self.x_mean = x_sum / weight_sum
        self.y_mean = y_sum / weight_sum

    def value_and_grad(self, coef, intercept, l2, *, target=True):
        """Return the loss and the gradients at one point, over all rows.

        As `fastmse._core.linear_value_and_grad` computes them: `coef` has shape (k, d)
        and `intercept` (k,), both float64. With ``target=False``, y counts as zero.
        """
        # The point is small next to the chunks, and passed in every task: as a key
        # of its own, it would cost one more transfer to each worker per step.
        parts = [
            dask.delayed(_block_value_and_grad, pure=True)(
                X, y if target else None, weights, self.weight_sum, coef, intercept
            )
            for X, y, weights, _ in self._blocks
        ]
        loss, grad_coef, grad_intercept = _merge_tree(
            parts, _add_value_and_grad, _SPLIT_EVERY
        ).compute()
        loss += l2 * float(np.sum(coef * coef))
        return loss, grad_coef + 2.0 * l2 * coef, grad_intercept


def _block_statistics(X, y, weights, start, k):
    """Return the statistics of a chunk of rows that _LinearData needs.

    They are whether X and y are finite, the weight sum, the largest weight, and the
    weighted column sums of X and of y, in float64.
    """
    targets = y.reshape(len(y), k)
    if weights is None:
        weight_sum, largest = float(len(X)), 0.0
        x_sum = X.sum(axis=0, dtype=np.float64)
        y_sum = targets.sum(axis=0, dtype=np.float64)
    else:
        _raise_for_invalid_weights(weights, (start,))
        cast = weights.astype(X.dtype)
        weight_sum = math.fsum(cast.astype(np.float64))
        largest = float(weights.max(initial=0.0))
        x_sum = np.einsum("i,ij->j", cast, X, dtype=np.float64)
        y_sum = np.einsum("i,ij->j", cast, targets, dtype=np.float64)
    finite = bool(np.isfinite(X).all()), bool(np.isfinite(y).all())
    return (*finite, weight_sum, largest, x_sum, y_sum)


def _add_statistics(*parts):
    x_finite, y_finite, weight_sums, largest, x_sums, y_sums = zip(*parts)
    return (
        all(x_finite),
        all(y_finite),
        math.fsum(weight_sums),
        max(largest),
        np.sum(x_sums, axis=0),
        np.sum(y_sums, axis=0),
    )


def _block_value_and_grad(X, y, weights, weight_sum, coef, intercept):
    """Return a chunk's share of the loss and gradients, normalised by the whole data's
    weight sum, without the l2 terms."""
    if len(X) == 0:
        return 0.0, np.zeros_like(coef), np.zeros_like(intercept)
    # Chunks that Dask received from another worker may sit unaligned in the message's
    # buffer, and the kernel takes aligned C-contiguous arrays only.
    X, y, weights = (
        None if a is None else np.require(a, requirements="CA") for a in (X, y, weights)
    )
    return _core.linear_value_and_grad(X, y, weights, weight_sum, coef, intercept, 0.0)


def _add_value_and_grad(*parts):
    losses, grad_coefs, grad_intercepts = zip(*parts)
    # Non-finite sums are the fit's to detect, as in the C++ loop.
    with np.errstate(over="ignore", invalid="ignore"):
        return (
            math.fsum(losses),
            np.sum(grad_coefs, axis=0),
            np.sum(grad_intercepts, axis=0),
        )


class _DaskFit:
    """LinearFit's full-batch fit (cpp/linear_driver.cpp), with gradients from Dask.

    It has the attributes of fastmse._core.LinearFit that a fit reads: `curvature`,
    `run`, `status`, `learning_rate`, `last_loss`, `start_loss`, `losses`, `coef`
    (k, d) and `intercept` (k,).

    With an `offset` of d column means, the fit runs on the centered rows
    ``x - offset``, and `intercept` is the centered model's, fixed. Each gradient comes
    from the uncentered chunks' sums: with the residuals of the same model,
    ``sum r * (x - offset) = sum r * x - offset * sum r``. `coef` and `intercept` still
    describe the model on x.
    """

    def __init__(self, estimator, data, coef, intercept, offset, *, full_fit):
        self.data = data
        self.offset = offset
        self.l2 = float(estimator.l2)
        # Centered fits keep the intercept at its optimum: no steps for it.
        self.fit_intercept = bool(estimator.fit_intercept) and offset is None
        self.auto_rate = estimator.learning_rate == "auto"
        self.tol = 0.0 if estimator.tol is None else float(estimator.tol)
        self.momentum = full_fit
        self.stop_early = full_fit and estimator.tol is not None
        self.learning_rate = 1.0

        self._coef, self._intercept = coef, intercept
        self.status = "running"
        self.losses = []
        self.start_loss = -1.0  # negative until the first step computes it
        self.last_loss = 0.0
        # Nesterov's state, and the best point seen, for a restart after divergence.
        self._previous = (coef, intercept)
        self._best = (coef, intercept)
        self._best_loss = 0.0
        self._first_gradient_norm = -1.0
        self._momentum_t = 1.0
        self._halvings = 0

    @property
    def coef(self):
        return self._coef.copy()

    @property
    def intercept(self):
        return self._plain_intercept(self._coef, self._intercept)

    def _plain_intercept(self, coef, intercept):
        """Return the intercepts of the model on uncentered rows."""
        if self.offset is None:
            return intercept.copy()
        return intercept - coef @ self.offset

    def _gradient_at(self, coef, intercept, l2=None, *, target=True):
        """Return the loss and gradients at a point of the (centered) fit."""
        loss, grad_coef, grad_intercept = self.data.value_and_grad(
            coef,
            self._plain_intercept(coef, intercept),
            self.l2 if l2 is None else l2,
            target=target,
        )
        if self.offset is not None:
            grad_coef = grad_coef - np.outer(grad_intercept, self.offset)
        return loss, grad_coef, grad_intercept

    def curvature(self, iterations):
        """Return the top eigenvalue of the Hessian of one output's loss.

        Power iterations on ``H = 2 / W * sum_i w_i [x_i, 1] [x_i, 1]^T`` (without the 1
        when the intercept is fixed, and with x centered when there is an offset):
        ``H v`` is the gradient at y = 0 and coefficients v, one Dask reduction.
        """
        d = self.data.d
        v = _power_iteration_start(d + 1)
        if not self.fit_intercept:
            v[d] = 0.0

        estimate = 0.0
        for _ in range(iterations):
            # An infinite norm ends the iterations, and LinearRegressionGD._set_rate reports it.
            with np.errstate(over="ignore", invalid="ignore"):
                norm = math.sqrt(float(v @ v))
            if not (norm > 0.0) or not math.isfinite(norm):
                break
            v = v / norm
            _, hv_coef, hv_intercept = self._gradient_at(
                v[:d].reshape(1, d), v[d:], 0.0, target=False
            )
            hv = np.append(hv_coef[0], hv_intercept if self.fit_intercept else 0.0)
            rayleigh = float(v @ hv)
            v = hv
            # The Rayleigh quotient approaches the top eigenvalue from below. The step
            # 1 / estimate stays safe while the estimate is above half of it, so a
            # relative change of 1e-4 is close enough.
            settled = abs(rayleigh - estimate) <= 1e-4 * rayleigh
            estimate = rayleigh
            if settled:
                break
        return estimate

    def run(self, epochs):
        """Run up to `epochs` steps and return their losses.

        Stops once the fit converges or diverges, and sets `status` to match.
        """
        before = len(self.losses)
        for _ in range(epochs):
            if self.status != "running":
                break
            # Overflow to inf or NaN is what the divergence checks look for.
            with np.errstate(over="ignore", invalid="ignore"):
                result = self._step()
            if result == "stepped":
                self.losses.append(self.last_loss)
            if result == "stopped":
                break
        return self.losses[before:]

    def _step(self):
        """Take one step and return "stepped", "retried" (rate halved) or "stopped".

        With momentum, the gradient is taken at the look-ahead point
        ``x + beta * (x - x_previous)`` (Nesterov), and beta drops to zero whenever the
        step points uphill from x (O'Donoghue and Candes' adaptive restart).
        """
        coef, intercept = self._coef, self._intercept
        next_t = 1.0
        point_coef, point_intercept = coef, intercept
        if self.momentum:
            next_t = (1.0 + math.sqrt(1.0 + 4.0 * self._momentum_t**2)) / 2.0
            beta = (self._momentum_t - 1.0) / next_t
            previous_coef, previous_intercept = self._previous
            point_coef = coef + beta * (coef - previous_coef)
            point_intercept = intercept + beta * (intercept - previous_intercept)

        loss, grad_coef, grad_intercept = self._gradient_at(point_coef, point_intercept)
        if not self.fit_intercept:
            grad_intercept = np.zeros_like(grad_intercept)
        grad_norm = math.sqrt(
            float(np.sum(grad_coef**2)) + float(np.sum(grad_intercept**2))
        )
        self.last_loss = loss
        if self.start_loss < 0.0:
            self.start_loss = self._best_loss = loss
            self._first_gradient_norm = grad_norm
            # Overflow at the start: no rate can help, and the tolerance means nothing.
            if not math.isfinite(loss) or not math.isfinite(grad_norm):
                self.status = "overflow"
                return "stopped"

        if not math.isfinite(loss) or loss > _GROWTH * self.start_loss:
            if not self.auto_rate:
                self.status = "diverged"
                return "stopped"
            self._restore(*self._best)
            return self._halve_rate()
        if loss <= self._best_loss:
            self._best_loss = loss
            self._best = (point_coef, point_intercept)
        if self.stop_early and grad_norm <= self.tol * self._first_gradient_norm:
            self._coef, self._intercept = point_coef, point_intercept
            self.status = "converged"
            return "stepped"

        self._previous = (coef, intercept)
        self._coef = point_coef - self.learning_rate * grad_coef
        self._intercept = point_intercept
        if self.fit_intercept:
            self._intercept = point_intercept - self.learning_rate * grad_intercept
        if self.momentum:
            uphill = float(np.sum(grad_coef * (self._coef - coef))) + float(
                np.sum(grad_intercept * (self._intercept - intercept))
            )
            self._momentum_t = 1.0 if uphill > 0.0 else next_t
        return "stepped"

    def _restore(self, coef, intercept):
        self._coef, self._intercept = coef, intercept
        self._previous = (coef, intercept)
        self._momentum_t = 1.0

    def _halve_rate(self):
        # A rate halved this often is a sign of data that no rate fits (such as
        # gradients that overflow on the way), so the fit ends.
        self.learning_rate /= 2.0
        self._halvings += 1
        if self._halvings <= _MAX_HALVINGS:
            return "retried"
        self.status = "diverged"
        return "stopped"


def _power_iteration_start(size):
    """Return the C++ fit's start vector: fixed, so fits are deterministic, and with no
    zero entry, so no direction is left out (splitmix64 from seed 12345)."""
    mask = 2**64 - 1
    state = 12345
    v = np.empty(size)
    for j in range(size):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        v[j] = 0.5 + (z >> 11) * 2.0**-53
    return v
