"""A dense autoencoder of the digits, trained with fastmse and set against PCA."""

import dataclasses
import time
from pathlib import Path

import numpy as np

import fastmse

from . import plots
from .data import load_digits_split, minibatch_indices
from .nn import MLP, Adam
from .optional import import_optional
from .training import Learner, train_in_lockstep

HIDDEN = 128
LATENT = 8
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EPOCHS = 200
QUICK_EPOCHS = 30


@dataclasses.dataclass(frozen=True)
class AutoencoderResult:
    """The figures and files of one autoencoder run.

    The MSEs are over the test split with pixels in [0, 1]. Every field except
    `timings` and `wall_seconds` is the same for the same seed and epochs.
    """

    seed: int
    epochs: int
    test_mse: float
    pca_test_mse: float
    mean_image_test_mse: float
    train_losses: dict
    test_losses: list
    timings: dict
    images: list
    wall_seconds: float


def run_autoencoder(out_dir, *, seed=0, epochs=None, quick=False, progress=True):
    """Train the autoencoder, compare it with PCA and save its figures.

    A 64-128-8-128-64 MLP (ReLU, a linear 8-wide code and a sigmoid output) learns to
    reconstruct its input with Adam. Two copies with the same initial weights train
    on the same minibatches, one with ``fastmse.mse_value_and_grad`` and one with the
    NumPy formula, so that both are timed on the same work.

    Parameters
    ----------
    out_dir : str or Path
        The folder for the PNG files; created if missing.
    seed : int, default 0
        Seeds the split, the initial weights and the minibatch order.
    epochs : int, optional
        Passes over the training split; defaults to 200, or 30 with `quick`.
    quick : bool, default False
        Run a short training, for tests and a first look.
    progress : bool, default True
        Show a progress bar over the epochs.

    Returns
    -------
    AutoencoderResult

    Raises
    ------
    MissingDependencyError
        If scikit-learn, matplotlib or tqdm is not installed.
    """
    start = time.perf_counter()
    if epochs is None:
        epochs = QUICK_EPOCHS if quick else EPOCHS
    digits = load_digits_split(seed)
    rng = np.random.default_rng(seed)
    learners = _make_learners(rng)

    def make_batches():
        for indices in minibatch_indices(len(digits.train_images), BATCH_SIZE, rng):
            batch = digits.train_images[indices]
            yield batch, batch

    def test_mse(learner):
        return fastmse.mse(digits.test_images, learner.model(digits.test_images))

    threadpoolctl = import_optional("threadpoolctl")
    # The products here are at most 128 wide: waking BLAS threads for them costs more
    # than it saves, and one thread keeps the timings steady.
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        train_losses, test_losses = train_in_lockstep(
            learners,
            epochs,
            make_batches,
            evaluate=test_mse,
            progress=progress,
            description="autoencoder",
        )
    reconstructions = learners[0].model(digits.test_images)
    pca_reconstructions = _pca_reconstructions(digits)
    mean_image = digits.train_images.mean(axis=0)
    pca_test_mse = fastmse.mse(digits.test_images, pca_reconstructions)

    images = _save_figures(
        Path(out_dir),
        digits.test_images,
        reconstructions,
        pca_reconstructions,
        train_losses[learners[0].backend],
        test_losses,
        pca_test_mse,
    )
    return AutoencoderResult(
        seed=seed,
        epochs=epochs,
        test_mse=fastmse.mse(digits.test_images, reconstructions),
        pca_test_mse=pca_test_mse,
        mean_image_test_mse=fastmse.mse(digits.test_images, mean_image),
        train_losses=train_losses,
        test_losses=test_losses,
        timings={learner.backend: learner.timing for learner in learners},
        images=images,
        wall_seconds=time.perf_counter() - start,
    )


def _make_learners(rng):
    sizes = [64, HIDDEN, LATENT, HIDDEN, 64]
    model = MLP(sizes, ["relu", "identity", "relu", "sigmoid"], rng)
    learners = []
    for backend, copy in (("fastmse", model), ("numpy", model.copy())):
        optimizer = Adam(copy.params, learning_rate=LEARNING_RATE)
        learners.append(Learner(backend, copy, optimizer))
    return learners


def _pca_reconstructions(digits):
    """Project the test digits on the first 8 principal axes of the training split."""
    decomposition = import_optional("sklearn.decomposition")
    pca = decomposition.PCA(n_components=LATENT, svd_solver="full")
    pca.fit(digits.train_images)
    codes = pca.transform(digits.test_images)
    return pca.inverse_transform(codes).astype(np.float32)


def _save_figures(
    out_dir,
    test_images,
    reconstructions,
    pca_reconstructions,
    train_losses,
    test_losses,
    pca_test_mse,
):
    out_dir.mkdir(parents=True, exist_ok=True)
    grid = out_dir / "autoencoder_reconstructions.png"
    curves = out_dir / "autoencoder_losses.png"
    rows = {
        "test digit": test_images,
        "autoencoder": reconstructions,
        f"PCA, {LATENT} components": pca_reconstructions,
    }
    plots.save_image_rows(grid, rows, columns=12)
    plots.save_loss_curves(
        curves,
        {"training": train_losses, "test": test_losses},
        reference=(f"PCA, {LATENT} components (test)", pca_test_mse),
        title="autoencoder reconstruction MSE",
    )
    return [grid, curves]
