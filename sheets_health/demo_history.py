"""The demo's past: six months of fortnightly measure snapshots and a share of customers with an
outcome, so `sheets-health calibrate` on the demo has something real to learn from.

Thirty former customers churned in the last 75 days (Status churned, not scored now), and
about a third of the current ones renewed or expanded. Each customer's measures drift snapshot
by snapshot around its profile; who churned is drawn from the measures as they were 90 days before
the outcome (Workflows run 30d, Open tickets and NPS drive it; the rest is noise), so the
calibration finds a genuine — and imperfect — signal. Deterministic for a given date.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence

from sheets_health import template as T
from sheets_health.model import CellValue, Measure
from sheets_health.scoring import sub_score
from sheets_health.snapshots import Snapshot

WEEKS = 13  # fortnightly snapshots over six months: the workbook stays quick to load
STEP_DAYS = 14
FORMER = 30
# profile → measure → (mean, spread) of the weekly value
_LEVELS: Mapping[str, Mapping[str, tuple[float, float]]] = {
    "healthy": {"Workflows run 30d": (65, 18), "Active users 30d": (8, 2), "Logins 30d": (110, 40),
                "Usage change 30d": (2, 12), "Days since last login": (2, 1.5),
                "Open tickets": (1.5, 1.2), "P1 tickets 90d": (0.3, 0.5), "NPS": (40, 25),
                "Seat utilisation": (0.8, 0.12), "Invoice overdue days": (3, 6),
                "CSM score": (8, 1.2)},
    "steady": {"Workflows run 30d": (40, 18), "Active users 30d": (5, 2), "Logins 30d": (70, 35),
               "Usage change 30d": (-8, 15), "Days since last login": (4, 3),
               "Open tickets": (2.5, 1.5), "P1 tickets 90d": (0.6, 0.7), "NPS": (15, 30),
               "Seat utilisation": (0.62, 0.15), "Invoice overdue days": (6, 10),
               "CSM score": (6, 1.5)},
    "at_risk": {"Workflows run 30d": (22, 15), "Active users 30d": (3, 1.5),
                "Logins 30d": (45, 30), "Usage change 30d": (-25, 18),
                "Days since last login": (9, 5), "Open tickets": (4, 2),
                "P1 tickets 90d": (1.2, 1), "NPS": (-10, 30), "Seat utilisation": (0.45, 0.15),
                "Invoice overdue days": (15, 15), "CSM score": (4, 1.5)},
}
_COUNTS = {"Active users 30d", "Logins 30d", "Open tickets", "P1 tickets 90d",
           "Days since last login", "Invoice overdue days", "Workflows run 30d"}


def _value(name: str, level: float, spread: float, rng: random.Random) -> float:
    x = rng.gauss(level, spread * 0.35)
    if name in _COUNTS:
        return float(max(0, round(x)))
    if name == "CSM score":
        return float(min(10, max(1, round(x))))
    if name == "Seat utilisation":
        return round(min(1.0, max(0.0, x)), 2)
    return round(x, 1)


def _churn_chance(values: Mapping[str, float]) -> float:
    logit = (0.9 + 0.05 * (values.get("Workflows run 30d", 40) - 40)
             - 0.45 * (values.get("Open tickets", 2.5) - 2.5)
             + 0.02 * (values.get("NPS", 15) - 15))
    return 1 / (1 + math.exp(logit))


def former_customers(today: dt.date, rng: random.Random, first: int,
                     outcomes: Sequence[str] = ()) -> list[dict[str, CellValue]]:
    """Customers who churned recently: not scored now, exactly what calibration learns from.
    They pursued ``outcomes`` as the current customers do (one, sometimes two), so each
    outcome scorecard sees churned and renewed customers alike."""
    rows: list[dict[str, CellValue]] = []
    pick = random.Random(first)  # its own stream: the other values stay as they were
    for i in range(FORMER):
        chosen = pick.sample(list(outcomes), 2 if pick.random() < 0.25 else 1) \
            if outcomes else []
        start = today - dt.timedelta(days=rng.randint(300, 900))
        rows.append({
            T.CUSTOMER_ID: f"C{first + i:03d}", T.CUSTOMER_NAME: f"Former customer {i + 1}",
            "CSM": ("Ana Lopez", "Ben Okafor", "Chloe Martin")[i % 3],
            T.OUTCOMES: ", ".join(chosen), T.START_DATE: start,
            "ARR": rng.choice((12, 24, 36)) * 1000,
            T.STATUS: "churned", T.STATUS_DATE: today - dt.timedelta(days=rng.randint(5, 75)),
            "CSM score": rng.randint(1, 6), "Exec sponsor": rng.choice(("none",
                                                                        "single-threaded")),
            "_profile": "at_risk" if i % 5 < 3 else "steady",
        })
        # onboarding and success plans as the current customers of the same profile have them
        at_risk = rows[-1]["_profile"] == "at_risk"
        rows[-1]["Onboarding done"] = None if at_risk and pick.random() < 0.5 else \
            start + dt.timedelta(days=pick.randint(20, 60))
        rows[-1]["Success plan reviewed"] = "no" if at_risk else pick.choice(("yes", "no"))
    return rows


def history(customers: Sequence[dict[str, CellValue]], measures: Sequence[Measure],
            today: dt.date, seed: int) -> list[list[CellValue]]:
    """Weekly Snapshots rows for every customer (up to its churn date), and the outcomes:
    sets Status and Status date on the customers (in place) that renewed or expanded."""
    rng = random.Random(seed + 1)
    rows: list[list[CellValue]] = []
    days = [today - dt.timedelta(days=STEP_DAYS * w) for w in range(WEEKS, 0, -1)]
    for customer in customers:
        profile = str(customer["_profile"])
        if profile == "new":
            continue
        levels = {name: rng.gauss(mean, spread * 0.6)
                  for name, (mean, spread) in _LEVELS[profile].items()}
        ended = customer.get(T.STATUS_DATE) if customer.get(T.STATUS) == "churned" else None
        start = customer.get(T.START_DATE)
        seen: dict[dt.date, dict[str, float]] = {}
        for day in days:
            if isinstance(ended, dt.date) and day > ended:
                break
            values = {n: _value(n, levels[n], _LEVELS[profile][n][1], rng) for n in levels}
            seen[day] = values
            entries = {}
            for m in measures:
                raw: CellValue = values.get(m.name, customer.get(m.name))
                try:
                    s = sub_score(m, raw, start if isinstance(start, dt.date) else None, day)
                except (TypeError, ValueError):
                    s = None
                entries[m.name] = (raw, None if s is None or math.isnan(s) else round(s, 2))
            snap = Snapshot(str(customer[T.CUSTOMER_ID]), entries)
            rows.append([day, snap.customer_id, snap.fingerprint, snap.text])
        if customer.get(T.STATUS) == "active" and rng.random() < 0.4 and seen:
            outcome_day = today - dt.timedelta(days=rng.randint(5, 75))
            lead = max((d for d in seen if d <= outcome_day - dt.timedelta(days=90)),
                       default=None)
            if lead is not None and rng.random() > _churn_chance(seen[lead]) * 0.5:
                customer[T.STATUS] = "expanded" if rng.random() < 0.25 else "renewed"
                customer[T.STATUS_DATE] = outcome_day
    rows.sort(key=lambda r: (str(r[0]), str(r[1])))
    return rows
