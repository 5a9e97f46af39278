"""LinearRegressionGD: least squares by gradient descent on fastmse's one-pass kernels.

Needs scikit-learn (``pip install fastmse[sklearn]``), whose estimator API it follows.
"""

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

# Power iterations for the curvature at most; they stop once the estimate settles.
_POWER_ITERATIONS = 50
# A progress bar is redrawn about this often (seconds), so small fits run in few calls.
_PROGRESS_INTERVAL = 0.1


class LinearRegressionGD(RegressorMixin, BaseEstimator):
    """Linear least squares fitted by gradient descent on the MSE.

    Each step reads the design matrix once: a block of rows forms its residuals and adds
    its share of the gradient while it is in cache (see `fastmse.linear_value_and_grad`).
    Full batches use Nesterov's accelerated gradient, restarted whenever a step points
    uphill; mini-batches use stochastic gradient descent over shuffled rows with a
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
        X, y, weights, weight_sum = self._validate_fit_data(
            X, y, sample_weight, reset=True
        )
        coef, intercept = self._initial_point(y, weights)
        self._random = check_random_state(self.random_state)
        self.loss_curve_ = []
        self.n_iter_ = 0

        fit = self._make_fit(X, y, weights, weight_sum, coef, intercept, full_fit=True)
        self.learning_rate_ = self._set_rate(fit, X, weights, weight_sum)
        self._run(fit, self.max_iter)
        if fit.status == "running" and self.tol is not None:
            warnings.warn(
                f"LinearRegressionGD stopped at max_iter={self.max_iter} before reaching "
                f"tol={self.tol}; raise max_iter, or scale the features (for example with "
                "sklearn.preprocessing.StandardScaler) to speed up convergence",
                ConvergenceWarning,
                stacklevel=2,
            )
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
        X, y, weights, weight_sum = self._validate_fit_data(
            X, y, sample_weight, reset=first
        )
        if first:
            coef, intercept = self._initial_point(y, weights)
            self._random = check_random_state(self.random_state)
            self.loss_curve_ = []
            self.n_iter_ = 0
        else:
            coef, intercept = self._current_point(y)

        fit = self._make_fit(X, y, weights, weight_sum, coef, intercept, full_fit=False)
        if first:
            self.learning_rate_ = self._set_rate(fit, X, weights, weight_sum)
        else:
            fit.learning_rate = self.learning_rate_
        self._run(fit, 1)
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
        if not (isinstance(rate, str) and rate == "auto") and not _positive(rate):
            raise ValueError(
                f"learning_rate must be 'auto' or a positive finite number, got {rate!r}"
            )
        for name, minimum in (("max_iter", 1), ("n_iter_no_change", 1), ("verbose", 0)):
            value = getattr(self, name)
            if (
                not isinstance(value, numbers.Integral)
                or isinstance(value, bool)
                or (value < minimum)
            ):
                raise ValueError(
                    f"{name} must be an integer >= {minimum}, got {value!r}"
                )
        if self.batch_size is not None and (
            not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be None or an integer >= 1, got {self.batch_size!r}"
            )
        if self.tol is not None and not _non_negative(self.tol):
            raise ValueError(
                f"tol must be None or a finite number >= 0, got {self.tol!r}"
            )
        if not _non_negative(self.l2):
            raise ValueError(f"l2 must be a finite number >= 0, got {self.l2!r}")

    def _validate_fit_data(self, X, y, sample_weight, reset):
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

    def _initial_point(self, y, weights):
        """Zero coefficients, and the intercept at the (weighted) mean of y."""
        self._multi_output = y.ndim == 2
        k = y.shape[1] if y.ndim == 2 else 1
        coef = np.zeros((k, self.n_features_in_))
        intercept = np.zeros(k)
        if self.fit_intercept:
            targets = y.reshape(len(y), k).astype(np.float64)
            intercept = np.average(targets, axis=0, weights=weights)
        return coef, intercept

    def _current_point(self, y):
        return self._coef.copy(), self._intercept.copy()

    def _make_fit(self, X, y, weights, weight_sum, coef, intercept, full_fit):
        batch = self.batch_size or 0
        seed = int(self._random.randint(0, 2**63 - 1, dtype=np.int64))
        return _core.LinearFit(
            X,
            y,
            weights,
            weight_sum,
            coef,
            intercept,
            learning_rate=1.0,
            auto_rate=self.learning_rate == "auto",
            l2=float(self.l2),
            fit_intercept=bool(self.fit_intercept),
            batch_size=batch,
            shuffle=bool(self.shuffle),
            seed=seed,
            tol=0.0 if self.tol is None else float(self.tol),
            n_iter_no_change=self.n_iter_no_change,
            momentum=full_fit and batch == 0,
            stop_early=full_fit and self.tol is not None,
        )

    def _set_rate(self, fit, X, weights, weight_sum):
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
            rows = np.einsum("ij,ij->i", X, X, dtype=np.float64) + self.fit_intercept
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
                "example with sklearn.preprocessing.StandardScaler)"
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
            self._keep(fit)

        if fit.status == "overflow":
            raise ValueError(
                f"LinearRegressionGD cannot fit: at the starting point the loss is "
                f"{fit.start_loss:.6g} and its gradient is beyond what float64 holds; "
                "scale X and y (for example with sklearn.preprocessing.StandardScaler)"
            )
        if fit.status == "diverged":
            raise ValueError(
                f"LinearRegressionGD diverged: with learning_rate={fit.learning_rate:g} "
                f"the loss reached {fit.last_loss:.6g}, above its starting value "
                f"{fit.start_loss:.6g}; scale the features (for example with "
                "sklearn.preprocessing.StandardScaler), lower the learning rate, or use "
                "learning_rate='auto'"
            )

    def _run_with_progress(self, fit, epochs):
        bar = _ProgressBar(epochs)
        done, chunk = 0, 1
        try:
            while done < epochs and fit.status == "running":
                start = time.perf_counter()
                part = min(chunk, epochs - done)
                fit.run(part)
                done += part
                bar.update(part, fit.last_loss)
                elapsed = time.perf_counter() - start
                chunk = max(1, int(part * _PROGRESS_INTERVAL / max(elapsed, 1e-9)))
        finally:
            bar.close()

    def _keep(self, fit):
        """Copy the fit's coefficients into the fitted attributes."""
        self._coef = fit.coef
        self._intercept = fit.intercept
        self.n_iter_ = len(self.loss_curve_)
        self.learning_rate_ = fit.learning_rate
        if self._multi_output:
            self.coef_ = self._coef.astype(self._dtype)
            self.intercept_ = self._intercept.astype(self._dtype)
        else:
            self.coef_ = self._coef[0].astype(self._dtype)
            self.intercept_ = float(self._intercept[0])


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


def _positive(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _non_negative(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
