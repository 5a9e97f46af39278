"""The scikit-learn 8x8 handwritten digits, split into a training and a test set."""

import dataclasses

import numpy as np

from .optional import import_optional

IMAGE_SIDE = 8
NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class Digits:
    """Flattened digit images with pixels scaled to [0, 1] in float32, and labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_digits_split(seed, *, test_fraction=0.2):
    """Load the 1,797 digits that ship with scikit-learn and split them.

    Parameters
    ----------
    seed : int
        Seeds the shuffle, so the same seed gives the same split.
    test_fraction : float, default 0.2
        The share of the images held out for the test set, stratified by class.

    Returns
    -------
    Digits
        Images of shape (n, 64) in float32 with pixels in [0, 1], and int labels.
    """
    datasets = import_optional("sklearn.datasets")
    model_selection = import_optional("sklearn.model_selection")

    bunch = datasets.load_digits()
    # The raw pixels are ink counts from 0 to 16.
    images = (bunch.data / 16.0).astype(np.float32)
    split = model_selection.train_test_split(
        images,
        bunch.target,
        test_size=test_fraction,
        random_state=seed,
        stratify=bunch.target,
    )
    train_images, test_images, train_labels, test_labels = split
    return Digits(train_images, train_labels, test_images, test_labels)


def minibatch_indices(count, batch_size, rng):
    """Yield the index arrays of one epoch's shuffled minibatches."""
    order = rng.permutation(count)
    for start in range(0, count, batch_size):
        yield order[start : start + batch_size]
