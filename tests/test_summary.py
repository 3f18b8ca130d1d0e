"""The Summary tab's figures, checked against the Customers tab the way a lead would."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from sheets_health.model import CellValue, CustomerScore, MeasureScore, OutcomeScore, Rag
from sheets_health.roster import Seen, read_roster
from sheets_health.summary import LABELS, Summary, build_summary
from tests.action_sheet import CUSTOMER_HEADERS, score, table

TODAY = dt.date(2026, 5, 1)

# The Customers tab after the sync: (id, name, CSM, outcomes, renewal, ARR, score)
CUSTOMERS: list[tuple[CellValue, ...]] = [
    ("c1", "Acme", "Ana", "Adoption", TODAY + dt.timedelta(days=10), 120_000, 30),
    ("c2", "Globex", "Ana", "Adoption, Expansion", TODAY + dt.timedelta(days=90), 80_000, 55),
    ("c3", "Initech", "Ben", "", TODAY + dt.timedelta(days=91), 50_000, 20),
    ("c4", "Umbrella", "Ben", "Expansion", TODAY - dt.timedelta(days=1), 40_000, 65),
    ("c5", "Hooli", "", "", TODAY + dt.timedelta(days=30), "1,500", 90),
    ("c6", "Stark", "Ana", "Adoption", None, None, 75),
    ("c7", "Wayne", "Ben", "", TODAY + dt.timedelta(days=5), 10_000, None),
]


def customers_tab() -> list[dict[str, CellValue]]:
    rows = []
    for cid, name, csm, outcomes, renewal, arr, value in CUSTOMERS:
        assert value is None or isinstance(value, int)
        shown = score(str(cid), value).rag
        rag = shown.value if shown is not None else "Not enough data"
        rows.append({"Customer ID": cid, "Customer": name, "CSM": csm, "Outcomes": outcomes,
                     "Renewal date": renewal, "ARR": arr, "Health score": value, "Health": rag})
    return rows


def scores_for(rows: list[dict[str, CellValue]]) -> dict[str, CustomerScore]:
    out = {}
    for row in rows:
        cid, value = str(row["Customer ID"]), row["Health score"]
        assert value is None or isinstance(value, int)
        names = [n.strip() for n in str(row["Outcomes"]).split(",") if n.strip()] or [""]
        outcomes = tuple(OutcomeScore(n, value, 1.0, ()) for n in names)
        out[cid] = replace(score(cid, value), outcomes=outcomes)
    return out


def summary_of(rows: list[dict[str, CellValue]], seen: list[Seen] | None = None) -> Summary:
    tab = table("Customers", CUSTOMER_HEADERS, [[r.get(h) for h in CUSTOMER_HEADERS]
                                                for r in rows])
    return build_summary(roster=read_roster(tab), scores=scores_for(rows), seen=seen or [],
                         today=TODAY, window_days=30)


def arr(row: dict[str, CellValue]) -> float:
    value = row["ARR"]
    return float(str(value).replace(",", "")) if value not in (None, "") else 0.0


def test_totals_by_colour_match_the_customers_tab() -> None:
    rows = customers_tab()
    section = summary_of(rows).section("Health by colour")
    got = {r[0]: r[1:3] for r in section.rows}
    for label in LABELS:  # a filter on Health and a SUM of ARR, done independently
        mine = [r for r in rows if r["Health"] == label]
        assert got[label] == (len(mine), sum(arr(r) for r in mine)), label
    total = sum(arr(r) for r in rows)
    assert got["Total"] == (len(rows), total)
    risky = [r for r in rows if r["Health"] in ("Red", "Yellow")]
    assert got["ARR at risk (Red + Yellow)"] == (len(risky), sum(arr(r) for r in risky))
    assert got["ARR at risk (Red + Yellow)"] == (4, 290_000)
    assert section.note == "1 customer has no ARR and counts as 0"


@pytest.mark.parametrize(("title", "column", "split"), [
    ("By CSM", "CSM", False),
    ("By outcome", "Outcomes", True),
])
def test_totals_per_csm_and_per_outcome_match_the_customers_tab(
        title: str, column: str, split: bool) -> None:
    rows = customers_tab()
    section = summary_of(rows).section(title)
    assert section.headers[1:] == ("Customers", *LABELS, "ARR", "ARR at risk")
    got = {r[0]: r[1:] for r in section.rows}
    groups: dict[str, list[dict[str, CellValue]]] = {}
    for row in rows:
        text = str(row[column] or "")
        names = [n.strip() for n in text.split(",")] if split else [text]
        for name in [n for n in names if n] or [""]:
            empty = "(default scorecard)" if split else "(no CSM)"
            groups.setdefault(name or empty, []).append(row)
    assert set(got) == set(groups)
    for name, members in groups.items():
        expected = (len(members), *(sum(1 for r in members if r["Health"] == label)
                                    for label in LABELS),
                    sum(arr(r) for r in members),
                    sum(arr(r) for r in members if r["Health"] in ("Red", "Yellow")))
        assert got[name] == expected, name
    at_risk = [float(r[-1]) for r in section.rows if isinstance(r[-1], int | float)]
    assert len(at_risk) == len(section.rows)
    assert at_risk == sorted(at_risk, reverse=True)  # the biggest risk first


def test_renewals_at_risk_are_red_or_yellow_within_90_days_soonest_first() -> None:
    section = summary_of(customers_tab()).section("Renewals in the next 90 days")
    # c3 renews on day 91, c4 yesterday, c5 and c6 are Green, c7 has no colour
    assert [(r[0], r[1], r[2], r[5], r[7]) for r in section.rows] == [
        (TODAY + dt.timedelta(days=10), 10, "c1", "Red", 120_000),
        (TODAY + dt.timedelta(days=90), 90, "c2", "Yellow", 80_000),
    ]
    assert str(section.rows[0][8]).startswith("Tickets open 9")  # the reasons come along
    assert section.note == "2 renewals, ARR 200,000"


def test_movers_compare_with_the_start_of_the_trend_window() -> None:
    rows = customers_tab()
    start = TODAY - dt.timedelta(days=30)
    seen = [
        Seen(start - dt.timedelta(days=2), "c1", 80, Rag.GREEN),  # the baseline (on or before)
        Seen(start + dt.timedelta(days=3), "c1", 50, Rag.YELLOW),
        Seen(start, "c2", 55, Rag.YELLOW),  # unchanged colour: not a mover
        Seen(start + dt.timedelta(days=5), "c3", 45, Rag.YELLOW),  # first point in window
        Seen(start - dt.timedelta(days=1), "c5", 30, Rag.RED),
        Seen(TODAY, "c6", 10, Rag.RED),  # today's own row is never the baseline
    ]
    section = summary_of(rows, seen).section("Movers since 2026-04-01")
    assert [(r[0], r[1], r[4], r[5], r[8]) for r in section.rows] == [
        ("Worsened", "c1", "Green", "Red", -50),
        ("Worsened", "c3", "Yellow", "Red", -25),
        ("Improved", "c5", "Red", "Green", 60),
    ]


def test_coverage_counts_the_customers_each_measure_fed() -> None:
    def detail(name: str, sub: float | None) -> MeasureScore:
        return MeasureScore(name, None, sub, 0.5 if sub is not None else 0.0, 0, 0)

    scores = {
        "a": replace(score("a", 80), outcomes=(OutcomeScore("", 80, 1, (
            detail("Logins", 80), detail("Tickets", None))),)),
        "b": replace(score("b", 60), outcomes=(OutcomeScore("", 60, 1, (
            detail("Logins", 60), detail("Tickets", 40))),)),
        "c": replace(score("c", 50), outcomes=(OutcomeScore("X", 50, 1, (
            detail("NPS", 50),)),)),
    }
    summary = build_summary(roster={}, scores=scores, seen=[], today=TODAY, window_days=30,
                            sources={"Logins": "usage", "NPS": "survey"})
    assert summary.section("Coverage").rows == (
        ("Logins", "usage", 2, 2, 100.0),
        ("Tickets", "Customers tab", 1, 2, 50.0),
        ("NPS", "survey", 1, 1, 100.0),
    )


def test_the_colour_mix_series_and_where_the_chart_reads_it() -> None:
    rows = customers_tab()
    d1, d2 = TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1)
    seen = [Seen(d1, "c1", 80, Rag.GREEN), Seen(d1, "c2", 80, Rag.GREEN),
            Seen(d2, "c1", 50, Rag.YELLOW), Seen(d2, "c2", 20, Rag.RED),
            Seen(d2, "c3", None, None),
            Seen(TODAY, "c1", 99, Rag.GREEN),  # replaced by this sync's scores
            Seen(TODAY - dt.timedelta(days=200), "c1", 10, Rag.RED)]  # beyond 90 days
    summary = summary_of(rows, seen)
    assert summary.mix.days == (d1, d2, TODAY)
    assert summary.mix.counts == {"Green": (2, 0, 2), "Yellow": (0, 1, 2),
                                  "Red": (0, 1, 2), "Not enough data": (0, 1, 1)}
    grid, chart = summary.grid()
    assert len({len(r) for r in grid}) == 1  # one width: a rectangle to write
    assert grid[chart.header_row - 1][:5] == ("Date", *LABELS)
    assert [grid[r - 1][0] for r in range(chart.first_row, chart.last_row + 1)] == [
        d1, d2, TODAY]
    assert chart.series_columns == (1, 2, 3, 4)
    column_a = [r[0] for r in grid]
    titles = [s.title for s in summary.sections]
    assert column_a[0] == "Customer health summary, 2026-05-01"
    places = [column_a.index(t) for t in titles]
    assert places == sorted(places) and titles[:2] == [
        "Health by colour", "Renewals in the next 90 days that are Red or Yellow"]
    for place, section in zip(places, summary.sections, strict=True):
        assert grid[place + 1][: len(section.headers)] == section.headers


def test_an_empty_customer_list_gives_a_summary_without_division_errors() -> None:
    summary = build_summary(roster={}, scores={}, seen=[], today=TODAY, window_days=30)
    totals = {r[0]: r[1:] for r in summary.section("Health by colour").rows}
    assert totals["Total"] == (0, 0.0, None)
    assert summary.section("Renewals").note == "None"
