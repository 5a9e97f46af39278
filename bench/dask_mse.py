"""fastmse.dask.mse against Dask's own ((a - b) ** 2).mean(), on one local cluster.

Starts a dask.distributed LocalCluster on 127.0.0.1 (by default two worker
processes with one thread each), persists two random float64 Dask arrays on it, and
times both reductions on the same arrays, alternating them, beside a plain a.sum(): the
scheduling floor of one reduction on the cluster. Prints the median times, the ratio
(Dask's time over fastmse's, so above 1 means fastmse is faster) and each result's
error against MSEAccumulator's exactly rounded result.

    python bench/dask_mse.py [--size N] [--chunks K] [--repeats R] [--workers W]
"""

import argparse
import statistics
import time

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import fastmse
import fastmse.dask


def timed(compute, repeats):
    """Return the median wall time of compute() and its last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5 * 10**7)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with LocalCluster(
        n_workers=args.workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, Client(cluster) as client:
        chunk = -(-args.size // args.chunks)
        y_true = da.random.default_rng(1).standard_normal(args.size, chunks=chunk)
        y_pred = y_true + 0.5 * da.random.default_rng(2).standard_normal(
            args.size, chunks=chunk
        )
        y_true, y_pred = client.persist([y_true, y_pred])
        exact = fastmse.MSEAccumulator().update(y_true.compute(), y_pred.compute()).result()

        fastmse_times, dask_times, floor_times = [], [], []
        for _ in range(3):  # alternate, so that drift in the machine's speed hits all
            t, got = timed(lambda: fastmse.dask.mse(y_true, y_pred).compute(), args.repeats)
            fastmse_times.append(t)
            t, plain = timed(lambda: ((y_true - y_pred) ** 2).mean().compute(), args.repeats)
            dask_times.append(t)
            t, _ = timed(lambda: y_true.sum().compute(), args.repeats)
            floor_times.append(t)
        fastmse_time = statistics.median(fastmse_times)
        dask_time = statistics.median(dask_times)
        rows = [
            ("fastmse.dask.mse", fastmse_time, abs(got - exact) / exact),
            ("((a - b) ** 2).mean()", dask_time, abs(plain - exact) / exact),
            # The cost of one reduction on this cluster, whatever the kernel.
            ("a.sum() (floor)", statistics.median(floor_times), float("nan")),
        ]

        print(
            f"{args.size:,} float64 elements in {args.chunks} chunks, {args.workers} "
            f"workers x 1 thread, median of {args.repeats} x 3 runs"
        )
        print(f"{'call':<24} {'time':>10} {'relative error':>15}")
        for name, seconds, error in rows:
            print(f"{name:<24} {seconds * 1e3:8.1f} ms {error:15.1e}")
        print(f"ratio (Dask / fastmse): {dask_time / fastmse_time:.2f}")


if __name__ == "__main__":
    main()
