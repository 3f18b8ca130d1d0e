"""Write the same event rows into every kind of source, for tests that compare them.

A row is ``(customer id, time, event, value, user)``; ``time`` may be naive (wall-clock time
in the source's timezone) or aware. Each ``write_*`` returns the `[sources.<name>]` table.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sheets_health.config import Config, config_from_dict

Row = tuple[str, dt.datetime | None, str, float | int | None, str]
COLUMNS = ("account_id", "ts", "event", "value", "user")
BACKENDS = ("csv", "parquet", "xlsx", "sqlite", "postgres")
RUN_AT = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)


def _text_time(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.isoformat(sep=" ")


def _base(name: str, timezone: str) -> dict[str, Any]:
    return {"id_column": "account_id", "time_column": "ts", "timezone": timezone, "kind": name}


def write_csv(directory: Path, rows: Sequence[Row], timezone: str = "UTC") -> dict[str, Any]:
    path = directory / f"events_{secrets.token_hex(3)}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for cid, moment, event, value, user in rows:
            writer.writerow([cid, _text_time(moment), event, "" if value is None else value, user])
    return {**_base("csv", timezone), "path": path.name}


def write_parquet(directory: Path, rows: Sequence[Row], timezone: str = "UTC") -> dict[str, Any]:
    """Typed columns, written by DuckDB: ts is TIMESTAMP (naive rows) or TIMESTAMPTZ."""
    import duckdb

    aware = any(t is not None and t.tzinfo is not None for _, t, *_ in rows)
    text = write_csv(directory, rows, timezone)["path"]
    path = directory / f"events_{secrets.token_hex(3)}.parquet"
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(
            f"CREATE TABLE events AS SELECT account_id, "
            f"CAST(NULLIF(ts, '') AS {'TIMESTAMPTZ' if aware else 'TIMESTAMP'}) AS ts, event, "
            "CAST(NULLIF(value, '') AS DOUBLE) AS value, \"user\" "
            "FROM read_csv(?, all_varchar = true, header = true)",
            [str(directory / text)],
        )
        literal = str(path).replace("'", "''")
        conn.execute(f"COPY events TO '{literal}' (FORMAT parquet)")
    (directory / text).unlink()
    return {**_base("parquet", timezone), "path": path.name}


def write_xlsx(directory: Path, rows: Sequence[Row], timezone: str = "UTC") -> dict[str, Any]:
    from openpyxl import Workbook

    path = directory / f"events_{secrets.token_hex(3)}.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Events"
    sheet.append(["ACCOUNT_ID", "Ts", "EVENT", "Value", " user "])  # case and spaces differ
    for cid, moment, event, value, user in rows:
        # Excel has no time zones: aware times go in as ISO text, naive ones as datetimes
        cell: object = moment.isoformat() if moment and moment.tzinfo else moment
        sheet.append([cid, cell, event, value, user])
    for row in sheet.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "@"
    book.save(path)
    return {**_base("xlsx", timezone), "path": path.name, "tab": "events"}


def write_sqlite(directory: Path, rows: Sequence[Row], timezone: str = "UTC") -> dict[str, Any]:
    path = directory / f"events_{secrets.token_hex(3)}.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE events (account_id TEXT, ts TEXT, event TEXT, value REAL, user TEXT)"
        )
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
            [(c, _text_time(t) or None, e, v, u) for c, t, e, v, u in rows],
        )
    conn.close()
    return {**_base("sql", timezone), "url": f"sqlite:///{path.name}", "table": "events"}


def write_postgres(
    url: str, schema: str, rows: Sequence[Row], timezone: str = "UTC"
) -> dict[str, Any]:
    """timestamptz when the rows carry offsets, timestamp (naive) otherwise."""
    aware = any(t is not None and t.tzinfo is not None for _, t, *_ in rows)
    name = f"events_{secrets.token_hex(3)}"
    metadata = sa.MetaData(schema=schema)
    table = sa.Table(
        name,
        metadata,
        sa.Column("account_id", sa.Text),
        sa.Column("ts", sa.DateTime(timezone=aware)),
        sa.Column("event", sa.Text),
        sa.Column("value", sa.Float),
        sa.Column("user", sa.Text),
    )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        metadata.create_all(conn)
        if rows:
            conn.execute(table.insert(), [dict(zip(COLUMNS, row, strict=True)) for row in rows])
    engine.dispose()
    return {**_base("sql", timezone), "url": url, "table": f"{schema}.{name}"}


def make_config(
    directory: Path,
    sources: Mapping[str, Mapping[str, Any]],
    metrics: Mapping[str, Mapping[str, Any]],
) -> Config:
    raw = {
        "sheet": {"backend": "xlsx", "path": "customers.xlsx"},
        "sources": {k: dict(v) for k, v in sources.items()},
        "metrics": {k: dict(v) for k, v in metrics.items()},
    }
    return config_from_dict(raw, directory, env={})
