"""Time fastmse against its peers and write report.md, results.json and throughput.png.

    python bench/report.py [--quick] [--large] [--linear-only] [--out DIR]
    python bench/report.py --compare OLD.json NEW.json

Every figure comes from this one process: fastmse, the peers and the stream_sum
bandwidth probe run on the same arrays, size after size. Each timing is the median of
repeated calls, timed with time.perf_counter, and each result is checked against an
exact reference (see mse_cases.exact_references). The linear-regression step runs
after the MSE kernels, on the shapes of X in linear_cases, and each of its results is
checked against fastmse.reference.linear_value_and_grad in float64.
"""

import argparse
import contextlib
import dataclasses
import datetime
import gc
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

import fastmse
import linear_cases
import mse_cases
import peers
import render

log = logging.getLogger("fastmse.bench")

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
# The peers that mse also meets call against call (see time_pairs). Their threads are
# OpenMP threads of the runtime that fastmse uses, or they run on the calling thread,
# so neither call of a pair waits for the other library's threads to go idle.
HEAD_TO_HEAD_PEERS = ("numba", "simsimd")
QUICK_SIZES = (10**3, 10**4, 10**5, 10**6)


@dataclasses.dataclass(frozen=True)
class TimingPolicy:
    """How long to time one candidate on one input."""

    # Target total time of one candidate's repeats in seconds, over all its turns.
    # The repeat count adapts to it.
    budget: float
    # The candidates of one kernel take this many turns each (see time_calls).
    turns: int
    # Bounds on the repeats of one candidate, over all its turns.
    min_repeats: int
    max_repeats: int
    # Each repeat makes enough calls to last this long, in seconds, so that the
    # resolution of perf_counter does not blur calls of a microsecond.
    min_repeat_time: float


FULL_POLICY = TimingPolicy(
    budget=0.4, turns=4, min_repeats=8, max_repeats=100, min_repeat_time=1e-3
)
QUICK_POLICY = TimingPolicy(
    budget=0.02, turns=2, min_repeats=4, max_repeats=16, min_repeat_time=2e-4
)


def calls_per_repeat(calls, policy):
    """Return the cost estimate of one call and the calls that make up a repeat.

    Each of `calls` runs twice first, and the fastest run is the estimate, because
    the first call after another library's can wait for that library's threads to go
    idle. A repeat makes enough calls to last policy.min_repeat_time.
    """
    estimates = []
    for call in calls * 2:
        start = time.perf_counter()
        call()
        estimates.append(time.perf_counter() - start)
    estimate = max(min(estimates), 1e-9)
    return estimate, max(1, math.ceil(policy.min_repeat_time / estimate))


