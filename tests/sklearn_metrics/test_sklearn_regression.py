"""scikit-learn's tests in sklearn/metrics/tests/test_regression.py of its MSE and
RMSE, run with fastmse's functions in their place.

The tests run from the installed scikit-learn. conftest.py replaces its functions
by fastmse's while each test runs.
"""

from replace_sklearn import (
    assert_module_uses_replacements,
    load_sklearn_tests,
    missing_from_selection,
)

sklearn_tests = load_sklearn_tests("sklearn.metrics.tests.test_regression")

# Every test in the module that calls mean_squared_error or root_mean_squared_error.
# Most also check other metrics, which stay scikit-learn's, though its
# mean_squared_log_error then calls fastmse's mean_squared_error.
SELECTED = [
    "test_regression_metrics",
    "test_root_mean_squared_error_multioutput_raw_value",
    "test_multioutput_regression",
    "test_regression_metrics_at_limits",
    "test_regression_multioutput_array",
    "test_regression_custom_weights",
]
for _name in SELECTED:
    globals()[_name] = getattr(sklearn_tests, _name)

# Tests of the two functions that cannot run on fastmse's, and why.
NOT_APPLICABLE = {
    "test__check_reg_targets": (
        "calls scikit-learn's private _check_reg_targets directly, which fastmse "
        "does not replace. test_metrics.py checks fastmse's version of those "
        "checks through the public functions"
    ),
    "test__check_reg_targets_exception": (
        "calls scikit-learn's private _check_reg_targets directly, as above"
    ),
}


def test_selection_covers_sklearn_tests():
    missing = missing_from_selection(sklearn_tests, SELECTED, NOT_APPLICABLE)
    assert not missing, f"scikit-learn tests of MSE or RMSE not selected: {missing}"


def test_sklearn_tests_call_fastmse():
    assert_module_uses_replacements(sklearn_tests)
