"""CSV and Parquet sources in DuckDB: the same cells give the same metrics as the pandas
reader, errors name their row, and awkward files (encodings, glob characters in names, short
rows, line breaks in quoted cells, typed Parquet columns) are read safely."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sheets_health.errors import EXIT_BAD_INPUT, SourceError
from sheets_health.sources import MetricsResult, _wanted, files, frames, load_metrics
from sheets_health.sources.common import Clock
from tests.sources_fixtures import RUN_AT, make_config

ROOT = Path(__file__).resolve().parents[1]

# every cell-policy case the pandas reader handles, in one export
MESSY_CSV = """\
account,when,event,value,flag,score,user
A,2026-03-30T10:00:00Z,login,"1,234",yes,9,u1
  A ,2026-03-30 10:00:00+02:00, login,45%,no,10,u2
\u00a0A\u00a0,2026-03-30 10:00,login\t,  2 ,YES,3,u1
00123,2026-03-30,report,1e3,1,7, u3
123,2026-03-29 02:30,LOGIN,-0.5,0,8,u3
123,2025-10-26 02:30,login,,,6,u4
123, 2026-03-30 11:00 ,export,7,x,0,u5
B,2026-03-30T10:00:00.123Z,login,3,n,10,
B,2026-03-30 10:00:00 -05:00,report,3,n,10,u6
B,2026-03-31 13:00,login,4,true,9,u6
,2026-03-30 10:00,login,5,yes,9,u7
C,,login,6,yes,9,u8
C,2026-02-20 08:00,export,7,,2,u8
C,2026-01-25 08:00,export,2.5,no,5,u9
"""

METRICS: dict[str, dict[str, Any]] = {
    "count": {"agg": "count"},
    "logins 30d": {"agg": "count", "window_days": 30, "where": {"event": "login"}},
    "not login": {"agg": "count", "where": {"event": {"not in": ["login"]}}},
    "flagged": {"agg": "count", "where": {"flag": True}},
    "unflagged": {"agg": "count", "where": {"flag": {"!=": True}}},
    "big values": {"agg": "count", "where": {"value": {">": 1}}},
    "value 7": {"agg": "count", "where": {"value": [7, "x"]}},
    "sum": {"agg": "sum", "column": "value"},
    "mean 60d": {"agg": "mean", "column": "value", "window_days": 60},
    "min": {"agg": "min", "column": "value"},
    "max": {"agg": "max", "column": "value"},
    "last value": {"agg": "last", "column": "value"},
    "last user": {"agg": "last", "column": "user"},
    "users": {"agg": "distinct", "column": "user"},
    "days since": {"agg": "days_since"},
    "nps": {"agg": "nps", "column": "score"},
    "change": {"agg": "pct_change", "window_days": 30},
    "value change": {"agg": "pct_change", "column": "value", "window_days": 30},
}


def csv_source(tmp_path: Path, text: str, name: str = "data.csv", **extra: Any) -> dict[str, Any]:
    encoding = extra.pop("file_encoding", "utf-8")
    (tmp_path / name).write_text(text, encoding=encoding, newline="")
    return {"kind": "csv", "path": name, **extra}


def load(
    tmp_path: Path, source: dict[str, Any], metrics: dict[str, dict[str, Any]]
) -> MetricsResult:
    config = make_config(
        tmp_path, {"s": source}, {k: {"source": "s", **v} for k, v in metrics.items()}
    )
    return load_metrics(config, RUN_AT)


def same(a: object, b: object) -> bool:
    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC"])
def test_duckdb_gives_what_the_pandas_reader_gives_on_messy_cells(
    tmp_path: Path, zone: str
) -> None:
    """Padded and NBSP-padded ids (``A``, ``  A ``), ``00123`` ≠ ``123``, ``1,234``, ``45%``,
    ``1e3``, offsets (also after a space), ``Z``, date-only, a DST gap (02:30 on 2026-03-29)
    and overlap (02:30 on 2025-10-26), yes/no flags, blank cells, a blank id, a future and a
    timeless row."""
    source = csv_source(tmp_path, MESSY_CSV, id_column="account", time_column="when", timezone=zone)
    config = make_config(
        tmp_path, {"s": source}, {k: {"source": "s", **v} for k, v in METRICS.items()}
    )
    spec, metrics = config.sources["s"], list(config.metrics.values())
    cells = files.read_csv(spec, _wanted(spec, metrics))
    expected, ids, rows, notes = frames.load_frame(
        spec, metrics, cells, Clock.of(RUN_AT, zone), lambda: None
    )

    result = load_metrics(config, RUN_AT)

    assert sorted(result.frame.index) == sorted(ids) == ["00123", "123", "A", "B", "C"]
    (report,) = result.sources
    assert (
        (report.rows, report.notes)
        == (rows, tuple(notes))
        == (13, ("1 rows have a blank customer id",))
    )
    for name in METRICS:
        for cid in ids:
            want, got = expected[name][cid], result.frame.loc[cid, name]
            assert same(want, got), f"{name} for {cid!r}: pandas {want!r}, DuckDB {got!r}"
    assert result.frame.loc["A", "sum"] == pytest.approx(1234 + 0.45 + 2)


def test_an_error_deep_in_a_large_file_names_its_row(tmp_path: Path) -> None:
    lines = ["Customer ID,v"] + [f"C{n % 97},{n % 13}" for n in range(200_000)]
    lines[150_000] = "C1,n/a"  # file row 150,001
    lines[180_000] = "C2,x"
    source = csv_source(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"m": {"agg": "sum", "column": "v"}})
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert str(caught.value).startswith(
        "source 's' (data.csv), row 150001, column 'v': not a number (2 such rows) (value 'n/a')"
    )


def test_a_bad_timestamp_in_a_utc_source_names_its_row_and_blank_cells_are_blank(
    tmp_path: Path,
) -> None:
    text = "Customer ID,t\nA,2026-03-01T10:00:00Z\nA,   \nA,\nA,yesterday\n"
    source = csv_source(tmp_path, text, time_column="t")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert str(caught.value).startswith(
        "source 's' (data.csv), row 5, column 't': not an ISO 8601 timestamp (1 such rows) "
        "(value 'yesterday')"
    )
    assert "time_format" in str(caught.value)


def test_a_named_time_zone_is_refused_not_read_as_wall_clock_time(tmp_path: Path) -> None:
    text = "Customer ID,t\nA,2026-03-01 10:00\nA,2026-03-01 10:00 Europe/Paris\n"
    source = csv_source(tmp_path, text, time_column="t", timezone="America/New_York")
    with pytest.raises(SourceError, match=r"row 3, column 't': not an ISO 8601 timestamp"):
        load(tmp_path, source, {"m": {"agg": "count"}})


def test_nps_outside_0_to_10_names_the_first_row_in_the_window(tmp_path: Path) -> None:
    text = "Customer ID,t,score\nA,2020-01-01,11\nA,2026-03-30,9\nA,2026-03-30,12\n"
    source = csv_source(tmp_path, text, time_column="t")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"NPS": {"agg": "nps", "column": "score", "window_days": 90}})
    assert "row 4, column 'score': an NPS score must be 0–10 (value '12')" in str(caught.value)


def test_short_rows_and_line_breaks_in_quoted_cells(tmp_path: Path) -> None:
    text = 'Customer ID,note,v\nA,"two\nlines",1\nB,short\nA,"a ""quote""",2\n'
    source = csv_source(tmp_path, text)
    frame = load(
        tmp_path, source, {"n": {"agg": "count"}, "s": {"agg": "sum", "column": "v"}}
    ).frame
    assert frame.to_dict() == {"n": {"A": 2, "B": 1}, "s": {"A": 3, "B": 0}}


