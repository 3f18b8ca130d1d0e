"""Demo source files for `sheets-health demo`: realistic exports a CS team would connect.

`write_demo_sources` writes, for the given customers and their profiles:

- ``usage_events.csv``: a product-usage export (account_id, timestamp, event, user) with
  logins, report_created and workflow_run events over the last 90 days;
- ``support_tickets.csv``: one row per ticket (opened/closed, status, priority);
- ``nps_responses.xlsx``: a Google-Form-like responses tab (Timestamp, Email Address,
  Customer ID, the 0–10 question, a comment);
- ``warehouse.sqlite``: a small "warehouse" with a ``billing`` table (seats purchased and
  active, days an invoice is overdue, plan, MRR).

Profiles shape the numbers so that scores spread over green/yellow/red: ``healthy``,
``steady``, ``at_risk`` (falling usage, tickets, detractors, overdue invoices) and ``new``
(a few weeks of history, so no previous window). Two ids that are not customers appear
(one is a customer id with its leading zeros lost — the classic export mismatch), and a few
customers have no data at all. Deterministic for a seed; no IO beyond ``directory``.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROFILES = ("healthy", "steady", "at_risk", "new")
HISTORY_DAYS = 90
NO_DATA_EVERY = 17  # every 17th customer has no data in any source


@dataclass(frozen=True)
class _Profile:
    users: tuple[int, int]
    login_p: float  # chance a user logs in on a given day
    workflows: float  # per day
    reports: float  # per day
    trend: tuple[float, float]  # activity in the last 30 days relative to before
    quiet_days: tuple[int, int]  # no logins in the last N days
    tickets_90d: tuple[int, int]
    open_tickets: tuple[int, int]
    p1_90d: tuple[int, int]
    nps: tuple[int, int]
    responses: tuple[int, int]
    utilisation: tuple[float, float]
    overdue: tuple[int, int]
    age_days: tuple[int, int] = (HISTORY_DAYS, HISTORY_DAYS)


_SHAPES = {
    "healthy": _Profile(
        (10, 20), 0.8, 6.0, 1.5, (1.0, 1.2), (0, 0), (1, 4), (0, 1), (0, 0), (9, 10), (2, 5),
        (0.85, 1.0), (0, 0),
    ),
    "steady": _Profile(
        (5, 10), 0.55, 2.5, 0.7, (0.85, 1.05), (0, 2), (2, 6), (1, 2), (0, 1), (7, 9), (1, 4),
        (0.6, 0.85), (0, 10),
    ),
    "at_risk": _Profile(
        (2, 5), 0.35, 0.8, 0.2, (0.3, 0.6), (8, 25), (5, 10), (3, 7), (1, 4), (0, 6), (1, 3),
        (0.2, 0.5), (20, 60),
    ),
    "new": _Profile(
        (3, 8), 0.6, 2.0, 0.5, (1.0, 1.0), (0, 2), (1, 3), (0, 2), (0, 1), (6, 10), (0, 1),
        (0.3, 0.7), (0, 0), age_days=(12, 25),
    ),
}  # fmt: skip

_REASONS = {
    "promoter": ["Saves our team hours every week", "Great support", "Easy to roll out"],
    "passive": ["Does the job", "Some features missing", "Reporting could be better"],
    "detractor": ["Too slow", "Hard to use", "Support takes days to answer", "Too expensive"],
}

DEMO_CONFIG = '''\
# Where the demo's measures come from (paths are relative to this file's folder).

[sources.usage]                 # product-usage event export
kind = "csv"
path = "usage_events.csv"
id_column = "account_id"
time_column = "timestamp"

[sources.tickets]               # support-ticket export, one row per ticket
kind = "csv"
path = "support_tickets.csv"
id_column = "account_id"
time_column = "opened_at"

[sources.nps]                   # a Google Form responses tab; here a tab of another workbook
kind = "sheet"
path = "nps_responses.xlsx"
tab = "Form Responses 1"
time_column = "Timestamp"       # id_column defaults to "Customer ID"

[sources.billing]               # the data warehouse (any SQLAlchemy URL, e.g. "${WAREHOUSE_URL}")
kind = "sql"
url = "sqlite:///warehouse.sqlite"
query = """SELECT customer_id, 1.0 * seats_active / seats_purchased AS seat_utilisation,
           invoice_overdue_days FROM billing"""
id_column = "customer_id"

[metrics."Logins 30d"]
source = "usage"
agg = "count"
window_days = 30
where = { event = "login" }

[metrics."Workflows run 30d"]
source = "usage"
agg = "count"
window_days = 30
where = { event = "workflow_run" }

[metrics."Active users 30d"]
source = "usage"
agg = "distinct"
column = "user"
window_days = 30

[metrics."Usage change 30d"]    # percent points against the 30 days before
source = "usage"
agg = "pct_change"
window_days = 30

[metrics."Days since last login"]
source = "usage"
agg = "days_since"
where = { event = "login" }

[metrics."Open tickets"]
source = "tickets"
agg = "count"
where = { status = "open" }
default = 0                     # a customer with no tickets in the export has 0 open

[metrics."P1 tickets 90d"]
source = "tickets"
agg = "count"
window_days = 90
where = { priority = "P1" }
default = 0

[metrics."NPS"]
source = "nps"
agg = "nps"
column = "How likely are you to recommend us to a friend or colleague?"
window_days = 180

[metrics."Seat utilisation"]
source = "billing"
column = "seat_utilisation"

[metrics."Invoice overdue days"]
source = "billing"
column = "invoice_overdue_days"
'''


# Scorecard rows for the metrics above, in the demo's column order: Measure, Dimension,
# Scoring, Red at, Green at, Weight, Missing, Value degree, Proactive, Action when red, Notes,
# then the weights for "Automate workflows", "Executive reporting", "Team collaboration".
# Outcome measures (workflows run, seats in use) weigh more than activity (logins), and the
# thresholds sit between the profiles' typical values (see the module docstring).
DEMO_SCORECARD: tuple[tuple[str | float, ...], ...] = (
    ("Workflows run 30d", "Usage", "linear", 10, 60, 3, "", 1, "no",
     "Run a workflow-automation session with the team",
     "The core work customers buy the product for", 4, 1, 2),
    ("Active users 30d", "Usage", "linear", 2, 8, 2, "", 2, "no",
     "Plan an enablement session for the inactive seats", "Distinct users in 30 days", 1, 1, 3),
    ("Logins 30d", "Usage", "linear", 20, 100, 0.5, "", 3, "no",
     "Check in: activity has dropped", "A rough activity signal (3rd degree)", 0.5, 0.5, 0.5),
    ("Usage change 30d", "Usage", "linear", -40, 0, 1, "", 2, "no",
     "Ask what changed: usage fell against the month before",
     "Percent change of events against the previous 30 days", 1, 1, 1),
    ("Days since last login", "Usage", "linear", 14, 2, 0.5, "", 3, "no",
     "Reach out: nobody has logged in for two weeks", "", 0.5, 0.5, 0.5),
    ("Open tickets", "Support", "linear", 5, 1, 1, "", 2, "no",
     "Review the open tickets with support and the champion", "", 1, 1, 1),
    ("P1 tickets 90d", "Support", "linear", 3, 0, 1, "", 2, "no",
     "Hold a service review about the P1 incidents", "", 1, 1, 1),
    ("NPS", "Sentiment", "linear", -20, 40, 2, "", 2, "no",
     "Call the detractors and close the loop", "From the NPS survey (Google Form)", 2, 2, 2),
    ("Seat utilisation", "Outcomes", "linear", 0.4, 0.8, 2, "", 2, "yes",
     "Help them roll out the unused seats", "Active seats / seats purchased", 2, 1, 2),
    ("Invoice overdue days", "Fit", "linear", 30, 0, 1, "", 3, "no",
     "Ask finance and the champion about the overdue invoice", "From the billing warehouse",
     1, 1, 1),
)  # fmt: skip


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stray_ids(customers: Sequence[tuple[str, str]]) -> list[str]:
    """Two ids that are not customers: one unknown, one a customer id that lost its zeros."""
    known = {cid for cid, _ in customers}
    stray = ["99999" if "99999" not in known else "99999-X"]
    for cid, _ in customers:
        for variant in (cid.lstrip("0"), cid.lower(), "0" + cid):
            if variant and variant != cid and variant not in known:
                stray.append(variant)
                return stray
    return stray


def _usage(rng: random.Random, cid: str, shape: _Profile, end: dt.datetime) -> list[list[str]]:
    rows: list[list[str]] = []
    users = [f"user{n}@{cid.lower()}.example" for n in range(rng.randint(*shape.users))]
    trend = rng.uniform(*shape.trend)
    quiet = rng.randint(*shape.quiet_days)
    age = rng.randint(*shape.age_days)
    for day in range(min(age, HISTORY_DAYS)):
        factor = trend if day < 30 else 1.0
        day_end = end - dt.timedelta(days=day, minutes=1)

        def moment(day_end: dt.datetime = day_end) -> dt.datetime:
            return day_end - dt.timedelta(seconds=rng.randint(0, 86_000))

        active = [u for u in users if rng.random() < shape.login_p * factor] if day >= quiet else []
        for user in active:
            rows.append([cid, _iso(moment()), "login", user])
        for event, rate in (("workflow_run", shape.workflows), ("report_created", shape.reports)):
            if not active:
                continue
            count = int(rate * factor) + (rng.random() < (rate * factor) % 1)
            for _ in range(count):
                rows.append([cid, _iso(moment()), event, rng.choice(active)])
    return rows


def _tickets(
    rng: random.Random, cid: str, shape: _Profile, end: dt.datetime, first: int
) -> list[list[str]]:
    rows: list[list[str]] = []
    opened_count = rng.randint(*shape.tickets_90d)
    open_count = min(rng.randint(*shape.open_tickets), opened_count)
    p1 = min(rng.randint(*shape.p1_90d), opened_count)
    for n in range(opened_count + rng.randint(0, 3)):  # a few older tickets too
        recent = n < opened_count
        opened = end - dt.timedelta(
            days=rng.uniform(0.5, 85) if recent else rng.uniform(95, 300), minutes=1
        )
        is_open = n < open_count
        closed = opened + dt.timedelta(hours=rng.uniform(2, 120))
        priority = (
            "P1" if recent and n >= opened_count - p1 else rng.choice(["P2", "P3", "P3", "P4"])
        )
        rows.append(
            [
                f"T-{first + n}",
                cid,
                opened.strftime("%Y-%m-%d %H:%M:%S"),
                "" if is_open else closed.strftime("%Y-%m-%d %H:%M:%S"),
                "open" if is_open else "closed",
                priority,
            ]
        )
    return rows


def _write_nps(path: Path, rows: list[list[object]], end: dt.datetime) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Form Responses 1"
    sheet.append(
        [
            "Timestamp",
            "Email Address",
            "Customer ID",
            "How likely are you to recommend us to a friend or colleague?",
            "What is the main reason for your score?",
        ]
    )
    for row in rows:
        sheet.append(row)
    for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.number_format = "@"  # ids are text: 00123 keeps its zeros
    stamp = end.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    book.properties.created = book.properties.modified = stamp
    book.save(path)


def write_demo_sources(
    directory: Path, customers: Sequence[tuple[str, str]], run_at: dt.datetime, seed: int
) -> str:
    """Write the demo's source files into ``directory``; returns the [sources]/[metrics] TOML.

    ``customers`` are (customer id, profile) pairs, profile one of `PROFILES`. Put the
    config file in ``directory`` (the TOML's paths are relative to it). A naive ``run_at``
    is taken as UTC.
    """
    unknown = [p for _, p in customers if p not in _SHAPES]
    if unknown:
        raise ValueError(f"unknown demo profile(s) {sorted(set(unknown))}; use {PROFILES}")
    end = run_at if run_at.tzinfo else run_at.replace(tzinfo=dt.UTC)
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    usage: list[list[str]] = []
    tickets: list[list[str]] = []
    nps: list[list[object]] = []
    billing: list[tuple[str, str, int, int, int, float]] = []
    for position, (cid, profile) in enumerate(customers):
        if position % NO_DATA_EVERY == NO_DATA_EVERY - 1:
            continue
        shape = _SHAPES[profile]
        usage += _usage(rng, cid, shape, end)
        tickets += _tickets(rng, cid, shape, end, first=1000 + len(tickets))
        for _ in range(rng.randint(*shape.responses)):
            score = rng.randint(*shape.nps)
            kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            answered = end - dt.timedelta(days=rng.uniform(1, 170))
            nps.append(
                [
                    answered.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0),
                    f"contact{rng.randint(1, 9)}@{cid.lower()}.example",
                    cid,
                    score,
                    rng.choice(_REASONS[kind]),
                ]
            )
        seats = rng.choice([10, 20, 25, 50, 100])
        active = max(1, round(seats * rng.uniform(*shape.utilisation)))
        plan = rng.choice(["Team", "Business", "Enterprise"])
        billing.append(
            (cid, plan, seats, min(active, seats), rng.randint(*shape.overdue), seats * 30.0)
        )
    for stray in _stray_ids(customers):
        for day in range(3):
            usage.append(
                [stray, _iso(end - dt.timedelta(days=day + 1)), "login", "someone@x.example"]
            )
        billing.append((stray, "Team", 10, 4, 0, 300.0))

    usage.sort(key=lambda r: r[1])
    with (directory / "usage_events.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "timestamp", "event", "user"])
        writer.writerows(usage)
    with (directory / "support_tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "account_id", "opened_at", "closed_at", "status", "priority"])
        writer.writerows(tickets)
    nps.sort(key=lambda r: str(r[0]))
    _write_nps(directory / "nps_responses.xlsx", nps, end)
    database = directory / "warehouse.sqlite"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TABLE billing (customer_id TEXT PRIMARY KEY, plan TEXT, seats_purchased "
            "INTEGER, seats_active INTEGER, invoice_overdue_days INTEGER, mrr REAL)"
        )
        conn.executemany("INSERT INTO billing VALUES (?, ?, ?, ?, ?, ?)", billing)
    conn.close()
    return DEMO_CONFIG
