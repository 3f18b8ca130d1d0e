"""The README's "Is the score right?" walkthrough, run verbatim on the demo: every command
line it shows exits 0, and the dry run prints the report the README shows (the same lines;
the figures are the README's run, so digits are compared as digits, not values)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health.cli import main
from tests.contract.factories import XlsxUnderTest
from tests.test_schedule_lines import blocks, section

TEXT = section("Is the score right?")


def _shape(text: str) -> list[str]:
    return [re.sub(r"\d+", "#", line).rstrip() for line in text.strip().splitlines()]


def test_the_walkthrough_runs_and_prints_what_it_shows(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["demo"]).exit_code == 0  # the "Try it" line's demo
    [commands] = [b for b in blocks(TEXT, "bash") if "calibrate" in b]
    outputs = []
    for line in commands.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "sheets-health"
        result = CliRunner().invoke(main, args[1:])
        assert result.exit_code == 0, (line, result.output)
        outputs.append((args, result.stdout))
    dry = next(out for args, out in outputs if args[-1] == "--dry-run" and "--json" not in args)
    [shown] = [b for b in blocks(TEXT, "text") if b.startswith("Dry run: calibration")]
    assert _shape(dry.replace(str(tmp_path) + "/", "")) == _shape(shown)
    # the JSON line always carries `suggestion`, with the reason when there is none
    payload = json.loads(outputs[-1][1])
    assert "suggestion" in payload and (payload["suggestion"] is not None or payload["why"])
    # the real run appended one dated block to the Calibration tab
    report = XlsxUnderTest(tmp_path / "sheets-health-demo" / "customers.xlsx").cells(
        "Calibration")
    assert len(report) > 20 and len({str(r[0]) for r in report[1:]}) == 1
    check = CliRunner().invoke(main, ["--config", "sheets-health-demo/sheets-health.toml",
                                      "check"])
    assert check.exit_code == 0 and "never been calibrated" not in check.stdout
