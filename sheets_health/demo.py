"""`sheets-health demo`: a realistic example a new user can open, run and read.

About 100 customers of a B2B product across three desired outcomes, a scorecard that weights
outcome measures above activity, a config file, and source files the sync pulls metrics from.
Deterministic for a given date: the same demo twice gives the same workbook.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import ColumnDimension

from sheets_health import demo_sources
from sheets_health import template as T
from sheets_health.backends.xlsx import XlsxBackend, apply_print_layout
from sheets_health.model import CellValue

SEED = 20261122
# The customer the README and the demo's `Try:` line explain. Red by construction, whatever
# the date or the demo's size: an at-risk profile in every source and every sheet measure at
# its worst (CSM score 1, no sponsor, onboarding overdue, no success-plan review).
EXAMPLE_CUSTOMER = "C069"
_EXAMPLE_INDEX = int(EXAMPLE_CUSTOMER[1:]) - 1
WORKBOOK = "customers.xlsx"
OUTCOMES = ("Automate workflows", "Executive reporting", "Team collaboration")
PROFILES = ("healthy", "steady", "at_risk", "new")
_NAMES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell",
    "Cyberdyne", "Soylent", "Vandelay", "Pied Piper", "Dunder", "Gringotts", "Oscorp",
    "Nakatomi", "Monarch", "Aperture", "Black Mesa", "Massive", "Prestige", "Bluth", "Zorg",
    "Virtucon",
)
_SUFFIXES = ("Corp", "Labs", "GmbH", "Ltd", "Group")
_CSMS = ("Ana Lopez", "Ben Okafor", "Chloe Martin")

# Scorecard rows: Measure, Dimension, Scoring, Red at, Green at, Weight, Missing,
# Value degree, Proactive, Action when red, Notes, then one weight per outcome (the
# template's `Action when green` is added by `_with_green_action`).
_SHEET_MEASURES: tuple[tuple[CellValue, ...], ...] = (
    ("CSM score", "CSM", "linear", 3, 8, 1, "", 3, "no",
     "Ask the CSM what is behind the low score and agree a plan", "CSM's 1–10 gut feel",
     1, 1, 1),
    ("Exec sponsor", "Relationship", "category: none=0, single-threaded=30, "
     "multi-threaded=70, exec sponsor=100", "", "", 1, "", 2, "yes",
     "Map the account and find an executive sponsor", "", 1, 2, 1),
    ("Onboarding done", "Outcomes", "milestone", 90, 45, 1, "", 1, "yes",
     "Run an onboarding rescue session", "Date onboarding finished; due 45 days after start",
     1, 1, 1),
    ("Success plan reviewed", "Outcomes", "boolean", "", "yes", 1, "neutral", 1, "yes",
     "Book a success-plan review with the champion", "Reviewed with the customer this half",
     1, 1, 2),
)


# `Action when green` (the template's column after `Action when red`): the next step for a
# Green customer, from its strongest driver.
_GREEN_ACTIONS = {
    "Exec sponsor": "Ask the sponsor for a reference or a case study",
    "Success plan reviewed": "Agree the next outcome in the success plan",
    "Workflows run 30d": "Propose the next team to automate (expansion)",
    "Seat utilisation": "Offer more seats: they use what they bought",
    "NPS": "Invite the promoters to a review or a customer story",
}


def _with_green_action(row: tuple[CellValue, ...]) -> tuple[CellValue, ...]:
    """A demo row in the template's column order (the green action after the red one)."""
    return (*row[:10], _GREEN_ACTIONS.get(str(row[0]), ""), *row[10:])


