"""Quick demo runs: the losses fall, the models beat baselines, the PNGs are valid."""

import dataclasses
import re
import sys

import numpy as np
import pytest

from fastmse.__main__ import main as fastmse_main
from fastmse.demo import run_autoencoder, run_diffusion
from fastmse.demo.ddpm import NoiseSchedule
from fastmse.demo.nn import MLP
from fastmse.demo.optional import MissingDependencyError, import_optional

SKIP_REASON = 'the demo needs pip install "fastmse[demo]"'
pytest.importorskip("sklearn", reason=SKIP_REASON)
pytest.importorskip("tqdm", reason=SKIP_REASON)
matplotlib_image = pytest.importorskip("matplotlib.image", reason=SKIP_REASON)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (height, width) in pixels, as the demo's plotting functions lay them out.
PNG_SIZES = {
    "autoencoder_reconstructions.png": (169, 800),
    "autoencoder_losses.png": (400, 640),
    "diffusion_samples.png": (540, 500),
    "diffusion_strip.png": (160, 1000),
}


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def autoencoder(out_dir):
    return run_autoencoder(out_dir, seed=0, quick=True, progress=False)


@pytest.fixture(scope="module")
def diffusion(out_dir):
    return run_diffusion(out_dir, seed=0, quick=True, progress=False)


def test_autoencoder_losses_fall(autoencoder):
    train = autoencoder.train_losses["fastmse"]
    assert train[-1] < 0.5 * train[0]
    assert autoencoder.test_losses[-1] < 0.5 * autoencoder.test_losses[0]


def test_autoencoder_beats_baselines(autoencoder):
    assert autoencoder.test_mse < autoencoder.mean_image_test_mse
    assert autoencoder.test_mse < autoencoder.pca_test_mse


def test_autoencoder_backends_agree(autoencoder):
    fast = autoencoder.train_losses["fastmse"]
    slow = autoencoder.train_losses["numpy"]
    np.testing.assert_allclose(fast, slow, rtol=1e-3)


@pytest.mark.parametrize("run", ["autoencoder", "diffusion"])
def test_timings_cover_every_step(run, request):
    timings = request.getfixturevalue(run).timings
    assert timings["fastmse"].loss_calls == timings["numpy"].loss_calls
    for timing in timings.values():
        assert 0 < timing.loss_seconds < timing.training_seconds


def test_diffusion_loss_falls(diffusion):
    train = diffusion.train_losses["fastmse"]
    assert train[-1] < 0.5 * train[0]


def test_diffusion_samples_beat_noise(diffusion):
    generated, noise = diffusion.generated, diffusion.noise
    assert generated.mean_top_probability > noise.mean_top_probability
    assert generated.mean_nearest_distance < noise.mean_nearest_distance


def test_diffusion_samples_match_classes(diffusion):
    # Chance is 10 %, and a working class-conditioned model gets most of them right.
    assert diffusion.class_agreement > 0.5


def test_real_digits_classify_confidently(diffusion):
    real, noise = diffusion.real_test, diffusion.noise
    assert real.mean_top_probability > noise.mean_top_probability
    assert real.classes_present == 10


@pytest.mark.parametrize("name", sorted(PNG_SIZES))
def test_png_valid(name, out_dir, autoencoder, diffusion):
    path = out_dir / name
    assert path in autoencoder.images + diffusion.images
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert matplotlib_image.imread(path).shape[:2] == PNG_SIZES[name]


def _figures(result):
    """Return every field of a result except the timings and the file paths."""
    fields = dataclasses.asdict(result)
    for name in ("timings", "wall_seconds", "images"):
        del fields[name]
    return fields


def test_autoencoder_same_seed_same_figures(autoencoder, tmp_path):
    again = run_autoencoder(tmp_path, seed=0, quick=True, progress=False)
    assert _figures(again) == _figures(autoencoder)


def test_diffusion_same_seed_same_figures(diffusion, tmp_path):
    again = run_diffusion(tmp_path, seed=0, quick=True, progress=False)
    assert _figures(again) == _figures(diffusion)


def test_other_seed_other_figures(tmp_path):
    first = run_autoencoder(tmp_path, seed=1, epochs=2, progress=False)
    second = run_autoencoder(tmp_path, seed=2, epochs=2, progress=False)
    assert first.test_mse != second.test_mse


def test_command_line_prints_summary(tmp_path, capsys):
    argv = ["demo", "--quick", "--epochs", "1", "--out", str(tmp_path)]
    assert fastmse_main(argv) == 0
    printed = capsys.readouterr().out
    assert "PCA, 8 components" in printed
    assert "mean top-class probability" in printed
    assert "MSE backend, one BLAS thread" in printed
    assert f"figures saved in {tmp_path.resolve()}" in printed
    for name in PNG_SIZES:
        assert (tmp_path / name).is_file()


def test_missing_dependency_names_extra():
    message = (
        "the fastmse demo requires fastmse_absent_module, which is not installed. "
        'Install the demo\'s dependencies with: pip install "fastmse[demo]"'
    )
    with pytest.raises(MissingDependencyError, match=f"^{re.escape(message)}$"):
        import_optional("fastmse_absent_module")


def test_missing_package_named_for_pip(monkeypatch):
    # A None entry in sys.modules makes the import raise ModuleNotFoundError.
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    with pytest.raises(MissingDependencyError, match="requires scikit-learn, which"):
        import_optional("sklearn.linear_model")


def test_command_line_reports_missing_package(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    argv = ["demo", "autoencoder", "--epochs", "1", "--out", str(tmp_path)]
    assert fastmse_main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the fastmse demo requires tqdm, which")
    assert 'pip install "fastmse[demo]"' in error


def test_mlp_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    model = MLP([5, 7, 3, 4], ["relu", "identity", "sigmoid"], rng)
    model.params = [p.astype(np.float64) for p in model.params]
    inputs = rng.standard_normal((6, 5))
    targets = rng.random((6, 4))

    def loss():
        return 0.5 * np.sum((model(inputs) - targets) ** 2)

    outputs, cache = model.forward(inputs)
    grads = model.backward(cache, outputs - targets)
    step = 1e-6
    for param, grad in zip(model.params, grads):
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + step
            above = loss()
            param[index] = saved - step
            below = loss()
            param[index] = saved
            numeric[index] = (above - below) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_schedule_noise_round_trip():
    schedule = NoiseSchedule.cosine(100)
    rng = np.random.default_rng(6)
    images = rng.uniform(-1, 1, size=(3, 64)).astype(np.float32)
    noise = rng.standard_normal((3, 64), dtype=np.float32)
    step = 40
    noisy = schedule.add_noise(images, np.full(3, step), noise)
    clean = schedule.predict_clean(noisy, step, noise)
    np.testing.assert_allclose(clean, images, atol=1e-5)
    assert np.all(np.diff(schedule.alpha_bars) < 0)
    assert schedule.posterior(0)[2] == 0
