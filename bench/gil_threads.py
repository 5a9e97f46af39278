"""Measure how much faster Python threads run fastmse.mse than serial calls.

    python bench/gil_threads.py [--sizes 100000 1000000 10000000] [--threads 8]

fastmse releases the GIL for calls of 8192 elements or more. With fastmse set to one
OpenMP thread, N Python threads that each call mse on their own arrays should then
share the CPUs. The script times the same calls made serially from one thread and
concurrently from N threads, checks that both give the same bits, and prints the
speedup. Each timing is the median of --repeats runs, timed with time.perf_counter.
"""

import argparse
import os
import platform
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import fastmse


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def calls_for(size):
    """Return the calls that each thread makes per run: 2 * 10**7 elements in all."""
    return max(1, 2 * 10**7 // size)


def median_seconds(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(size, thread_count, usable, repeats, rng):
    pairs = [
        (rng.standard_normal(size), rng.standard_normal(size))
        for _ in range(thread_count)
    ]
    calls = calls_for(size)
    results = [None] * thread_count

    def work(index):
        t, p = pairs[index]
        for _ in range(calls):
            results[index] = fastmse.mse(t, p)

    def serial():
        for index in range(thread_count):
            work(index)

    def serial_round_robin():
        # Reads the arrays in the order the threads do, so it evicts the same cache
        # lines. Its gap to serial() is the cost of those misses, not of the GIL.
        for _ in range(calls):
            for index, (t, p) in enumerate(pairs):
                results[index] = fastmse.mse(t, p)

    with ThreadPoolExecutor(thread_count) as pool:
        # A barrier makes every thread start its calls at once.
        barrier = threading.Barrier(thread_count)

        def concurrent_work(index):
            barrier.wait()
            work(index)

        def concurrent():
            list(pool.map(concurrent_work, range(thread_count)))

        serial()
        expected = list(results)
        concurrent()
        if results != expected:
            raise AssertionError(
                f"threads gave {results}, serial calls gave {expected}"
            )

        fastmse.set_num_threads(1)
        serial_one = median_seconds(serial, repeats)
        round_robin_one = median_seconds(serial_round_robin, repeats)
        threaded_one = median_seconds(concurrent, repeats)
        fastmse.set_num_threads(usable)
        serial_openmp = median_seconds(serial, repeats)
        fastmse.set_num_threads(1)

    bytes_read = 2 * 8 * size * calls * thread_count
    return {
        "size": size,
        "calls": calls * thread_count,
        "serial": serial_one,
        "round_robin": round_robin_one,
        "threads": threaded_one,
        "openmp": serial_openmp,
        "gbps": bytes_read / threaded_one / 1e9,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10**5, 10**6, 10**7],
        help="float64 elements per array",
    )
    parser.add_argument("--threads", type=int, default=8, help="Python threads")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure")
    args = parser.parse_args()

    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    info = fastmse.show_config(mode="dicts")
    print(
        f"{cpu_model()}, {usable} usable CPUs, SIMD target {info['target']}, "
        f"fastmse {fastmse.__version__}, NumPy {np.__version__}"
    )
    print(
        f"{args.threads} Python threads, fastmse.mse on float64, median of "
        f"{args.repeats} runs. Every column but the last runs fastmse on 1 thread,"
    )
    print("and speedup is serial over threads.")
    print(
        "load average (1, 5, 15 min) before the runs: %.2f %.2f %.2f" % os.getloadavg()
    )
    print()
    print(
        "| elements | calls | serial | serial, round-robin | threads | speedup "
        f"| GB/s | serial, {usable} OpenMP threads |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")

    rng = np.random.default_rng(0)
    fastmse.set_num_threads(1)
    for size in args.sizes:
        row = measure(size, args.threads, usable, args.repeats, rng)
        speedup = row["serial"] / row["threads"]
        print(
            f"| {size:,} | {row['calls']} | {row['serial'] * 1e3:.1f} ms "
            f"| {row['round_robin'] * 1e3:.1f} ms | {row['threads'] * 1e3:.1f} ms "
            f"| {speedup:.2f} | {row['gbps']:.0f} | {row['openmp'] * 1e3:.1f} ms |"
        )
    # Other work on the machine slows the threaded columns most.
    print()
    print(
        "load average (1, 5, 15 min) after the runs: %.2f %.2f %.2f" % os.getloadavg()
    )


if __name__ == "__main__":
    main()
