"""A short fastmse-against-NumPy timing, for `fastmse bench`: no extra dependencies."""

import time

import numpy as np

from . import _config, _losses



def _numpy_grad_into(t, p, out):
    np.subtract(p, t, out=out)
    return np.multiply(out, 2 / t.size, out=out)


# Each case: a name, the fastmse call and the NumPy code it replaces; both get the same
# preallocated `out` array and may use it.
CASES = [
    ("mse", lambda t, p, out: _losses.mse(t, p), lambda t, p, out: np.mean((t - p) ** 2)),
    (
        "mse_grad",
        lambda t, p, out: _losses.mse_grad(t, p),
        lambda t, p, out: 2 * (p - t) / t.size,
    ),
    (
        "mse_grad(out=...)",
        lambda t, p, out: _losses.mse_grad(t, p, out=out),
        _numpy_grad_into,
    ),
    (
        "mse_value_and_grad",
        lambda t, p, out: _losses.mse_value_and_grad(t, p),
        lambda t, p, out: (np.mean((t - p) ** 2), 2 * (p - t) / t.size),
    ),
]


def median_seconds(function, budget):
    """Return the median time of repeated calls, repeated for about `budget` seconds."""
    function()
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 2000):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(sizes=(10**3, 10**5, 10**7), dtypes=("float32", "float64"), budget=0.25):
    """Time each case and return rows of (case, size, dtype, fastmse s, NumPy s)."""
    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        for dtype in dtypes:
            t = rng.standard_normal(size).astype(dtype)
            p = rng.standard_normal(size).astype(dtype)
            out = np.empty_like(p)
            for name, ours, numpy_version in CASES:
                fast = median_seconds(lambda: ours(t, p, out), budget)
                slow = median_seconds(lambda: numpy_version(t, p, out), budget)
                rows.append((name, size, dtype, fast, slow))
    return rows


def main(sizes=(10**3, 10**5, 10**7)):
    """Print the table of `run` with the speed-up of fastmse over NumPy."""
    info = _config.show_config(mode="dicts")
    print(
        f"fastmse {info['version']}, SIMD target {info['target']}, "
        f"{info['num_threads']} threads; median time per call\n"
    )
    header = f"{'function':<20}{'size':>10}  {'dtype':<8}{'fastmse':>11}{'NumPy':>11}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    for name, size, dtype, fast, slow in run(sizes):
        print(
            f"{name:<20}{size:>10}  {dtype:<8}{_format(fast):>11}{_format(slow):>11}"
            f"{slow / fast:>9.1f}x"
        )


def _format(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"
