"""The ``fastmse demo`` command: its arguments, the runs and the printed summary."""

import argparse
import sys
import time
from pathlib import Path

DEFAULT_OUT = Path("fastmse-demo")
MODELS = ("autoencoder", "diffusion")
DESCRIPTION = (
    "Train an autoencoder and a diffusion model on scikit-learn's 8x8 digits with "
    "fastmse's MSE, and time them against the same training with NumPy's MSE."
)


def positive_int(text):
    """Parse a command-line integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def seed_int(text):
    """Parse a seed: an integer from 0 to 2**32 - 1, as scikit-learn accepts."""
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2**32 - 1, got {text}")
    return value


def add_arguments(parser):
    """Add the demo's description and arguments to an argparse (sub)parser."""
    parser.description = DESCRIPTION
    parser.add_argument(
        "model",
        nargs="?",
        choices=MODELS,
        help="the model to train; both when omitted",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for the PNG files (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        metavar="N",
        help="seed of every random draw, from 0 to 2**32 - 1 (default: 0)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="passes over the training digits for each model (default: 200 for the "
        "autoencoder and 1500 for diffusion; 30 and 100 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train briefly, for a first look and for tests",
    )
    parser.add_argument(
        "--unconditional",
        action="store_true",
        help="train the diffusion model without class labels "
        "(its samples then look much less like digits)",
    )


def run_command(arguments):
    """Run the demos that `arguments` selects and print their summaries.

    Returns
    -------
    int
        The exit status: 0 on success, 1 if a dependency of the demo is missing.
    """
    from .autoencoder import run_autoencoder
    from .diffusion import run_diffusion
    from .optional import MissingDependencyError
    from .report import autoencoder_summary, diffusion_summary

    start = time.perf_counter()
    models = [arguments.model] if arguments.model else list(MODELS)
    options = {
        "seed": arguments.seed,
        "epochs": arguments.epochs,
        "quick": arguments.quick,
    }
    summaries = []
    try:
        if "autoencoder" in models:
            result = run_autoencoder(arguments.out, **options)
            summaries.append(autoencoder_summary(result))
        if "diffusion" in models:
            conditional = not arguments.unconditional
            result = run_diffusion(arguments.out, conditional=conditional, **options)
            summaries.append(diffusion_summary(result))
    except MissingDependencyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    print("\n\n".join(summaries))
    print(f"\ntotal wall time: {time.perf_counter() - start:.1f} s")
    print(f"figures saved in {arguments.out.resolve()}")
    return 0


def main(argv=None):
    """Run ``fastmse demo`` with the arguments `argv` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 if a dependency of the demo is missing.
    """
    parser = argparse.ArgumentParser(prog="fastmse demo")
    add_arguments(parser)
    return run_command(parser.parse_args(argv))
