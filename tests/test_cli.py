"""The command line as a cron job and a person see it: output, exact errors, exit codes."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.config import load_config
from sheets_health.errors import ConfigError
from sheets_health.model import Fill
from sheets_health.quiet import gathered
from sheets_health.starter import STARTER_CONFIG, write_starter_config
from tests.contract.factories import XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

COMMANDS = sorted(main.commands)
ROOT = Path(__file__).resolve().parents[1]


def test_the_commands_are_the_documented_ones() -> None:
    assert COMMANDS == ["calibrate", "check", "demo", "explain", "init", "sync"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    first_sentence = (main.commands[command].help or "").split(".")[0]
    assert len(first_sentence) > 20
    assert " ".join(first_sentence.split()) in " ".join(result.output.split())


def test_main_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for code in ("0  success", "2  bad input", "3  outage", "4  access denied",
                 "5  refused for safety", "6  another sync"):
        assert code in result.output


def test_missing_config_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "sync"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: config file {tmp_path / 'nope.toml'} does not exist\n"
        "  Fix: pass --config PATH, or run `sheets-health demo` for a worked example\n"
    )


def test_missing_environment_variable_is_named(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SH_TEST_WORKBOOK", raising=False)
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "${SH_TEST_WORKBOOK}"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 2
    assert "uses ${SH_TEST_WORKBOOK} but the environment variable SH_TEST_WORKBOOK is not set" \
        in result.stderr


def test_missing_workbook_is_bad_input_with_hint(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "missing.xlsx"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == 2
    assert "missing.xlsx" in result.stderr and "sheets-health init" in result.stderr


def test_init_creates_the_template_and_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "new.xlsx"\n')
    first = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert first.exit_code == 0, first.output
    assert "added tab Customers" in first.stdout
    before = (tmp_path / "new.xlsx").read_bytes()
    second = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert second.stdout == "init:\n  nothing to change\n"
    assert (tmp_path / "new.xlsx").read_bytes() == before
    check = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert check.exit_code == 0, check.output


def test_sync_json_is_machine_readable(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["dry_run"] is True
    assert payload["by_health"] == {"Green": 1, "Yellow": 1, "Red": 1}


def test_explain_shows_every_measure(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "explain", "C002"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Globex (C002): 27 Red"
    assert "Grow: 26.7 (coverage 100%)" in lines
    csm = next(line for line in lines if line.strip().startswith("CSM score"))
    assert csm.split() == ["CSM", "score", "4", "20", "33%", "6.7", "26.7"]


def test_explain_unknown_customer(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "explain", "123"])
    assert result.exit_code == 2
    assert "no customer with Customer ID '123'" in result.stderr


def test_unexpected_errors_exit_1_and_keep_traceback_with_debug(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_sheet(tmp_path)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(commands, "run_sync", boom)
    quiet = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert quiet.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = CliRunner().invoke(main, ["--config", str(config), "--debug", "sync"])
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


def test_demo_scores_every_customer_with_colours(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    assert f"The demo workbook is {out / 'customers.xlsx'}" in result.stdout
    under = XlsxUnderTest(out / "customers.xlsx")
    grid = under.cells("Customers")
    headers = grid[0]
    health, reasons, step = (headers.index(h) for h in ("Health", "Reasons", "Next step"))
    status = headers.index("Status")
    former = [r for r in grid[1:] if r[status] == "churned"]  # what `calibrate` learns from
    rows = [r for r in grid[1:] if r[status] != "churned"]
    assert 90 <= len(rows) <= 110 and former
    assert {r[health] for r in former} == {"Churned"}
    assert {r[health] for r in rows} == {"Green", "Yellow", "Red", "Not enough data"}
    fills = {under.fill("Customers", i, health) for i in range(2, len(rows) + 2)}
    assert fills == {f.value for f in Fill}
    assert all(r[reasons] for r in rows)
    assert all(r[step] for r in rows if r[health] in ("Red", "Yellow"))
    outcomes = {o.strip() for r in rows for o in str(r[headers.index("Outcomes")]).split(",")}
    assert len(outcomes) == 3


# ----------------------------------------------------------------------------- global options


def json_lines(output: str) -> list[dict[str, object]]:
    """Every line of the output as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in output.splitlines()]


def test_the_readme_cron_order_config_before_and_json_after_the_command(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "sync", "--json"])
    assert result.exit_code == 0, result.output
    [line] = json_lines(result.stdout)
    assert line["command"] == "sync" and line["ok"] is True and line["exit_code"] == 0


