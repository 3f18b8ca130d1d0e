"""SQL sources: aggregation in the database, bound values, errors, masked passwords."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sheets_health.errors import EXIT_BAD_INPUT, EXIT_OUTAGE, SourceError, SourceUnavailableError
from sheets_health.sources import EmptySourceError, MetricsResult, check_config, load_metrics
from sheets_health.sources.common import mask_url, scrub, secrets_of
from tests.pg import pg_schema, pg_url
from tests.sources_fixtures import RUN_AT, make_config


def load(
    tmp_path: Path, source: dict[str, Any], metrics: dict[str, dict[str, Any]]
) -> MetricsResult:
    config = make_config(
        tmp_path, {"db": source}, {k: {"source": "db", **v} for k, v in metrics.items()}
    )
    return load_metrics(config, RUN_AT)


@pytest.fixture
def warehouse(tmp_path: Path) -> dict[str, Any]:
    with sqlite3.connect(tmp_path / "wh.sqlite") as conn:
        conn.execute(
            "CREATE TABLE tickets (customer_id TEXT, opened_at TEXT, priority TEXT, who TEXT)"
        )
        conn.executemany(
            "INSERT INTO tickets VALUES (?, ?, ?, ?)",
            [
                ("00123", "2026-03-30T10:00:00", "P1", "O'Brien"),  # ISO with a T
                ("00123", "2026-03-31T11:59:59Z", "P2", "ann"),  # with Z (timezone is UTC)
                ("00123", "2026-03-31 12:00:01", "P1", "ann"),  # future
                ("123", "2026-01-01 00:00:00", "P3", "bob"),
                (None, "2026-03-30 00:00:00", "P1", "x"),
            ],
        )
        conn.execute(
            "CREATE TABLE billing (account TEXT, seats INTEGER, used INTEGER, overdue REAL)"
        )
        conn.executemany(
            "INSERT INTO billing VALUES (?, ?, ?, ?)",
            [("00123", 10, 7, 0), ("123", 5, 5, 12.5)],
        )
        conn.execute("CREATE TABLE empty_table (customer_id TEXT)")
    conn.close()
    return {"kind": "sql", "url": "sqlite:///wh.sqlite", "id_column": "customer_id"}


def test_sqlite_text_timestamps_windows_and_bound_filters(
    tmp_path: Path, warehouse: dict[str, Any]
) -> None:
    statements: list[tuple[str, Any]] = []

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    try:
        source = {**warehouse, "table": "tickets", "time_column": "opened_at"}
        result = load(
            tmp_path,
            source,
            {
                "Tickets 7d": {"agg": "count", "window_days": 7},
                "P1 tickets": {"agg": "count", "where": {"priority": "P1"}},
                "By O'Brien": {"agg": "count", "where": {"who": "O'Brien"}},
                "Days since ticket": {"agg": "days_since"},
                "Last priority": {"agg": "last", "column": "priority"},
            },
        )
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert result.frame.to_dict(orient="index") == {
        "00123": {
            "Tickets 7d": 2.0,
            "P1 tickets": 1.0,
            "By O'Brien": 1.0,
            "Days since ticket": 0.0,
            "Last priority": "P2",
        },
        "123": {
            "Tickets 7d": 0.0,
            "P1 tickets": 0.0,
            "By O'Brien": 0.0,
            "Days since ticket": 89.0,
            "Last priority": "P3",
        },
    }
    (report,) = result.sources
    assert (report.rows, report.ids, report.kind) == (4, 2, "sql")
    grouped = [s for s, _ in statements if "GROUP BY" in s]
    assert grouped, "the aggregation must run in the database"
    assert all("O'Brien" not in s and "P1" not in s for s, _ in statements)  # bound, not inlined
    assert any("O'Brien" in str(p) for _, p in statements)


def test_a_per_customer_table_and_a_query_with_colons(
    tmp_path: Path, warehouse: dict[str, Any]
) -> None:
    query = (
        "SELECT account AS customer_id, 1.0 * used / seats AS utilisation, overdue, "
        "'10:30' AS slot FROM billing;"
    )
    source = {**warehouse, "query": query}
    frame = load(
        tmp_path,
        source,
        {
            "Seat utilisation": {"column": "utilisation"},
            "Overdue": {"column": "Overdue"},
            "Slot": {"column": "slot"},
        },
    ).frame
    assert frame.loc["00123"].to_dict() == {"Seat utilisation": 0.7, "Overdue": 0, "Slot": "10:30"}
    assert frame.loc["123", "Overdue"] == 12.5


def test_sql_errors_name_the_source_and_the_fix(tmp_path: Path, warehouse: dict[str, Any]) -> None:
    with pytest.raises(SourceError, match=r"no such table: nope") as caught:
        load(tmp_path, {**warehouse, "table": "nope"}, {"m": {"agg": "count"}})
    assert "source 'db'" in str(caught.value) and caught.value.exit_code == EXIT_BAD_INPUT
    with pytest.raises(SourceError, match="table tickets has no column 'account'") as caught:
        load(
            tmp_path,
            {**warehouse, "table": "tickets", "id_column": "account"},
            {"m": {"agg": "count"}},
        )
    assert "the columns are customer_id, opened_at, priority, who" in str(caught.value)
    with pytest.raises(EmptySourceError, match="db"):
        load(tmp_path, {**warehouse, "table": "empty_table"}, {"m": {"agg": "count"}})


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    source = {"kind": "sql", "url": "sqlite:///missing.sqlite", "table": "t"}
    with pytest.raises(SourceError, match=r"missing\.sqlite does not exist"):
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_missing_driver_says_what_to_install(tmp_path: Path) -> None:
    source = {"kind": "sql", "url": "postgresql+nosuchdriver://u:pw1234@h/db", "table": "t"}
    with pytest.raises(SourceError, match="driver is not installed") as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert "pw1234" not in str(caught.value) and "pip install" in str(caught.value)


def test_an_unreachable_database_is_an_outage_with_the_password_masked(tmp_path: Path) -> None:
    url = "postgresql+psycopg://scott:tiger%2Fpw@127.0.0.1:1/sales?connect_timeout=2"
    with pytest.raises(SourceUnavailableError) as caught:
        load(tmp_path, {"kind": "sql", "url": url, "table": "t"}, {"m": {"agg": "count"}})
    text = str(caught.value)
    assert caught.value.exit_code == EXIT_OUTAGE
    assert text.startswith("source 'db' (postgresql+psycopg://scott:***@127.0.0.1:1/sales")
    assert "tiger" not in text
    assert "cannot connect" in text


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        (
            "mssql+pyodbc://u:pw@dsn?password=x&driver=y",
            "mssql+pyodbc://u:***@dsn?password=***&driver=y",
        ),
        ("snowflake://u:pw@acct/db?token=abc", "snowflake://u:***@acct/db?token=***"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_scrub_removes_secrets_in_any_spelling() -> None:
    url = "postgresql://u:p%40ss@h/db"
    message = 'connection to "h" failed for p@ss (url postgresql://u:p%40ss@h/db)'
    assert "p@ss" not in scrub(message, secrets_of(url))
    assert "p%40ss" not in scrub(message, secrets_of(url))


# ----------------------------------------------------------------------------- postgres


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    url = pg_url()
    with pg_schema(url) as schema:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text(f"SET search_path TO {schema}"))
            conn.execute(sa.text(
                "CREATE TABLE billing (customer_id int, seats numeric(8,2), note text, "
                "renews date, score int)"
            ))  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO billing VALUES (123, 10.50, 'a', '2026-06-01', 9), "
                "(7, 3, NULL, NULL, 11)"
            ))  # fmt: skip
            conn.execute(sa.text("CREATE TABLE nothing (customer_id text)"))
        engine.dispose()
        yield url, schema


def test_postgres_types_become_cell_values(tmp_path: Path, pg: tuple[str, str]) -> None:
    url, schema = pg
    source = {"kind": "sql", "url": url, "table": f"{schema}.billing", "id_column": "Customer_ID"}
    frame = load(
        tmp_path,
        source,
        {"Seats": {"column": "seats"}, "Note": {"column": "note"}, "Renews": {"column": "renews"}},
    ).frame
    assert list(frame.index) == ["123", "7"]
    assert frame.loc["123"].to_dict() == {"Seats": 10.5, "Note": "a", "Renews": dt.date(2026, 6, 1)}
    assert frame.loc["7"].to_dict() == {"Seats": 3, "Note": None, "Renews": None}


def test_postgres_query_with_casts_and_an_nps_check(tmp_path: Path, pg: tuple[str, str]) -> None:
    url, schema = pg
    query = f"SELECT customer_id::text AS id, score::float AS score FROM {schema}.billing"
    source = {"kind": "sql", "url": url, "query": query, "id_column": "id"}
    with pytest.raises(SourceError, match="holds NPS scores outside 0–10"):
        load(tmp_path, source, {"NPS": {"agg": "nps", "column": "score"}})
    frame = load(tmp_path, source, {"Top": {"agg": "max", "column": "score"}}).frame
    assert frame["Top"].to_dict() == {"123": 9.0, "7": 11.0}


def test_postgres_errors(tmp_path: Path, pg: tuple[str, str]) -> None:
    url, schema = pg
    source = {"kind": "sql", "url": url, "table": f"{schema}.missing"}
    with pytest.raises(SourceError, match=r"source 'db' .*the query failed: .*missing"):
        load(tmp_path, source, {"m": {"agg": "count"}})
    with pytest.raises(EmptySourceError):
        load(
            tmp_path,
            {**source, "table": f"{schema}.nothing", "id_column": "customer_id"},
            {"m": {"agg": "count"}},
        )
    bad_type = {"kind": "sql", "url": url, "table": f"{schema}.billing", "id_column": "customer_id"}
    with pytest.raises(SourceError, match="the query failed"):
        load(tmp_path, bad_type, {"m": {"agg": "count", "where": {"note": {">": 3}}}})
    assert (
        check_config(
            make_config(tmp_path, {"db": bad_type}, {"m": {"source": "db", "agg": "count"}})
        )
        == []
    )
