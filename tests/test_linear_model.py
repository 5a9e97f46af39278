"""LinearRegressionGD against scikit-learn's direct solvers, on its real data sets."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastmse as fm
from fastmse import LinearRegressionGD, reference


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def relative_error(got, expected):
    return np.max(np.abs(got - expected)) / np.max(np.abs(expected))


def test_full_batch_matches_least_squares_on_diabetes(diabetes):
    X, y = diabetes
    expected = LinearRegression().fit(X, y)
    model = LinearRegressionGD().fit(X, y)

    assert relative_error(model.coef_, expected.coef_) < 1e-6
    assert model.intercept_ == pytest.approx(expected.intercept_, rel=1e-6)
    assert round(model.score(X, y), 6) == round(expected.score(X, y), 6)
    assert model.n_iter_ == len(model.loss_curve_) < 1000


@pytest.mark.parametrize("l2", [0.01, 0.5])
def test_l2_matches_ridge_with_alpha_l2_times_n(diabetes, l2):
    X, y = diabetes
    expected = Ridge(alpha=l2 * len(X)).fit(X, y)
    model = LinearRegressionGD(l2=l2).fit(X, y)
    assert relative_error(model.coef_, expected.coef_) < 1e-6
    assert model.intercept_ == pytest.approx(expected.intercept_, rel=1e-6)


def test_weights_match_weighted_least_squares(diabetes, rng):
    X, y = diabetes
    weights = rng.random(len(X)) * 3
    expected = LinearRegression().fit(X, y, sample_weight=weights)
    model = LinearRegressionGD().fit(X, y, sample_weight=weights)
    assert relative_error(model.coef_, expected.coef_) < 1e-6


def test_mini_batches_reach_the_same_r2(diabetes):
    X, y = diabetes
    expected = LinearRegression().fit(X, y).score(X, y)
    model = LinearRegressionGD(batch_size=32, tol=None, max_iter=300, random_state=0)
    model.fit(X, y)
    assert round(model.score(X, y), 3) == round(expected, 3)


def test_linnerud_three_outputs_match_each_output():
    X, Y = load_linnerud(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    expected = LinearRegression().fit(X, Y)
    model = LinearRegressionGD().fit(X, Y)

    assert model.coef_.shape == (3, 3)
    assert model.intercept_.shape == (3,)
    for output in range(3):
        assert relative_error(model.coef_[output], expected.coef_[output]) < 1e-6
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-6)
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=1e-6)


def test_float32_data_stays_float32(diabetes):
    X, y = diabetes
    model = LinearRegressionGD().fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    expected = LinearRegression().fit(X.astype(np.float32).astype(np.float64), y)
    assert relative_error(model.coef_, expected.coef_) < 1e-5


@pytest.mark.parametrize("shift, scale", [(100.0, 1.0), (0.0, 1e-3), (5.0, 1e-150)])
def test_features_need_no_centering_or_scaling(diabetes, shift, scale):
    # The fit centers the features itself, and its rate follows their scale.
    X, y = diabetes
    X = (X + shift) * scale
    expected = LinearRegression().fit(X, y)
    model = LinearRegressionGD().fit(X, y)
    assert relative_error(model.coef_, expected.coef_) < 1e-6
    assert model.intercept_ == pytest.approx(expected.intercept_, rel=1e-6)


def test_mini_batches_on_shifted_features(diabetes):
    X, y = diabetes
    expected = LinearRegression().fit(X + 100, y).score(X + 100, y)
    model = LinearRegressionGD(batch_size=64, tol=None, max_iter=300, random_state=0)
    assert round(model.fit(X + 100, y).score(X + 100, y), 3) == round(expected, 3)


def test_mini_batch_tiny_rate_not_divergent():
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    model = LinearRegressionGD(
        learning_rate=1e-6, batch_size=2, shuffle=False, max_iter=2, tol=None
    )
    model.fit(X, X[:, 0])
    assert model.n_iter_ == 2


@pytest.mark.parametrize("weight", [1e-310, 5e-324, 1e300])
def test_weights_near_the_float_limits(diabetes, weight):
    X, y = diabetes
    expected = fm.linear_value_and_grad(X, y, np.ones(10), 1.0)
    got = fm.linear_value_and_grad(
        X, y, np.ones(10), 1.0, sample_weight=np.full(len(X), weight)
    )
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)
    model = LinearRegressionGD().fit(X, y, sample_weight=np.full(len(X), weight))
    reference = LinearRegression().fit(X, y)
    assert relative_error(model.coef_, reference.coef_) < 1e-6


def test_pipeline_and_cross_validation():
    X, y = load_diabetes(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), LinearRegressionGD())
    scores = cross_val_score(pipeline, X, y, cv=5)
    expected = cross_val_score(
        make_pipeline(StandardScaler(), LinearRegression()), X, y, cv=5
    )
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_fit_is_bit_identical_for_any_thread_count(rng, batch_size):
    X = rng.standard_normal((50_000, 12))
    y = X @ rng.standard_normal(12) + rng.standard_normal(50_000)
    results = []
    before = fm.get_num_threads()
    try:
        for threads in (1, 2, 3):
            fm.set_num_threads(threads)
            model = LinearRegressionGD(
                batch_size=batch_size, max_iter=20, tol=None, random_state=7
            )
            results.append(model.fit(X, y))
    finally:
        fm.set_num_threads(before)
    for model in results[1:]:
        np.testing.assert_array_equal(model.coef_, results[0].coef_)
        assert model.intercept_ == results[0].intercept_
        assert model.loss_curve_ == results[0].loss_curve_


def test_same_seed_same_weights_other_seed_other_weights(diabetes):
    X, y = diabetes

    def fit(seed):
        model = LinearRegressionGD(
            batch_size=20, max_iter=5, tol=None, random_state=seed
        )
        return model.fit(X, y).coef_

    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))


def test_fixed_rate_divergence_raises_with_the_rate_and_loss(diabetes):
    X, y = diabetes
    with pytest.raises(
        ValueError, match=r"diverged: with learning_rate=10 the loss reached"
    ):
        LinearRegressionGD(learning_rate=10.0).fit(X, y)
    with pytest.raises(ValueError, match="scale the features"):
        LinearRegressionGD(learning_rate=10.0, batch_size=50).fit(X, y)


def test_failed_fit_restores_estimator(diabetes):
    X, y = diabetes
    model = LinearRegressionGD().fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(learning_rate=10.0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)

    fresh = LinearRegressionGD(learning_rate=10.0)
    with pytest.raises(ValueError, match="diverged"):
        fresh.fit(X, y)
    assert not hasattr(fresh, "coef_")
    assert not hasattr(fresh, "n_features_in_")


def test_diverging_partial_fits_raise(diabetes):
    X, y = diabetes
    model = LinearRegressionGD(learning_rate=10.0)
    with pytest.raises(
        ValueError, match=r"partial_fit diverged: with learning_rate=10 "
    ):
        for _ in range(5):
            model.partial_fit(X, y)
    # The call that raised changed nothing: the loss curve ends below the limit.
    assert model.loss_curve_[-1] <= 10 * model.loss_curve_[0]


def test_auto_rate_survives_badly_scaled_features(diabetes):
    X, y = diabetes
    X = X * np.logspace(0, 4, X.shape[1])
    with pytest.warns(ConvergenceWarning, match="scale the features"):
        model = LinearRegressionGD(max_iter=200).fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.loss_curve_[-1] < model.loss_curve_[0]


@pytest.mark.parametrize("batch_size", [None, 10])
def test_overflowing_data_raises_instead_of_returning_zeros(rng, batch_size):
    X = rng.standard_normal((100, 3)) * 1e150
    with pytest.raises(ValueError, match="beyond what float64 holds; scale X and y"):
        LinearRegressionGD(batch_size=batch_size).fit(X, X @ [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[1.0, np.nan], [2.0, 3.0]], [1.0, 2.0], "Input X contains NaN"),
        ([[1.0, np.inf], [2.0, 3.0]], [1.0, 2.0], "Input X contains infinity"),
        ([[1.0, 2.0], [2.0, 3.0]], [1.0, np.nan], "Input y contains NaN"),
        ([[1.0, 2.0], [2.0, 3.0]], [1.0, 2.0, 3.0], "inconsistent numbers of samples"),
        (np.empty((0, 2)), [], "0 sample"),
    ],
)
def test_bad_data_raises(X, y, message):
    with pytest.raises(ValueError, match=message):
        LinearRegressionGD().fit(X, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"learning_rate": -1.0}, "learning_rate must be 'auto' or a positive finite"),
        ({"learning_rate": "fast"}, "learning_rate must be 'auto'"),
        ({"max_iter": 0}, "max_iter must be an integer >= 1, got 0"),
        ({"batch_size": 0}, "batch_size must be None or an integer >= 1, got 0"),
        ({"tol": -1.0}, "tol must be None or a finite number >= 0"),
        ({"l2": np.nan}, "l2 must be a finite number >= 0"),
    ],
)
def test_bad_parameters_raise(diabetes, params, message):
    with pytest.raises(ValueError, match=message):
        LinearRegressionGD(**params).fit(*diabetes)


def test_strings_are_not_numbers(diabetes):
    X, y = diabetes
    with pytest.raises(TypeError, match="X has dtype <U"):
        LinearRegressionGD().fit(X.astype(str), y)
    with pytest.raises(TypeError, match="y has dtype <U"):
        LinearRegressionGD().fit(X, y.astype(str))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"l2": "0.1"}, "l2 must be a real number, got str"),
        ({"tol": True}, "tol must be a real number, got bool"),
        ({"max_iter": 10.0}, "max_iter must be an integer >= 1, got 10.0"),
        ({"fit_intercept": "no"}, "fit_intercept must be True or False, got 'no'"),
        ({"shuffle": None}, "shuffle must be True or False, got None"),
    ],
)
def test_parameters_of_the_wrong_type_raise_type_error(diabetes, params, message):
    with pytest.raises(TypeError, match=message):
        LinearRegressionGD(**params).fit(*diabetes)


def test_partial_fit_takes_plain_gradient_steps(diabetes):
    # Each call is one full-batch step from the current point, which starts at zero
    # coefficients and the mean of y, at the rate the first call chose.
    X, y = diabetes
    model = LinearRegressionGD()
    w, b = np.zeros(X.shape[1]), float(np.mean(y))
    for _ in range(50):
        model.partial_fit(X, y)
        _, w, b = reference.linear_step(X, y, w, b, model.learning_rate_)
    assert model.n_iter_ == 50
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10)
    assert model.intercept_ == pytest.approx(b, rel=1e-12)
    assert model.loss_curve_ == sorted(model.loss_curve_, reverse=True)

    with pytest.raises(
        ValueError, match="X has 5 features, but LinearRegressionGD is "
    ):
        model.partial_fit(X[:, :5], y)


def test_verbose_shows_progress(diabetes, capsys):
    LinearRegressionGD(verbose=1, max_iter=50, tol=None).fit(*diabetes)
    err = capsys.readouterr().err
    assert "50/50" in err
    assert "loss" in err

    model = LinearRegressionGD(verbose=1, max_iter=1000).fit(*diabetes)
    assert f"{model.n_iter_}/1000" in capsys.readouterr().err


def test_ctrl_c_stops_a_fit_and_leaves_the_estimator_usable(tmp_path):
    script = textwrap.dedent(
        """
        import sys, numpy as np
        from fastmse import LinearRegressionGD
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200_000, 32))
        y = X @ rng.standard_normal(32)
        model = LinearRegressionGD(max_iter=10**9, tol=None)
        print("fitting", flush=True)
        try:
            model.fit(X, y)
        except KeyboardInterrupt:
            finite = bool(np.all(np.isfinite(model.predict(X[:5]))))
            print("interrupted", model.n_iter_ > 0, finite, flush=True)
        # Interrupted before its first step, a fit leaves the starting point.
        model = LinearRegressionGD()
        import signal, threading
        X, y = np.tile(X, (5, 1)), np.tile(y, 5)
        threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,)).start()
        try:
            model.fit(X, y)
        except KeyboardInterrupt:
            print("early", model.n_iter_, model.predict(X[:1]).shape, flush=True)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout.readline().strip() == "fitting"
    # Let the fit reach its C++ loop and run a few epochs.
    try:
        process.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        pass
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    lines = out.splitlines()
    assert lines[0] == "interrupted True True", err
    assert lines[1].startswith("early "), err
    assert lines[1].endswith(" (1,)"), err


@parametrize_with_checks(
    [LinearRegressionGD(), LinearRegressionGD(batch_size=8, random_state=0)]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_docstring_examples():
    import doctest

    from fastmse import linear_model

    failures, tests = doctest.testmod(linear_model)
    assert tests > 0
    assert failures == 0
