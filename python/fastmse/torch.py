"""PyTorch's MSE loss computed by fastmse: `mse_loss` and the `MSELoss` module.

For CPU tensors of float32 or float64, the forward pass computes the loss and its
gradient together with `fastmse.mse_value_and_grad`, sharing memory with the tensors
through NumPy. The backward pass only scales the saved gradient. Everything else falls
back to ``torch.nn.functional.mse_loss``: tensors on other devices or of other dtypes,
a target that requires grad, and ``reduction="none"`` with grad.

Requires PyTorch (``pip install "fastmse[torch]"``).
"""

import math

try:
    import torch
except ImportError as error:
    raise ImportError(
        "fastmse.torch needs PyTorch; install it with: pip install 'fastmse[torch]'"
    ) from error

from . import _losses
from ._validation import result_shape

__all__ = ["MSELoss", "mse_loss"]

REDUCTIONS = ("mean", "sum", "none")


class _MSEFunction(torch.autograd.Function):
    """The mean or summed squared error, with its gradient computed in the forward pass."""

    @staticmethod
    def forward(ctx, input, target, reduction):
        y_pred = input.detach().numpy()
        y_true = target.detach().numpy()
        value, gradient = _losses.mse_value_and_grad(y_true, y_pred)
        if reduction == "sum":
            count = math.prod(result_shape(y_true, y_pred))
            value *= count
            gradient = (gradient * float(count)).astype(gradient.dtype, copy=False)
        ctx.save_for_backward(torch.from_numpy(gradient))
        return torch.tensor(value, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (gradient,) = ctx.saved_tensors
        return gradient * grad_output, None, None


def mse_loss(input, target, reduction="mean"):
    """Compute ``torch.nn.functional.mse_loss(input, target, reduction)`` with fastmse.

    Parameters
    ----------
    input : torch.Tensor
        The predictions, the tensor that usually requires grad.
    target : torch.Tensor
        The targets, of the shape of `input`, or of a shape that broadcasts to it or that
        `input` broadcasts to.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the squared errors, or return them elementwise.

    Returns
    -------
    torch.Tensor
        A 0-d tensor of `input`'s dtype for "mean" and "sum", else the elementwise
        squared errors.

    Raises
    ------
    ValueError
        If `reduction` is not one of the three, or the shapes would broadcast to a shape
        larger than both, such as (n,) against (n, 1), which PyTorch accepts with only a
        warning.

    Notes
    -----
    The loss accumulates in float64 and is rounded once to `input`'s dtype, so float32
    results can differ from PyTorch's in the last bits. The gradient is computed with the
    loss and kept until backward, which costs one tensor of `input`'s size.

    Examples
    --------
    >>> import torch
    >>> from fastmse.torch import mse_loss
    >>> prediction = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
    >>> loss = mse_loss(prediction, torch.tensor([1.0, 2.0, 2.0]))
    >>> loss.backward()
    >>> loss.item(), prediction.grad.tolist()
    (1.3333333730697632, [0.0, 0.0, 1.3333333730697632])
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}"
        )
    if not _fastmse_can_run(input, target, reduction):
        return torch.nn.functional.mse_loss(input, target, reduction=reduction)

    _check_shapes(input, target)
    if reduction == "none":
        return torch.from_numpy(
            _losses.squared_error(target.detach().numpy(), input.detach().numpy())
        )
    return _MSEFunction.apply(input, target, reduction)


class MSELoss(torch.nn.Module):
    """``torch.nn.MSELoss`` computed by `mse_loss`.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


def _check_shapes(input, target):
    """Raise ValueError, in PyTorch's names, for shapes that the core rules reject."""
    try:
        result_shape(target.detach().numpy(), input.detach().numpy())
    except ValueError:
        raise ValueError(
            f"input has shape {tuple(input.shape)} but target has shape "
            f"{tuple(target.shape)}; the shapes must be equal or one must broadcast to the "
            "other without growing both. If both hold one value per sample, flatten them "
            "with ravel() first"
        ) from None


def _fastmse_can_run(input, target, reduction):
    """Return whether fastmse handles both tensors and every gradient they need."""
    tensors = (input, target)
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return False
    if any(t.device.type != "cpu" or t.layout != torch.strided for t in tensors):
        return False
    if input.dtype not in (torch.float32, torch.float64) or target.dtype != input.dtype:
        return False
    if target.requires_grad:
        return False
    if reduction == "none" and input.requires_grad:
        return False
    return not (input.is_conj() or input.is_neg() or target.is_conj() or target.is_neg())
