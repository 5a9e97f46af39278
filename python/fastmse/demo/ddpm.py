"""Denoising diffusion (DDPM): the noise schedule, the network inputs and sampling."""

import dataclasses

import numpy as np

from .data import NUM_CLASSES, minibatch_indices

PIXELS = 64
EMBEDDING_WIDTH = 32


@dataclasses.dataclass(frozen=True)
class NoiseSchedule:
    """The variances of a fixed forward process over `num_steps` steps, in float32.

    Step ``t`` (0-based) multiplies the image by ``sqrt(1 - betas[t])`` and adds
    Gaussian noise of variance ``betas[t]``, so after it
    ``x_t = sqrt(alpha_bars[t]) * x_0 + sqrt(1 - alpha_bars[t]) * noise``.
    """

    betas: np.ndarray
    alpha_bars: np.ndarray

    @classmethod
    def cosine(cls, num_steps, *, offset=0.008):
        """Build the cosine schedule of Nichol and Dhariwal, "Improved DDPM" (2021).

        It destroys the image more evenly over the steps than a linear schedule of
        `betas`, which matters with as few as 100 steps.
        """
        fraction = (np.arange(num_steps + 1) / num_steps + offset) / (1 + offset)
        signal = np.cos(fraction * np.pi / 2) ** 2
        # The last beta would be 1, leaving no signal at all: the cap keeps every
        # alpha_bar above 0, so that `predict_clean` never divides by 0.
        betas = np.minimum(1 - signal[1:] / signal[:-1], 0.999)
        alpha_bars = np.cumprod(1 - betas)
        return cls(betas.astype(np.float32), alpha_bars.astype(np.float32))

    @property
    def num_steps(self):
        return len(self.betas)

    def add_noise(self, images, steps, noise):
        """Sample ``x_t`` given ``x_0 = images`` and the Gaussian `noise` to add."""
        signal = np.sqrt(self.alpha_bars[steps])[:, None]
        spread = np.sqrt(1 - self.alpha_bars[steps])[:, None]
        return signal * images + spread * noise

    def predict_clean(self, noisy, step, predicted_noise):
        """Solve ``x_t = sqrt(a) x_0 + sqrt(1 - a) noise`` for ``x_0`` at one step."""
        alpha_bar = self.alpha_bars[step]
        return (noisy - np.sqrt(1 - alpha_bar) * predicted_noise) / np.sqrt(alpha_bar)

    def posterior(self, step):
        """Return the coefficients of the posterior ``q(x_{t-1} | x_t, x_0)``.

        Returns
        -------
        weight_clean, weight_noisy, std : numpy.float32
            The posterior is Gaussian with mean
            ``weight_clean * x_0 + weight_noisy * x_t`` and standard deviation `std`.
        """
        alpha_bar = self.alpha_bars[step]
        previous = self.alpha_bars[step - 1] if step > 0 else np.float32(1)
        beta = self.betas[step]
        weight_clean = beta * np.sqrt(previous) / (1 - alpha_bar)
        weight_noisy = (1 - previous) * np.sqrt(1 - beta) / (1 - alpha_bar)
        std = np.sqrt(beta * (1 - previous) / (1 - alpha_bar))
        return weight_clean, weight_noisy, std


def time_embedding(steps, num_steps, width=EMBEDDING_WIDTH):
    """Embed step numbers as sines and cosines of geometrically spaced frequencies.

    The steps are first scaled to [0, 1000). The slowest of the `width` / 2
    frequencies then turns by under 2 radians over the whole schedule, and the
    fastest by 1000 / `num_steps` radians per step.
    """
    frequencies = np.exp(-np.log(1000.0) * np.arange(width // 2) / (width // 2))
    angles = (np.asarray(steps) * (1000.0 / num_steps))[:, None] * frequencies
    embedding = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    return embedding.astype(np.float32)


def network_inputs(noisy, steps, labels, num_steps):
    """Concatenate the noisy images, their step embedding and one-hot labels.

    `labels` is None for an unconditional model.
    """
    parts = [noisy, time_embedding(steps, num_steps)]
    if labels is not None:
        parts.append(np.eye(NUM_CLASSES, dtype=np.float32)[labels])
    return np.concatenate(parts, axis=1)


def input_width(conditional):
    """Return the width of `network_inputs` for a conditional or unconditional model."""
    return PIXELS + EMBEDDING_WIDTH + (NUM_CLASSES if conditional else 0)


def to_model_space(images):
    """Map pixels in [0, 1] to [-1, 1], the scale of the unit-variance noise."""
    return images * 2 - 1


def to_pixels(samples):
    """Map model-space samples back to pixels, clipped to [0, 1]."""
    return np.clip((samples + 1) / 2, 0, 1)


def noise_prediction_batches(images, labels, schedule, batch_size, rng):
    """Yield one epoch of ``(network inputs, noise)`` minibatches.

    Each image gets a random step and fresh noise, and the target of the network is
    the noise that was added.
    """
    for indices in minibatch_indices(len(images), batch_size, rng):
        steps = rng.integers(0, schedule.num_steps, size=len(indices))
        noise = rng.standard_normal((len(indices), PIXELS), dtype=np.float32)
        noisy = schedule.add_noise(images[indices], steps, noise)
        batch_labels = None if labels is None else labels[indices]
        yield network_inputs(noisy, steps, batch_labels, schedule.num_steps), noise


def sample(model, schedule, count, rng, *, labels=None, frames=10):
    """Generate images by running the reverse process from pure noise.

    Each step predicts the noise, derives the clean image from it, clips that to
    [-1, 1] and draws ``x_{t-1}`` from the posterior ``q(x_{t-1} | x_t, x_0)``.

    Parameters
    ----------
    model : MLP
        The trained noise predictor.
    schedule : NoiseSchedule
    count : int
        The number of images.
    rng : numpy.random.Generator
    labels : ndarray of int, optional
        The class of each image, for a class-conditioned model.
    frames : int, default 10
        The number of states of the first image to return: pure noise, then the
        state after evenly spaced steps, the last one being the final image.

    Returns
    -------
    images : ndarray of shape (count, 64)
        In model space, [-1, 1].
    strip : list of (int, ndarray of shape (64,))
        The first image's states, each with its step number ``t`` of ``x_t``: from
        `num_steps` for pure noise down to 0 for the final image.
    """
    noisy = rng.standard_normal((count, PIXELS), dtype=np.float32)
    last = schedule.num_steps - 1
    marked = set(np.linspace(0, last, frames - 1).round().astype(int).tolist())
    strip = [(schedule.num_steps, noisy[0].copy())]
    for step in range(last, -1, -1):
        steps = np.full(count, step)
        predicted = model(network_inputs(noisy, steps, labels, schedule.num_steps))
        clean = np.clip(schedule.predict_clean(noisy, step, predicted), -1, 1)
        weight_clean, weight_noisy, std = schedule.posterior(step)
        noisy = weight_clean * clean + weight_noisy * noisy
        if step > 0:
            noisy += std * rng.standard_normal((count, PIXELS), dtype=np.float32)
        if step in marked:
            strip.append((step, noisy[0].copy()))
    return noisy, strip
