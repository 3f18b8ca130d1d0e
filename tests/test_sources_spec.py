"""Config validation: every problem names the source/metric key and says how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health.cli import main
from sheets_health.config import ConfigProblemsError, config_from_dict
from sheets_health.errors import EXIT_BAD_INPUT
from sheets_health.sources import check_config, load_metrics
from sheets_health.sources.spec import Agg, Condition, MetricSpec, Op, SourceKind, SourceSpec
from tests.sources_fixtures import RUN_AT, make_config

GOOD_SOURCE = {"kind": "csv", "path": "events.csv", "id_column": "id", "time_column": "t"}


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("id,t,event,seats\nA,2026-03-30,login,3\n", encoding="utf-8")
    return path


def problems(tmp_path: Path, sources: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """What loading the config refuses, else what `check` finds (files, drivers)."""
    try:
        config = make_config(tmp_path, sources, metrics)
    except ConfigProblemsError as caught:
        return list(caught.problems)
    return check_config(config)


def test_a_valid_config_has_no_problems(tmp_path: Path, events_csv: Path) -> None:
    metrics = {
        "Logins 30d": {
            "source": "s",
            "agg": "count",
            "window_days": 30,
            "where": {"event": "login"},
        },
        "Seats": {"source": "s", "agg": "max", "column": "seats"},
        "Big": {"source": "s", "agg": "count", "where": {"seats": {">=": 3, "<": 10}}},
        "Some": {"source": "s", "agg": "count", "where": {"event": {"not in": ["a", "b"]}}},
    }
    assert problems(tmp_path, {"s": GOOD_SOURCE}, metrics) == []


SOURCE_CASES: list[tuple[dict[str, Any], str]] = [
    (
        {"path": "events.csv"},
        'kind is missing. Fix: write kind = "csv", "parquet", "xlsx", "sql" or "sheet"',
    ),
    ({"kind": "json", "path": "x"}, 'kind is "json" is not known'),
    ({"kind": "parquet"}, 'a parquet source needs path. Fix: path = "usage_events.parquet"'),
    ({**GOOD_SOURCE, "id_col": "x"}, "unknown key 'id_col'. Fix: did you mean id_column?"),
    ({"kind": "csv"}, "a csv source needs path"),
    ({"kind": "xlsx", "path": "events.csv", "url": "x"}, "unknown key 'url'"),
    ({"kind": "sql", "table": "t"}, "a sql source needs url"),
    ({"kind": "sql", "url": "sqlite://", "table": "t", "query": "SELECT 1"}, "exactly one of"),
    ({"kind": "sql", "url": "sqlite://"}, "exactly one of table or query"),
    ({"kind": "sql", "url": "sqlite://", "table": "t; DROP TABLE x"}, "not a plain"),
    ({"kind": "sheet"}, 'a sheet source needs tab. Fix: tab = "NPS responses"'),
    ({"kind": "sheet", "tab": "T", "spreadsheet": "abc"}, "spreadsheet only works with the google"),
    ({**GOOD_SOURCE, "timezone": "Mars/Olympus"}, 'timezone "Mars/Olympus" is not known'),
    ({**GOOD_SOURCE, "path": "missing.csv"}, "missing.csv does not exist"),
    ({**GOOD_SOURCE, "delimiter": ";;"}, "delimiter must be one character"),
    (
        {"kind": "sql", "url": "sqlite:///nowhere.sqlite", "table": "t"},
        "nowhere.sqlite does not exist",
    ),
    ({"kind": "sql", "url": "not a url", "table": "t"}, "is not a SQLAlchemy URL"),
    (
        {"kind": "sql", "url": "postgresql+nosuchdriver://u:s3cret@db/x", "table": "t"},
        "driver for postgresql+nosuchdriver is not installed",
    ),
]


@pytest.mark.parametrize(("source", "expected"), SOURCE_CASES, ids=[c[1] for c in SOURCE_CASES])
def test_source_problems(
    tmp_path: Path, events_csv: Path, source: dict[str, Any], expected: str
) -> None:
    found = problems(tmp_path, {"s": source}, {"M": {"source": "s", "agg": "count"}})
    assert any(expected in p for p in found), found
    assert all(p.startswith("[sources.s]") or p.startswith('[metrics."M"]') for p in found)
    assert all("Fix:" in p for p in found), found
    assert not any("s3cret" in p for p in found)


METRIC_CASES: list[tuple[dict[str, Any], str]] = [
    ({"agg": "count"}, 'source is missing. Fix: source = "<name>" (sources: s)'),
    ({"source": "sx", "agg": "count"}, 'source "sx" is not defined. Fix: did you mean "s"?'),
    ({"source": "s", "agg": "median"}, 'agg "median" is not known'),
    ({"source": "s", "agg": "sum"}, 'agg = "sum" needs column'),
    ({"source": "s", "agg": "count", "column": "x"}, 'agg = "count" takes no column'),
    ({"source": "s", "agg": "count", "window_days": "30"}, "window_days must be a number"),
    ({"source": "s", "agg": "count", "window_days": -1}, "window_days must be positive"),
    ({"source": "s", "column": "seats", "window_days": 3}, 'agg = "column" reads one value'),
    ({"source": "s", "agg": "pct_change"}, "needs window_days"),
    ({"source": "s", "agg": "count", "wher": {}}, "unknown key 'wher'. Fix: did you mean where?"),
    ({"source": "s", "agg": "count", "where": "event = 1"}, "where must be a table"),
    ({"source": "s", "agg": "count", "where": {"e": {"~": 1}}}, 'unknown operator "~"'),
    ({"source": "s", "agg": "count", "where": {"e": {">": "b"}}}, "compares numbers only"),
    ({"source": "s", "agg": "count", "where": {"e": []}}, "non-empty list"),
    ({"source": "s", "agg": "count", "where": {"e": {"in": 3}}}, '"in" needs a non-empty list'),
]


@pytest.mark.parametrize(("metric", "expected"), METRIC_CASES, ids=[c[1] for c in METRIC_CASES])
def test_metric_problems(
    tmp_path: Path, events_csv: Path, metric: dict[str, Any], expected: str
) -> None:
    found = problems(tmp_path, {"s": GOOD_SOURCE}, {"M": metric})
    assert any(expected in p for p in found), found
    assert all(p.startswith('[metrics."M"]') for p in found), found


@pytest.mark.parametrize("agg", ["days_since", "last", "pct_change"])
def test_time_based_metrics_need_a_time_column(tmp_path: Path, events_csv: Path, agg: str) -> None:
    source = {"kind": "csv", "path": "events.csv", "id_column": "id"}
    metric = {"source": "s", "agg": agg, "window_days": 30}
    if agg == "last":
        metric["column"] = "seats"
    found = problems(tmp_path, {"s": source}, {"M": metric})
    assert any("has no time_column" in p for p in found), found


def test_an_unused_source_is_not_a_problem(tmp_path: Path, events_csv: Path) -> None:
    assert problems(tmp_path, {"s": GOOD_SOURCE}, {}) == []


def test_loading_a_bad_config_lists_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblemsError) as caught:
        make_config(
            tmp_path,
            {"s": {"kind": "csv"}},
            {"A": {"source": "s", "agg": "sum"}, "B": {"source": "nope"}},
        )
    assert caught.value.exit_code == EXIT_BAD_INPUT
    text = str(caught.value)
    assert "4 problem(s)" in text
    for part in ("needs path", "needs column", 'source "nope" is not defined', "needs column"):
        assert part in text


@pytest.mark.parametrize("command", [["sync"], ["check"], ["sync", "--dry-run"]])
def test_every_command_refuses_a_bad_sources_config_naming_each_key(
    tmp_path: Path, command: list[str]
) -> None:
    config = tmp_path / "sheets-health.toml"
    config.write_text(
        '[sheet]\nbackend = "xlsx"\npath = "customers.xlsx"\n\n'
        '[sources.s]\nkind = "csv"\n\n[metrics."A"]\nsource = "s"\nagg = "sum"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(config), *command])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"2 problem(s) with [sources]/[metrics] in {config}:" in result.stderr
    assert "  - [sources.s]: a csv source needs path." in result.stderr
    assert '  - [metrics."A"]: agg = "sum" needs column.' in result.stderr


def test_the_config_holds_typed_specs(tmp_path: Path, events_csv: Path) -> None:
    metrics = {"Logins 30d": {"source": "s", "agg": "count", "window_days": 30,
                              "where": {"event": "login"}}}
    config = make_config(tmp_path, {"s": GOOD_SOURCE}, metrics)
    assert config.sources == {"s": SourceSpec(
        name="s", kind=SourceKind.CSV, id_column="id", time_column="t", path=events_csv)}
    assert config.metrics == {"Logins 30d": MetricSpec(
        name="Logins 30d", source="s", agg=Agg.COUNT, window_days=30.0,
        where=(Condition("event", Op.EQ, "login"),))}


def test_env_vars_fill_urls_and_paths(tmp_path: Path, events_csv: Path) -> None:
    raw = {
        "sheet": {"backend": "xlsx", "path": "c.xlsx"},
        "sources": {"s": {**GOOD_SOURCE, "path": "${EXPORTS}/events.csv"}},
        "metrics": {"M": {"source": "s", "agg": "count"}},
    }
    config = config_from_dict(raw, tmp_path, env={"EXPORTS": str(tmp_path)})
    assert check_config(config) == []
    assert load_metrics(config, RUN_AT).frame["M"].to_dict() == {"A": 1.0}


def test_loading_a_config_does_not_load_the_data_stack(tmp_path: Path) -> None:
    """The specs are parsed without pandas or SQLAlchemy (they load with the data)."""
    import subprocess
    import sys

    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "c.xlsx"\n\n[sources.s]\nkind = "sql"\n'
                      'url = "sqlite:///x.db"\ntable = "t"\n\n[metrics.M]\nsource = "s"\n'
                      'agg = "count"\n', encoding="utf-8")
    script = ("import sys; from pathlib import Path; from sheets_health.config import load_config;"
              "c = load_config(Path(sys.argv[1])); assert c.metrics['M'].source == 's';"
              "print(sorted(m for m in ('pandas', 'sqlalchemy', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "[]"
