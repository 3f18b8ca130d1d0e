"""The Summary tab for the CS lead, as pure data: sections of rows, and the colour-mix series
a chart is drawn from.

Every figure is computed from the scores this sync writes and the Customers cells as read,
so a lead can check any number against the Customers tab with a filter and a SUM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sheets_health.model import DEFAULT_SCORECARD, CellValue, CustomerScore, Rag
from sheets_health.roster import RANK, CustomerRow, Seen, baseline, by_customer

SUMMARY = "Summary"
NO_DATA = "Not enough data"
LABELS = (Rag.GREEN.value, Rag.YELLOW.value, Rag.RED.value, NO_DATA)
AT_RISK = (Rag.RED, Rag.YELLOW)
NO_CSM = "(no CSM)"
DEFAULT_OUTCOME = "(default scorecard)"
RENEWAL_DAYS = 90
MIX_DAYS = 90


@dataclass(frozen=True)
class Section:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...]
    note: str = ""  # a line under the rows: what is left out, or "None" for an empty list


@dataclass(frozen=True)
class ColourMix:
    """Date → how many customers had each colour that day (History, plus today's scores)."""

    days: tuple[dt.date, ...]
    counts: Mapping[str, tuple[int, ...]]  # label (LABELS) → one count per day


@dataclass(frozen=True)
class ChartRange:
    """Where the colour-mix table sits in the grid (1-based rows, 0-based columns), for a
    stacked chart: dates in ``category_column``, one series per ``series_columns``."""

    header_row: int
    first_row: int
    last_row: int
    category_column: int
    series_columns: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    title: str
    sections: tuple[Section, ...]
    mix: ColourMix

    def section(self, title_start: str) -> Section:
        return next(s for s in self.sections if s.title.startswith(title_start))

    def grid(self) -> tuple[tuple[tuple[CellValue, ...], ...], ChartRange]:
        """The tab's cells from A1 (rows padded to one width) and where the chart reads."""
        rows: list[tuple[CellValue, ...]] = [(self.title,), ()]
        chart = ChartRange(0, 0, 0, 0, ())
        for section in self.sections:
            rows.append((section.title,))
            rows.append(section.headers)
            if section.title.startswith(MIX_TITLE):
                first = len(rows) + 1
                chart = ChartRange(len(rows), first, first + len(section.rows) - 1, 0,
                                   tuple(range(1, len(section.headers))))
            rows.extend(section.rows)
            if section.note:
                rows.append((section.note,))
            rows.append(())
        width = max(len(r) for r in rows)
        return tuple(tuple(r) + (None,) * (width - len(r)) for r in rows), chart


def _label(score: CustomerScore) -> str:
    return score.rag.value if score.rag is not None else NO_DATA


def _arr(info: CustomerRow | None) -> float:
    return info.arr if info is not None and info.arr is not None else 0.0


def _csm(info: CustomerRow | None) -> str:
    return info.csm if info is not None and info.csm else NO_CSM


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# ----------------------------------------------------------------------------- sections


def _by_colour(roster: Mapping[str, CustomerRow], scores: Mapping[str, CustomerScore]
               ) -> Section:
    count = dict.fromkeys(LABELS, 0)
    arr = dict.fromkeys(LABELS, 0.0)
    for cid, score in scores.items():
        count[_label(score)] += 1
        arr[_label(score)] += _arr(roster.get(cid))
    total = sum(arr.values())
    rows: list[tuple[CellValue, ...]] = [(k, count[k], arr[k], _share(arr[k], total))
                                         for k in LABELS]
    rows.append(("Total", len(scores), total, _share(total, total)))
    risk_n = sum(count[r.value] for r in AT_RISK)
    risk = sum(arr[r.value] for r in AT_RISK)
    rows.append(("ARR at risk (Red + Yellow)", risk_n, risk, _share(risk, total)))
    unknown = sum(1 for cid in scores if roster.get(cid) is None or roster[cid].arr is None)
    note = "" if not unknown else "1 customer has no ARR and counts as 0" if unknown == 1 \
        else f"{unknown} customers have no ARR and count as 0"
    return Section("Health by colour", ("Health", "Customers", "ARR", "% of ARR"),
                   tuple(rows), note)


GROUP_HEADERS = ("Customers", *LABELS, "ARR", "ARR at risk")


def _grouped(title: str, first: str, groups_of: Callable[[str], Iterable[str]],
             roster: Mapping[str, CustomerRow], scores: Mapping[str, CustomerScore],
             note: str = "") -> Section:
    table: dict[str, list[float]] = {}
    for cid, score in scores.items():
        arr = _arr(roster.get(cid))
        for group in groups_of(cid):
            row = table.setdefault(group, [0.0] * len(GROUP_HEADERS))
            row[0] += 1
            row[1 + LABELS.index(_label(score))] += 1
            row[-2] += arr
            if score.rag in AT_RISK:
                row[-1] += arr
    order = sorted(table, key=lambda g: (-table[g][-1], g.startswith("("), g.casefold()))
    rows: tuple[tuple[CellValue, ...], ...] = tuple(
        (g, *(int(v) for v in table[g][:-2]), table[g][-2], table[g][-1]) for g in order)
    return Section(title, (first, *GROUP_HEADERS), rows, note)


def _outcomes(score: CustomerScore, info: CustomerRow | None) -> tuple[str, ...]:
    names = tuple(o.scorecard for o in score.outcomes)
    if not names and info is not None:
        names = info.outcomes
    names = tuple(DEFAULT_OUTCOME if n == DEFAULT_SCORECARD else n for n in names)
    return names or (DEFAULT_OUTCOME,)


def _renewals(roster: Mapping[str, CustomerRow], scores: Mapping[str, CustomerScore],
              today: dt.date, days: int) -> Section:
    end = today + dt.timedelta(days=days)
    due = []
    for cid, score in scores.items():
        info = roster.get(cid)
        if info is None or info.renewal is None or score.rag not in AT_RISK:
            continue
        if today <= info.renewal <= end:
            due.append((info, score))
    due.sort(key=lambda p: (p[0].renewal, -_arr(p[0]), p[0].name.casefold()))
    rows = tuple((i.renewal, (i.renewal - today).days if i.renewal else None, i.id, i.name,
                  i.csm, _label(s), s.score, i.arr, s.reasons, s.next_step) for i, s in due)
    arr = sum(_arr(i) for i, _ in due)
    note = f"{len(due)} renewals, ARR {arr:,.0f}" if due else "None"
    return Section(f"Renewals in the next {days} days that are Red or Yellow",
                   ("Renewal date", "Days left", "Customer ID", "Customer", "CSM", "Health",
                    "Score", "ARR", "Reasons", "Next step"), rows, note)


def _movers(roster: Mapping[str, CustomerRow], scores: Mapping[str, CustomerScore],
            seen: Sequence[Seen], today: dt.date, window_days: int) -> Section:
    history = by_customer(seen)
    moved = []
    for cid, score in scores.items():
        start = baseline(history.get(cid, ()), today, window_days)
        if start is None or start.rag is None or score.rag is None or start.rag == score.rag:
            continue
        step = RANK[score.rag] - RANK[start.rag]
        change = None if start.score is None or score.score is None \
            else score.score - start.score
        info = roster.get(cid) or CustomerRow(cid, cid, 0)
        moved.append((step, change or 0.0, info, start, score, change))
    moved.sort(key=lambda m: (m[0] > 0, m[0] if m[0] < 0 else -m[0], m[1], m[2].name))
    rows = tuple(("Worsened" if step < 0 else "Improved", info.id, info.name, info.csm,
                  start.rag.value if start.rag else None, _label(score), start.score,
                  score.score, change)
                 for step, _c, info, start, score, change in moved)
    since = (today - dt.timedelta(days=window_days)).isoformat()
    return Section(f"Movers since {since}",
                   ("Direction", "Customer ID", "Customer", "CSM", "From", "To", "Score then",
                    "Score now", "Change"), rows, "" if rows else "None")


def _coverage(scores: Mapping[str, CustomerScore], sources: Mapping[str, str]) -> Section:
    from itertools import compress

    import numpy as np

    from sheets_health.score_rows import RowDetails

    on_card: dict[str, set[str]] = {}
    fed: dict[str, set[str]] = {}
    # a scorecard's customers are counted from its arrays below, a column at a time: reading
    # each customer's details would build every `MeasureScore` (200,000 at 10,000 × 20)
    cards: dict[int, tuple[Any, list[int], list[str]]] = {}
    for cid, score in scores.items():
        for outcome in score.outcomes:
            details = outcome.measures
            if isinstance(details, RowDetails):
                entry = cards.get(id(details.card))
                if entry is None:
                    entry = cards[id(details.card)] = (details.card, [], [])
                    for measure in details.card.measures:  # the order details would give
                        on_card.setdefault(measure.name, set())
                entry[1].append(details.row)  # the customer's row on that card
                entry[2].append(cid)
                continue
            for m in details:
                on_card.setdefault(m.measure, set()).add(cid)
                if m.sub_score is not None and m.weight > 0:
                    fed.setdefault(m.measure, set()).add(cid)
    for card, members, cids in cards.values():
        fed_cells = ~np.isnan(card.sub[members]) & (card.weight[members] > 0)
        for j, measure in enumerate(card.measures):
            on_card[measure.name].update(cids)
            fed.setdefault(measure.name, set()).update(compress(cids, fed_cells[:, j].tolist()))
    rows = tuple((name, sources.get(name, "Customers tab"), len(fed.get(name, ())),
                  len(cids), _share(len(fed.get(name, ())), len(cids)))
                 for name, cids in on_card.items())
    return Section("Coverage: customers each measure fed",
                   ("Measure", "Source", "Customers fed", "On their scorecard", "% fed"), rows,
                   "" if rows else "None")


MIX_TITLE = "Colour mix over time"


def colour_mix(scores: Mapping[str, CustomerScore], seen: Sequence[Seen], today: dt.date,
               days: int = MIX_DAYS, earlier: ColourMix | None = None) -> ColourMix:
    """One count per colour per day in the last ``days``, today from the new scores
    (History's row for today is what this sync replaces). ``earlier``: the series the last
    Summary showed; its days win over History's, as a sync reads only History's tail (a
    part of a day's rows) while the Summary counted each day whole when it was written."""
    first = today - dt.timedelta(days=days)
    per_day: dict[dt.date, dict[str, str]] = {}
    for point in seen:
        if first <= point.day < today:
            label = point.rag.value if point.rag is not None else NO_DATA
            per_day.setdefault(point.day, {})[point.customer_id] = label
    counted = {d: {label: sum(1 for v in per_day[d].values() if v == label) for label in LABELS}
               for d in per_day}
    for i, day in enumerate(earlier.days if earlier is not None else ()):
        if first <= day < today:
            assert earlier is not None
            counted[day] = {label: earlier.counts[label][i] for label in LABELS}
    counted[today] = {label: sum(1 for s in scores.values() if _label(s) == label)
                      for label in LABELS}
    ordered = tuple(sorted(counted))
    return ColourMix(ordered, {label: tuple(counted[d][label] for d in ordered)
                               for label in LABELS})


def build_summary(
    *,
    roster: Mapping[str, CustomerRow],
    scores: Mapping[str, CustomerScore],
    seen: Sequence[Seen],
    today: dt.date,
    window_days: int,
    sources: Mapping[str, str] | None = None,
    renewal_days: int = RENEWAL_DAYS,
    earlier_mix: ColourMix | None = None,
) -> Summary:
    """``scores``: the customers this sync scored (inactive ones are left out);
    ``sources``: measure → the source that feeds it (Customers columns need none)."""
    mix = colour_mix(scores, seen, today, earlier=earlier_mix)
    mix_rows: tuple[tuple[CellValue, ...], ...] = tuple(
        (day, *(mix.counts[label][i] for label in LABELS)) for i, day in enumerate(mix.days))
    sections = (
        _by_colour(roster, scores),
        _renewals(roster, scores, today, renewal_days),
        _grouped("By CSM", "CSM", lambda cid: (_csm(roster.get(cid)),), roster, scores),
        _grouped("By outcome", "Outcome",
                 lambda cid: _outcomes(scores[cid], roster.get(cid)), roster, scores,
                 "A customer with several outcomes counts under each"),
        _movers(roster, scores, seen, today, window_days),
        _coverage(scores, sources or {}),
        Section(MIX_TITLE, ("Date", *LABELS), mix_rows),
    )
    return Summary(f"Customer health summary, {today.isoformat()}", sections, mix)
