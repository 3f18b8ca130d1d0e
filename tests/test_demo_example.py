"""The README's and the demo's "why is this customer red" examples name a Red customer.

Both lines are run as a user would type them: the README's verbatim (taken from README.md)
after the README's `sheets-health demo`, and the `Try:` line the demo prints.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands, demo
from sheets_health.cli import main
from sheets_health.config import load_config
from sheets_health.sync import run_sync

README = Path(__file__).resolve().parents[1] / "README.md"
FIRST_LINE = re.compile(r"^.+ \((?P<id>[^)]+)\): (?P<score>[\d.]+) (?P<health>\w+)")


def readme_command(starting: str) -> list[str]:
    """The one README command line that starts with ``starting`` (inside a `&&` chain too)."""
    found = [part.strip() for line in README.read_text(encoding="utf-8").splitlines()
             for part in line.split("&&") if part.strip().startswith(starting)]
    assert len(found) == 1, found
    args = shlex.split(found[0])
    assert args[0] == "sheets-health"
    return args[1:]


def health_in(explain_output: str) -> tuple[str, str]:
    match = FIRST_LINE.match(explain_output)
    assert match, explain_output
    return match["id"], match["health"]


def test_the_readmes_explain_example_is_red(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, readme_command("sheets-health demo"))
    assert made.exit_code == 0, made.output
    args = readme_command("sheets-health --config sheets-health-demo/sheets-health.toml explain")
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert health_in(result.stdout) == (args[-1], "Red")
    # the README quotes how the answer starts
    quoted = re.search(r"It starts `([^`]+)`", README.read_text(encoding="utf-8"))
    assert quoted and result.stdout.splitlines()[0] == quoted[1]


def test_the_demos_try_line_runs_and_shows_a_red_customer(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, ["demo", "my-demo"])
    assert made.exit_code == 0, made.output
    (line,) = [ln for ln in made.stdout.splitlines() if ln.startswith("Try:")]
    args = shlex.split(line.removeprefix("Try:"))
    assert args[:3] == ["sheets-health", "--config", str(Path("my-demo", "sheets-health.toml"))]
    result = runner.invoke(main, args[1:])
    assert result.exit_code == 0, result.output
    assert health_in(result.stdout) == (demo.EXAMPLE_CUSTOMER, "Red")


@pytest.mark.parametrize(("now", "customers"), [
    (dt.datetime(2024, 2, 29, 0, 5, tzinfo=dt.UTC), 100),  # leap day, just after midnight
    (dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), 100),  # Europe's spring DST change
    (dt.datetime(2027, 12, 31, 23, 55, tzinfo=dt.UTC), 300),  # year end, a larger demo
])
def test_the_example_customer_is_red_whatever_the_day(tmp_path: Path, now: dt.datetime,
                                                      customers: int) -> None:
    """The README cannot change with the date: the example is Red by construction."""
    config = demo.write_demo(tmp_path, now, customers_count=customers)
    report = run_sync(load_config(config), now=now)
    assert commands.demo_example_id(report) == demo.EXAMPLE_CUSTOMER
    payload, _ = commands.explain(config, demo.EXAMPLE_CUSTOMER, now=now)
    assert payload["health"] == "Red", payload["reasons"]
