"""The benchmark scripts run end to end at small sizes and report what they claim to.

Speed is never asserted here (that is what the scripts print); what is checked is that each
method really made the requests it is reported with, that projections are marked, and that
the scale runs report every case.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sheets_health.sync import READ_TABS
from sheets_health.template import SYNC_LOG_HEADERS

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("gspread_dataframe", reason="pip install -e '.[bench]'")
pytest.importorskip("gspread_formatting", reason="pip install -e '.[bench]'")


def readme_command(script: str) -> list[str]:
    """The README's quick check of a benchmark script, to be run verbatim."""
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if line.startswith(f"python benchmarks/{script} ")]
    assert len(lines) == 1, f"the README's Performance section shows one {script} line"
    return shlex.split(lines[0])


def run(command: list[str]) -> list[dict[str, Any]]:
    assert command[0] == "python"
    done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.timeout(300)
def test_side_by_side_counts_every_request_and_marks_projections() -> None:
    command = readme_command("bench_sheets.py")
    assert command[2:] == ["--sizes", "20", "--naive-sample", "5", "--latency-ms", "0", "--json"]
    rows = run(command)
    by = {r["method"].split(" (")[0].split(" +")[0]: r for r in rows}
    assert set(by) == {"floor", "sheets-health sync", "gspread-dataframe", "naive gspread"}
    floor, ours, frame, naive = (by[k] for k in ("floor", "sheets-health sync",
                                                 "gspread-dataframe", "naive gspread"))
    assert (floor["reads"], floor["writes"]) == (1, 1)
    assert ours["detail"]["cells_written"] > 20 * 5  # every customer's outputs, History rows
    assert ours["detail"]["unchanged"]["cells_written"] == len(SYNC_LOG_HEADERS)  # its log row
    # gspread-dataframe: open + worksheets + one values.get per tab read
    tabs = len(READ_TABS)  # the peers read the tabs a sync reads
    assert frame["reads"] == 2 + tabs
    # naive: open, worksheet() and get_all_values() per tab, then one request per call;
    # 5 of 20 customers measured, the rest projected (and so marked)
    assert naive["reads"] == 1 + tabs + tabs and naive["projected"] is True
    assert naive["detail"]["measured_calls"] + naive["detail"]["projected_calls"] == \
        naive["writes"]
    assert naive["writes"] > 60 and naive["quota_wait"] > 0  # past the minute's write quota
    for row in (floor, ours, frame):
        assert row["projected"] is False and row["quota_wait"] == 0
        assert row["sent"] > 0 and row["received"] > 0


@pytest.mark.timeout(300)
def test_scale_runs_report_each_backend_and_history_length() -> None:
    command = readme_command("bench_scale.py")
    assert command[2:] == ["--customers", "30", "--scoring-customers", "500",
                           "--history-customers", "20", "--history-days", "10",
                           "--latency-ms", "0", "--json"]
    rows = run(command)
    syncs = [r for r in rows if r["bench"] == "sync"]
    assert [(r["backend"].split()[0], r["sync"]) for r in syncs] == [
        ("workbook", "first sync"), ("workbook", "nothing changed"),
        ("google", "first sync"), ("google", "nothing changed")]
    assert all(r["customers"] == 30 and r["measures"] == 20 for r in syncs)
    assert [r["cells_changed"] > 0 for r in syncs] == [True, False, True, False]
    # a sheet `init` made: every sync is the read, the claim and the write, the first too
    assert [r["requests"] for r in syncs if "requests" in r] == [3, 3]
    scoring = [r for r in rows if r["bench"] == "scoring"]
    assert [(r["customers"], r["measures"]) for r in scoring] == [(500, 20)]
    history = [(r["history_rows"], r["backend"].split()[0], "read_kb" in r)
               for r in rows if r["bench"] == "history"]
    assert history == [(0, "workbook", False), (0, "google", True),
                       (200, "workbook", False), (200, "google", True)]
    if sys.platform != "win32":
        assert all(r["peak_mb"] > 0 for r in rows)


@pytest.mark.timeout(300)
def test_file_aggregation_runs_every_engine_and_they_agree() -> None:
    command = readme_command("bench_file_aggregation.py")
    assert command[2:] == ["--rows", "20000", "--customers", "200", "--runs", "1"]
    done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.split("engine ", 1)[1].splitlines()[1:4]
    assert [line.split()[:2] for line in table] == [
        ["pandas", "csv"], ["duckdb", "csv"], ["duckdb", "parquet"]]
    assert all(line.split()[-1] == "1" for line in table)  # one counted run each
    assert "same values from every engine: yes" in done.stdout


def test_history_growth_runs_and_a_later_sync_is_the_read_the_claim_and_the_write() -> None:
    """`bench_history_growth.py` (the README's History figures) runs as documented; a sync of
    a day after the first is 3 requests whatever the History length."""
    rows = run(["python", "benchmarks/bench_history_growth.py", "--n", "20", "--days", "0",
                "--days", "10", "--json"])
    assert [(r["history_rows"], r["sync"]) for r in rows] == [
        (days * 20, sync) for days in (0, 10)
        for sync in ("yesterday's sync", "first sync of the day", "an hour later")]
    later = [r for r in rows if r["sync"] != "yesterday's sync"]
    assert all(r["requests"] == {"read": 1, "lease": 1, "write": 1} for r in later)
    assert all(r["vs_empty"] != "-" for r in later)


@pytest.mark.timeout(300)
def test_the_sync_profile_splits_client_and_emulator_and_sizes_the_read() -> None:
    """`profile_google_sync.py` (the figures in benchmarks/README.md on where a large Google
    sync's time goes) runs, with the cycle collector paused and running."""
    for collector in ("paused", "on"):
        rows = run(["python", "benchmarks/profile_google_sync.py", "--customers", "30",
                    "--collector", collector, "--json"])
        assert [r["sync"] for r in rows] == ["first sync", "nothing changed"]
        for row in rows:
            assert [(c["method"], c["status"]) for c in row["requests"]] == [
                ("GET", 200), ("POST", 200), ("POST", 200)]  # read, claim, write
            assert set(row["client_parts"]) == {"read", "hold_lease", "apply"}
            assert 0 < row["emulator"] < row["wall"]
            assert row["read_tabs"]["Customers"]["cells"] >= 30 * 20
        assert rows[0]["requests"][2]["sent"] > 20 * rows[1]["requests"][2]["sent"]  # log row


def test_the_history_workbook_is_ready_for_a_timed_sync(tmp_path: Path) -> None:
    """`benchmarks/history_workbook.py` (README: "Workbook History, detached"): the workbook
    it leaves has the History asked for and the bookmarks the timed sync reads through."""
    from openpyxl import load_workbook

    rows = run(["python", "benchmarks/history_workbook.py", str(tmp_path), "--customers", "12",
                "--days", "5"])
    directory = Path(rows[0]["directory"])
    book = load_workbook(directory / "book_marked.xlsx")
    assert book["History"].max_row == 1 + 12 * 6  # five days before today, and today
    assert "sheets_health_history_latest" in book["History"].defined_names
    done = subprocess.run([sys.executable, "-m", "sheets_health.cli", "--config", "wb.toml",
                           "sync"], cwd=directory, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
