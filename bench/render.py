"""Render report.py's records as Markdown tables, a throughput plot and comparisons."""

import math
import statistics

import mse_cases
import peers

ROW = mse_cases.ROW_LENGTH
KERNEL_TITLES = {
    "mse": "mse",
    "sse": "sse",
    "mse_axis": f"mse, axis=-1 on shape (n / {ROW}, {ROW})",
    "mse_weighted": "mse with sample_weight",
    "mse_grad": "mse_grad",
    "mse_value_and_grad": "mse_value_and_grad",
    "mae": "mae",
    "huber": f"huber, delta={mse_cases.HUBER_DELTA}",
    "mse_loss_torch": "fastmse.torch.mse_loss, forward and backward",
}


def format_seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def format_error(error):
    if error is None:
        return "n/a"
    if error == 0:
        return "0"
    return f"{error:.1e}"


def row_key(record):
    return (record["size"], record["dtype"], record["threads"])


def index_records(records):
    """Map (kernel, library, size, dtype, threads) to each successful record."""
    return {
        (record["kernel"], record["library"], *row_key(record)): record
        for record in records
        if record["status"] == "ok"
    }


# The share of the CPUs that other processes may use during a run before the report
# warns that its timings are unreliable.
OTHERS_SHARE_LIMIT = 0.1


def timed_records(document):
    """Return the records of the MSE kernels and of the linear step."""
    return document["results"] + document.get("linear_results", [])


def others_shares(document):
    """Return the shares of the CPUs that other processes used while calls were timed."""
    records = timed_records(document) + document.get("head_to_head", [])
    return [
        r["others_cpu_share"] for r in records if r.get("others_cpu_share") is not None
    ]


def machine_lines(document):
    machine = document["machine"]
    settings = document["settings"]
    config = machine["fastmse_config"]
    packages = ", ".join(
        f"{name} {version}" for name, version in machine["packages"].items() if version
    )
    environment = ", ".join(
        f"{name}={value}" for name, value in machine["environment"].items() if value
    )
    policy = settings["timing_policy"]
    loads = [
        r["load_average"] for r in timed_records(document) if r.get("load_average")
    ]
    load = f"{min(loads):.2f} to {max(loads):.2f}" if loads else "not available"

    cpu = (
        f"- CPU: {machine['cpu_model']}, {machine['physical_cores']} physical cores, "
        f"{machine['usable_cpus']} usable CPUs, {machine['memory_gib']} GiB of memory"
    )
    build = (
        f"- fastmse {config['version']} built with {config['compiler']}, SIMD target "
        f"{machine['simd_target']} (built: {', '.join(config['built_targets'])}), "
        f"OpenMP {'on' if config['openmp'] else 'off'}"
    )
    command = (
        f"- Command: `{settings['command']}`, from {settings['started']} "
        f"to {settings['finished']} (UTC)"
    )
    timing = (
        f"- Timing: median of {policy['min_repeats']} to {policy['max_repeats']} "
        f"repeats, about {policy['budget']} s per measurement, in "
        f"{policy['turns']} turns that the candidates of a kernel take in rotation "
        f"(with `stream_sum` among `mse`'s). Each repeat makes enough calls to last "
        f"{policy['min_repeat_time'] * 1e3:g} ms"
    )
    source = document["source"]
    commit = (source["git_commit"] or "unknown")[:12]
    dirty = " with uncommitted changes" if source["git_dirty"] else ""
    source_line = (
        f"- Source: git {commit}{dirty}, fastmse imported from "
        f"{source['fastmse_path']}, compiled module built {source['fastmse_core_built']}"
    )
    load_line = (
        f"- 1-minute load average during the run: {load}. Another process on the "
        "CPUs slows the multi-threaded timings most, since every OpenMP call waits "
        "for its slowest thread"
    )
    shares = others_shares(document)
    if shares:
        load_line += (
            f". Other processes (and the hypervisor's steal) used {min(shares):.0%} "
            f"to {max(shares):.0%} of the CPUs while calls were timed, by /proc/stat"
        )
    return [
        cpu,
        build,
        source_line,
        f"- Python {machine['python']} on {machine['platform']}",
        f"- Packages: {packages}",
        f"- Environment: {environment or 'no thread or SIMD variables set'}",
        command,
        timing,
        f"- Reference for the errors: {machine['reference_method']}",
        load_line,
    ]


