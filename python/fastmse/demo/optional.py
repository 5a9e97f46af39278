"""Imports of the demo's optional dependencies, with an install hint if missing."""

import importlib

INSTALL_HINT = 'pip install "fastmse[demo]"'
# The pip package of each import name that differs from it.
PACKAGE_NAMES = {"sklearn": "scikit-learn"}


class MissingDependencyError(ImportError):
    """An optional dependency of the demo is not installed."""


def import_optional(name):
    """Import and return the module `name`, a dependency of the ``demo`` extra.

    Raises
    ------
    MissingDependencyError
        If `name` is not installed. The message names its pip package and the
        install command.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        root = name.split(".")[0]
        package = PACKAGE_NAMES.get(root, root)
        message = (
            f"the fastmse demo requires {package}, which is not installed. "
            f"Install the demo's dependencies with: {INSTALL_HINT}"
        )
        raise MissingDependencyError(message, name=error.name) from error
