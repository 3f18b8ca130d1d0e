"""Contract: a sequence of syncs on changing data, on every backend — exactly one Alerts row per
change, a recovery row, no repeat on a re-run, a second sync the same day or after a person
sorted the Alerts tab; the webhook told after the sheet write, and a failed delivery retried by
the next sync."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from sheets_health import action, commands
from sheets_health import template as T
from sheets_health.config import Config, config_from_dict
from sheets_health.model import CellValue
from sheets_health.sync import run_sync
from tests.hook import Hook
from tests.hook import hook as hook  # the fixture
from tests.sheets import valid_tabs

from .conftest import Make
from .factories import BackendUnderTest, Tabs

DAY1 = dt.datetime(2026, 11, 2, 9, 30)
CSM_SCORE = 7  # the column of `CSM score` in tests.sheets' Customers


def _config(tmp_path: Path, extra: str = "") -> Config:
    raw = tomllib.loads(f'[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n{extra}')
    return config_from_dict(raw, tmp_path, env={"SLACK_WEBHOOK_URL": "http://unused.invalid/x"})


def _tabs() -> Tabs:
    tabs = valid_tabs()
    tabs["Customers"][0].append("CSM")
    for row, csm in zip(tabs["Customers"][1:], ("Ana", "Ben", "Ana"), strict=True):
        row.append(csm)
    tabs["Settings"].append(["Alert on", "worse"])
    tabs[T.ALERTS] = [list(T.ALERT_HEADERS)]
    return tabs


def _alerts(sheet: BackendUnderTest) -> list[dict[str, CellValue]]:
    grid = sheet.cells(T.ALERTS)
    return [dict(zip(grid[0], row, strict=False)) for row in grid[1:]]  # type: ignore[arg-type]


def _set_csm_score(sheet: BackendUnderTest, cid: str, value: int) -> None:
    grid = sheet.cells("Customers")
    next(r for r in grid if r[0] == cid)[CSM_SCORE] = value
    sheet.edit("Customers", grid)


def test_one_alert_per_change_and_a_recovery_over_days_of_syncs(backend_factory: Make,
                                                               tmp_path: Path) -> None:
    sheet = backend_factory(_tabs())
    config = _config(tmp_path)

    def sync(day: int) -> tuple[str, ...]:
        now = DAY1 + dt.timedelta(days=day)
        return run_sync(config, backend=sheet.backend, now=now).alerts

    assert sync(0) == ()  # first scores are not changes
    _set_csm_score(sheet, "C001", 3)  # Acme: Green 100 → Yellow 50
    assert sync(1) == ("C001|worse|2026-11-03|Yellow",)
    assert sync(1) == ()  # a second sync the same day
    grid = sheet.cells(T.ALERTS)
    sheet.edit(T.ALERTS, [grid[0], *reversed(grid[1:])])  # a person sorts the tab
    assert sync(2) == ()  # still Yellow: the episode is open
    _set_csm_score(sheet, "C002", 3)  # Globex: Red stays Red: no alert
    _set_csm_score(sheet, "00123", 3)  # Initech: Yellow 65 → Red 35
    assert sync(3) == ("00123|worse|2026-11-05|Red",)
    _set_csm_score(sheet, "C001", 9)  # Acme back to Green
    assert sync(4) == ("C001|recovered|2026-11-03",)
    assert sync(4) == () and sync(5) == ()
    rows = _alerts(sheet)
    assert [(r["Customer ID"], r["Kind"], r["From"], r["To"], r["CSM"]) for r in rows] == [
        ("C001", "worse", "Green", "Yellow", "Ana"),
        ("00123", "worse", "Yellow", "Red", "Ana"),
        ("C001", "recovered", "Yellow", "Green", "Ana"),
    ]
    first = rows[0]
    assert first["Date"] == dt.date(2026, 11, 3) and first["Score"] == 50
    assert first["Score change"] == -50 and first["Next step"] == "Ask the CSM for a plan"
    assert str(first["Top reason"]).startswith("CSM score 3 (target ≥ 8)")
    assert all(r["Notified"] is None for r in rows)  # no webhook configured


def test_the_webhook_is_told_after_the_write_and_a_failure_is_retried(
        backend_factory: Make, tmp_path: Path, hook: Hook) -> None:
    sheet = backend_factory(_tabs())
    config = _config(tmp_path, f'[notify]\nwebhook = "{hook.url}"\ntimeout = 5\n')
    run_sync(config, backend=sheet.backend, now=DAY1)
    assert hook.payloads == []  # nothing to tell
    _set_csm_score(sheet, "C001", 3)
    hook.statuses = [500]
    report = run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(days=1))
    assert report.alerts == ("C001|worse|2026-11-03|Yellow",)
    assert "1 alert was not sent: the webhook answered HTTP 500; will retry next sync" in \
        report.warnings
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert "`1 alert was not sent: the webhook answered HTTP 500; will retry next sync`" in readme
    assert [r["Notified"] for r in _alerts(sheet)] == ["failed 2026-11-03"]
    assert sheet.cells("Customers")[1][-1] is not None  # the sheet was written all the same
    # the next sync (nothing new) sends it again, and this time it is delivered
    again = run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(days=2))
    assert again.alerts == () and not [w for w in again.warnings if "HTTP" in w]
    assert len(hook.payloads) == 2 and hook.payloads[0] == hook.payloads[1]
    assert [r["Notified"] for r in _alerts(sheet)] == ["yes"]
    text = hook.payloads[1]["text"]
    assert "Customer health: 1 alert (1 worse)" in text and "*Ana*" in text
    assert "Green → Yellow (−50)" in text and "Next: Ask the CSM for a plan" in text
    link = action.row_link(sheet.backend, "Customers", 2)  # Google: the row; a workbook: none
    assert (f"<{link}|Acme>" if link else "*Acme*") in text
    assert link is None or ("#gid=" in link and link.endswith("&range=A2"))
    run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(days=3))
    assert len(hook.payloads) == 2  # told once


def test_a_score_drop_alerts_once_and_a_dry_run_writes_no_alert(backend_factory: Make,
                                                                 tmp_path: Path) -> None:
    tabs = _tabs()
    tabs["Settings"][-1] = ["Alert on", "worse, drop"]
    tabs["Settings"].append(["Alert drop points", 10])
    sheet = backend_factory(tabs)
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=DAY1)
    _set_csm_score(sheet, "C001", 7)  # Acme: Green 100 → Green 90, a drop of 10
    day2 = DAY1 + dt.timedelta(days=1)
    dry = run_sync(config, backend=sheet.backend, now=day2, dry_run=True)
    assert dry.alerts == ("C001|drop|2026-11-03",) and _alerts(sheet) == []
    assert "1 new alert in the Alerts tab (not written)" in commands.describe_sync(dry)
    report = run_sync(config, backend=sheet.backend, now=day2)
    assert report.alerts == dry.alerts
    assert "1 new alert in the Alerts tab\n" in commands.describe_sync(report) + "\n"
    (row,) = _alerts(sheet)
    assert (row["Kind"], row["From"], row["To"], row["Score"], row["Score change"]) == (
        "drop", "Green", "Green", 90, -10)
    assert run_sync(config, backend=sheet.backend, now=day2 + dt.timedelta(days=1)).alerts == ()


def test_a_second_sync_with_nothing_changed_leaves_the_summary_alone(
        backend_factory: Make, tmp_path: Path) -> None:
    tabs = _tabs()
    tabs[T.SUMMARY] = []
    sheet = backend_factory(tabs)
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=DAY1)
    first = sheet.cells(T.SUMMARY)
    records = getattr(sheet.backend, "records", None)  # Google: every request sent
    sent = len(records) if records is not None else 0
    run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(hours=1))
    assert sheet.cells(T.SUMMARY) == first
    if records is not None:
        assert "summary-write" not in [r.kind for r in records[sent:]]
