"""Load scikit-learn's metric tests so that they call fastmse's metrics."""

import contextlib
import importlib
import importlib.util
import inspect
import re
import sys

import pytest
from fastmse import metrics

# The scikit-learn release whose tests the lists in the test_sklearn_*.py files
# were chosen from. Older releases name and parametrize their tests differently.
TESTED_SKLEARN_VERSION = "1.9"

REPLACEMENTS = {
    "mean_squared_error": metrics.mean_squared_error,
    "root_mean_squared_error": metrics.root_mean_squared_error,
}

# scikit-learn's tests import the functions from the first module, and its other
# metrics, such as mean_squared_log_error, call them through the second.
SKLEARN_MODULES = ("sklearn.metrics", "sklearn.metrics._regression")


@contextlib.contextmanager
def fastmse_in_sklearn():
    """Replace scikit-learn's functions by fastmse's, and restore them on exit."""
    modules = [importlib.import_module(name) for name in SKLEARN_MODULES]
    originals = [
        (module, name, getattr(module, name))
        for module in modules
        for name in REPLACEMENTS
    ]
    try:
        for module, name, _ in originals:
            setattr(module, name, REPLACEMENTS[name])
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def load_sklearn_tests(module_name):
    """Import a private copy of one of scikit-learn's installed test modules.

    The copy runs its imports while fastmse's functions replace scikit-learn's, so
    its names and the metric tables and parameter lists that it builds at import
    refer to fastmse's functions. The module's own entry in sys.modules is left
    alone, so scikit-learn's functions stay in it for any other importer.

    Skips the calling test module if scikit-learn is missing or older than
    TESTED_SKLEARN_VERSION.
    """
    pytest.importorskip("sklearn", minversion=TESTED_SKLEARN_VERSION)
    origin = importlib.util.find_spec(module_name).origin
    copy_name = "fastmse_copy_of_" + module_name.replace(".", "_")
    spec = importlib.util.spec_from_file_location(copy_name, origin)
    module = importlib.util.module_from_spec(spec)

    sys.modules[copy_name] = module
    with fastmse_in_sklearn():
        spec.loader.exec_module(module)
    return module


def is_replacement(value):
    """Return whether `value` names or is one of fastmse's replacements."""
    if isinstance(value, str):
        return value in REPLACEMENTS
    return any(value is function for function in REPLACEMENTS.values())


def find_tests_of_replacements(module):
    """Return the names of the tests in `module` that mention a replaced function.

    A test counts if its source names one of the functions, or if a parameter list
    of its parametrize marks contains one of them or its name. Tests that reach the
    functions only through a loop over a metric table are not found.
    """
    name_pattern = re.compile(r"\b(?:root_)?mean_squared_error\b")
    found = set()
    for name, test in vars(module).items():
        if not name.startswith("test_") or not callable(test):
            continue
        names_function = name_pattern.search(inspect.getsource(test))
        marks = _parametrize_marks(test)
        if names_function or any(map(_mark_lists_replacement, marks)):
            found.add(name)
    return found


def _parametrize_marks(test):
    marks = getattr(test, "pytestmark", [])
    return [mark for mark in marks if mark.name == "parametrize"]


def _mark_lists_replacement(mark):
    values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues")
    # Iterators and generators are left alone: reading them here would empty them
    # before pytest parametrizes the test.
    if not isinstance(values, (list, tuple)):
        return False
    for value in values:
        value = getattr(value, "values", value)
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(is_replacement(item) for item in items):
            return True
    return False


def missing_from_selection(module, selected, not_applicable):
    """Return the tests of `module` that use a replaced function but are in neither list."""
    return find_tests_of_replacements(module) - set(selected) - set(not_applicable)


def assert_module_uses_replacements(module):
    """Assert that `module` and scikit-learn's own modules now name fastmse's functions."""
    # Imported here, not at the top, so that without scikit-learn the test module is
    # skipped by load_sklearn_tests instead of failing to import.
    import sklearn.metrics

    for name, function in REPLACEMENTS.items():
        assert getattr(module, name) is function
        assert getattr(sklearn.metrics, name) is function
        assert getattr(sklearn.metrics._regression, name) is function
