"""The same inputs always give the same outputs — across processes, not just within one.

Each run is a separate Python process with its own hash seed (PYTHONHASHSEED), so anything
that depends on the iteration order of a set or of a hash-keyed structure, on object ids or
on process state shows up as a difference between the written workbooks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]

# The complete demo: source files generated from a seed, then a sync of the workbook.
DEMO = """
import datetime as dt, sys
from pathlib import Path
from sheets_health import commands
commands.demo(Path(sys.argv[1]), now=dt.datetime(2026, 11, 22, 9, 0))
"""


def run_demo(directory: Path, hash_seed: int) -> None:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", DEMO, str(directory)], check=True, env=env,
                   cwd=ROOT, timeout=600, capture_output=True)


def workbook_contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every cell of every tab: coordinate, value, number format and fill colour — except the
    Sync log's run ids, which are random by design (a new one each run), and only checked to be
    there."""
    book = load_workbook(path)
    run_ids = set()
    if "Sync log" in book.sheetnames:
        log = book["Sync log"]
        header = [c.value for c in log[1]]
        if "Run id" in header:
            col = header.index("Run id") + 1
            run_ids = {log.cell(row, col).coordinate for row in range(2, log.max_row + 1)}
            assert all(re.fullmatch(r"[0-9a-f]{8}", str(log[c].value)) for c in run_ids)
    return {
        ws.title: [(cell.coordinate,
                    "<run id>" if ws.title == "Sync log" and cell.coordinate in run_ids
                    else cell.value,
                    cell.number_format, cell.fill.fgColor.rgb if cell.fill.fill_type else None)
                   for row in ws.iter_rows() for cell in row]
        for ws in book.worksheets
    }


def test_the_demo_writes_the_same_workbook_and_sources_whatever_the_hash_seed(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "seed-1", tmp_path / "seed-2"
    run_demo(first, hash_seed=1)
    run_demo(second, hash_seed=2)
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir())
    assert {"customers.xlsx", "sheets-health.toml", "usage_events.csv"} <= set(files)
    for name in files:
        if name.endswith(".xlsx"):  # the zip holds the save time; compare what it contains
            assert workbook_contents(first / name) == workbook_contents(second / name), name
        else:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    scored = [v for (_at, v, _f, _c) in workbook_contents(first / "customers.xlsx")["Customers"]]
    assert "Red" in scored and "Green" in scored  # a real sync ran, not an empty sheet
