"""Smoke test of bench/report.py: one quick run at 1000 elements writes every output."""

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The bench/ directory beside tests/.
BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def report():
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.syspath_prepend(str(BENCH_DIR))
        yield importlib.import_module("report")


@pytest.fixture(scope="module")
def quick_run(report, tmp_path_factory):
    """Run report.py once at 1000 elements and return its exit status and directory."""
    out = tmp_path_factory.mktemp("report")
    status = report.main(["--quick", "--sizes", "1000", "--out", str(out)])
    return status, out


def test_report_quick_run_succeeds(quick_run):
    status, _ = quick_run
    assert status == 0


def test_report_writes_every_file(quick_run):
    _, out = quick_run
    assert (out / "report.md").stat().st_size > 0
    assert (out / "results.json").stat().st_size > 0
    assert (out / "throughput.png").stat().st_size > 0


def test_report_json_lists_every_kernel(report, quick_run):
    _, out = quick_run
    document = json.loads((out / "results.json").read_text())

    assert document["settings"]["sizes"] == [1000]
    assert document["machine"]["simd_target"]
    kernels = {record["kernel"] for record in document["results"]}
    # fastmse's mse_loss_torch needs torch, so the run skips it without torch.
    missing = report.mse_cases.import_optional_packages()
    expected = {
        kernel
        for kernel in report.mse_cases.KERNELS
        if report.peers.fastmse_candidate(kernel).package not in missing
    }
    assert kernels == {"stream_sum", *expected}
    assert {"mae", "huber"} <= kernels
    fastmse_records = [r for r in document["results"] if r["library"] == "fastmse"]
    assert all(record["status"] == "ok" for record in fastmse_records)
    assert all(record["within_tolerance"] for record in fastmse_records)


def test_report_markdown_has_tables(quick_run):
    _, out = quick_run
    text = (out / "report.md").read_text()

    assert "## stream_sum: read bandwidth" in text
    assert "## mse_value_and_grad" in text
    assert "## mae" in text
    assert "## huber, delta=1.0" in text
    assert "| 1,000 | float64 | 1 |" in text


def test_report_compare_prints_ratios(report, quick_run, capsys):
    _, out = quick_run
    results = str(out / "results.json")

    status = report.main(["--compare", results, results])

    output = capsys.readouterr().out
    assert status == 0
    assert "new/old" in output
    assert " 1.000" in output


def test_report_rejects_partial_rows(report, tmp_path):
    with pytest.raises(SystemExit):
        report.main(["--quick", "--sizes", "1500", "--out", str(tmp_path)])


def test_cpu_share_sees_busy_process(report):
    # A process that spins on one CPU beside a sleeping block shows as another's share.
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        with report.others_cpu_share() as others:
            time.sleep(report.MIN_SHARE_SECONDS)
    finally:
        busy.kill()
        busy.wait()
    assert others["share"] > 0.5 / os.cpu_count()


def test_cpu_share_excludes_own_process(report):
    # Other processes may be busy during the test, so the share while this process spins
    # is compared with the share while it sleeps. Counting the spin would add a whole CPU.
    with report.others_cpu_share() as idle:
        time.sleep(report.MIN_SHARE_SECONDS)
    with report.others_cpu_share() as spinning:
        start = time.perf_counter()
        while time.perf_counter() - start < report.MIN_SHARE_SECONDS:
            pass
    assert spinning["share"] < idle["share"] + 0.5 / os.cpu_count()


def shares_document(shares, load):
    records = [
        {"status": "ok", "load_average": load, "others_cpu_share": share}
        for share in shares
    ]
    return {"machine": {"usable_cpus": 2}, "results": records}


def test_load_warning_follows_the_measured_share():
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.syspath_prepend(str(BENCH_DIR))
        render = importlib.import_module("render")
    # A load left over from a build does not warn when the timings saw idle CPUs.
    assert render.load_warning(shares_document([0.0, 0.02], load=9.0)) == []
    warning = render.load_warning(shares_document([0.0, 0.35], load=0.5))
    assert "other processes used up to 35% of the CPUs" in warning[0]
