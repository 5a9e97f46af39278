"""Threads, SIMD target selection, show_config and the command line."""

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import fastmse as fm
from fastmse import _core


def run_python(code, **environment):
    env = {**os.environ, **environment}
    for name, value in environment.items():
        if value is None:
            env.pop(name)
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed


def test_set_and_get_num_threads():
    before = fm.get_num_threads()
    try:
        fm.set_num_threads(3)
        assert fm.get_num_threads() == 3
        fm.set_num_threads(1)
        assert fm.get_num_threads() == 1
    finally:
        fm.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -2, 1025, 10**20])
def test_set_num_threads_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match=f"n must be between 1 and 1024, not {bad}"):
        fm.set_num_threads(bad)


def test_set_num_threads_takes_numpy_integers():
    before = fm.get_num_threads()
    try:
        fm.set_num_threads(np.int64(1))
        assert fm.get_num_threads() == 1
    finally:
        fm.set_num_threads(before)


@pytest.mark.parametrize("bad", [2.0, "2", True, None])
def test_set_num_threads_rejects_non_int(bad):
    with pytest.raises(TypeError, match="^n must be an int, not"):
        fm.set_num_threads(bad)


def test_default_threads_are_usable_cores():
    code = "import fastmse; print(fastmse.get_num_threads())"
    completed = run_python(code, FASTMSE_NUM_THREADS=None, OMP_NUM_THREADS=None)
    assert int(completed.stdout) == len(os.sched_getaffinity(0))


def test_thread_variables():
    code = "import fastmse; print(fastmse.get_num_threads())"
    assert run_python(code, FASTMSE_NUM_THREADS="3").stdout.strip() == "3"
    assert run_python(code, FASTMSE_NUM_THREADS=None, OMP_NUM_THREADS="2,1").stdout.strip() == "2"
    both = run_python(code, FASTMSE_NUM_THREADS="1", OMP_NUM_THREADS="2")
    assert both.stdout.strip() == "1"


@pytest.mark.parametrize("value", ["many", "3000000000", "\u00b2", "0"])
def test_invalid_thread_variable_warns(value):
    completed = run_python("import fastmse", FASTMSE_NUM_THREADS=value)
    message = f"FASTMSE_NUM_THREADS={value!r} is not an integer from 1 to 1024; ignoring it"
    assert message in completed.stderr


def test_thread_limit_caps_threads():
    code = "import fastmse; fastmse.set_num_threads(4); print(fastmse.get_num_threads())"
    assert run_python(code, OMP_THREAD_LIMIT="1").stdout.strip() == "1"


def test_daemon_thread_in_kernel_at_exit():
    code = (
        "import threading, time, numpy as np, fastmse\n"
        "a = np.ones(3_000_000)\n"
        "def loop():\n"
        "    while True:\n"
        "        fastmse.mse(a, a)\n"
        "threading.Thread(target=loop, daemon=True).start()\n"
        "time.sleep(0.2)\n"
    )
    for _ in range(3):
        run_python(code)


def test_empty_cache_frees_buffers(rng):
    held = fm.mse_grad(rng.standard_normal(300_000), rng.standard_normal(300_000))
    del held
    assert fm.show_config(mode="dicts")["cached_bytes"] > 0
    fm.empty_cache()
    assert fm.show_config(mode="dicts")["cached_bytes"] == 0


@pytest.mark.parametrize("cap", ["scalar", "avx2", "avx512"])
def test_simd_variable_caps_target(cap):
    supported = _core.config()["supported_targets"]
    code = "import fastmse; print(fastmse.show_config(mode='dicts')['target'])"
    target = run_python(code, FASTMSE_SIMD=cap).stdout.strip()
    order = _core.config()["built_targets"]
    if cap in order:
        expected = [t for t in supported if order.index(t) <= order.index(cap)][-1]
        assert target == expected
    else:
        assert target == supported[-1]


def test_unknown_simd_variable_warns():
    completed = run_python("import fastmse", FASTMSE_SIMD="sse9")
    assert "FASTMSE_SIMD='sse9' names no SIMD target of this build" in completed.stderr


def test_use_target_rejects_unknown():
    with pytest.raises(ValueError, match="SIMD target 'mmx' is not built into this fastmse"):
        _core.use_target("mmx")


@pytest.fixture
def restore_split_conversions():
    before = _core.config()["split_conversions"]
    yield
    _core.set_split_conversions(before)


