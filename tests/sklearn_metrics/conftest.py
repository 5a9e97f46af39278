"""Hooks that run scikit-learn's tests of its MSE and RMSE on fastmse's metrics."""

from pathlib import Path

import pytest
from replace_sklearn import fastmse_in_sklearn, is_replacement

HERE = Path(__file__).parent

# scikit-learn runs its tests with RuntimeWarnings shown, not raised, and some of
# its other metrics and expected values divide zero by zero. These filters ignore
# RuntimeWarnings raised in scikit-learn's modules and in the copies of its test
# modules. Warnings raised in fastmse stay errors, as pyproject.toml sets.
SKLEARN_WARNING_FILTERS = [
    pytest.mark.filterwarnings(r"ignore::RuntimeWarning:sklearn\."),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:fastmse_copy_of_sklearn_"),
]


def pytest_configure(config):
    # scikit-learn's test_common.py marks a test thread_unsafe. scikit-learn's own
    # conftest.py, not loaded here, registers the marker unless pytest-run-parallel
    # does, and --strict-markers rejects an unregistered one.
    config.addinivalue_line(
        "markers", "thread_unsafe: a scikit-learn test that must run on one thread"
    )


def pytest_collection_modifyitems(config, items):
    """Deselect the parametrizations of scikit-learn's tests for other metrics.

    scikit-learn parametrizes many of its tests over every metric. In this folder,
    a parametrized test is selected only if a parameter is fastmse's function or
    its name. Tests without parameters were chosen by name and are all selected.
    The selected tests get SKLEARN_WARNING_FILTERS.
    """
    selected = []
    deselected = []
    for item in items:
        if item.path.parent != HERE:
            selected.append(item)
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is None or any(map(is_replacement, callspec.params.values())):
            selected.append(item)
            for mark in SKLEARN_WARNING_FILTERS:
                item.add_marker(mark)
        else:
            deselected.append(item)

    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def fastmse_replaces_sklearn():
    """Make scikit-learn's modules hold fastmse's functions while a test runs."""
    with fastmse_in_sklearn():
        yield