@contextlib.contextmanager
def gc_paused():
    """Turn garbage collection off inside the block, so it never lands in a timing."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()


def time_turn(call, policy):
    """Time one turn of `call` and return the seconds per call of each repeat."""
    estimate, number = calls_per_repeat([call], policy)
    repeats = int(policy.budget / policy.turns / (estimate * number))
    low = math.ceil(policy.min_repeats / policy.turns)
    high = math.ceil(policy.max_repeats / policy.turns)
    repeats = min(max(repeats, low), high)

    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        seconds.append((time.perf_counter() - start) / number)
    return seconds


def time_calls(calls, policy):
    """Time each of `calls` and return, in the same order, its timing or its exception.

    A timing contains the median and the minimum seconds per call, the count of
    repeats and the median of each turn. The calls take `policy.turns` turns each, in
    an order that rotates from turn to turn, and each turn gets an equal share of the
    budget. The speed of the shared development machine drifts over seconds: its
    memory bandwidth changed from 48 to 31 GB/s within one process on the same
    arrays. Taking turns spreads every call's repeats over the same stretch of time,
    so the drift moves fastmse and its peers alike, and their ratios hold steadier
    than when each call is timed once.

    Within a turn the repeats run back to back rather than interleaved call by call.
    Interleaving single calls would add the wait for another library's threads to
    many repeats: on a 2-core machine, a 2-thread OpenMP call right after a 2-thread
    OpenBLAS call was measured to take about 8 ms, one scheduler time slice. Garbage
    collection is off while timing.
    """
    seconds = [[] for _ in calls]
    turn_medians = [[] for _ in calls]
    failures = [None] * len(calls)
    with gc_paused():
        for turn in range(policy.turns):
            for offset in range(len(calls)):
                index = (turn + offset) % len(calls)
                if failures[index] is not None:
                    continue
                try:
                    times = time_turn(calls[index], policy)
                except Exception as exception:
                    # A peer that fails on one input must not end the run.
                    failures[index] = exception
                    continue
                seconds[index] += times
                turn_medians[index].append(statistics.median(times))

    timings = []
    for times, medians, failure in zip(seconds, turn_medians, failures):
        if failure is not None:
            timings.append(failure)
            continue
        timings.append(
            {
                "median_s": statistics.median(times),
                "min_s": min(times),
                "repeats": len(times),
                "turn_medians_s": medians,
            }
        )
    return timings


def finite_or_none(value):
    """Return `value` as a float, or None for NaN and infinity, which JSON lacks."""
    value = float(value)
    return value if math.isfinite(value) else None


def time_pairs(first, second, policy):
    """Time `first` and `second` in alternation and return the ratios second / first.

    Each pair times one repeat of each call, back to back, and swaps their order from
    pair to pair. The two timings of a pair lie at most a few milliseconds apart, so
    the drift of the machine's speed over seconds cancels out of their ratio. Garbage
    collection is off while timing.
    """
    calls = (first, second)
    estimate, number = calls_per_repeat(calls, policy)
    pairs = int(policy.budget / (2 * estimate * number))
    pairs = min(max(pairs, policy.min_repeats), policy.max_repeats)

    ratios = []
    with gc_paused():
        for pair in range(pairs):
            seconds = [0.0, 0.0]
            for index in (0, 1) if pair % 2 == 0 else (1, 0):
                start = time.perf_counter()
                for _ in range(number):
                    calls[index]()
                seconds[index] = time.perf_counter() - start
            ratios.append(seconds[1] / seconds[0])
    return ratios


def cpu_usage():
    """Return the busy seconds of all CPUs and the CPU seconds of this process.

    The busy time comes from the first line of /proc/stat: every state but idle and
    waiting for I/O, with steal (time the hypervisor gave to other machines). Returns
    None where /proc/stat is missing.
    """
    try:
        with open("/proc/stat") as stat:
            # user, nice, system, idle, iowait, irq, softirq and steal. The guest
            # fields that follow are already part of user and nice.
            ticks = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]
    own = os.times()
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), own.user + own.system


# The shortest block whose share of other processes' CPU time is reported (see
# others_cpu_share).
MIN_SHARE_SECONDS = 0.5


@contextlib.contextmanager
def others_cpu_share():
    """Measure the share of the CPUs that other processes kept busy inside the block.

    Yields a dict whose "share" is set on exit: the busy CPU time of the whole machine
    minus this process's, over the block's wall time times the CPU count. Unlike the
    load average, which trails by a minute, it covers exactly the block. It is None
    without /proc/stat, and for blocks shorter than MIN_SHARE_SECONDS, since both
    times count in ticks of 10 ms.
    """
    result = {"share": None}
    before, start = cpu_usage(), time.perf_counter()
    yield result
    after, wall = cpu_usage(), time.perf_counter() - start
    if before is not None and after is not None and wall >= MIN_SHARE_SECONDS:
        others = (after[0] - before[0]) - (after[1] - before[1])
        share = others / (wall * (os.cpu_count() or 1))
        result["share"] = min(1.0, max(0.0, share))


def record_failure(record, case, exception):
    """Log that a candidate failed on `case` and mark its record failed."""
    log.warning(
        "%s %s failed on %s: %r", record["library"], record["kernel"], case, exception
    )
    record.update(status="failed", message=repr(exception))


def measure_candidates(candidates, records, inputs, check, case, policy, rate_fields):
    """Check and time `candidates` on `inputs` and complete their `records`.

    check(candidate, result) checks one result and returns what the record gets from
    the check. The candidates that pass it are timed together by time_calls. A
    candidate that raises is logged as failing on `case`, a description of `inputs`,
    and its record is marked failed. The others get status "ok", their timing, their
    load average and a rate in GB/s: rate_fields names the record's field of bytes
    and the field for the rate.
    """
    bytes_field, rate_field = rate_fields
    calls, checks = {}, {}
    for index, (candidate, record) in enumerate(zip(candidates, records)):
        try:
            call = candidate.prepare(inputs)
            checks[index] = check(candidate, call())
            calls[index] = call
        except Exception as exception:
            # Catches everything, because a peer that fails on one input must not
            # end the run.
            record_failure(record, case, exception)

    with others_cpu_share() as others:
        timings = time_calls(list(calls.values()), policy)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for index, timing in zip(calls, timings):
        record = records[index]
        if isinstance(timing, Exception):
            record_failure(record, case, timing)
            continue
        record.update(
            status="ok",
            load_average=load,
            others_cpu_share=others["share"],
            **timing,
            **checks[index],
        )
        record[rate_field] = record[bytes_field] / timing["median_s"] / 1e9


def measure_kernel(candidates, inputs, references, threads, policy):
    """Check and time the candidates of one kernel and return their records.

    Each result is checked against references[candidate.kernel].
    """
    dtype = inputs.y_true.dtype
    records = [
        {
            "kernel": candidate.kernel,
            "library": candidate.library,
            "size": inputs.size,
            "dtype": dtype.name,
            "threads": threads,
            "bytes": mse_cases.ARRAYS_MOVED[candidate.kernel]
            * inputs.size
            * dtype.itemsize,
        }
        for candidate in candidates
    ]

    def check(candidate, result):
        error = mse_cases.relative_error(result, references[candidate.kernel])
        rtol = candidate.rtol(dtype)
        return {
            "relative_error": finite_or_none(error),
            "rtol": rtol,
            "within_tolerance": bool(error <= rtol),
        }

    case = f"n={inputs.size} {dtype.name} with {threads} threads"
    rate_fields = ("bytes", "gb_per_s")
    measure_candidates(candidates, records, inputs, check, case, policy, rate_fields)
    return records


def measure_head_to_head(inputs, threads, policy, missing_packages):
    """Time fastmse against other calls in pairs and return their records.

    mse meets each of HEAD_TO_HEAD_PEERS, and mse_value_and_grad meets mse followed
    by mse_grad, whose library is "mse + mse_grad". A record gives the median and the
    quartiles of the pairs' ratios, the other call's time over fastmse's time.
    measure_kernel has already checked every result on these inputs.
    """
    dtype = inputs.y_true.dtype
    case = f"n={inputs.size} {dtype.name} with {threads} threads, head to head"

    def prepare_fastmse(kernel, data):
        return peers.fastmse_candidate(kernel).prepare(data)

    def separate_calls(data):
        mse, mse_grad = prepare_fastmse("mse", data), prepare_fastmse("mse_grad", data)
        return lambda: (mse(), mse_grad())

    opponents = [
        ("mse", library, peers.peer_candidate("mse", library).prepare)
        for library in HEAD_TO_HEAD_PEERS
        if mse_cases.PEER_PACKAGES[library] not in missing_packages
    ]
    opponents.append(("mse_value_and_grad", "mse + mse_grad", separate_calls))

    records = []
    for kernel, library, prepare in opponents:
        record = {
            "kernel": kernel,
            "library": library,
            "size": inputs.size,
            "dtype": dtype.name,
            "threads": threads,
        }
        try:
            fastmse_call = prepare_fastmse(kernel, inputs)
            other_call = prepare(inputs)
            with others_cpu_share() as others:
                ratios = time_pairs(fastmse_call, other_call, policy)
        except Exception as exception:
            # A peer that fails on one input must not end the run.
            record_failure(record, case, exception)
        else:
            quartiles = statistics.quantiles(ratios, n=4)
            record.update(
                status="ok",
                pairs=len(ratios),
                ratio_median=statistics.median(ratios),
                ratio_q1=quartiles[0],
                ratio_q3=quartiles[2],
                others_cpu_share=others["share"],
            )
        records.append(record)
    return records


def run_benchmarks(sizes, policy, missing_packages):
    """Measure every kernel, candidate, size, dtype and thread count.

    Returns one record per measurement, stream_sum's first in each group, and the
    records of measure_head_to_head.
    """
    records, head_to_head = [], []
    for size in sizes:
        for dtype in mse_cases.DTYPES:
            inputs = mse_cases.make_inputs(size, dtype)
            references = mse_cases.exact_references(inputs)
            for threads in mse_cases.thread_counts():
                start = time.perf_counter()
                with mse_cases.thread_limit(threads):
                    for kernel in mse_cases.KERNELS:
                        candidates = kernel_candidates(kernel)
                        if kernel == "mse":
                            # stream_sum takes turns with mse, so that mse's share of
                            # the bandwidth compares timings of the same seconds.
                            candidates = kernel_candidates("stream_sum") + candidates
                        candidates = [
                            candidate
                            for candidate in candidates
                            if candidate.package not in missing_packages
                        ]
                        records += measure_kernel(
                            candidates, inputs, references, threads, policy
                        )
                    head_to_head += measure_head_to_head(
                        inputs, threads, policy, missing_packages
                    )
                log.info(
                    "n=%s %s threads=%d: done in %.1f s",
                    mse_cases.size_label(size),
                    np.dtype(dtype).name,
                    threads,
                    time.perf_counter() - start,
                )
    return records, head_to_head


def measure_linear(candidates, inputs, reference, threads, policy):
    """Check and time the linear-step candidates and return their records."""
    records = [
        {
            "kernel": linear_cases.KERNEL,
            "library": candidate.library,
            "shape": list(inputs.shape),
            "dtype": inputs.dtype.name,
            "threads": threads,
            "x_bytes": inputs.x_bytes,
        }
        for candidate in candidates
    ]

    def check(candidate, result):
        errors = candidate.errors(result, reference)
        rtol = candidate.rtol(inputs.dtype)
        return {
            "relative_error": {
                part: finite_or_none(error) for part, error in errors.items()
            },
            "rtol": rtol,
            "within_tolerance": all(errors[part] <= rtol[part] for part in errors),
        }

    case = f"X of shape {inputs.shape} {inputs.dtype.name} with {threads} threads"
    rate_fields = ("x_bytes", "x_gb_per_s")
    measure_candidates(candidates, records, inputs, check, case, policy, rate_fields)
    return records


def run_linear_benchmarks(shapes, policy, missing_packages):
    """Measure every linear-step candidate on every shape, dtype and thread count.

    Returns one record per measurement, in the order measured.
    """
    records = []
    for shape in shapes:
        for dtype in linear_cases.DTYPES:
            inputs = linear_cases.make_inputs(shape, dtype)
            reference = linear_cases.compute_reference(inputs)
            for threads in mse_cases.thread_counts():
                start = time.perf_counter()
                candidates = [
                    linear_cases.CANDIDATES[library]
                    for library in linear_cases.LIBRARIES
                    if linear_cases.CANDIDATES[library].package not in missing_packages
                ]
                with mse_cases.thread_limit(threads):
                    records += measure_linear(
                        candidates, inputs, reference, threads, policy
                    )
                log.info(
                    "%s X=%s %s threads=%d: done in %.1f s",
                    linear_cases.KERNEL,
                    linear_cases.shape_label(shape),
                    np.dtype(dtype).name,
                    threads,
                    time.perf_counter() - start,
                )
            # Frees the largest inputs (410 MB in float64) before the next are drawn.
            del inputs, reference
    return records


def summarize_linear(records):
    """Return one summary per linear case: each candidate's time and the ratios.

    The speed-ups are the peer's time over fastmse's, so above 1 means fastmse is
    faster. fastmse_over_read_x is fastmse's time over the time of one read of X, so
    1.0 means that the step runs as fast as X can be read. A ratio is None when one of
    its two measurements failed.
    """
    times = {}
    for record in records:
        if record["status"] != "ok":
            continue
        case = (tuple(record["shape"]), record["dtype"], record["threads"])
        times.setdefault(case, {})[record["library"]] = record["median_s"]

    def ratio(numerator, denominator):
        if numerator is None or denominator is None:
            return None
        return numerator / denominator

    summaries = []
    for (shape, dtype, threads), seconds in times.items():
        fastmse_s = seconds.get("fastmse")
        summaries.append(
            {
                "shape": list(shape),
                "dtype": dtype,
                "threads": threads,
                "median_s": {
                    library: seconds.get(library) for library in linear_cases.LIBRARIES
                },
                "speedup_vs_numpy": ratio(seconds.get("numpy"), fastmse_s),
                "speedup_vs_torch": ratio(seconds.get("torch-autograd"), fastmse_s),
                "fastmse_over_read_x": ratio(fastmse_s, seconds.get("read-x")),
            }
        )
    return summaries


def kernel_candidates(kernel):
    if kernel == "stream_sum":
        return [peers.fastmse_candidate("stream_sum")]
    return peers.candidates(kernel)


def read_cpu_info():
    """Return the CPU model and the number of physical cores from /proc/cpuinfo.

    Either is None where /proc/cpuinfo is missing or lacks the field.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or None, None

    model = None
    cores = set()
    for block in text.strip().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        model = model or fields.get("model name")
        if "core id" in fields:
            cores.add((fields.get("physical id"), fields["core id"]))
    return model, len(cores) or None


