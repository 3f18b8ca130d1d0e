"""The shipped template files stay in step with the code that creates tabs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.cells import Percent
from sheets_health.template import SET_MIN_COVERAGE, SETTINGS, TEMPLATE

ROOT = Path(__file__).resolve().parents[1]


def test_template_workbook_matches_the_template(tmp_path: Path) -> None:
    copy = tmp_path / "t.xlsx"
    shutil.copy(ROOT / "templates" / "sheets-health-template.xlsx", copy)
    backend = XlsxBackend(copy)
    tables = backend.read([t.name for t in TEMPLATE])
    assert [tables[t.name].headers for t in TEMPLATE] == [t.headers for t in TEMPLATE]
    assert backend.init(TEMPLATE) == []  # nothing missing: regenerate it if this fails


def test_template_workbook_holds_the_template_rows_with_their_units(tmp_path: Path) -> None:
    """Settings shows `Minimum coverage 50%` (a percent cell), as the README says, not 0.5."""
    copy = tmp_path / "t.xlsx"
    shutil.copy(ROOT / "templates" / "sheets-health-template.xlsx", copy)
    tables = XlsxBackend(copy).read([t.name for t in TEMPLATE])
    for tab in TEMPLATE:
        got = [tuple(None if v == "" else v for v in row) for row in tables[tab.name].rows]
        want = [tuple(None if v == "" else v for v in row) for row in tab.rows]
        assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
        assert got == want
    settings = tables[SETTINGS]
    coverage = next(settings.value(i, "Value") for i in range(len(settings.rows))
                    if settings.value(i, "Setting") == SET_MIN_COVERAGE)
    assert isinstance(coverage, Percent) and str(coverage) == "50%"


def test_credentials_example_has_every_service_account_field() -> None:
    key = json.loads((ROOT / "credentials.example.json").read_text())
    assert sorted(key) == sorted([
        "type", "project_id", "private_key_id", "private_key", "client_email", "client_id",
        "auth_uri", "token_uri", "auth_provider_x509_cert_url", "client_x509_cert_url",
        "universe_domain",
    ])
    assert key["type"] == "service_account"
    assert "PLACEHOLDER" in key["private_key"]


def test_example_config_is_valid_apart_from_its_files() -> None:
    import tomllib

    from sheets_health.config import config_from_dict
    from sheets_health.sources import check_config

    raw = tomllib.loads((ROOT / "templates" / "sheets-health.example.toml").read_text())
    config = config_from_dict(raw, ROOT, env={"WAREHOUSE_URL": "sqlite:///warehouse.db"})
    assert config.sheet.backend == "google"
    problems = [p for p in check_config(config) if "does not exist" not in p]
    assert problems == []
    assert set(config.metrics) >= {"Open tickets", "NPS", "Workflows run 30d"}
