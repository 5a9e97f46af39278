"""scikit-learn's tests in sklearn/metrics/tests/test_common.py of its MSE and RMSE,
run with fastmse's functions in their place.

The tests run from the installed scikit-learn. Most are parametrized over all of
scikit-learn's metrics: conftest.py keeps the parametrizations of the two
functions and replaces scikit-learn's functions by fastmse's while each test runs.
"""

from replace_sklearn import (
    REPLACEMENTS,
    assert_module_uses_replacements,
    load_sklearn_tests,
    missing_from_selection,
)

sklearn_tests = load_sklearn_tests("sklearn.metrics.tests.test_common")

# Every test in the module that runs mean_squared_error or root_mean_squared_error
# and can run on fastmse's functions.
SELECTED = [
    "test_symmetric_metric",
    "test_sample_order_invariance",
    # Not parametrized: it loops over all multi-output metrics, fastmse's included.
    "test_sample_order_invariance_multilabel_and_multioutput",
    "test_format_invariance_with_1d_vectors",
    "test_continuous_inf_nan_input",
    "test_single_sample",
    "test_single_sample_multioutput",
    "test_multioutput_number_of_output_differ",
    "test_multioutput_regression_invariance_to_dimension_shuffling",
    "test_regression_sample_weight_invariance",
    "test_regression_with_invalid_sample_weight",
    "test_multioutput_sample_weight_invariance",
    "test_continuous_multilabel_multioutput_permutations_invariance",
    # Each case skips unless its library, pandas or polars, is installed, and
    # neither is in the test extra.
    "test_metrics_dataframe_series",
    "test_returned_value_consistency",
]
for _name in SELECTED:
    globals()[_name] = getattr(sklearn_tests, _name)

# Tests of the two functions that cannot run on fastmse's, and why.
NOT_APPLICABLE = {
    "test_array_api_compliance": (
        "runs the metric under array_api_dispatch=True on arrays of other libraries "
        "(array-api-strict, PyTorch, CuPy) and expects results in that library; "
        "fastmse.metrics computes on NumPy and ignores that setting"
    ),
    "test_mixed_array_api_namespace_input_compliance": (
        "mixes arrays of different array-API libraries and devices in one call "
        "under array_api_dispatch=True, which fastmse.metrics does not support"
    ),
}


def test_selection_covers_sklearn_tests():
    missing = missing_from_selection(sklearn_tests, SELECTED, NOT_APPLICABLE)
    assert not missing, f"scikit-learn tests of MSE or RMSE not selected: {missing}"


def test_sklearn_tests_call_fastmse():
    assert_module_uses_replacements(sklearn_tests)
    for name, function in REPLACEMENTS.items():
        assert sklearn_tests.REGRESSION_METRICS[name] is function
        assert sklearn_tests.ALL_METRICS[name] is function