@pytest.mark.parametrize("n", [1, 31, 32, 511, 513, 8191, 8193, 100_003])
def test_conversion_width_keeps_every_bit(
    simd_target, rng, restore_split_conversions, n
):
    # Some CPUs widen float32 four values at a time (see HalfVec in cpp/simd.hpp). The
    # sums must not depend on it, for whole arrays, reversed slices or sums by axis, for
    # every loss, weighted or not.
    t = rng.standard_normal((n, 3)).astype(np.float32)
    p = (t + rng.standard_normal((n, 3))).astype(np.float32)
    w = rng.random((n, 3)).astype(np.float32)
    results = []
    for split in (False, True):
        _core.set_split_conversions(split)
        results.append(
            [fm.mse(t, p), fm.sse(t[:, 0], p[:, 0]), fm.mse(t, p, axis=0).tolist()]
            + [fm.mse(t[::-1, 1:], p[::-1, 1:], axis=1).tolist()]
            + [fm.mae(t, p), fm.huber(t, p, delta=0.5), fm.mse(t, p, sample_weight=w)]
            + [fm.mae(t[:, 0], p[:, 0], sample_weight=w[:, 0])]
            + [fm.huber(t, p, sample_weight=w, axis=1).tolist()]
        )
    assert results[0] == results[1]


@pytest.fixture
def restore_prefetch_window():
    before = _core.config()["prefetch_window"]
    yield
    _core.set_prefetch_window(*before)