def load_warning(document):
    """Return a warning paragraph when other processes loaded the CPUs, else []."""
    cpus = document["machine"]["usable_cpus"]
    loads = [
        r["load_average"] for r in timed_records(document) if r.get("load_average")
    ]
    shares = others_shares(document)
    if shares:
        # Measured over each timing itself, unlike the load average, which still
        # counts a build that ended a minute before the run.
        if max(shares) <= OTHERS_SHARE_LIMIT:
            return []
        reason = (
            f"other processes used up to {max(shares):.0%} of the CPUs while calls "
            "were timed"
        )
    else:
        # This run keeps at most `cpus` threads busy, apart from the idle spinning of
        # a peer's thread pool, so a higher load means other processes were running.
        if not loads or max(loads) <= cpus:
            return []
        reason = f"the load average reached {max(loads):.1f} on {cpus} CPUs"
    warning = (
        f"**Warning:** {reason}, so other processes competed for the CPUs. The "
        "multi-threaded timings are the least reliable: an OpenMP call whose thread "
        "waits for a busy CPU takes a whole scheduler time slice (several ms)."
    )
    return [warning, ""]


READING_NOTES = """\
How to read the tables:

- *time* is fastmse's median time per call.
- *GB/s* divides the bytes of the arrays that one call reads and writes (each array
  counted once) by that time.
- *% stream* compares that rate with fastmse's `stream_sum`, a plain sum of two arrays
  measured on the same size, dtype and threads.
- A peer's cell gives its time divided by fastmse's, so above 1 means fastmse is
  faster, then in brackets the relative error of its result. *fastest peer* names the
  quickest peer and the same ratio, then in brackets the lowest and highest ratio of
  the medians of single turns (see *Timing* above).
- Errors are relative to an exact reference: |result - exact| / |exact| for a scalar,
  and max |result - exact| / max |exact| for an array.
- SimSIMD and scikit-learn have no thread setting: they run on one thread (apart from
  NumPy's BLAS calls inside scikit-learn) in the rows for every thread count.
"""


def stream_table(index, rows):
    lines = [
        "| size | dtype | threads | time | GB/s |",
        "|---:|---|---:|---:|---:|",
    ]
    for size, dtype, threads in rows:
        record = index.get(("stream_sum", "fastmse", size, dtype, threads))
        if record is None:
            continue
        lines.append(
            f"| {size:,} | {dtype} | {threads} | {format_seconds(record['median_s'])} "
            f"| {record['gb_per_s']:.1f} |"
        )
    return lines


def peer_cell(peer, fastmse_record):
    if peer is None:
        return "failed"
    ratio = peer["median_s"] / fastmse_record["median_s"]
    return f"{ratio:.2f} ({format_error(peer['relative_error'])})"


def fastest_peer_cell(kernel, libraries, index, row, fastmse_record):
    times = {
        library: index[(kernel, library, *row)]["median_s"]
        for library in libraries
        if (kernel, library, *row) in index
    }
    if not times:
        return "n/a"
    library = min(times, key=times.get)
    cell = f"{library} {times[library] / fastmse_record['median_s']:.2f}"
    spread = turn_ratio_range(index[(kernel, library, *row)], fastmse_record)
    return f"{cell} ({spread[0]:.2f} to {spread[1]:.2f})" if spread else cell


def turn_ratio_range(peer, fastmse_record):
    """Return the lowest and highest turn-by-turn ratio of peer time to fastmse's.

    Turn k of every candidate ran within the same few seconds, so the range shows how
    far the machine's drift moved the ratio during the run. Returns None for records
    without turns, from results.json files written before turns.
    """
    peer_turns = peer.get("turn_medians_s")
    fastmse_turns = fastmse_record.get("turn_medians_s")
    if not peer_turns or not fastmse_turns or len(peer_turns) != len(fastmse_turns):
        return None
    ratios = [a / b for a, b in zip(peer_turns, fastmse_turns)]
    return min(ratios), max(ratios)


