"""The README's worked examples for alerts, notifications, next steps and stale sources, as
the README shows them: its TOML blocks load, its quoted messages are what the tool says."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sheets_health import template as T
from sheets_health.alerts import Alert, AlertKind
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.cli import main
from sheets_health.config import config_from_dict
from sheets_health.errors import EXIT_BAD_INPUT
from sheets_health.model import Rag
from sheets_health.notify import alert_line

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n#", start + 1)
    return README[start:end]


def toml_block(text: str) -> str:
    found = re.search(r"```toml\n(.*?)```", text, re.S)
    assert found is not None
    return found.group(1)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_notify_example_loads_with_the_secret_from_the_environment() -> None:
    raw = tomllib.loads('[sheet]\nbackend = "xlsx"\npath = "x.xlsx"\n'
                        + toml_block(section("Chat notifications")))
    config = config_from_dict(raw, ROOT, env={"SLACK_WEBHOOK_URL": "https://hooks.example/T/B/x"})
    assert config.notify is not None and config.notify.timeout == 10
    assert "hooks.example" not in repr(config.notify)


def test_the_readme_webhook_line_is_what_the_message_says() -> None:
    alert = Alert(dt.date(2026, 3, 2), "c2", "Globex", "Ana", AlertKind.WORSE, Rag.YELLOW,
                  Rag.RED, 35, -12, "Tickets open 9 (target ≤ 2) −14 pts",
                  "Triage the open tickets", dt.date(2026, 12, 1), "2026-03-02", "k")
    line = alert_line(alert, None).replace("*Globex*", "Globex")
    assert f"`{line}`" in flat(section("Chat notifications"))


def test_the_stale_source_example_loads() -> None:
    raw = tomllib.loads('[sheet]\nbackend = "xlsx"\npath = "x.xlsx"\n'
                        + toml_block(section("Stale sources"))
                        + '[metrics."Open tickets"]\nsource = "tickets"\nagg = "count"\n')
    config = config_from_dict(raw, ROOT)
    assert config.sources["tickets"].max_age_days == 14


def test_a_bad_alert_setting_is_refused_as_the_readme_says(tmp_path: Path) -> None:
    workbook = tmp_path / "customers.xlsx"
    XlsxBackend(workbook).init(T.TEMPLATE)
    book = load_workbook(workbook)
    settings = book[T.SETTINGS]
    row = next(r for r in range(2, settings.max_row + 1)
               if settings.cell(r, 1).value == T.SET_ALERT_ON)
    settings.cell(row, 2).value = "sometimes"
    customers = book[T.CUSTOMERS]
    customers.append(["C001", "Acme"])
    book.save(workbook)
    config = tmp_path / "sheets-health.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "customers.xlsx"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    message = (f"tab 'Settings', row {row}, column 'Value': 'sometimes' is not worse, drop, "
               "'worse, drop' or none")
    assert message in result.output and f"`{message}`" in flat(section(
        "Alerts and the Summary tab"))
    after = XlsxBackend(workbook).read([T.CUSTOMERS, T.ALERTS, T.SUMMARY])
    assert after[T.CUSTOMERS].value(0, T.HEALTH) is None  # nothing scored or written
    assert after[T.ALERTS].rows == () and after[T.SUMMARY].headers == ()
