"""LinearRegressionGD: least squares by gradient descent on fastmse's one-pass kernels.

Needs scikit-learn (``pip install fastmse[sklearn]``), whose estimator API it follows.
"""

import contextlib
import math
import numbers
import sys
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._linear import _weights

__all__ = ["LinearRegressionGD"]

# The maximum number of power iterations for the curvature. Fewer run once it settles.
_POWER_ITERATIONS = 50
# A progress bar is redrawn about this often (seconds), so small fits run in few calls.
_PROGRESS_INTERVAL = 0.1
# partial_fit calls whose loss rises past this multiple of the first call's have diverged.
_PARTIAL_FIT_GROWTH = 10.0


class LinearRegressionGD(RegressorMixin, BaseEstimator):
    """Linear least squares fitted by gradient descent on the MSE.

    Each step reads the design matrix once: a block of rows forms its residuals and adds
    its share of the gradient while it is in cache (see `fastmse.linear_value_and_grad`).
    Full batches use Nesterov's accelerated gradient, restarted whenever a step points
    uphill. Mini-batches use stochastic gradient descent over shuffled rows with a
    constant rate, and return the average of the iterates over the latest half of the
    epochs, which removes most of the batches' noise. The loops run in C++ without the
    GIL, and Ctrl-C stops them between steps.

    Parameters
    ----------
    learning_rate : "auto" or float, default="auto"
        The step size. "auto" bounds the curvature of the loss with power iterations on
        its Hessian and steps by 1 / curvature, which provably converges for full
        batches; should a step still raise the loss above its start, the rate is halved
        and the step retried. For mini-batches, "auto" adds the variance of a batch's
        gradient to the bound (Gower et al., 2019). A float is used as it is, and a fit
        whose loss grows past its start raises an error.
    max_iter : int, default=1000
        The most epochs to run. A full-batch epoch is one step.
    batch_size : int or None, default=None
        Rows per step. None takes full batches.
    tol : float or None, default=1e-9
        Full batches stop when the norm of the gradient falls to `tol` times its first
        value. Mini-batches stop when an epoch's mean loss has not dropped below
        ``best_loss * (1 - tol)`` for `n_iter_no_change` epochs in a row. None runs all
        `max_iter` epochs: on ill-conditioned data, the batches' noise hides the slow
        progress along flat directions, and a mini-batch fit needs all of its epochs.
    l2 : float, default=0.0
        The ridge penalty: the loss is ``mse + l2 * ||coef||**2``, which matches
        ``sklearn.linear_model.Ridge(alpha=l2 * n_samples * n_outputs)`` (with
        ``sum(sample_weight)`` in place of n_samples). The intercept is not penalised.
    fit_intercept : bool, default=True
        Whether to fit an intercept; if False, it stays 0.
    shuffle : bool, default=True
        Whether mini-batches take the rows in a fresh random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the rows. The same seed and data give bit-identical
        coefficients for any thread count.
    verbose : int, default=0
        1 or more shows a progress bar over epochs with the current loss (tqdm when it
        is installed, else a line per update on stderr).
    n_iter_no_change : int, default=5
        Epochs without improvement before a mini-batch fit stops (see `tol`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The coefficients, in the dtype of X (float32 or float64).
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s).
    n_iter_ : int
        Epochs run, not counting those retried with a smaller rate.
    loss_curve_ : list of float
        The loss of each epoch: for full batches the loss at the point where the
        gradient was taken, for mini-batches the mean of the batches' losses.
    learning_rate_ : float
        The step size in use when the fit ended.
    n_features_in_ : int
        The number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The feature names, when X had string column names.

    See Also
    --------
    sklearn.linear_model.LinearRegression : The direct solution, for data that fits in
        memory with few features.
    sklearn.linear_model.SGDRegressor : Stochastic gradient descent one row at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmse import LinearRegressionGD
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = X @ [2.0, -1.0] + 0.5
    >>> model = LinearRegressionGD().fit(X, y)
    >>> np.round(model.coef_, 6), round(model.intercept_, 6)
    (array([ 2., -1.]), 0.5)
    """

    # The scaler that error messages and warnings suggest for badly scaled features.
    _scaler = "sklearn.preprocessing.StandardScaler"

    def __init__(
        self,
        learning_rate="auto",
        max_iter=1000,
        batch_size=None,
        tol=1e-9,
        l2=0.0,
        fit_intercept=True,
        shuffle=True,
        random_state=None,
        verbose=0,
        n_iter_no_change=5,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.n_iter_no_change = n_iter_no_change

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model from zero coefficients.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training data. float32 stays float32; other dtypes become float64.
        y : array_like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative finite weights, not all zero.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For invalid parameters or data (NaN or inf, empty, mismatched lengths), and
            when a fixed learning rate makes the loss diverge.
        """
        self._check_params()
        with self._restored_on_error():
            X, y, weights, weight_sum = self._validate_fit_data(
                X, y, sample_weight, reset=True
            )
            self._random = check_random_state(self.random_state)
            # With an intercept, the fit runs on centered features, with the intercept
            # fixed at its optimum, the (weighted) mean of y: the coefficients' curvature
            # then no longer depends on the features' means or on the intercept.
            offset = (
                _column_means(X, weights, weight_sum) if self.fit_intercept else None
            )
            coef, intercept = self._initial_point(y, weights)
            self._start_fitted_attributes(coef, intercept)

            fit = self._make_fit(
                X, y, weights, weight_sum, coef, intercept, offset, full_fit=True
            )
            self.learning_rate_ = self._set_rate(fit, X, weights, weight_sum, offset)
            self._run(fit, self.max_iter)
        self._warn_unless_converged(fit)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch on (X, y), starting from the current coefficients.

        The first call fixes the number of features and outputs and, for
        ``learning_rate="auto"``, the rate, from that call's data. A full-batch epoch is
        one plain gradient step; a mini-batch epoch is one pass over the rows.

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
        with self._restored_on_error():
            X, y, weights, weight_sum = self._validate_fit_data(
                X, y, sample_weight, reset=first
            )
            if first:
                self._random = check_random_state(self.random_state)
                coef, intercept = self._initial_point(y, weights)
                self._start_fitted_attributes(coef, intercept)
            else:
                coef, intercept = self._coef.copy(), self._intercept.copy()

            fit = self._make_fit(
                X, y, weights, weight_sum, coef, intercept, None, full_fit=False
            )
            if first:
                self.learning_rate_ = self._set_rate(fit, X, weights, weight_sum, None)
            else:
                fit.learning_rate = self.learning_rate_
            self._run(fit, 1)
            self._check_partial_fit_loss(fit)
        return self

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return X @ self.coef_.T + self.intercept_

    # The steps of fit and partial_fit.

    def _check_params(self):
        rate = self.learning_rate
        if not (isinstance(rate, str) and rate == "auto"):
            if (
                isinstance(rate, str)
                or _real(rate, "learning_rate") <= 0
                or not (math.isfinite(rate))
            ):
                raise ValueError(
                    f"learning_rate must be 'auto' or a positive finite number, got {rate!r}"
                )
        for name, minimum in (("max_iter", 1), ("n_iter_no_change", 1), ("verbose", 0)):
            _check_integer(getattr(self, name), name, minimum)
        if self.batch_size is not None:
            _check_integer(self.batch_size, "batch_size", 1, "None or an integer")
        if self.tol is not None and not _non_negative(_real(self.tol, "tol")):
            raise ValueError(
                f"tol must be None or a finite number >= 0, got {self.tol!r}"
            )
        if not _non_negative(_real(self.l2, "l2")):
            raise ValueError(f"l2 must be a finite number >= 0, got {self.l2!r}")
        for name in ("fit_intercept", "shuffle"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(
                    f"{name} must be True or False, got {getattr(self, name)!r}"
                )

    def _validate_fit_data(self, X, y, sample_weight, reset):
        for name, value in (("X", X), ("y", y)):
            dtype = np.asarray(value).dtype
            if dtype.kind in "US":
                # NumPy would parse numeric strings; fastmse's kernels take numbers only.
                raise TypeError(f"{name} has dtype {dtype}, not numbers")
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float64, np.float32],
            order="C",
            multi_output=True,
            y_numeric=True,
        )
        y = np.ascontiguousarray(y, dtype=X.dtype)
        self._dtype = X.dtype
        if not reset and y.ndim != (2 if self._multi_output else 1):
            raise ValueError(
                f"y has shape {y.shape}, but earlier calls of partial_fit had y of "
                f"{'2' if self._multi_output else '1'} dimension(s)"
            )
        if not reset and y.ndim == 2 and y.shape[1] != len(self._intercept):
            raise ValueError(
                f"y has {y.shape[1]} outputs, but earlier calls of partial_fit had "
                f"{len(self._intercept)}"
            )
        weights, weight_sum = _weights(sample_weight, X.shape[0], X.dtype)
        return X, y, weights, weight_sum

    def _warn_unless_converged(self, fit):
        """Warn when the fit ran out of epochs before reaching tol."""
        if fit.status != "running" or self.tol is None:
            return
        warnings.warn(
            f"LinearRegressionGD stopped at max_iter={self.max_iter} before reaching "
            f"tol={self.tol}; raise max_iter, or scale the features (for example with "
            f"{self._scaler}) to speed up convergence",
            ConvergenceWarning,
            stacklevel=3,
        )

    @contextlib.contextmanager
    def _restored_on_error(self):
        """Leave the estimator as it was when the block raises.

        A KeyboardInterrupt after the starting point was set keeps the coefficients of
        the last completed step instead, which _start_fitted_attributes and _run keep
        consistent at every point.
        """
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException as error:
            started = self.__dict__.get("_coef") is not saved.get("_coef")
            if not (isinstance(error, KeyboardInterrupt) and started):
                self.__dict__.clear()
                self.__dict__.update(saved)
            raise

    def _initial_point(self, y, weights):
        """Zero coefficients, and the intercept at the (weighted) mean of y."""
        self._multi_output = y.ndim == 2
        k = y.shape[1] if y.ndim == 2 else 1
        coef = np.zeros((k, self.n_features_in_))
        intercept = np.zeros(k)
        if self.fit_intercept:
            targets = y.reshape(len(y), k)
            intercept = np.average(targets, axis=0, weights=weights).astype(np.float64)
        return coef, intercept

    def _start_fitted_attributes(self, coef, intercept):
        """Set every fitted attribute to the starting point, before any step."""
        self._coef, self._intercept = coef.copy(), intercept.copy()
        self.loss_curve_ = []
        self._set_public_attributes()

    def _make_fit(self, X, y, weights, weight_sum, coef, intercept, offset, full_fit):
        batch = self.batch_size or 0
        seed = int(self._random.randint(0, 2**63 - 1, dtype=np.int64))
        return _core.LinearFit(
            X,
            y,
            weights,
            weight_sum,
            coef,
            intercept,
            x_offset=offset,
            learning_rate=1.0,
            auto_rate=self.learning_rate == "auto",
            l2=float(self.l2),
            # Centered fits keep the intercept at its optimum: no steps for it.
            fit_intercept=bool(self.fit_intercept) and offset is None,
            batch_size=batch,
            shuffle=bool(self.shuffle),
            seed=seed,
            tol=0.0 if self.tol is None else float(self.tol),
            n_iter_no_change=self.n_iter_no_change,
            momentum=full_fit and batch == 0,
            stop_early=full_fit and self.tol is not None,
        )

    def _set_rate(self, fit, X, weights, weight_sum, offset):
        """Set and return the step size: the user's, or 1 / (a bound on the curvature)."""
        if self.learning_rate != "auto":
            fit.learning_rate = float(self.learning_rate)
            return fit.learning_rate

        n = X.shape[0]
        k = len(fit.intercept)
        # The loss divides by k * sum(w); curvature() returns the Hessian's top
        # eigenvalue for one output.
        curvature = fit.curvature(_POWER_ITERATIONS) / k + 2 * self.l2
        batch = self.batch_size
        if batch is not None and batch < n:
            # Gower et al. (2019), "SGD: general analysis and improved rates": the
            # expected smoothness of b-row batches sampled without replacement.
            rows = np.einsum("ij,ij->i", X, X, dtype=np.float64)
            if offset is not None:
                # Squared norms of the centered rows, without a centered copy of X.
                rows += offset @ offset - 2 * np.einsum(
                    "ij,j->i", X, offset, dtype=np.float64
                )
            elif self.fit_intercept:
                rows += 1.0
            w = np.ones(n) if weights is None else weights.astype(np.float64)
            row_max = 2 * np.max(w * rows) * n / weight_sum / k + 2 * self.l2
            curvature = (n - batch) / (batch * (n - 1)) * row_max + n * (batch - 1) / (
                batch * (n - 1)
            ) * curvature
            curvature *= 2
        if not math.isfinite(curvature):
            raise ValueError(
                "LinearRegressionGD cannot choose a learning rate: the curvature of the "
                f"loss is {curvature}, beyond what float64 holds; scale X and y (for "
                f"example with {self._scaler})"
            )
        fit.learning_rate = 1.0 / curvature if curvature > 0 else 1.0
        return fit.learning_rate

    def _run(self, fit, epochs):
        """Run up to `epochs` epochs and keep the result, also on KeyboardInterrupt."""
        earlier = self.loss_curve_
        try:
            if self.verbose:
                self._run_with_progress(fit, epochs)
            else:
                fit.run(epochs)
        finally:
            self.loss_curve_ = earlier + fit.losses
            self._coef, self._intercept = fit.coef, fit.intercept
            self.learning_rate_ = fit.learning_rate
            self._set_public_attributes()

        if fit.status == "overflow":
            raise ValueError(
                f"LinearRegressionGD cannot fit: at the starting point the loss is "
                f"{fit.start_loss:.6g} and its gradient is beyond what float64 holds; "
                f"scale X and y (for example with {self._scaler})"
            )
        if fit.status == "diverged":
            raise ValueError(
                f"LinearRegressionGD diverged: with learning_rate={fit.learning_rate:g} "
                f"the loss reached {fit.last_loss:.6g}, above its starting value "
                f"{fit.start_loss:.6g}; scale the features (for example with "
                f"{self._scaler}), lower the learning rate, or use "
                "learning_rate='auto'"
            )

    def _check_partial_fit_loss(self, fit):
        """Raise when partial fits have made the loss blow up.

        Each call's data may differ, so a later call's loss may well exceed the first
        one's. A tenfold rise, or a non-finite loss, counts as divergence.
        """
        first, last = self.loss_curve_[0], self.loss_curve_[-1]
        if math.isfinite(last) and last <= _PARTIAL_FIT_GROWTH * first:
            return
        raise ValueError(
            f"LinearRegressionGD.partial_fit diverged: with learning_rate="
            f"{fit.learning_rate:g} the loss reached {last:.6g}, more than "
            f"{_PARTIAL_FIT_GROWTH:g} times the first call's {first:.6g}; scale the "
            f"features (for example with {self._scaler}) or lower "
            "the learning rate"
        )

    def _run_with_progress(self, fit, epochs):
        bar = _ProgressBar(epochs)
        done, chunk = 0, 1
        try:
            while done < epochs and fit.status == "running":
                start = time.perf_counter()
                part = min(chunk, epochs - done)
                bar.update(len(fit.run(part)), fit.last_loss)
                done += part
                elapsed = time.perf_counter() - start
                chunk = max(1, int(part * _PROGRESS_INTERVAL / max(elapsed, 1e-9)))
        finally:
            bar.close()

    def _set_public_attributes(self):
        """Derive coef_, intercept_ and n_iter_ from the float64 coefficients."""
        self.n_iter_ = len(self.loss_curve_)
        if self._multi_output:
            self.coef_ = self._coef.astype(self._dtype)
            self.intercept_ = self._intercept.astype(self._dtype)
        else:
            self.coef_ = self._coef[0].astype(self._dtype)
            self.intercept_ = float(self._intercept[0])


def _column_means(X, weights, weight_sum):
    """Return the (weighted) mean of each column of X, summed in float64 without a copy."""
    if weights is None:
        return X.mean(axis=0, dtype=np.float64)
    return np.einsum("i,ij->j", weights, X, dtype=np.float64) / weight_sum


class _ProgressBar:
    """tqdm's bar when tqdm is installed, else a line on stderr per update."""

    def __init__(self, total):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
            self._total, self._done = total, 0
        else:
            self._bar = tqdm(total=total, desc="LinearRegressionGD", unit="epoch")

    def update(self, count, loss):
        if self._bar is not None:
            self._bar.update(count)
            self._bar.set_postfix(loss=f"{loss:.6g}")
        else:
            self._done += count
            print(f"epoch {self._done}/{self._total}: loss {loss:.6g}", file=sys.stderr)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def _real(value, name):
    """Return a real number parameter as a float; raise TypeError for anything else."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def _check_integer(value, name, minimum, kind="an integer"):
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {kind} >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {kind} >= {minimum}, got {value!r}")


def _non_negative(value):
    return math.isfinite(value) and value >= 0
