"""Threads, SIMD target and build information."""

import numbers
import os
import sys
import warnings

import numpy as np

from . import _core

__all__ = ["empty_cache", "get_num_threads", "set_num_threads", "show_config"]

# A cap far above any machine fastmse targets, which stops a typo from asking OpenMP for
# millions of threads.
MAX_THREADS = 1024


def set_num_threads(n):
    """Set how many threads fastmse's kernels use, for the whole process.

    Parameters
    ----------
    n : int
        A number of threads from 1 to 1024. More threads than cores is allowed but
        rarely faster. Inputs below a size threshold always run on the calling thread.

    Raises
    ------
    TypeError
        If `n` is not an integer.
    ValueError
        If `n` is less than 1 or more than 1024.

    Notes
    -----
    The results never depend on the number of threads. A build without OpenMP, and a
    process forked from one that used fastmse's threads, run on one thread whatever is
    set here. ``threadpoolctl.threadpool_limits(1, user_api="openmp")`` also lowers
    fastmse's threads while it is active.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    n = int(n)
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n must be between 1 and {MAX_THREADS}, not {n}")
    _core.set_num_threads(n)


def get_num_threads():
    """Return the number of threads that a large call would use now."""
    return _core.get_num_threads()


def empty_cache():
    """Free the output buffers that fastmse keeps for reuse.

    Arrays that fastmse returns come from its own buffers. When a large one (1 MiB to
    1 GiB) is freed, fastmse keeps it, up to two buffers and 1 GiB in all, so that the
    next call of the same size skips the operating system's page faults. This returns
    that memory to the operating system; arrays still in use are not affected.
    """
    _core.clear_buffer_cache()


def _size_text(size):
    """Write a size in bytes as people read it: '0 bytes', '48 KiB', '120.0 MiB', '5.0 GiB'."""
    if size < 2**10:
        return f"{size} bytes"
    if size < 2**20:
        return f"{size // 2**10} KiB"
    if size < 2**30:
        return f"{size / 2**20:.1f} MiB"
    return f"{size / 2**30:.1f} GiB"


def show_config(mode="stdout"):
    """Show the version, compiler, SIMD targets, OpenMP, threads and prefetch window.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        Print a readable summary, or return it as a dict.

    Returns
    -------
    dict or None
        The configuration for ``mode="dicts"``, else None.
    """
    info = _core.config()
    if mode == "dicts":
        return info
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', not {mode!r}")

    threads = str(info["num_threads"])
    if not info["openmp"]:
        threads += " (built without OpenMP: single-threaded)"
    elif info["forked_child"]:
        threads += " (forked child: single-threaded)"
    target = info["target"]
    if target == "avx512" and info["split_conversions"]:
        # This CPU widens float32 to double faster 4 values at a time than 8.
        target += " (float32 widened in 256-bit halves)"
    window = info["prefetch_window"]
    low, high, total = window
    if info["target"] not in ("avx2", "avx512"):
        prefetch = "none (only the AVX2 and AVX-512 sums prefetch)"
    elif window == (0, 0, 0):
        prefetch = "none (Linux reports no cache sizes)"
    elif high <= max(low, 0) or total <= 0:
        prefetch = "none (empty window)"
    else:
        prefetch = (
            f"{_size_text(low)} to {_size_text(high)} per thread, {_size_text(total)} in all"
        )
        if info["target"] == "avx512" and info["split_conversions"]:
            # The float32 loop that widens in halves does not prefetch.
            prefetch += " (float64 only)"
    rows = [
        ("compiler", info["compiler"]),
        ("SIMD targets built", ", ".join(info["built_targets"])),
        ("SIMD targets usable", ", ".join(info["supported_targets"])),
        ("SIMD target chosen", target),
        ("OpenMP", "yes" if info["openmp"] else "no"),
        ("threads", threads),
        ("prefetch window", prefetch),
        ("cached memory", _size_text(info["cached_bytes"])),
        ("Python", sys.version.split()[0]),
    ]
    lines = [f"fastmse {info['version']}"]
    lines += [f"  {label + ':':<21}{value}" for label, value in rows]
    print("\n".join(lines))
    return None


def _threads_from_environment(usable_cores):
    """Return the default thread count: FASTMSE_NUM_THREADS, OMP_NUM_THREADS, or cores."""
    for variable in ("FASTMSE_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        # OMP_NUM_THREADS may list one count per nesting level; the first is the outer one.
        try:
            count = int(value.split(",")[0])
        except ValueError:
            count = 0
        if 1 <= count <= MAX_THREADS:
            return count
        warnings.warn(
            f"{variable}={value!r} is not an integer from 1 to {MAX_THREADS}; ignoring it",
            RuntimeWarning,
            stacklevel=4,
        )
    return usable_cores


def _apply_environment(usable_cores):
    """Apply FASTMSE_SIMD and the thread variables; called once at import.

    `usable_cores` must be read before the compiled module loads, because GNU OpenMP may
    pin the process to one CPU when it starts (with OMP_PROC_BIND=true).
    """
    cap = os.environ.get("FASTMSE_SIMD", "").strip().lower()
    if cap and not _core.select_best_target(cap):
        built = ", ".join(_core.config()["built_targets"])
        warnings.warn(
            f"FASTMSE_SIMD={cap!r} names no SIMD target of this build ({built}); "
            "ignoring it",
            RuntimeWarning,
            stacklevel=3,
        )
    _core.init_threads(_threads_from_environment(usable_cores))