def test_a_row_with_too_many_cells_is_a_clear_error(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,v\nA,1\nB,2,3\n")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"n": {"agg": "count"}})
    message = str(caught.value)
    assert message.startswith("source 's': data.csv is not a valid CSV file: line 3: ")
    assert "Expected Number of Columns: 2 Found: 3" in message


def test_an_encoding_duckdb_lacks_is_read_through_a_utf8_copy(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path, "Customer ID,Plan\nA,Pro €\n", encoding="cp1252", file_encoding="cp1252"
    )
    assert load(tmp_path, source, {"Plan": {"column": "Plan"}}).frame.loc["A", "Plan"] == "Pro €"


def test_an_unknown_encoding_says_so(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID\nA\n", encoding="klingon")
    with pytest.raises(SourceError, match='encoding "klingon" is not known'):
        load(tmp_path, source, {"n": {"agg": "count"}})


@pytest.mark.parametrize("name", ["usage[1].csv", "usage*.csv", "it's {new}.csv"])
def test_glob_characters_and_quotes_in_a_file_name_read_only_that_file(
    tmp_path: Path, name: str
) -> None:
    csv_source(tmp_path, "Customer ID\nDECOY\n", name="usage1.csv")
    source = csv_source(tmp_path, "Customer ID\nREAL\n", name=name)
    assert list(load(tmp_path, source, {"n": {"agg": "count"}}).frame.index) == ["REAL"]


def write_parquet(path: Path, select: str) -> None:
    with duckdb.connect() as conn:
        conn.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


def test_parquet_keeps_its_column_types(tmp_path: Path) -> None:
    write_parquet(
        tmp_path / "typed.parquet",
        """SELECT * FROM (VALUES
            (123, 5.0, true, TIMESTAMP '2026-03-30 10:00:00', 'Pro'),
            (123, 2.5, false, TIMESTAMP '2026-03-30 11:00:00', 'Team'),
            (7, NULL, NULL, NULL, NULL)
        ) AS t("Customer ID", seats, active, "Updated", plan)""",
    )
    source = {"kind": "parquet", "path": "typed.parquet", "time_column": "updated"}
    frame = load(
        tmp_path,
        source,
        {
            "active": {"agg": "count", "where": {"active": True}},
            "seats": {"agg": "sum", "column": "seats"},
            "plan": {"agg": "last", "column": "plan"},
            "days": {"agg": "days_since"},
        },
    ).frame
    assert list(frame.index) == ["123", "7"]
    assert frame.loc["123"].to_dict() == {"active": 1, "seats": 7.5, "plan": "Team", "days": 1}
    assert frame.loc["7", "seats"] == 0 and frame.loc["7", "plan"] is None


def test_a_parquet_column_of_another_type_is_refused(tmp_path: Path) -> None:
    write_parquet(tmp_path / "x.parquet", "SELECT 'A' AS \"Customer ID\", [1, 2] AS tags")
    with pytest.raises(SourceError, match=r"column 'tags' holds INTEGER\[\], which is not text"):
        load(tmp_path, {"kind": "parquet", "path": "x.parquet"}, {"t": {"column": "tags"}})


def test_a_numeric_parquet_time_column_is_refused(tmp_path: Path) -> None:
    write_parquet(tmp_path / "x.parquet", "SELECT 'A' AS \"Customer ID\", 1774915200 AS t")
    source = {"kind": "parquet", "path": "x.parquet", "time_column": "t"}
    with pytest.raises(SourceError, match="time column 't' holds INTEGER, not timestamps"):
        load(tmp_path, source, {"n": {"agg": "count"}})


def test_parquet_problems_are_named_like_csv_ones(tmp_path: Path) -> None:
    write_parquet(tmp_path / "x.parquet", "SELECT 'A' AS account, 1 AS v")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, {"kind": "parquet", "path": "x.parquet"}, {"n": {"agg": "count"}})
    assert str(caught.value) == (
        "source 's' (x.parquet): there is no column 'Customer ID'\n"
        "  Fix: the columns are 'account', 'v'; set id_column, time_column, column or the "
        "where keys to one of them"
    )
    (tmp_path / "fake.parquet").write_text("Customer ID\nA\n")
    with pytest.raises(SourceError, match=r"fake\.parquet is not a Parquet file"):
        load(tmp_path, {"kind": "parquet", "path": "fake.parquet"}, {"n": {"agg": "count"}})
    with pytest.raises(SourceError, match=r"file .*gone\.parquet does not exist"):
        load(tmp_path, {"kind": "parquet", "path": "gone.parquet"}, {"n": {"agg": "count"}})


def test_duckdb_is_imported_only_when_a_file_source_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("Customer ID\nA\n")
    script = f"""
import datetime as dt, sys
from pathlib import Path
import sheets_health.cli, sheets_health.sync, sheets_health.sources
from sheets_health.config import config_from_dict
from sheets_health.sources import load_metrics
print("duckdb" in sys.modules)
config = config_from_dict(
    {{"sheet": {{"backend": "xlsx", "path": "c.xlsx"}},
     "sources": {{"s": {{"kind": "csv", "path": "data.csv"}}}},
     "metrics": {{"n": {{"source": "s", "agg": "count"}}}}}},
    Path({str(tmp_path)!r}), env={{}})
load_metrics(config, dt.datetime(2026, 3, 31, tzinfo=dt.UTC))
print("duckdb" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def test_a_dst_zone_converts_wall_clock_times_like_pandas() -> None:
    """The wall-clock → UTC rules compiled for DuckDB agree with the pandas path's localisation
    at every 7 minutes of three years in New York, ambiguous and skipped hours included."""
    from zoneinfo import ZoneInfo

    import pandas as pd

    from sheets_health.sources import wallclock

    walls = pd.Series(pd.date_range("2024-01-01", "2026-12-31", freq="7min"))
    expected = frames._localize(walls, ZoneInfo("America/New_York")).dt.tz_convert(None)
    with duckdb.connect() as conn:
        conn.register("w", pd.DataFrame({"wall": walls.astype("datetime64[us]")}))
        sql = wallclock.to_utc_sql("wall", "America/New_York", 2027)
        got = conn.execute(f"SELECT {sql} AS utc FROM w").df()["utc"]
    assert (
        got.astype("datetime64[us]").to_numpy() == expected.astype("datetime64[us]").to_numpy()
    ).all()
    assert wallclock.is_utc("UTC", 2027) and not wallclock.is_utc("Europe/London", 2027)


def test_check_names_a_missing_parquet_file(tmp_path: Path) -> None:
    from sheets_health.sources import check_config

    config = make_config(
        tmp_path,
        {"s": {"kind": "parquet", "path": "exports/events.parquet"}},
        {"n": {"source": "s", "agg": "count"}},
    )
    (problem,) = check_config(config)
    assert problem.startswith("[sources.s]: file ") and "events.parquet does not exist" in problem


def test_a_tab_separated_export(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID\tv\nA\t1,5\nA\t2\n", delimiter="\t")
    with pytest.raises(SourceError, match=r"row 2, column 'v': not a number \(1 such rows\)"):
        load(tmp_path, source, {"s": {"agg": "sum", "column": "v"}})
    (tmp_path / "data.csv").write_text("Customer ID\tv\nA\t1.5\nA\t2\n")
    assert load(tmp_path, source, {"s": {"agg": "sum", "column": "v"}}).frame.loc["A", "s"] == 3.5


def test_the_readme_export_example_gives_the_counts_it_states(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("  account_id,timestamp,event,value\n", 1)[1].split("  ```", 1)[0]
    text = "account_id,timestamp,event,value\n" + "".join(
        line[2:] + "\n" for line in block.splitlines()
    )
    source = csv_source(tmp_path, text, id_column="account_id", time_column="timestamp")
    metrics = {
        "Logins 30d": {"agg": "count", "window_days": 30, "where": {"event": "login"}},
        "value": {"agg": "sum", "column": "value"},
    }
    frame = load(tmp_path, source, metrics).frame
    assert frame["Logins 30d"].to_dict() == {"00123": 2.0, "123": 1.0}
    assert frame.loc["00123", "value"] == pytest.approx(1234.45)  # "1,234" + "45%"
