"""Start-up: a command that does not need the data stack does not load it.

`sheets-health --help` (and every command's start before its first request) used to import
pandas and numpy through the sync module; the heavy libraries load where they are used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "openpyxl", "gspread", "sqlalchemy", "duckdb", "scipy",
         "google.auth", "requests")
PROBE = """
import json, runpy, sys
sys.argv = ["sheets-health", *sys.argv[1:]]
try:
    runpy.run_module("sheets_health.cli", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded(*args: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                         capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_help_loads_none_of_the_heavy_libraries() -> None:
    assert loaded("--help") == []
    assert loaded("sync", "--help") == []
