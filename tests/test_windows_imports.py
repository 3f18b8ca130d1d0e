"""The package imports and the demo runs where POSIX-only modules do not exist (Windows, where
the teams on Excel are), on a folder path with spaces in it.

Run in a fresh interpreter whose import system refuses `fcntl`, `pwd`, `grp`, `termios` and
`resource`, as a Windows Python would: any sheets_health module importing one at import time
fails here, whichever third-party library it goes through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

POSIX_ONLY = ("fcntl", "pwd", "grp", "termios", "resource")
ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = """
import importlib, importlib.abc, json, pkgutil, sys

BLOCKED = set(sys.argv[1].split(","))

class NoPosix(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

for name in BLOCKED:
    sys.modules.pop(name, None)
sys.meta_path.insert(0, NoPosix())

import sheets_health
names = sorted(m.name for m in pkgutil.walk_packages(sheets_health.__path__, "sheets_health."))
for name in names:
    importlib.import_module(name)
loaded = sorted(n for n in BLOCKED if n in sys.modules)

from sheets_health.cli import main
try:
    main(["--json", "demo", sys.argv[2]])
except SystemExit as done:
    code = done.code
print(json.dumps({"modules": names, "loaded": loaded, "exit": code}))
"""


def test_every_module_imports_and_the_demo_runs_without_posix_modules(tmp_path: Path) -> None:
    folder = tmp_path / "Team Health" / "demo with spaces"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, ",".join(POSIX_ONLY), str(folder)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    *demo_lines, last = done.stdout.strip().splitlines()
    result = json.loads(last)
    assert result["loaded"] == []
    assert {"sheets_health.cli", "sheets_health.lock", "sheets_health.backends.google",
            "sheets_health.sources.duck"} <= set(result["modules"])
    [record] = [json.loads(line) for line in demo_lines]
    assert (result["exit"], record["ok"], record["exit_code"]) == (0, True, 0)
    assert record["workbook"] == str(folder / "customers.xlsx")
    assert (folder / "customers.xlsx").is_file() and record["scored"] > 90