def _customers(
    rng: random.Random, start: dt.date, today: dt.date, count: int
) -> list[dict[str, CellValue]]:
    rows = []
    names = [f"{n} {s}" for s in _SUFFIXES for n in _NAMES]
    rng.shuffle(names)
    for i in range(count):
        share = (i % 100) if count <= 100 else i * 100 // count
        profile = PROFILES[0] if share < 38 else PROFILES[1] if share < 68 else \
            PROFILES[2] if share < 90 else PROFILES[3]
        if i == _EXAMPLE_INDEX:
            profile = "at_risk"
        age = rng.randint(10, 40) if profile == "new" else rng.randint(120, 900)
        started = today - dt.timedelta(days=age)
        outcomes = rng.sample(OUTCOMES, 2 if rng.random() < 0.25 else 1)
        csm = {"healthy": rng.randint(7, 10), "steady": rng.randint(5, 8),
               "at_risk": rng.randint(1, 5), "new": rng.randint(5, 8)}[profile]
        sponsor = rng.choice({
            "healthy": ("exec sponsor", "multi-threaded"),
            "steady": ("multi-threaded", "single-threaded"),
            "at_risk": ("single-threaded", "none"),
            "new": ("single-threaded", "multi-threaded"),
        }[profile])
        onboarded: CellValue = started + dt.timedelta(days=rng.randint(20, 60))
        if (profile == "at_risk" and rng.random() < 0.5) or profile == "new":
            onboarded = None
        reviewed: CellValue = {"healthy": "yes", "steady": rng.choice(("yes", "no")),
                               "at_risk": "no", "new": None}[profile]
        row: dict[str, CellValue] = {
            T.CUSTOMER_ID: f"C{i + 1:03d}",
            T.CUSTOMER_NAME: names[i % len(names)] + (f" {i // len(names) + 1}"
                                                      if i >= len(names) else ""),
            "CSM": _CSMS[i % 3],
            T.OUTCOMES: ", ".join(outcomes),
            T.START_DATE: started,
            "Renewal date": started + dt.timedelta(days=365 * (age // 365 + 1)),
            "ARR": rng.choice((12, 18, 24, 36, 48, 60, 90, 120)) * 1000,
            "Gut RAG": {"healthy": "Green", "steady": rng.choice(("Green", "Yellow")),
                        "at_risk": rng.choice(("Yellow", "Red")), "new": "Yellow"}[profile],
            T.STATUS: "active",
            "CSM score": csm if profile != "new" else None,
            "Exec sponsor": sponsor,
            "Onboarding done": onboarded,
            "Success plan reviewed": reviewed,
            "_profile": profile,
        }
        if profile == "new" and i % 2:
            row["Exec sponsor"] = None
        rows.append(row)
    if count > _EXAMPLE_INDEX:
        rows[_EXAMPLE_INDEX].update({"CSM score": 1, "Exec sponsor": "none", "Gut RAG": "Red",
                                     "Onboarding done": None, "Success plan reviewed": "no"})
    # A CSM's judgement call, documented the way the team would write it.
    rows[5].update({T.OVERRIDE: "Yellow", T.OVERRIDE_REASON: "Champion left last week",
                    T.OVERRIDE_UNTIL: today + dt.timedelta(days=21)})
    return rows


def write_demo(directory: Path, now: dt.datetime, customers_count: int = 100,
               past: bool = True) -> Path:
    """Write the workbook, sources and config; return the config path.

    ``customers_count`` scales the same mix of profiles up for benchmarks; ``past`` adds the
    former customers, outcomes and months of snapshots that `calibrate` learns from
    (benchmarks of a first sync leave them out).
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = now.astimezone()  # the sync's view: a naive time is this machine's, like its days
    rng = random.Random(SEED)
    today = now.date()
    customers = _customers(rng, today - dt.timedelta(days=900), today, customers_count)
    metrics_toml = demo_sources.write_demo_sources(
        directory, [(str(c[T.CUSTOMER_ID]), str(c["_profile"])) for c in customers], now, SEED)
    metric_rows: list[tuple[CellValue, ...]] = list(demo_sources.DEMO_SCORECARD)
    workbook = directory / WORKBOOK
    if workbook.exists():
        workbook.unlink()
    XlsxBackend(workbook).init(T.TEMPLATE)
    book = openpyxl.load_workbook(workbook)
    _fill_customers(book[T.CUSTOMERS], customers)
    _fill_scorecard(book[T.SCORECARD],
                    [_with_green_action(r) for r in (*_SHEET_MEASURES, *metric_rows)])
    for tab in T.TEMPLATE:  # the template's print layout, over the demo's own columns
        apply_print_layout(book[tab.name], tab.print_layout, tab.frozen_rows)
    book.save(workbook)
    if past:
        _add_history(workbook, customers, [str(r[0]) for r in metric_rows], today)
    config = directory / "sheets-health.toml"
    config.write_text(
        "# sheets-health demo config: a local workbook and the demo's source files.\n"
        "# For a Google Sheet, see the README (backend = \"google\").\n"
        f'[sheet]\nbackend = "xlsx"\npath = "{WORKBOOK}"\n\n{metrics_toml}',
        encoding="utf-8",
    )
    return config


def _add_history(workbook: Path, customers: list[dict[str, CellValue]],
                 metrics: list[str], today: dt.date) -> None:
    """Former customers, outcomes and six months of snapshots (`demo_history`)."""
    from sheets_health.contract import read_model
    from sheets_health.demo_history import former_customers, history

    former = former_customers(today, random.Random(SEED + 7), len(customers) + 1, OUTCOMES)
    everyone = [*customers, *former]
    backend = XlsxBackend(workbook)
    measures = read_model(backend.read([T.CUSTOMERS, T.SCORECARD, T.SETTINGS]),
                          metrics).measures
    rows = history(everyone, measures, today, SEED)
    book = openpyxl.load_workbook(workbook)
    _fill_customers(book[T.CUSTOMERS], everyone)
    customers_tab = next(t for t in T.TEMPLATE if t.name == T.CUSTOMERS)  # fresh columns again
    apply_print_layout(book[T.CUSTOMERS], customers_tab.print_layout, customers_tab.frozen_rows)
    sheet = book[T.SNAPSHOTS]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if c == 1:
                cell.number_format = "yyyy-mm-dd"
    book.save(workbook)


_MEASURE_COLUMNS = ("CSM score", "Exec sponsor", "Onboarding done", "Success plan reviewed")


def _fill_customers(sheet: object, customers: list[dict[str, CellValue]]) -> None:
    headers = [*T.CUSTOMER_INPUTS, *_MEASURE_COLUMNS, *T.OUTPUT_COLUMNS]
    wide = {T.REASONS: 60, T.NEXT_STEP: 40, T.CUSTOMER_NAME: 20, T.OUTCOMES: 24,
            T.SCORED_AT: 17, T.START_DATE: 12, "Renewal date": 13}
    top = Alignment(vertical="top")  # rows grow with wrapped Reasons: read from the top
    for col, header in enumerate(headers, start=1):
        sheet.cell(row=1, column=col, value=header).font = Font(  # type: ignore[attr-defined]
            bold=True)
        letter = get_column_letter(col)
        # a fresh column: init styled the template's column order, not the demo's
        sheet.column_dimensions[letter] = ColumnDimension(  # type: ignore[attr-defined]
            sheet, index=letter, width=wide.get(header, max(10, len(header) + 2)))
    for r, customer in enumerate(customers, start=2):
        for col, header in enumerate(headers, start=1):
            value = customer.get(str(header))
            cell = sheet.cell(row=r, column=col, value=value)  # type: ignore[attr-defined]
            cell.alignment = top
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"


def _fill_scorecard(sheet: object, rows: list[tuple[CellValue, ...]]) -> None:
    base = [c.value for c in sheet[1]]  # type: ignore[index]
    headers = [*base, *(f"{T.WEIGHT_PREFIX} {o}" for o in OUTCOMES)]
    for col, header in enumerate(headers, start=1):
        sheet.cell(row=1, column=col, value=header)  # type: ignore[attr-defined]
    for r in range(2, sheet.max_row + 1):  # type: ignore[attr-defined]
        for col in range(1, len(headers) + 1):
            sheet.cell(row=r, column=col, value=None)  # type: ignore[attr-defined]
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            sheet.cell(row=r, column=col, value=value)  # type: ignore[attr-defined]
    for col, header in enumerate(headers, start=1):  # the demo's names are longer
        if header == T.MEASURE or str(header).startswith(T.WEIGHT_PREFIX):
            longest = max(len(str(header)), *(len(str(r[col - 1])) for r in rows))
            sheet.column_dimensions[  # type: ignore[attr-defined]
                get_column_letter(col)].width = longest + 2