@pytest.mark.parametrize("args", [
    ["--config", "{c}", "--json", "sync"],
    ["sync", "--config", "{c}", "--json"],
    ["-c", "{c}", "sync", "--json"],
    ["sync", "-c", "{c}", "--json", "--dry-run"],
    ["--json", "sync", "--config", "{c}"],
], ids=["before", "after", "short-before", "short-after", "mixed"])
def test_global_options_work_before_or_after_the_command(tmp_path: Path, args: list[str]) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, [a.format(c=config) for a in args])
    assert result.exit_code == 0, result.output
    [line] = json_lines(result.stdout)
    assert line["sheet"] == f"workbook {tmp_path / 'sheet.xlsx'}"


def test_the_config_environment_variable_still_works_and_an_option_beats_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_sheet(tmp_path)
    monkeypatch.setenv("SHEETS_HEALTH_CONFIG", str(config))
    assert CliRunner().invoke(main, ["check"]).stdout.startswith("OK: 3 customers")
    other = tmp_path / "other.toml"
    result = CliRunner().invoke(main, ["check", "--config", str(other)])
    assert result.exit_code == 2
    assert f"config file {other} does not exist" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_lists_the_global_options(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    for option in ("-c, --config PATH", "--json", "--debug"):
        assert option in result.output


def test_debug_after_the_command_shows_the_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_sheet(tmp_path)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(commands, "run_sync", boom)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--debug"])
    assert result.exit_code == 1 and "Traceback" in result.stderr


# ----------------------------------------------------------------------------- JSON lines


def test_json_is_one_line_on_success_with_duration(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--json"])
    assert result.exit_code == 0 and result.stderr == ""
    [line] = json_lines(result.stdout)
    assert list(line)[:5] == ["command", "ok", "exit_code", "started_at", "duration_s"]
    assert isinstance(line["duration_s"], float) and line["duration_s"] >= 0
    assert dt.datetime.fromisoformat(str(line["started_at"])).tzinfo is not None
    assert line["customers"] == 3 and line["changes"] == []


def test_json_is_one_line_on_bad_input_naming_every_problem(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][7] = "lots"  # C001's CSM score is not a number
    config = write_sheet(tmp_path, tabs)
    result = CliRunner().invoke(main, ["--config", str(config), "sync", "--json"])
    assert result.exit_code == 2 and result.stderr == ""
    [line] = json_lines(result.stdout)
    assert (line["command"], line["ok"], line["exit_code"]) == ("sync", False, 2)
    assert "duration_s" in line and str(line["error"]).startswith("Found 1 problem")
    [problem] = line["problems"]  # type: ignore[misc]
    assert (problem["tab"], problem["row"], problem["column"]) == ("Customers", 2, "CSM score")


def test_json_is_one_line_on_an_internal_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_sheet(tmp_path)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom at postgresql://cs:hunter22@db/warehouse")

    monkeypatch.setattr(commands, "run_sync", boom)
    result = CliRunner().invoke(main, ["sync", "--json", "-c", str(config)])
    assert result.exit_code == 1 and result.stderr == ""
    [line] = json_lines(result.stdout)
    assert line["exit_code"] == 1 and line["ok"] is False
    assert line["error"] == "internal error: RuntimeError: kaboom at postgresql://cs:***@db/warehouse"


@pytest.mark.parametrize("args", [["sync", "--json", "--bogus"], ["--json", "snyc"],
                                  ["--json", "explain"]])
def test_json_is_one_line_on_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and result.stderr == ""
    [line] = json_lines(result.stdout)
    assert line["ok"] is False and line["exit_code"] == 2 and line["error"]


def test_a_usage_error_without_json_is_clicks_own(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "--bogus"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: No such option '--bogus'" in result.stderr


@pytest.mark.parametrize("command", [["check"], ["explain", "C002"], ["init"]])
def test_every_command_prints_one_json_line(tmp_path: Path, command: list[str]) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, [*command, "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    [line] = json_lines(result.stdout)
    assert line["command"] == command[0] and line["ok"] is True


# ----------------------------------------------------------------------------- colour changes


def test_sync_lists_the_customers_whose_colour_changed(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    first = CliRunner().invoke(main, ["sync", "-c", str(config)])
    assert "  no colour changes" in first.stdout.splitlines()  # a first score is no change
    under = XlsxUnderTest(tmp_path / "sheet.xlsx")
    grid = under.cells("Customers")
    grid[2][grid[0].index("CSM score")] = 8  # Globex's CSM is happier: Red 27 → Yellow 53
    under.edit("Customers", grid)
    change = ("C002 Red → Yellow (27 → 53): "
              "Exec sponsor single-threaded (target exec sponsor) −47 pts")
    dry = CliRunner().invoke(main, ["sync", "-c", str(config), "--dry-run"])
    assert dry.exit_code == 0
    assert "  1 colour change (not written):" in dry.stdout.splitlines()
    assert f"    {change}" in dry.stdout.splitlines()
    real = CliRunner().invoke(main, ["sync", "-c", str(config), "--json"])
    [line] = json_lines(real.stdout)
    assert line["changes"] == [{
        "customer_id": "C002", "from": "Red", "to": "Yellow", "from_score": 27, "to_score": 53,
        "reason": change.split(": ", 1)[1]}]
    again = CliRunner().invoke(main, ["sync", "-c", str(config)])
    assert "  no colour changes" in again.stdout.splitlines()  # "from" is what the sheet shows


# ----------------------------------------------------------------------------- init


def test_init_with_a_new_config_writes_a_starter_and_creates_its_workbook(tmp_path: Path) -> None:
    config = tmp_path / "NEW.toml"
    result = CliRunner().invoke(main, ["init", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "init:",
        f"  wrote starter config {config} (edit it to use a Google Sheet or sources)",
        f"  created workbook {tmp_path / 'customers.xlsx'}",
        "  added tab Customers",
    ]
    written = config.read_bytes()
    assert load_config(config).sheet.path == tmp_path / "customers.xlsx"
    check = CliRunner().invoke(main, ["check", "-c", str(config)])
    assert check.exit_code == 0 and check.stdout.startswith("OK: 0 customers")
    again = CliRunner().invoke(main, ["init", "--config", str(config)])
    assert again.stdout == "init:\n  nothing to change\n"
    assert config.read_bytes() == written  # an existing config is never rewritten


def test_init_says_when_it_creates_the_workbook_of_an_existing_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "team.xlsx"\n')
    result = CliRunner().invoke(main, ["init", "-c", str(config)])
    assert result.stdout.splitlines()[1] == f"  created workbook {tmp_path / 'team.xlsx'}"
    assert "created workbook" not in CliRunner().invoke(main, ["init", "-c", str(config)]).stdout


def test_init_in_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    config = tmp_path / "nope" / "NEW.toml"
    result = CliRunner().invoke(main, ["init", "--config", str(config)])
    assert result.exit_code == 2
    assert f"cannot write {config}: folder {config.parent} does not exist" in result.stderr


def test_the_starter_config_is_never_written_over_an_existing_file(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text("# mine\n")
    with pytest.raises(ConfigError, match="already exists; it was left as it is"):
        write_starter_config(config)
    assert config.read_text() == "# mine\n"


def _uncomment(text: str, first: str, last: str | None = None) -> str:
    """Remove "# " from the commented TOML lines (not the prose) from the line `first` up to
    the line `last`, as a person following the starter's instructions would."""
    code = re.compile(r'^# (\[|[A-Za-z_"]+ *=)')
    lines = text.splitlines()
    start = lines.index(first)
    end = lines.index(last) if last else len(lines)
    middle = [ln[2:] if code.match(ln) else ln for ln in lines[start:end]]
    return "\n".join([*lines[:start], *middle, *lines[end:]])


def test_the_starters_commented_examples_work_when_uncommented(tmp_path: Path) -> None:
    import tomllib

    from sheets_health.config import config_from_dict
    from sheets_health.sources import check_config

    text = _uncomment(STARTER_CONFIG, "# [sources.tickets]")
    config = config_from_dict(tomllib.loads(text), tmp_path)
    assert config.metrics["Open tickets"].agg == "count"
    assert [p for p in check_config(config) if "does not exist" not in p] == []
    google = _uncomment(STARTER_CONFIG, "# [sheet]", "# [sources.tickets]")
    google = google.replace('[sheet]\nbackend = "xlsx"\npath = "customers.xlsx"\n', "", 1)
    sheet = config_from_dict(tomllib.loads(google), tmp_path).sheet
    assert (sheet.backend, sheet.credentials) == ("google", tmp_path / "service-account.json")


# ----------------------------------------------------------------------------- the run lock


def test_a_sync_leaves_no_lock_file_beside_the_workbook(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "team"
    folder.mkdir()
    config = write_sheet(folder)
    for command in (["init"], ["sync"], ["sync", "--dry-run"]):
        assert CliRunner().invoke(main, [*command, "-c", str(config)]).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["sheet.xlsx", "sheets-health.toml"]
    assert [p.parent for p in (tmp_path / "cache").rglob("*.lock")] == [
        tmp_path / "cache" / "sheets-health" / "locks"]


HOLD_LOCK = """
import sys, time
from pathlib import Path
from sheets_health.config import load_config
from sheets_health.lock import sheet_lock
with sheet_lock(load_config(Path(sys.argv[1]))):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_held_lock_exits_6_and_writes_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = write_sheet(tmp_path)
    before = (tmp_path / "sheet.xlsx").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(config)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = CliRunner().invoke(main, ["sync", "-c", str(config)])
        assert result.exit_code == 6
        assert result.stderr.startswith(
            "Error: another sheets-health run is working on this sheet; this run did nothing\n"
            "  Fix: nothing to do: the next scheduled run catches up (the lock is ")
        as_json = CliRunner().invoke(main, ["sync", "-c", str(config), "--json"])
        [line] = json_lines(as_json.stdout)
        assert line["exit_code"] == 6
    finally:
        holder.communicate("")
    assert (tmp_path / "sheet.xlsx").read_bytes() == before  # not even an error row
    assert CliRunner().invoke(main, ["sync", "-c", str(config)]).exit_code == 0  # released


WITHOUT_FCNTL = """
import sys
sys.modules["fcntl"] = None  # as on Windows: no POSIX-only module may be needed
from sheets_health.cli import main
main(["--config", sys.argv[1], "sync", "--json"])
"""


def test_a_sync_runs_where_fcntl_does_not_exist(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", WITHOUT_FCNTL, str(config)],
                          cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["customers"] == 3


# ----------------------------------------------------------------------------- credentials


def _google_config(tmp_path: Path, credentials: str = "") -> Path:
    config = tmp_path / "google.toml"
    config.write_text('[sheet]\nbackend = "google"\nspreadsheet = "1AbCdEfGhIjKlMnOp"\n'
                      + (f'credentials = "{credentials}"\n' if credentials else ""))
    return config


def test_a_missing_credentials_file_exits_4(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "-c", str(_google_config(tmp_path, "key.json"))])
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"Error: the credentials file {tmp_path / 'key.json'} does not exist\n")


def test_an_unreadable_credentials_file_from_the_environment_exits_4(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "key.json"
    key.write_text("not json")
    key.chmod(0o600)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    result = CliRunner().invoke(main, ["check", "--json", "-c", str(_google_config(tmp_path))])
    assert result.exit_code == 4
    [line] = json_lines(result.stdout)
    assert line["error"] == (f"the credentials file {key} (named by "
                             "GOOGLE_APPLICATION_CREDENTIALS) is not a readable JSON key")


# ----------------------------------------------------------------------------- stderr stays empty

X14_VALIDATIONS = (  # what Excel writes for dropdowns that point at another tab
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="0" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/></ext></extLst>')


def _saved_by_excel(workbook: Path) -> None:
    """Add the x14 data-validation extension openpyxl cannot read (and warns about)."""
    original = workbook.read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as zin, zipfile.ZipFile(workbook, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", X14_VALIDATIONS.encode() + b"</worksheet>")
            zout.writestr(item, data)


def test_library_warnings_travel_in_the_json_line_not_on_stderr(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    _saved_by_excel(tmp_path / "sheet.xlsx")
    result = CliRunner().invoke(main, ["sync", "-c", str(config), "--json"])
    assert result.exit_code == 0 and result.stderr == ""
    [line] = json_lines(result.stdout)
    assert line["library_warnings"] == [
        "UserWarning: Data Validation extension is not supported and will be removed"]


def test_library_log_records_are_gathered_with_secrets_masked() -> None:
    with gathered() as found:
        logging.getLogger("urllib3.connectionpool").warning(
            "retrying postgresql://cs:hunter22@db/warehouse")
    expected = ["urllib3.connectionpool: retrying postgresql://cs:***@db/warehouse"]
    assert found.notes() == expected
    logging.getLogger("urllib3").warning("after the run")  # no longer gathered
    assert found.notes() == expected


def test_a_google_sheet_has_one_lock_whether_named_by_id_or_url(tmp_path: Path) -> None:
    from sheets_health.config import config_from_dict
    from sheets_health.lock import lock_path

    def path(spreadsheet: str) -> Path:
        raw = {"sheet": {"backend": "google", "spreadsheet": spreadsheet}}
        return lock_path(config_from_dict(raw, tmp_path))

    sheet_id = "1AbCdEfGhIjKlMnOpQrSt"
    url = f"https://docs.google.com/spreadsheets/d/{sheet_id}/edit#gid=0"
    assert path(sheet_id) == path(url) != path("1ZyXwVuTsRqPoNmLkJiHg")


def test_a_second_demo_sync_with_nothing_changed_changes_no_cell(tmp_path: Path) -> None:
    """At a fixed time: an hour-later run of the clock-based CLI demo could cross midnight
    (a new History day) or move an event out of a 30-day window."""
    now = dt.datetime(2026, 11, 22, 9, 0)
    report, _ = commands.demo(tmp_path / "demo", now=now)
    assert report.cells_changed > 0
    again = commands.sync(tmp_path / "demo" / "sheets-health.toml",
                          now=now + dt.timedelta(minutes=1))
    assert again.cells_changed == 0 and again.history_rows == 0
