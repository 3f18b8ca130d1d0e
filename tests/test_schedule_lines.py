"""The command lines the README and `templates/` show for scheduled runs, run verbatim.

Only the directory and venv paths are substituted: a temp folder holds a demo workbook from
`sheets-health demo` and a `.venv/bin/sheets-health` shim that runs this checkout's code. The
runs see a cron-like environment (PATH=/usr/bin:/bin), so nothing leaks in from the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from tests.emulator import SheetsEmulator, make_service_account_key
from tests.sheets import valid_tabs
from tests.test_google_backend import seed

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CRONTAB = (ROOT / "templates" / "crontab.example").read_text(encoding="utf-8")
WORKFLOW = yaml.safe_load((ROOT / "templates" / "github-actions-sync.yml").read_text())
SRV = "/srv/sheets-health"  # the folder the README and crontab.example cd into
CRON_PATH = "/usr/bin:/bin"
BASH = shutil.which("bash") or "/bin/bash"


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def cron_commands(text: str) -> list[str]:
    """The command of every schedule line (after the five time fields)."""
    lines = [ln for ln in text.splitlines() if re.match(r"^[\d*/,-]+(\s+[\d*/,-]+){4}\s", ln)]
    return [ln.split(None, 5)[5] for ln in lines]


def cron_environment(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, flags=re.M))


@dataclass
class Place:
    root: Path  # where the README's "Try it" runs
    srv: Path  # stands in for /srv/sheets-health: the demo files and .venv
    shims: Path  # .venv/bin, holding the sheets-health shim
    demo_output: str = ""

    def env(self, path: str = CRON_PATH, **extra: str) -> dict[str, str]:
        return {"PATH": path, "HOME": str(self.root), "LANG": "C.UTF-8",
                "XDG_CACHE_HOME": str(self.root / "cache"), **extra}

    def sh(self, command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["/bin/sh", "-c", command], cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=300, check=False)

    def log_lines(self) -> list[dict[str, Any]]:
        text = (self.srv / "sync.log").read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]  # each line is one JSON run


def make_shim(folder: Path) -> Path:
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "sheets-health"
    shim.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT}' exec '{sys.executable}' "
                    '-m sheets_health.cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return bin_dir


def try_it_demo() -> str:
    """The README's "Try it" line ends with the demo, after creating a venv and `pip install .`."""
    [try_it] = blocks(README[: README.index("\n## ")], "bash")[:1]
    return try_it.strip().split(" && ")[-1]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Place:
    """The README's "Try it" demo, whose folder then stands in for /srv/sheets-health."""
    root = tmp_path_factory.mktemp("schedule")
    srv = root / "sheets-health-demo"  # where `sheets-health demo` writes by default
    here = Place(root, srv, make_shim(srv))
    demo = try_it_demo()
    assert demo == "sheets-health demo"
    done = here.sh(demo, root, here.env(path=f"{here.shims}:{CRON_PATH}"))
    assert done.returncode == 0, done.stderr
    here.demo_output = done.stdout
    return here


def test_the_readme_cron_line_appends_one_json_line_per_run(place: Place) -> None:
    [command] = cron_commands("\n".join(blocks(section("Running it on a schedule"), "cron")))
    line = command.replace(SRV, str(place.srv))
    for _run in range(2):
        done = place.sh(line, place.root, place.env())
        assert done.returncode == 0, (done.stdout, done.stderr)
    runs = place.log_lines()[-2:]
    assert [(r["command"], r["ok"], r["exit_code"]) for r in runs] == [("sync", True, 0)] * 2
    assert all(isinstance(r["duration_s"], float) for r in runs)


def test_the_crontab_example_runs(place: Place) -> None:
    env = {k: v.replace(SRV, str(place.srv)) for k, v in cron_environment(CRONTAB).items()}
    assert set(env) == {"GOOGLE_APPLICATION_CREDENTIALS"}
    commands = cron_commands(CRONTAB)
    assert commands
    before = len(place.log_lines()) if (place.srv / "sync.log").exists() else 0
    for command in commands:
        done = place.sh(command.replace(SRV, str(place.srv)), place.root, place.env(**env))
        assert done.returncode == 0, (done.stdout, done.stderr)
    assert [r["ok"] for r in place.log_lines()[before:]] == [True] * len(commands)


def sync_step() -> tuple[str, dict[str, str]]:
    [step] = [s for s in WORKFLOW["jobs"]["sync"]["steps"] if s.get("name") == "sync"]
    return step["run"], step.get("env", {})


