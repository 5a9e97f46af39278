"""A training loop that steps one model per MSE backend (fastmse, NumPy) in lockstep."""

import dataclasses
import time

import numpy as np

import fastmse

from .optional import import_optional


def numpy_mse_value_and_grad(y_true, y_pred):
    """Compute the MSE and its gradient as plain NumPy training code usually does.

    The sum is NumPy's pairwise sum in the dtype of the inputs, so float32 inputs
    accumulate in float32, unlike fastmse, which accumulates in float64.
    """
    error = y_pred - y_true
    value = float(np.mean(error * error))
    return value, error * error.dtype.type(2.0 / error.size)


LOSS_FUNCTIONS = {
    "fastmse": fastmse.mse_value_and_grad,
    "numpy": numpy_mse_value_and_grad,
}


@dataclasses.dataclass
class BackendTiming:
    """Seconds spent training with one MSE backend.

    `training_seconds` counts each step's forward pass, loss, backward pass and
    optimizer update, and `loss_seconds` only the calls to the loss function.
    """

    backend: str
    training_seconds: float = 0.0
    loss_seconds: float = 0.0
    loss_calls: int = 0


class Learner:
    """A model, its optimizer and the MSE backend that computes its loss.

    Parameters
    ----------
    backend : {"fastmse", "numpy"}
        The key of the loss function in `LOSS_FUNCTIONS`.
    model : MLP
    optimizer : Adam
        Updates ``model.params``.
    average : ExponentialMovingAverage, optional
        Updated from ``model.params`` after each optimizer step.
    """

    def __init__(self, backend, model, optimizer, average=None):
        self.backend = backend
        self.loss_function = LOSS_FUNCTIONS[backend]
        self.model = model
        self.optimizer = optimizer
        self.average = average
        self.timing = BackendTiming(backend)

    def step(self, inputs, targets):
        """Take one gradient step on a minibatch and return its loss."""
        start = time.perf_counter()
        outputs, cache = self.model.forward(inputs)
        loss_start = time.perf_counter()
        value, grad = self.loss_function(targets, outputs)
        loss_end = time.perf_counter()
        self.optimizer.step(self.model.backward(cache, grad))
        if self.average is not None:
            self.average.update(self.model.params)
        end = time.perf_counter()

        self.timing.training_seconds += end - start
        self.timing.loss_seconds += loss_end - loss_start
        self.timing.loss_calls += 1
        return value


def train_in_lockstep(
    learners,
    epochs,
    make_batches,
    *,
    evaluate=None,
    progress=True,
    description="training",
):
    """Train several learners on the same minibatches, alternating which steps first.

    The batches are drawn once per step and passed to every learner, so the
    backends are timed on identical work and under the same machine load.

    Parameters
    ----------
    learners : list of Learner
        The first one is the one whose losses the progress bar shows.
    epochs : int
    make_batches : callable
        Called once per epoch; returns an iterable of ``(inputs, targets)``.
    evaluate : callable, optional
        Called after each epoch with the first learner; returns a float, such as a
        test loss, that is kept and shown.
    progress : bool, default True
        Show a tqdm progress bar over the epochs.
    description : str
        The progress bar's label.

    Returns
    -------
    train_losses : dict of str to list of float
        The mean minibatch loss of each epoch, per backend.
    evaluations : list of float
        What `evaluate` returned after each epoch, or an empty list.
    """
    tqdm = import_optional("tqdm").tqdm
    train_losses = {learner.backend: [] for learner in learners}
    evaluations = []
    step = 0
    bar = tqdm(range(epochs), desc=description, unit="epoch", disable=not progress)
    for _ in bar:
        sums = dict.fromkeys(train_losses, 0.0)
        count = 0
        for inputs, targets in make_batches():
            # Alternate the order so that neither backend always runs on a warm cache.
            order = learners if step % 2 == 0 else learners[::-1]
            for learner in order:
                loss = learner.step(inputs, targets)
                sums[learner.backend] += loss * len(inputs)
            count += len(inputs)
            step += 1

        for backend, total in sums.items():
            train_losses[backend].append(total / count)
        postfix = {"loss": f"{train_losses[learners[0].backend][-1]:.5f}"}
        if evaluate is not None:
            evaluations.append(evaluate(learners[0]))
            postfix["test"] = f"{evaluations[-1]:.5f}"
        bar.set_postfix(postfix)
    return train_losses, evaluations
