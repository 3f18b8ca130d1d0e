"""Measure snapshots in a SQL database (`[history] url`), for sheets that would grow too big.

One long table, ``sheets_health_snapshots`` (day, customer_id, measure, raw_number, raw_text,
sub_score), created when missing: one row per customer per measure per day, so a Scorecard
change never alters the table. A sync replaces its day's rows in one transaction (a later sync
the same day replaces them; a retried write cannot duplicate them) and never reads the table.
`calibrate` reads it back in chunks of customers (`chunks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from sheets_health.errors import SheetsHealthError, SourceError, SourceUnavailableError
from sheets_health.snapshots import Snapshot
from sheets_health.sources import common

TABLE = "sheets_health_snapshots"
_META = sa.MetaData()
SNAPSHOTS = sa.Table(
    TABLE, _META,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("measure", sa.String(200), primary_key=True),
    sa.Column("raw_number", sa.Float, nullable=True),
    sa.Column("raw_text", sa.Text, nullable=True),
    sa.Column("sub_score", sa.Float, nullable=True),
)


class SnapshotStore:
    """The `[history]` database; every error names it with the password masked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = f"[history] database {common.mask_url(url)}"
        try:
            self.engine = sa.create_engine(url, poolclass=NullPool)
        except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError, ValueError) as exc:
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> SheetsHealthError:
        orig = getattr(exc, "orig", None)
        cause = common.scrub(str(orig if orig is not None else exc).strip().split("\n")[0],
                             common.secrets_of(self.url))[:300]
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError
                      | sa_exc.TimeoutError):
            return SourceUnavailableError(f"{self.where} is unavailable: {cause}",
                                          "check that the database is up, then retry")
        return SourceError(f"{self.where}: {cause}",
                           "check [history] url: any SQLAlchemy URL, e.g. sqlite:///history.db "
                           "or postgresql+psycopg://user:${PGPASSWORD}@host/db")

    def write(self, day: dt.date, snapshots: Sequence[Snapshot]) -> int:
        """Replace ``day``'s rows with these snapshots in one transaction; returns rows."""
        rows: list[dict[str, Any]] = []
        for snap in snapshots:
            for measure, (raw, sub) in snap.measures.items():
                number = float(raw) if isinstance(raw, int | float) else None
                text = None if raw is None or number is not None else (
                    raw.isoformat() if isinstance(raw, dt.date) else str(raw))
                rows.append({"day": day, "customer_id": snap.customer_id, "measure": measure,
                             "raw_number": number, "raw_text": text, "sub_score": sub})
        try:
            with self.engine.begin() as conn:
                _META.create_all(conn, checkfirst=True)
                conn.execute(SNAPSHOTS.delete().where(SNAPSHOTS.c.day == day))
                if rows:
                    conn.execute(SNAPSHOTS.insert(), rows)
        except sa_exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc
        return len(rows)

    def chunks(self, measures: Sequence[str], customers: int = 2000
               ) -> Iterator[pd.DataFrame]:
        """Frames of ``customer_id``, ``day``, ``raw:<measure>`` and ``sub:<measure>``, a
        few thousand customers at a time (memory bounded by the chunk, not the store)."""
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table(TABLE):
                    return
                ids = [r[0] for r in conn.execute(
                    sa.select(SNAPSHOTS.c.customer_id).distinct()
                    .order_by(SNAPSHOTS.c.customer_id))]
                for start in range(0, len(ids), customers):
                    batch = ids[start:start + customers]
                    query = sa.select(SNAPSHOTS).where(
                        SNAPSHOTS.c.customer_id.in_(batch),
                        SNAPSHOTS.c.measure.in_(list(measures)))
                    long = pd.DataFrame(conn.execute(query).mappings().all(),
                                        columns=[c.name for c in SNAPSHOTS.columns])
                    yield wide(long, measures)
        except sa_exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc


def wide(long: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """Long rows → one row per customer and day with ``raw:``/``sub:`` columns."""
    columns = ["customer_id", "day", *(f"raw:{m}" for m in measures),
               *(f"sub:{m}" for m in measures)]
    if long.empty:
        return pd.DataFrame(columns=columns)
    raw = long["raw_number"].astype(float)
    index = ["customer_id", "day"]
    raws = long.assign(value=raw).pivot_table(index=index, columns="measure", values="value",
                                              aggfunc="last", dropna=False)
    subs = long.assign(value=long["sub_score"].astype(float)).pivot_table(
        index=index, columns="measure", values="value", aggfunc="last", dropna=False)
    out = pd.concat([raws.reindex(columns=list(measures)).add_prefix("raw:"),
                     subs.reindex(columns=list(measures)).add_prefix("sub:")], axis=1)
    return out.reset_index().reindex(columns=columns)