def value_and_grad_cell(index, row, fastmse_record):
    """Return mse_value_and_grad's time over the time of mse plus mse_grad."""
    parts = [index.get((kernel, "fastmse", *row)) for kernel in ("mse", "mse_grad")]
    if None in parts:
        return "n/a"
    separate = sum(part["median_s"] for part in parts)
    return f"{fastmse_record['median_s'] / separate:.2f}"


def kernel_table(kernel, records, index, rows):
    """Return the Markdown lines of one kernel's table."""
    measured = {record["library"] for record in records if record["kernel"] == kernel}
    libraries = [library for library in peers.PEERS[kernel] if library in measured]
    header = ["size", "dtype", "threads", "time", "GB/s", "% stream", "error"]
    if kernel == "mse_value_and_grad":
        header.append("vs mse + mse_grad")
    header += ["fastest peer"] + libraries
    align = ["---:", "---", "---:", "---:", "---:", "---:", "---:"]
    align += ["---:"] * (len(header) - len(align))
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]

    for row in rows:
        record = index.get((kernel, "fastmse", *row))
        if record is None:
            continue
        stream = index.get(("stream_sum", "fastmse", *row))
        share = f"{record['gb_per_s'] / stream['gb_per_s']:.0%}" if stream else "n/a"
        size, dtype, threads = row
        cells = [
            f"{size:,}",
            dtype,
            str(threads),
            format_seconds(record["median_s"]),
            f"{record['gb_per_s']:.1f}",
            share,
            format_error(record["relative_error"]),
        ]
        if kernel == "mse_value_and_grad":
            cells.append(value_and_grad_cell(index, row, record))
        cells.append(fastest_peer_cell(kernel, libraries, index, row, record))
        cells += [
            peer_cell(index.get((kernel, library, *row)), record)
            for library in libraries
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def failure_lines(records):
    lines = []
    for record in records:
        if record["status"] == "failed":
            lines.append(
                f"- {record['library']} {record['kernel']} on n={record['size']:,} "
                f"{record['dtype']} threads={record['threads']}: {record['message']}"
            )
        elif not record["within_tolerance"]:
            lines.append(
                f"- {record['library']} {record['kernel']} on n={record['size']:,} "
                f"{record['dtype']} threads={record['threads']}: relative error "
                f"{format_error(record['relative_error'])} exceeds {record['rtol']:g}"
            )
    return lines


HEAD_TO_HEAD_NOTES = """\
fastmse against another call on the same inputs, timed in pairs: each pair times a
repeat of fastmse and a repeat of the other call back to back, so that both meet the
same state of the machine. `mse` meets Numba's and SimSIMD's, and
`mse_value_and_grad` meets `mse` followed by `mse_grad`. *other / fastmse* is the
median of the pairs' ratios, the other call's time over fastmse's (above 1 means
fastmse is faster), and *middle half* gives their quartiles. These ratios drift much
less than the tables' ratios of medians taken seconds apart.
"""


def head_to_head_table(records):
    """Return the Markdown lines of the head-to-head table."""
    lines = [
        (
            "| call | size | dtype | threads | other | other / fastmse | middle half "
            "| pairs |"
        ),
        "|---|---:|---|---:|---|---:|---:|---:|",
    ]
    order = sorted(records, key=lambda r: (r["kernel"], *row_key(r), r["library"]))
    for record in order:
        size, dtype, threads = row_key(record)
        row = (
            f"| `{record['kernel']}` | {size:,} | {dtype} | {threads} "
            f"| {record['library']} | "
        )
        if record["status"] != "ok":
            lines.append(row + "failed | | |")
            continue
        lines.append(
            row + f"{record['ratio_median']:.3f} | {record['ratio_q1']:.3f} to "
            f"{record['ratio_q3']:.3f} | {record['pairs']} |"
        )
    return lines


LINEAR_NOTES = """\
One full-batch gradient step of a linear model: the loss mean(r**2) and its gradients
for w and b, with r = X @ w + b - y.

- *fastmse* is `linear_value_and_grad(X, y, w, b)`, which reads X once.
- *NumPy* computes `X @ w`, then `X.T @ r`, so it reads X twice.
- *torch autograd* runs `mse_loss(X @ w + b, y)` forward and backward, with `w` and
  `b` leaf tensors.
- *read X* is `stream_sum` over the two halves of X: the time of one read of X at
  this run's bandwidth.
- Each time is a median. In brackets is the largest relative error of the loss and
  the two gradients against `fastmse.reference.linear_value_and_grad` in float64.
- *X GB/s* is the bytes of X over fastmse's time.
- *vs NumPy* and *vs torch* are the peer's time over fastmse's, so above 1 means
  fastmse is faster. *fastmse / read X* is fastmse's time over the read-X time, so
  1.0 means that the step runs as fast as one read of X.
"""


def linear_time_cell(record):
    if record is None:
        return "n/a"
    if record["status"] != "ok":
        return "failed"
    errors = record["relative_error"].values()
    # None stands for an infinite or NaN error, which JSON cannot store.
    error = None if None in errors else max(errors)
    return f"{format_seconds(record['median_s'])} ({format_error(error)})"


def ratio_cell(ratio):
    return "n/a" if ratio is None else f"{ratio:.2f}"


def linear_table(document):
    """Return the Markdown lines of the linear-step table, one row per case."""
    index = {
        (tuple(r["shape"]), r["dtype"], r["threads"], r["library"]): r
        for r in document["linear_results"]
    }
    header = [
        "X shape",
        "dtype",
        "threads",
        "fastmse",
        "X GB/s",
        "NumPy",
        "torch autograd",
        "read X",
        "vs NumPy",
        "vs torch",
        "fastmse / read X",
    ]
    align = ["---:", "---", "---:"] + ["---:"] * (len(header) - 3)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]

    for summary in document["linear_summary"]:
        n, d = summary["shape"]
        case = ((n, d), summary["dtype"], summary["threads"])
        fastmse_record = index.get((*case, "fastmse"))
        rate = "n/a"
        if fastmse_record is not None and fastmse_record["status"] == "ok":
            rate = f"{fastmse_record['x_gb_per_s']:.1f}"
        read_x = index.get((*case, "read-x"))
        cells = [
            f"{n:,} x {d}",
            summary["dtype"],
            str(summary["threads"]),
            linear_time_cell(fastmse_record),
            rate,
            linear_time_cell(index.get((*case, "numpy"))),
            linear_time_cell(index.get((*case, "torch-autograd"))),
            format_seconds(read_x["median_s"]) if read_x else "n/a",
            ratio_cell(summary["speedup_vs_numpy"]),
            ratio_cell(summary["speedup_vs_torch"]),
            ratio_cell(summary["fastmse_over_read_x"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def linear_failure_lines(records):
    lines = []
    for record in records:
        case = (
            f"- {record['library']} {record['kernel']} on X of shape "
            f"{tuple(record['shape'])} {record['dtype']} threads={record['threads']}"
        )
        if record["status"] == "failed":
            lines.append(f"{case}: {record['message']}")
            continue
        for part, error in record["relative_error"].items():
            rtol = record["rtol"][part]
            if error is None or error > rtol:
                lines.append(
                    f"{case}: {part} relative error {format_error(error)} "
                    f"exceeds {rtol:g}"
                )
    return lines


def markdown_report(document):
    """Return report.md: the machine, stream bandwidth, then one table per kernel.

    The linear step's table comes last. A run with --linear-only has no other table.
    """
    records = document["results"]
    index = index_records(records)
    rows = sorted({row_key(record) for record in records})

    lines = ["# fastmse benchmark report", "", *machine_lines(document), ""]
    lines += load_warning(document)
    missing = document["settings"]["missing_packages"]
    if missing:
        lines += [f"Not measured, because the import failed: {', '.join(missing)}.", ""]
    if records:
        lines += [READING_NOTES, "## stream_sum: read bandwidth", ""]
        lines += stream_table(index, rows)
        for kernel in mse_cases.KERNELS:
            lines += ["", f"## {KERNEL_TITLES[kernel]}", ""]
            lines += kernel_table(kernel, records, index, rows)
            # Files written before the pairs were timed have no head_to_head.
            if kernel == "mse" and document.get("head_to_head"):
                lines += ["", "## Head to head", "", HEAD_TO_HEAD_NOTES]
                lines += head_to_head_table(document["head_to_head"])
    # Files written before the linear step was benchmarked have no linear_summary.
    if document.get("linear_summary"):
        if lines[-1]:
            lines.append("")
        lines += ["## Linear regression step", "", LINEAR_NOTES]
        lines += linear_table(document)

    failures = failure_lines(records)
    failures += [
        f"- {record['library']} {record['kernel']} head to head on "
        f"n={record['size']:,} {record['dtype']} threads={record['threads']}: "
        f"{record['message']}"
        for record in document.get("head_to_head", [])
        if record["status"] == "failed"
    ]
    failures += linear_failure_lines(document.get("linear_results", []))
    if failures:
        lines += ["", "## Failed or outside the check tolerance", "", *failures]
    return "\n".join(lines) + "\n"


def plot_throughput(document, path):
    """Plot mse's GB/s against size, one line per library, and save it to `path`.

    Returns False, and writes nothing, when matplotlib is not installed or no size
    was timed, as after --linear-only.
    """
    if not document["results"]:
        return False
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    from matplotlib import pyplot

    records = [r for r in document["results"] if r["status"] == "ok"]
    dtypes = sorted({r["dtype"] for r in records})
    thread_counts = sorted({r["threads"] for r in records})
    figure, axes = pyplot.subplots(
        len(dtypes),
        len(thread_counts),
        figsize=(6 * len(thread_counts), 4.5 * len(dtypes)),
        squeeze=False,
        sharex=True,
    )
    for i, dtype in enumerate(dtypes):
        for j, threads in enumerate(thread_counts):
            selected = [
                r for r in records if r["dtype"] == dtype and r["threads"] == threads
            ]
            draw_panel(axes[i][j], selected)
            axes[i][j].set_title(f"mse, {dtype}, threads={threads}")
    figure.suptitle(document["machine"]["cpu_model"] or "unknown CPU")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return True


def draw_panel(axis, records):
    libraries = ["fastmse"] + list(peers.PEERS["mse"])
    for library in libraries:
        points = sorted(
            (r["size"], r["gb_per_s"])
            for r in records
            if r["kernel"] == "mse" and r["library"] == library
        )
        if points:
            sizes, rates = zip(*points)
            width = 2.5 if library == "fastmse" else 1.2
            axis.plot(sizes, rates, marker="o", linewidth=width, label=library)

    stream = sorted(
        (r["size"], r["gb_per_s"]) for r in records if r["kernel"] == "stream_sum"
    )
    if stream:
        sizes, rates = zip(*stream)
        axis.plot(
            sizes, rates, color="grey", linestyle=":", label="stream_sum, same size"
        )
        axis.axhline(
            rates[-1],
            color="black",
            linestyle="--",
            label=f"stream_sum at n={sizes[-1]:,}",
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("elements per array")
    axis.set_ylabel("GB/s (bytes of both inputs / time)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")


def comparison_table(old_records, new_records):
    """Return a text table of new / old median time per measurement, and their means."""
    common = sorted(old_records.keys() & new_records.keys())
    header = (
        f"{'kernel':<20} {'library':<15} {'size':>11} {'dtype':<8} {'threads':>7} "
        f"{'old':>10} {'new':>10} {'new/old':>8}"
    )
    lines = [header]
    ratios = {}
    for key in common:
        kernel, library, size, dtype, threads = key
        old_time = old_records[key]["median_s"]
        new_time = new_records[key]["median_s"]
        ratio = new_time / old_time
        ratios.setdefault(library, []).append(ratio)
        # A linear-step record has the label of its X's shape in place of a size.
        size_text = size if isinstance(size, str) else f"{size:,}"
        lines.append(
            f"{kernel:<20} {library:<15} {size_text:>11} {dtype:<8} {threads:>7} "
            f"{format_seconds(old_time):>10} {format_seconds(new_time):>10} "
            f"{ratio:>8.3f}"
        )

    lines.append("")
    lines.append("geometric mean of new/old by library:")
    for library, values in sorted(ratios.items()):
        mean = math.exp(statistics.fmean(math.log(value) for value in values))
        lines.append(f"  {library:<15} {mean:.3f} over {len(values)} measurements")
    only_old = len(old_records.keys() - new_records.keys())
    only_new = len(new_records.keys() - old_records.keys())
    if only_old or only_new:
        lines.append(f"measured in only one file: {only_old} old, {only_new} new")
    return "\n".join(lines)
