"""Plain-text summary tables of the demo's figures and timings."""

import textwrap


def format_table(header, rows):
    """Align a header and rows of strings: the first column left, the others right."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def timing_table(timings, train_losses):
    """Compare the training time and the loss time of the two MSE backends."""
    fast, slow = timings["fastmse"], timings["numpy"]

    def per_call(timing):
        return 1e6 * timing.loss_seconds / timing.loss_calls

    def share(timing):
        return f"{100 * timing.loss_seconds / timing.training_seconds:.1f} %"

    header = ["MSE backend, one BLAS thread", "fastmse", "NumPy", "speed-up"]
    rows = [
        _ratio_row("whole training (s)", fast.training_seconds, slow.training_seconds),
        _ratio_row("loss + gradient (s)", fast.loss_seconds, slow.loss_seconds),
        _ratio_row("loss + gradient per call (us)", per_call(fast), per_call(slow)),
        ["loss + gradient share of training", share(fast), share(slow), ""],
        [
            "last epoch's training loss",
            f"{train_losses['fastmse'][-1]:.6f}",
            f"{train_losses['numpy'][-1]:.6f}",
            "",
        ],
    ]
    return format_table(header, rows)


def _ratio_row(label, fast, slow):
    return [label, f"{fast:.3f}", f"{slow:.3f}", f"{slow / fast:.2f}x"]


def timing_note(timings):
    """Say in words what the timing table means for this run."""
    fast, slow = timings["fastmse"], timings["numpy"]
    share = 100 * fast.loss_seconds / fast.training_seconds
    saved = slow.loss_seconds - fast.loss_seconds
    text = (
        f"The loss and its gradient take {share:.1f} % of the training time with "
        "fastmse. The rest is the network's forward and backward passes (mostly "
        "matrix products) and the optimizer, which fastmse does not compute. So the "
        "whole-training speed-up stays near 1 however fast the loss kernel is. "
        f"fastmse saved {saved:.3f} s of loss computation, "
        f"{100 * saved / slow.training_seconds:.1f} % of the NumPy training time. Any "
        "larger difference in whole-training time arose outside the loss. Timings "
        "vary from run to run, but the other figures are the same for the same seed."
    )
    return textwrap.fill(text, width=88)


def autoencoder_summary(result):
    """Describe an `AutoencoderResult` in a few tables."""
    header = ["test reconstruction MSE, pixels in [0, 1]", "MSE"]
    rows = [
        ["autoencoder, 8-wide code", f"{result.test_mse:.6f}"],
        [
            "PCA, 8 components fitted on the training split",
            f"{result.pca_test_mse:.6f}",
        ],
        ["mean training image", f"{result.mean_image_test_mse:.6f}"],
    ]
    title = f"autoencoder: seed {result.seed}, {result.epochs} epochs"
    return _join(
        title,
        format_table(header, rows),
        timing_table(result.timings, result.train_losses),
        timing_note(result.timings),
        f"wall time: {result.wall_seconds:.1f} s",
    )


def diffusion_summary(result):
    """Describe a `DiffusionResult` in a few tables."""
    columns = {
        f"generated ({result.sample_count})": result.generated,
        f"pure noise ({result.sample_count})": result.noise,
        "real test digits": result.real_test,
    }
    header = ["sample measure", *columns]
    rows = [
        ["mean top-class probability"]
        + [f"{s.mean_top_probability:.4f}" for s in columns.values()],
        ["classes found, of 10"] + [str(s.classes_present) for s in columns.values()],
        ["mean distance to nearest training digit"]
        + [f"{s.mean_nearest_distance:.4f}" for s in columns.values()],
    ]
    kind = "class-conditioned" if result.conditional else "unconditional"
    parts = [
        f"diffusion ({kind}): seed {result.seed}, {result.epochs} epochs",
        format_table(header, rows),
    ]
    if result.class_agreement is not None:
        parts.append(
            "samples that the classifier puts in the class they were generated for: "
            f"{100 * result.class_agreement:.1f} %"
        )
    parts += [
        timing_table(result.timings, result.train_losses),
        timing_note(result.timings),
        f"wall time: {result.wall_seconds:.1f} s",
    ]
    return _join(*parts)


def _join(title, *sections):
    return "\n\n".join([f"== {title} ==", *sections])
