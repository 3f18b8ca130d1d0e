"""CSV and Parquet files aggregated in DuckDB: lazy import, safe paths, DST, Parquet errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sheets_health.errors import EXIT_BAD_INPUT, SourceError
from sheets_health.sources import duck, load_metrics
from sheets_health.sources.common import Clock, Progress
from tests.sources_fixtures import make_config, write_csv, write_parquet

ROOT = Path(__file__).resolve().parents[1]
S = dt.timedelta(seconds=1)


def test_loading_a_config_does_not_import_duckdb_but_loading_a_file_does(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("Customer ID\nA\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(
        '[sheet]\nbackend = "xlsx"\npath = "c.xlsx"\n\n'
        '[sources.s]\nkind = "csv"\npath = "e.csv"\n\n'
        '[sources.p]\nkind = "parquet"\npath = "e.parquet"\n\n'
        '[metrics.M]\nsource = "s"\nagg = "count"\n',
        encoding="utf-8",
    )
    script = (
        "import sys, datetime as dt; from pathlib import Path\n"
        "import sheets_health.sources as s; from sheets_health.config import load_config\n"
        "c = load_config(Path(sys.argv[1]))\n"
        "print('duckdb' in sys.modules)\n"
        "frame = s.load_metrics(c, dt.datetime(2026, 3, 31, tzinfo=dt.UTC)).frame\n"
        "print('duckdb' in sys.modules, frame['M'].to_dict())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(config)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout.splitlines() == ["False", "True {'A': 1.0}"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_quotes_and_spaces_in_a_file_name_reach_duckdb_safely(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / 'it\'s "odd"; DROP TABLE x; --'
    folder.mkdir()
    rows = [("00123", dt.datetime(2026, 3, 30), "login", 2, "u")] * 3
    writer = write_csv if kind == "csv" else write_parquet
    source: dict[str, Any] = writer(folder, rows, "UTC")
    source["path"] = f"{folder.name}/{source['path']}"
    config = make_config(tmp_path, {"s": source}, {"n": {"source": "s", "agg": "count"}})
    spec, metrics = config.sources["s"], list(config.metrics.values())
    clock = Clock.of(dt.datetime(2026, 3, 31, tzinfo=dt.UTC), "UTC")
    load, where = duck.load_file(spec, metrics, ["account_id", "ts"], clock, Progress("s", 0))
    assert where == source["path"].rsplit("/", 1)[-1]
    assert load.values["n"].to_dict() == {"00123": 3.0}


@pytest.mark.parametrize(
    ("naive", "run_at"),
    [
        # Paris skips 02:00–03:00 on 2026-03-29: 02:30 moves on to 03:00 CEST = 01:00 UTC
        (dt.datetime(2026, 3, 29, 2, 30), dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)),
        # 02:30 happens twice on 2026-10-25: the earlier one, 02:30 CEST = 00:30 UTC
        (dt.datetime(2026, 10, 25, 2, 30), dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)),
    ],
    ids=["gap", "overlap"],
)
def test_naive_times_in_a_dst_change_agree_with_the_pandas_path(
    tmp_path: Path, naive: dt.datetime, run_at: dt.datetime
) -> None:
    rows = [("A", naive, "login", None, "u"), ("A", naive - dt.timedelta(days=3), "x", 1, "u")]
    metrics = {"n": {"source": "s", "agg": "count"}, "d": {"source": "s", "agg": "days_since"}}
    csv = write_csv(tmp_path, rows, "Europe/Paris")
    sources = {
        "duckdb csv": csv,
        "duckdb parquet": write_parquet(tmp_path, rows, "Europe/Paris"),
        # time_format is read by the pandas path only
        "pandas csv": {**csv, "time_format": "%Y-%m-%d %H:%M:%S"},
    }
    for moment, want in ((run_at, {"n": 2.0, "d": 0.0}), (run_at - S, {"n": 1.0, "d": 2.0})):
        for name, source in sources.items():
            config = make_config(tmp_path, {"s": source}, metrics)
            assert load_metrics(config, moment).frame.loc["A"].to_dict() == want, (name, moment)


def _parquet(tmp_path: Path, sql: str) -> dict[str, Any]:
    import duckdb

    path = tmp_path / "t.parquet"
    with duckdb.connect() as conn:
        conn.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
    return {"kind": "parquet", "path": path.name}


def test_parquet_integer_ids_and_text_ids_keep_their_text(tmp_path: Path) -> None:
    source = _parquet(
        tmp_path,
        "SELECT * FROM (VALUES (123, '00123', 4.5), (123, '00123', 0.5), (7, '7', NULL)) "
        't("n", "Customer ID", "v")',
    )
    metrics = {"sum": {"source": "s", "agg": "sum", "column": "v"}}
    frame = load_metrics(make_config(tmp_path, {"s": source}, metrics), dt.datetime.now()).frame
    assert frame["sum"].to_dict() == {"00123": 5.0, "7": 0.0}
    source["id_column"] = "n"
    frame = load_metrics(make_config(tmp_path, {"s": source}, metrics), dt.datetime.now()).frame
    assert frame["sum"].to_dict() == {"123": 5.0, "7": 0.0}


def test_a_parquet_file_without_the_column_names_source_and_column(tmp_path: Path) -> None:
    source = _parquet(tmp_path, "SELECT 'A' AS account, 1 AS v")
    config = make_config(tmp_path, {"s": source}, {"m": {"source": "s", "agg": "count"}})
    with pytest.raises(SourceError) as caught:
        load_metrics(config, dt.datetime.now())
    assert str(caught.value).startswith(
        "source 's' (t.parquet): there is no column 'Customer ID'\n"
        "  Fix: the columns are 'account', 'v'"
    )
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_a_missing_or_broken_parquet_file_is_bad_input(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        {"s": {"kind": "parquet", "path": "gone.parquet"}},
        {"m": {"source": "s", "agg": "count"}},
    )
    with pytest.raises(SourceError, match=r"file .*gone\.parquet does not exist"):
        load_metrics(config, dt.datetime.now())
    (tmp_path / "gone.parquet").write_text("Customer ID\nA\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"gone\.parquet is not a Parquet file") as caught:
        load_metrics(config, dt.datetime.now())
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_a_bad_parquet_cell_names_its_row(tmp_path: Path) -> None:
    source = _parquet(
        tmp_path, "SELECT * FROM (VALUES ('A', '1'), ('A', 'n/a')) t(\"Customer ID\", v)"
    )
    metrics = {"m": {"source": "s", "agg": "mean", "column": "v"}}
    with pytest.raises(SourceError, match=r"\(t\.parquet\), row 2, column 'v': not a number"):
        load_metrics(make_config(tmp_path, {"s": source}, metrics), dt.datetime.now())
