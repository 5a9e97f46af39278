"""PNG figures of digits and loss curves, drawn with matplotlib's Agg backend."""

import numpy as np

from .data import IMAGE_SIDE
from .optional import import_optional

DPI = 100
# Each digit is drawn as a tile of 8 pixels plus 1 pixel of white margin.
TILE = IMAGE_SIDE + 1


def _new_figure(width, height):
    """Create a figure on an Agg canvas, without pyplot's global state or backend."""
    figure_module = import_optional("matplotlib.figure")
    backend_agg = import_optional("matplotlib.backends.backend_agg")
    figure = figure_module.Figure(figsize=(width, height), dpi=DPI)
    backend_agg.FigureCanvasAgg(figure)
    return figure


def tile_digits(images, columns):
    """Arrange flattened digits, shape (n, 64), in one image `columns` tiles wide."""
    rows = -(-len(images) // columns)
    canvas = np.zeros((rows * TILE + 1, columns * TILE + 1), dtype=np.float32)
    for index, image in enumerate(images):
        top = 1 + (index // columns) * TILE
        left = 1 + (index % columns) * TILE
        canvas[top : top + IMAGE_SIDE, left : left + IMAGE_SIDE] = image.reshape(
            IMAGE_SIDE, IMAGE_SIDE
        )
    return canvas


def _show_tiles(axes, canvas):
    """Draw a canvas of digits with pixels in [0, 1] as dark ink on white."""
    axes.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def save_image_rows(path, rows, *, columns=12):
    """Save labelled rows of digits as a PNG 800 px wide.

    `rows` maps each row's label to images of shape (m, 64), m >= `columns`, with
    pixels in [0, 1]. Column ``j`` of every row shows image ``j`` of that row.
    """
    stacked = np.concatenate([images[:columns] for images in rows.values()])
    canvas = tile_digits(stacked, columns)
    width, left, right = 8.0, 0.2, 0.98
    # The figure is as tall as the digits need at this width, plus 5 % of margin.
    height = width * (right - left) * canvas.shape[0] / canvas.shape[1] / 0.95
    figure = _new_figure(width, round(height, 2))
    axes = figure.add_axes((left, 0.025, right - left, 0.95))
    _show_tiles(axes, canvas)
    axes.set_yticks(TILE * np.arange(len(rows)) + TILE / 2 + 0.5, labels=list(rows))
    axes.tick_params(axis="y", length=0)
    figure.savefig(path)


def save_image_grid(path, images, *, columns=8, title=None):
    """Save the digits `images`, shape (n, 64), in a 500 px wide grid `columns` wide."""
    rows = -(-len(images) // columns)
    figure = _new_figure(5.0, 5.0 * rows / columns + 0.4)
    top = 1 - 0.4 / figure.get_figheight()
    axes = figure.add_axes((0.01, 0.01, 0.98, top - 0.02))
    _show_tiles(axes, tile_digits(images, columns))
    if title:
        figure.suptitle(title, y=1 - 0.12 / figure.get_figheight(), va="top")
    figure.savefig(path)


def save_strip(path, frames, *, title=None):
    """Save one digit's states side by side, each labelled ``t = step``, 100 px each.

    `frames` is a list of ``(step, image)`` pairs with images of 64 pixels in [0, 1].
    """
    figure = _new_figure(1.0 * len(frames), 1.6)
    axes = figure.add_axes((0.01, 0.02, 0.98, 0.68))
    _show_tiles(
        axes, tile_digits(np.stack([image for _, image in frames]), len(frames))
    )
    centers = TILE * np.arange(len(frames)) + TILE / 2 + 0.5
    axes.set_xticks(centers, labels=[f"t = {step}" for step, _ in frames])
    axes.xaxis.tick_top()
    axes.tick_params(axis="x", length=0)
    if title:
        figure.suptitle(title, y=0.97, va="top", fontsize=10)
    figure.savefig(path)


def save_loss_curves(path, curves, *, reference=None, title=None):
    """Save loss curves over epochs on a log scale, as a 640 x 400 PNG.

    Parameters
    ----------
    path : Path
    curves : dict of str to list of float
        One loss per epoch for each labelled curve.
    reference : (str, float), optional
        A labelled constant to draw as a dashed line, such as a baseline's loss.
    title : str, optional
    """
    figure = _new_figure(6.4, 4.0)
    axes = figure.add_subplot()
    for label, losses in curves.items():
        axes.plot(range(1, len(losses) + 1), losses, label=label)
    if reference is not None:
        label, value = reference
        axes.axhline(value, color="gray", linestyle="--", label=label)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("MSE")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    if title:
        axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path)
