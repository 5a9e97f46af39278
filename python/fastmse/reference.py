"""Plain NumPy versions of every public kernel, written as the textbook formulas.

They compute in float64 (float32 where fastmse returns float32 arrays, after computing in
float64), check nothing, and exist so that the tests can compare fastmse against the
obvious code. ``sample_weight`` of shape (n,) weighs the rows along the first axis.
"""

import numpy as np

__all__ = [
    "huber",
    "linear_step",
    "linear_value_and_grad",
    "huber_grad",
    "huber_value_and_grad",
    "mae",
    "mae_grad",
    "mae_value_and_grad",
    "mse",
    "mse_grad",
    "mse_value_and_grad",
    "rmse",
    "squared_error",
    "sse",
]


def _float64(value):
    return np.asarray(value).astype(np.float64)


def _weights(sample_weight, shape):
    w = _float64(sample_weight)
    if w.shape != shape:
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


def _errors(y_true, y_pred):
    """Return (actual - predicted) in float64, broadcast to the result's shape."""
    return _float64(y_true) - _float64(y_pred)


def _result_dtype(*arrays):
    kinds = [np.asarray(a).dtype for a in arrays]
    if all(d == np.float32 or d == np.float16 for d in kinds):
        return np.float32
    return np.float64


def _scalar(value, axis):
    return float(value) if axis is None else np.asarray(value, dtype=np.float64)


def sse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Sum of squared errors: sum((actual - predicted)**2)."""
    errors = _errors(y_true, y_pred)
    if sample_weight is None:
        return _scalar(np.sum(errors**2, axis=axis), axis)
    w = _weights(sample_weight, errors.shape)
    return _scalar(np.sum(w * errors**2, axis=axis), axis)


def mse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Mean squared error: mean((actual - predicted)**2), or its weighted mean."""
    errors = _errors(y_true, y_pred)
    if sample_weight is None:
        return _scalar(np.mean(errors**2, axis=axis), axis)
    w = _weights(sample_weight, errors.shape)
    return _scalar(np.sum(w * errors**2, axis=axis) / np.sum(w, axis=axis), axis)


def rmse(y_true, y_pred, *, axis=None, sample_weight=None):
    """Root mean squared error: sqrt(mse)."""
    return _scalar(
        np.sqrt(mse(y_true, y_pred, axis=axis, sample_weight=sample_weight)), axis
    )


def squared_error(y_true, y_pred):
    """Elementwise (predicted - actual)**2."""
    return (_errors(y_true, y_pred) ** 2).astype(_result_dtype(y_true, y_pred))


def _mean(losses, axis, sample_weight):
    if sample_weight is None:
        return _scalar(np.mean(losses, axis=axis), axis)
    w = _weights(sample_weight, losses.shape)
    return _scalar(np.sum(w * losses, axis=axis) / np.sum(w, axis=axis), axis)


def mae(y_true, y_pred, *, axis=None, sample_weight=None):
    """Mean absolute error: mean(|actual - predicted|), or its weighted mean."""
    return _mean(np.abs(_errors(y_true, y_pred)), axis, sample_weight)


def huber(y_true, y_pred, *, delta=1.0, axis=None, sample_weight=None):
    """Mean Huber loss: d**2 / 2 where |d| <= delta, else delta * (|d| - delta / 2)."""
    a = np.abs(_errors(y_true, y_pred))
    losses = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    return _mean(losses, axis, sample_weight)


def _gradient(slopes, y_true, y_pred, sample_weight):
    """Return the gradient with respect to y_pred of the mean of losses with these slopes."""
    if sample_weight is None:
        gradient = slopes / slopes.size
    else:
        w = _weights(sample_weight, slopes.shape)
        gradient = w * slopes / np.sum(w)

    shape = np.shape(y_pred)
    lead = gradient.ndim - len(shape)
    gradient = gradient.sum(axis=tuple(range(lead)))
    stretched = tuple(
        d for d, n in enumerate(shape) if n == 1 and gradient.shape[d] != 1
    )
    gradient = gradient.sum(axis=stretched, keepdims=True).reshape(shape)
    dtype = _result_dtype(
        y_true, y_pred, *([] if sample_weight is None else [sample_weight])
    )
    return gradient.astype(dtype)


def mse_grad(y_true, y_pred, *, sample_weight=None):
    """Gradient of mse with respect to y_pred: 2 * (predicted - actual) / n.

    With weights, 2 * w * (predicted - actual) / sum(w). A y_pred that broadcasts against
    a larger y_true gets the sum of the gradients of its copies.
    """
    return _gradient(-2 * _errors(y_true, y_pred), y_true, y_pred, sample_weight)


def mae_grad(y_true, y_pred, *, sample_weight=None):
    """Gradient of mae with respect to y_pred: sign(predicted - actual) / n."""
    return _gradient(np.sign(-_errors(y_true, y_pred)), y_true, y_pred, sample_weight)


def huber_grad(y_true, y_pred, *, delta=1.0, sample_weight=None):
    """Gradient of huber with respect to y_pred: clip(predicted - actual, -delta, delta) / n."""
    slopes = np.clip(-_errors(y_true, y_pred), -delta, delta)
    return _gradient(slopes, y_true, y_pred, sample_weight)


def mse_value_and_grad(y_true, y_pred, *, sample_weight=None):
    """(mse, mse_grad) of the same inputs."""
    return (
        mse(y_true, y_pred, sample_weight=sample_weight),
        mse_grad(y_true, y_pred, sample_weight=sample_weight),
    )


def mae_value_and_grad(y_true, y_pred, *, sample_weight=None):
    """(mae, mae_grad) of the same inputs."""
    return (
        mae(y_true, y_pred, sample_weight=sample_weight),
        mae_grad(y_true, y_pred, sample_weight=sample_weight),
    )


def huber_value_and_grad(y_true, y_pred, *, delta=1.0, sample_weight=None):
    """(huber, huber_grad) of the same inputs."""
    return (
        huber(y_true, y_pred, delta=delta, sample_weight=sample_weight),
        huber_grad(y_true, y_pred, delta=delta, sample_weight=sample_weight),
    )


def linear_value_and_grad(X, y, w, b=0.0, *, sample_weight=None, l2=0.0):
    """Compute a linear model's MSE and gradients by the two-pass formulas.

    r = X @ w + b - y; loss = mean(r**2) + l2 * ||w||**2;
    grad_w = 2 / r.size * X.T @ r + 2 * l2 * w; grad_b = 2 / r.size * sum of r over rows.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    r = X @ w + np.asarray(b, dtype=np.float64) - y
    k = 1 if y.ndim == 1 else y.shape[1]
    if sample_weight is None:
        weights = np.ones(len(X))
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)
    weighted = weights.reshape((-1,) + (1,) * (r.ndim - 1)) * r
    total = k * weights.sum()
    loss = np.sum(weighted * r) / total + l2 * np.sum(w**2)
    grad_w = 2 / total * (X.T @ weighted) + 2 * l2 * w
    grad_b = 2 / total * weighted.sum(axis=0)
    return float(loss), grad_w, grad_b if y.ndim == 2 else float(grad_b)


def linear_step(X, y, w, b, learning_rate, *, sample_weight=None, l2=0.0):
    """One gradient step: returns (loss before, new w, new b); nothing is modified."""
    loss, grad_w, grad_b = linear_value_and_grad(
        X, y, w, b, sample_weight=sample_weight, l2=l2
    )
    new_w = np.asarray(w, dtype=np.float64) - learning_rate * grad_w
    return loss, new_w, b - learning_rate * grad_b