def run_workflow_step(place: Place, checkout: Path, secret: str,
                      **extra: str) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a `run:` step: bash -eo pipefail, the repository checkout as cwd."""
    script, step_env = sync_step()
    assert step_env == {"GOOGLE_SERVICE_ACCOUNT_JSON": "${{ secrets.GOOGLE_SERVICE_ACCOUNT_JSON }}"}
    runner_temp = place.root / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = place.env(path=f"{place.shims}:{CRON_PATH}", RUNNER_TEMP=str(runner_temp),
                    GOOGLE_SERVICE_ACCOUNT_JSON=secret, **extra)
    step = place.root / "step.sh"
    step.write_text(script, encoding="utf-8")
    return subprocess.run([BASH, "--noprofile", "--norc", "-eo", "pipefail", str(step)],
                          cwd=checkout, env=env, text=True, capture_output=True, timeout=300,
                          check=False)


def test_the_github_actions_sync_step_runs_on_the_demo_workbook(place: Place) -> None:
    done = run_workflow_step(place, place.srv, secret="{}")
    assert done.returncode == 0, (done.stdout, done.stderr)
    [run] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (run["command"], run["ok"], run["customers"]) == ("sync", True, 100)


@pytest.fixture
def google_checkout(tmp_path: Path) -> Iterator[tuple[Path, SheetsEmulator, str]]:
    with SheetsEmulator() as emulator:
        spreadsheet_id = seed(emulator, valid_tabs())
        (tmp_path / "sheets-health.toml").write_text(
            f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n', encoding="utf-8")
        yield tmp_path, emulator, spreadsheet_id


def test_the_github_actions_sync_step_runs_on_a_google_sheet_with_the_secret_key(
        place: Place, google_checkout: tuple[Path, SheetsEmulator, str]) -> None:
    checkout, emulator, spreadsheet_id = google_checkout
    secret = json.dumps(make_service_account_key(emulator))
    done = run_workflow_step(place, checkout, secret, SHEETS_HEALTH_API_URL=emulator.url)
    assert done.returncode == 0, (done.stdout, done.stderr)
    [run] = [json.loads(line) for line in done.stdout.splitlines()]
    assert run["by_health"] == {"Green": 1, "Yellow": 1, "Red": 1}
    key = place.root / "runner-temp" / "key.json"
    assert key.stat().st_mode & 0o077 == 0  # umask 077: the key is readable by its owner only
    rows = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    assert [r[rows[0].index("Health")] for r in rows[1:]] == ["Green", "Red", "Yellow"]


def test_a_failing_cron_run_still_logs_one_json_line_and_an_error_row(place: Place) -> None:
    [command] = cron_commands("\n".join(blocks(section("Running it on a schedule"), "cron")))
    workbook = place.srv / "customers.xlsx"
    kept = workbook.read_bytes()
    book = load_workbook(workbook)
    sheet = book["Customers"]
    column = [c.value for c in sheet[1]].index("CSM score") + 1
    sheet.cell(row=5, column=column).value = "lots"  # a CSM types a word into a number column
    book.save(workbook)
    try:
        done = place.sh(command.replace(SRV, str(place.srv)), place.root, place.env())
        assert done.returncode == 2
        last = place.log_lines()[-1]
        assert (last["ok"], last["exit_code"]) == (False, 2)
        assert last["problems"][0]["row"] == 5 and last["problems"][0]["column"] == "CSM score"
        log = list(load_workbook(workbook)["Sync log"].iter_rows(values_only=True))
        headers = list(log[0])
        assert log[-1][headers.index("Result")] == "error"
        assert log[-1][headers.index("Exit code")] == 2
    finally:
        workbook.write_bytes(kept)


def test_the_readme_try_it_explain_and_the_demos_suggestion_run(place: Place) -> None:
    env = place.env(path=f"{place.shims}:{CRON_PATH}")
    explain = [ln.strip() for block in blocks(README[: README.index("\n## ")], "bash")
               for ln in block.splitlines() if " explain " in ln]
    assert len(explain) == 1
    customer = explain[0].rsplit(" ", 1)[1]  # whichever customer the README names
    done = place.sh(explain[0], place.root, env)
    assert done.returncode == 0, done.stderr
    assert f"({customer}): " in done.stdout.splitlines()[0]
    [suggestion] = [ln.split("Try:", 1)[1].strip() for ln in place.demo_output.splitlines()
                    if ln.startswith("Try:")]
    suggested = place.sh(suggestion, place.root, env)
    assert suggested.returncode == 0, suggested.stderr


def test_the_readme_init_example_runs_and_prints_what_it_shows(tmp_path: Path,
                                                              place: Place) -> None:
    [console] = blocks(section("Commands and exit codes"), "console")
    folder = "/srv/team-health"
    script = [ln[2:] for ln in console.splitlines() if ln.startswith("$ ")]
    shown = [ln for ln in console.splitlines() if not ln.startswith("$ ")]
    here = tmp_path / "team-health"
    env = place.env(path=f"{place.shims}:{CRON_PATH}")
    done = place.sh(" && ".join(script).replace(folder, str(here)), tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [ln.replace(folder, str(here)) for ln in shown]
    assert sorted(os.listdir(here)) == ["customers.xlsx", "sheets-health.toml"]