def read_memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def package_versions():
    versions = {}
    for name, distribution in mse_cases.DISTRIBUTIONS.items():
        try:
            versions[name] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def run_git(*arguments):
    """Return git's stripped output in bench/'s repository, or None if git fails."""
    try:
        completed = subprocess.run(
            ["git", *arguments],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def describe_source():
    """Return the git commit of the checkout and where fastmse was imported from.

    The installed fastmse can differ from the checkout, for example after an edit
    without a reinstall, so the build time of its compiled module is recorded too.
    """
    core = Path(fastmse._core.__file__)
    built = datetime.datetime.fromtimestamp(core.stat().st_mtime, datetime.timezone.utc)
    status = run_git("status", "--porcelain")
    return {
        "git_commit": run_git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "fastmse_path": str(core.parent),
        "fastmse_core_built": built.isoformat(timespec="seconds"),
    }


def describe_machine():
    """Return the CPU, memory, SIMD target, package versions and thread pools."""
    model, physical_cores = read_cpu_info()
    config = fastmse.show_config(mode="dicts")
    threadpoolctl = sys.modules.get("threadpoolctl")
    variables = (
        "FASTMSE_SIMD",
        "FASTMSE_NUM_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "NUMBA_NUM_THREADS",
    )
    return {
        "cpu_model": model,
        "physical_cores": physical_cores,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": mse_cases.all_threads(),
        "memory_gib": read_memory_gib(),
        "simd_target": config["target"],
        "fastmse_config": config,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "environment": {name: os.environ.get(name) for name in variables},
        "threadpools": threadpoolctl.threadpool_info() if threadpoolctl else None,
        "reference_method": mse_cases.REFERENCE_METHOD,
    }


def choose_sizes(arguments):
    if arguments.linear_only:
        return []
    if arguments.sizes:
        sizes = list(arguments.sizes)
    else:
        sizes = list(QUICK_SIZES if arguments.quick else mse_cases.SIZES)
    if arguments.large:
        sizes.append(mse_cases.LARGE_SIZE)
    return sorted(set(sizes))


def validate_sizes(sizes, parser):
    for size in sizes:
        if size < mse_cases.ROW_LENGTH or size % mse_cases.ROW_LENGTH:
            parser.error(
                f"--sizes must be positive multiples of {mse_cases.ROW_LENGTH}, "
                f"the row length of the axis=-1 benchmark; got {size}"
            )


def write_outputs(document, out):
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results_path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    (out / "report.md").write_text(render.markdown_report(document))
    written = [results_path, out / "report.md"]
    if render.plot_throughput(document, out / "throughput.png"):
        written.append(out / "throughput.png")
    for path in written:
        log.info("wrote %s", path)


def run_report(arguments, sizes):
    """Run the benchmarks, write the outputs and return the exit status."""
    missing = mse_cases.import_optional_packages()
    for package in missing:
        log.warning("%s could not be imported, so its benchmarks are skipped", package)

    # Described before the run: the installed fastmse may be rebuilt meanwhile, but
    # this process keeps the compiled module that it imported.
    machine = describe_machine()
    source = describe_source()
    policy = QUICK_POLICY if arguments.quick else FULL_POLICY
    shapes = linear_cases.QUICK_SHAPES if arguments.quick else linear_cases.SHAPES
    started = datetime.datetime.now(datetime.timezone.utc)
    records, head_to_head = run_benchmarks(sizes, policy, missing)
    linear_records = run_linear_benchmarks(shapes, policy, missing)
    finished = datetime.datetime.now(datetime.timezone.utc)

    document = {
        "machine": machine,
        "source": source,
        "settings": {
            "command": " ".join(["python", "bench/report.py", *arguments.argv]),
            "sizes": sizes,
            "thread_counts": mse_cases.thread_counts(),
            "timing_policy": dataclasses.asdict(policy),
            "row_length": mse_cases.ROW_LENGTH,
            "linear_shapes": [list(shape) for shape in shapes],
            "missing_packages": missing,
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
        },
        "results": records,
        "head_to_head": head_to_head,
        "linear_results": linear_records,
        "linear_summary": summarize_linear(linear_records),
    }
    write_outputs(document, arguments.out)

    # read-x is fastmse's stream_sum, so it is checked like fastmse's own kernels.
    wrong = [
        record
        for record in records + linear_records
        if record["library"] in ("fastmse", "read-x")
        and not record.get("within_tolerance", False)
    ]
    for record in wrong:
        log.error("fastmse result failed its check: %s", record)
    return 1 if wrong else 0


def compare(old_path, new_path):
    """Print new time / old time for every measurement found in both result files."""
    old = json.loads(Path(old_path).read_text())
    new = json.loads(Path(new_path).read_text())
    for field in ("cpu_model", "simd_target", "usable_cpus"):
        if old["machine"].get(field) != new["machine"].get(field):
            print(
                f"note: {field} differs ({old['machine'].get(field)} -> "
                f"{new['machine'].get(field)}), so the ratios mix machines"
            )

    def index(document):
        records = {
            (r["kernel"], r["library"], r["size"], r["dtype"], r["threads"]): r
            for r in document["results"]
            if r["status"] == "ok"
        }
        # Files written before the linear step was benchmarked have no linear_results.
        for r in document.get("linear_results", []):
            if r["status"] == "ok":
                label = "X=" + linear_cases.shape_label(r["shape"])
                records[
                    (r["kernel"], r["library"], label, r["dtype"], r["threads"])
                ] = r
        return records

    old_records, new_records = index(old), index(new)
    print(render.comparison_table(old_records, new_records))
    return 0


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Time fastmse against NumPy, scikit-learn, PyTorch, numexpr, Numba "
        "and SimSIMD, and write report.md, results.json and throughput.png."
    )

    parser.add_argument(
        "--quick",
        action="store_true",
        help="time sizes 10**3 to 10**6, and the linear step on X of shape "
        "(10**5, 16) only, with fewer repeats, in about a minute",
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="also time 5*10**7 elements (about 4 GB of memory in all)",
    )
    parser.add_argument(
        "--linear-only",
        action="store_true",
        help="time only the linear-regression step, not the MSE kernels "
        "(ignores --large)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for the outputs (default: bench/results)",
    )

    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="print the ratio new / old of every time in two results.json files, "
        "then exit without benchmarking",
    )
    # Exact sizes, for tests that need a run of a few seconds.
    parser.add_argument("--sizes", nargs="+", type=int, help=argparse.SUPPRESS)

    arguments = parser.parse_args(argv)
    arguments.argv = list(argv)
    sizes = choose_sizes(arguments)
    validate_sizes(sizes, parser)
    return arguments, sizes


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments, sizes = parse_arguments(argv)
    if arguments.compare:
        return compare(*arguments.compare)
    return run_report(arguments, sizes)


if __name__ == "__main__":
    sys.exit(main())
