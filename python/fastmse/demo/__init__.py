"""Two small NumPy models of handwritten digits, trained with fastmse's MSE gradient.

Run ``fastmse demo`` (needs ``pip install "fastmse[demo]"``) or call `run_autoencoder`
and `run_diffusion`.
"""

from .autoencoder import AutoencoderResult, run_autoencoder
from .cli import main
from .diffusion import DiffusionResult, run_diffusion

__all__ = [
    "AutoencoderResult",
    "DiffusionResult",
    "main",
    "run_autoencoder",
    "run_diffusion",
]
