"""fastmse.torch against torch.nn.functional.mse_loss: values, gradients, fallbacks."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fastmse.torch needs PyTorch: pip install torch")

from fastmse.torch import MSELoss, mse_loss  # noqa: E402

DTYPES = [torch.float32, torch.float64]
RTOL = {torch.float32: 1e-6, torch.float64: 1e-13}


def pair(shape, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    input = torch.randn(shape, generator=generator, dtype=dtype, requires_grad=True)
    target = torch.randn(shape, generator=generator, dtype=dtype)
    return input, target


def loss_and_grad(function, input, target, reduction):
    input = input.detach().clone().requires_grad_(True)
    loss = function(input, target, reduction=reduction)
    loss.backward()
    return loss.detach(), input.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1,), (7,), (33, 5), (2, 3, 300)])
def test_matches_pytorch(dtype, reduction, shape):
    input, target = pair(shape, dtype)
    ours, our_grad = loss_and_grad(mse_loss, input, target, reduction)
    theirs, their_grad = loss_and_grad(torch.nn.functional.mse_loss, input, target, reduction)
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape == ()
    torch.testing.assert_close(ours, theirs, rtol=RTOL[dtype], atol=0)
    torch.testing.assert_close(our_grad, their_grad, rtol=RTOL[dtype], atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduction_none(dtype):
    input, target = pair((4, 5), dtype)
    with torch.no_grad():
        ours = mse_loss(input, target, reduction="none")
    theirs = torch.nn.functional.mse_loss(input.detach(), target, reduction="none")
    torch.testing.assert_close(ours, theirs, rtol=RTOL[dtype], atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradcheck_float64(reduction):
    input, target = pair((6, 3), torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: mse_loss(x, target, reduction=reduction), (input,)
    )


def test_upstream_gradient_scales():
    input, target = pair((10,), torch.float64)
    loss = mse_loss(input, target)
    (3.0 * loss).backward()
    expected = 3.0 * 2 * (input.detach() - target) / 10
    torch.testing.assert_close(input.grad, expected, rtol=1e-14, atol=0)


def test_broadcast_target_row():
    input, target = pair((8, 4), torch.float64)
    row = target[0]
    ours, our_grad = loss_and_grad(mse_loss, input, row, "mean")
    with pytest.warns(UserWarning, match="that is different to the input size"):
        theirs, their_grad = loss_and_grad(torch.nn.functional.mse_loss, input, row, "mean")
    torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=0)
    torch.testing.assert_close(our_grad, their_grad, rtol=1e-13, atol=0)


def test_column_against_vector_raises():
    input = torch.zeros(5, requires_grad=True)
    with pytest.raises(ValueError, match=r"^input has shape \(5,\) but target has shape \(5, 1\)"):
        mse_loss(input, torch.zeros(5, 1))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', not 'max'"):
        mse_loss(torch.zeros(2), torch.zeros(2), reduction="max")
    with pytest.raises(ValueError, match="not 'max'"):
        MSELoss(reduction="max")


def test_falls_back_when_target_requires_grad():
    input, target = pair((5,), torch.float64)
    target.requires_grad_(True)
    loss = mse_loss(input, target)
    loss.backward()
    torch.testing.assert_close(target.grad, -2 * (input.detach() - target.detach()) / 5)


def test_falls_back_for_half_precision():
    input = torch.ones(3, dtype=torch.bfloat16)
    target = torch.zeros(3, dtype=torch.bfloat16)
    assert mse_loss(input, target).item() == 1.0


def test_module_and_training_step():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    x = torch.randn(64, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = MSELoss()
    losses = []
    for _ in range(100):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    assert repr(criterion) == "MSELoss(reduction='mean')"


def test_inputs_are_not_written():
    input, target = pair((100,), torch.float32)
    before = (input.detach().clone(), target.clone())
    mse_loss(input, target).backward()
    assert torch.equal(input.detach(), before[0])
    assert torch.equal(target, before[1])
    assert np.all(np.isfinite(input.grad.numpy()))
