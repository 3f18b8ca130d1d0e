"""A small in-memory sheet for the pure alert, notify and summary tests: a Customers table,
History as a list of days, and an Alerts table that grows by applying the alert plans.

Applying a plan here follows the backends' contract (appends below the last row, updates by
key), so a day-by-day sequence of syncs can be replayed without a workbook.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sheets_health import template as T
from sheets_health.model import CellValue, CustomerScore, Rag, Settings, Table, TabPlan
from sheets_health.roster import Seen

SETTINGS = Settings()
CUSTOMER_HEADERS = (T.CUSTOMER_ID, T.CUSTOMER_NAME, "CSM", T.OUTCOMES, "Renewal date", "ARR",
                    T.HEALTH_SCORE, T.HEALTH)


def score(cid: str, value: float | None, rag: Rag | None = None,
          reasons: str = "Tickets open 9 (target ≤ 2) −14 pts; Logins 30d 3 (target 20) −6 pts",
          next_step: str = "Call about the open tickets") -> CustomerScore:
    shown = rag if rag is not None else (None if value is None else SETTINGS.rag(value))
    return CustomerScore(cid, value, shown, shown, rag is not None, reasons, next_step, "", ())


def table(tab: str, headers: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> Table:
    return Table(tab, tuple(headers), tuple(tuple(r) for r in rows),
                 tuple(range(2, len(rows) + 2)))


@dataclass
class Sheet:
    """Customers rows (id → cells), History days and the Alerts tab, as a sync sees them."""

    customers: dict[str, dict[str, CellValue]]
    history: list[Seen] = field(default_factory=list)
    alerts_headers: tuple[str, ...] = ()
    alerts_rows: list[list[CellValue]] = field(default_factory=list)

    def customers_table(self) -> Table:
        rows = [[cells.get(h) for h in CUSTOMER_HEADERS] for cells in self.customers.values()]
        return table(T.CUSTOMERS, CUSTOMER_HEADERS, rows)

    def alerts_table(self) -> Table | None:
        if not self.alerts_headers:
            return None
        return table("Alerts", self.alerts_headers, self.alerts_rows)

    def alerts(self) -> Table:
        found = self.alerts_table()
        assert found is not None, "no Alerts tab yet"
        return found

    def apply_alerts(self, plan: TabPlan) -> None:
        self.alerts_headers = (*self.alerts_headers, *plan.add_headers)
        index = {h: i for i, h in enumerate(self.alerts_headers)}
        for cells in plan.appends:
            row: list[CellValue] = [None] * len(self.alerts_headers)
            for header, cell in cells.items():
                row[index[header]] = cell.value
            self.alerts_rows.append(row)
        for update in plan.updates:  # by key, wherever the row is now
            key_col = index[plan.key_columns[0]]
            target = next(r for r in self.alerts_rows if r[key_col] == update.key[0])
            for header, cell in update.cells.items():
                target[index[header]] = cell.value

    def record(self, scores: Mapping[str, CustomerScore], today: dt.date) -> None:
        """What the sync writes to Customers and History (one History row per day)."""
        self.history = [p for p in self.history if p.day != today]
        for cid, s in scores.items():
            self.customers[cid][T.HEALTH_SCORE] = s.score
            self.customers[cid][T.HEALTH] = s.rag.value if s.rag else "Not enough data"
            self.history.append(Seen(today, cid, s.score, s.rag))

    def shuffle_alerts(self, seed: int) -> None:
        """A person sorting the Alerts tab (rows keep their cells, not their positions)."""
        random.Random(seed).shuffle(self.alerts_rows)
