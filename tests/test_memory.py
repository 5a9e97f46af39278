"""No hidden copies: mse and mse_grad(out=...) allocate nothing on 10**8 float64.

Each check runs in a fresh Python process, so that its peak resident set size (RSS)
is its own. tracemalloc records NumPy's and Python's allocations. The peak RSS also
counts fastmse's own C++ buffers and the OpenMP threads' stacks.
"""

import json
import subprocess
import sys
import textwrap

import pytest

N = 10**8
INPUT_BYTES = 8 * N
# A copy of any input would cost 800 MB. 1% of one input, 8 MB, is far above the
# bookkeeping (per-chunk sums, Python objects) that a call may need.
BUDGET_BYTES = INPUT_BYTES // 100

MEASURE = textwrap.dedent(
    """
    import json, sys, tracemalloc
    import numpy as np
    import fastmse as fm

    def status_bytes(key):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(key + " is missing from /proc/self/status")

    def measure(call):
        # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        rss_before = status_bytes("VmRSS")
        tracemalloc.start()
        traced_before = tracemalloc.get_traced_memory()[0]
        call()
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {
            "traced": traced_peak - traced_before,
            "rss": status_bytes("VmHWM") - rss_before,
        }

    n = int(sys.argv[1])
    # np.full writes every element, so all input pages are resident before measuring.
    # np.zeros would leave pages that the first write faults in.
    y_true = np.full(n, 1.5)
    y_pred = np.full(n, 0.5)
    out = np.full(n, 0.0) if sys.argv[2] == "separate" else y_pred
    # Start the OpenMP threads and touch their stacks before measuring.
    small = np.ones(10**6)
    fm.mse_grad(small, small, out=np.empty(10**6))
    fm.mse(small, small)

    results = {"value": fm.mse(y_true, y_pred)}
    results["mse"] = measure(lambda: fm.mse(y_true, y_pred))
    # With out=y_pred this overwrites y_pred, so it comes last.
    results["mse_grad"] = measure(lambda: fm.mse_grad(y_true, y_pred, out=out))
    results["gradient_ok"] = bool(np.all(out == 2.0 * (0.5 - 1.5) / n))
    print(json.dumps(results))
    """
)


def run_measurement(out_kind):
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, str(N), out_kind],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_mse_and_in_place_gradient_copy_nothing():
    # Two inputs of 800 MB, with out=y_pred: 1.6 GB.
    results = run_measurement("y_pred")
    assert results["value"] == 1.0
    assert results["gradient_ok"]
    for call in ("mse", "mse_grad"):
        assert results[call]["traced"] < BUDGET_BYTES, call
        assert results[call]["rss"] < BUDGET_BYTES, call


@pytest.mark.slow
def test_gradient_into_separate_out_copies_nothing():
    # Three arrays of 800 MB: 2.4 GB.
    results = run_measurement("separate")
    assert results["gradient_ok"]
    assert results["mse_grad"]["traced"] < BUDGET_BYTES
    assert results["mse_grad"]["rss"] < BUDGET_BYTES