@pytest.mark.parametrize("n", [1, 513, 8193, 32_769, 100_003, 300_001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prefetching_keeps_every_bit(
    simd_target, rng, restore_prefetch_window, dtype, n
):
    # Contiguous reductions of some sizes fetch their inputs ahead of the loads
    # (PrefetchWindow in cpp/dispatch.hpp). The sums must not depend on it, on any
    # number of threads, for whole arrays and rows, every loss, weighted or not.
    t = rng.standard_normal((n, 3)).astype(dtype)
    p = (t + rng.standard_normal((n, 3))).astype(dtype)
    w = rng.random((n, 3)).astype(dtype)
    before = fm.get_num_threads()
    results = {}
    try:
        for window in ((0, 0, 0), (0, 2**62, 2**62)):
            _core.set_prefetch_window(*window)
            for threads in (1, 2, 3):
                fm.set_num_threads(threads)
                results[window, threads] = [
                    fm.mse(t, p),
                    fm.sse(t[:, 0], p[:, 0]),
                    fm.mse(t, p, axis=1).tolist(),
                    fm.mae(t, p),
                    fm.huber(t, p, delta=0.5),
                    fm.mse(t, p, sample_weight=w),
                    fm.mae(t[:, 0], p[:, 0], sample_weight=w[:, 0]),
                    fm.mse_value_and_grad(t, p)[0],
                ]
    finally:
        fm.set_num_threads(before)
    first = results[(0, 0, 0), 1]
    assert all(result == first for result in results.values())


def linux_cache_bytes(level):
    # The size of cpu0's data or unified cache of `level` as Linux reports it, or 0.
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        if (index / "level").read_text().strip() != str(level):
            continue
        if (index / "type").read_text().strip() == "Instruction":
            continue
        size = (index / "size").read_text().strip()
        return int(size[:-1]) << {"K": 10, "M": 20, "G": 30}[size[-1]]
    return 0


def test_default_prefetch_window_follows_the_caches():
    l1, l3 = linux_cache_bytes(1), linux_cache_bytes(3)
    expected = (l1, l3 // 4, l3 // 2) if l1 and l3 else (0, 0, 0)
    assert _core.config()["prefetch_window"] == expected


def test_nan_results_have_the_same_bits(simd_target, restore_split_conversions):
    # Two different NaNs (NaN and inf - inf): which one an addition returns depends on
    # its operand order, so every NaN result is the one quiet NaN, on every path.
    t = np.zeros(9, np.float32)
    p = np.zeros(9, np.float32)
    t[0] = np.nan
    t[8] = p[8] = np.inf
    w = np.ones(9, np.float32)
    strided_t = np.repeat(t, 2)[::2]
    strided_p = np.repeat(p, 2)[::2]
    results = []
    for split in (False, True):
        _core.set_split_conversions(split)
        results += [fm.mse(t, p), fm.mse(strided_t, strided_p), fm.mae(t, p)]
        results += [fm.mse(t, p, sample_weight=w), fm.huber(t, p, sample_weight=w)]
        results += [fm.mae_value_and_grad(t, p, sample_weight=w)[0]]
        results += [fm.mse(t[None], p[None], axis=-1)[0]]
    assert {np.float64(r).tobytes() for r in results} == {np.float64(np.nan).tobytes()}


def test_show_config_names_the_conversion_width(capsys, restore_split_conversions):
    for split in (False, True):
        _core.set_split_conversions(split)
        fm.show_config()
        printed = capsys.readouterr().out
        expected = split and fm.show_config(mode="dicts")["target"] == "avx512"
        assert ("(float32 widened in 256-bit halves)" in printed) == expected


PREFETCH_WINDOW_LINES = [
    ((3 << 19, 8 << 20, 16 << 20), "1.5 MiB to 8.0 MiB per thread, 16.0 MiB in all"),
    (
        (48 << 10, 120 << 20, 240 << 20),
        "48 KiB to 120.0 MiB per thread, 240.0 MiB in all",
    ),
    ((0, 1000, 5 << 30), "0 bytes to 1000 bytes per thread, 5.0 GiB in all"),
    ((0, 0, 0), "none (Linux reports no cache sizes)"),
    ((8 << 20, 2 << 20, 16 << 20), "none (empty window)"),
]


@pytest.mark.parametrize(("window", "text"), PREFETCH_WINDOW_LINES)
def test_show_config_names_the_prefetch_window(
    capsys, restore_prefetch_window, window, text
):
    info = fm.show_config(mode="dicts")
    prefetching = info["target"] in ("avx2", "avx512")
    _core.set_prefetch_window(*window)
    fm.show_config()
    expected = text if prefetching else "none ("
    assert f"prefetch window:     {expected}" in capsys.readouterr().out


def test_show_config_prefetch_with_halves(
    capsys, simd_target, restore_split_conversions
):
    # The AVX-512 float32 loop that widens in halves does not prefetch, but AVX2's does.
    _core.set_split_conversions(True)
    fm.show_config()
    lines = capsys.readouterr().out.splitlines()
    (line,) = [line for line in lines if "prefetch window:" in line]
    assert line.endswith("(float64 only)") == (simd_target == "avx512")


def test_show_config_prints(capsys):
    fm.show_config()
    printed = capsys.readouterr().out
    info = fm.show_config(mode="dicts")
    assert printed.startswith(f"fastmse {fm.__version__}")
    assert f"SIMD target chosen:  {info['target']}" in printed
    assert info["target"] in info["supported_targets"]
    assert set(info["supported_targets"]) <= set(info["built_targets"])
    assert info["openmp"] is True


def test_show_config_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'stdout' or 'dicts', not 'json'"):
        fm.show_config(mode="json")


def test_command_line_info():
    completed = subprocess.run(
        [sys.executable, "-m", "fastmse", "info"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert "SIMD target chosen:" in completed.stdout


def test_threadpoolctl_sees_and_limits_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = fm.get_num_threads()
    try:
        fm.set_num_threads(2)
        apis = {pool["user_api"] for pool in threadpoolctl.threadpool_info()}
        assert "openmp" in apis
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            assert fm.get_num_threads() == 1
        assert fm.get_num_threads() == 2
    finally:
        fm.set_num_threads(before)


def test_python_threads_share_kernels(rng):
    arrays = [(rng.standard_normal(200_000), rng.standard_normal(200_000)) for _ in range(8)]
    expected = [fm.mse(t, p) for t, p in arrays]
    results = [None] * len(arrays)

    def work(i):
        for _ in range(5):
            results[i] = fm.mse(*arrays[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(arrays))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def _child_results(queue):
    rng = np.random.default_rng(1)
    t = rng.standard_normal(200_000)
    p = rng.standard_normal(200_000)
    gradient = fm.mse_grad(t, p)
    queue.put(
        [fm.mse(t, p), fm.mse(t[::2], p[::2]), float(gradient.sum()), fm.get_num_threads()]
    )


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)
def test_forked_child_does_not_hang():
    fm.set_num_threads(2)
    rng = np.random.default_rng(1)
    t = rng.standard_normal(200_000)
    p = rng.standard_normal(200_000)
    expected = [fm.mse(t, p), fm.mse(t[::2], p[::2]), float(fm.mse_grad(t, p).sum())]

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_results, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in a kernel call")
    results = queue.get(timeout=5)
    assert results[:3] == expected
    assert results[3] == 1


def test_type_stubs_cover_the_compiled_module():
    import ast
    import pathlib

    package = pathlib.Path(fm.__file__).parent
    assert (package / "py.typed").exists()
    stub = ast.parse((package / "_core.pyi").read_text())
    stubbed = {
        node.name for node in stub.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    stubbed |= {node.target.id for node in stub.body if isinstance(node, ast.AnnAssign)}
    compiled = {name for name in dir(_core) if not name.startswith("__")}
    assert stubbed == compiled
    public = ast.parse((package / "_losses.pyi").read_text())
    stubbed_public = {node.name for node in public.body if isinstance(node, ast.FunctionDef)}
    assert set(fm._losses.__all__) <= stubbed_public
