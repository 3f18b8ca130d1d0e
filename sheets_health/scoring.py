"""Pure scoring: raw values → sub-scores → scorecard scores → RAG, reasons, next step, trend.

No IO. The same inputs always give the same outputs (ties break by Scorecard order).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from sheets_health import collector, journey
from sheets_health.cells import (
    format_number,
    is_blank,
    key_text,
    parse_bool,
    parse_date,
    parse_number,
)
from sheets_health.model import (
    DEFAULT_SCORECARD,
    CellValue,
    Customer,
    CustomerScore,
    HistoryPoint,
    Measure,
    MissingPolicy,
    OutcomeScore,
    Rag,
    RollUp,
    ScoringKind,
    Settings,
    SheetModel,
    Stage,
)
from sheets_health.score_rows import Card, Lazy, RowDetails, card_row

_FILL = {MissingPolicy.NEUTRAL: 50.0, MissingPolicy.ZERO: 0.0}
_PLAIN = frozenset({int, float, np.float64, type(None)})  # kept as they are, or blank


def clip(text: str, limit: int = 300) -> str:
    """Keep a person's free text short enough that the Reasons cell stays readable."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def round_score(value: float) -> int:
    """Half-up rounding, so 69.5 is 70 (Python's round() would give 70 for 69.5 but 68 for
    68.5 — a score must not depend on banker's rounding)."""
    return math.floor(value + 0.5)


# ----------------------------------------------------------------------------- sub-scores


def _linear(measure: Measure, value: CellValue) -> float:
    assert measure.red_at is not None and measure.green_at is not None
    x = parse_number(value)
    share = (x - measure.red_at) / (measure.green_at - measure.red_at)
    return 100.0 * min(1.0, max(0.0, share))


def _log(measure: Measure, value: CellValue) -> float:
    """Linear on log(1 + x) between the thresholds: counts with a long tail (logins) no
    longer saturate at Green at. A negative count is an error, never clamped."""
    from sheets_health.calibration.transforms import log_sub_score

    assert measure.red_at is not None and measure.green_at is not None
    x = parse_number(value)
    if x < 0:
        raise ValueError(f"{format_number(x)} is negative; log scoring is for counts (0 or more)")
    return log_sub_score(x, measure.red_at, measure.green_at)


def _bands(measure: Measure, value: CellValue) -> float:
    x = parse_number(value)
    points = measure.points[0][1]
    for threshold, band_points in measure.points:
        if x >= float(threshold):
            points = band_points
    return points


def _category(measure: Measure, value: CellValue) -> float:
    text = key_text(value).casefold()
    for key, points in measure.points:
        if key == text:
            return points
    known = ", ".join(str(k) for k, _ in measure.points)
    raise ValueError(f"'{value}' has no points in '{measure.name}' (known: {known})")


def _milestone(
    measure: Measure, value: CellValue, start: dt.date | None, today: dt.date
) -> float | None:
    """Reached → 100; not yet due → None (left out); overdue → 0, or falling to 0 by Red at.

    The value is the date it was reached (a date after today is a plan, not yet reached) or
    a yes/no flag (numbers are flags: 1 reached, 0 not).
    """
    if _reached(value, today):
        return 100.0
    return _overdue(measure, start, today)


def _reached(value: CellValue, today: dt.date) -> bool:
    if is_blank(value):
        return False
    if isinstance(value, dt.date):
        return parse_date(value) <= today
    if isinstance(value, str):
        try:
            return parse_date(value) <= today
        except ValueError:
            pass
    return parse_bool(value)


def _overdue(measure: Measure, start: dt.date | None, today: dt.date) -> float | None:
    if start is None:
        return math.nan  # no start date: we cannot tell, so it is missing data
    assert measure.green_at is not None
    due = start + dt.timedelta(days=int(measure.green_at))
    if today <= due:
        return None
    if measure.red_at is None:
        return 0.0
    span = measure.red_at - measure.green_at
    late = (today - due).days
    return max(0.0, 100.0 * (1 - late / span))


def sub_score(
    measure: Measure, value: CellValue, start: dt.date | None, today: dt.date
) -> float | None:
    """One raw value as 0–100; NaN when missing; None when not applicable (not yet due).

    Percentile needs the peers, so it is ranked in `score_customers`; here it only checks.
    """
    if measure.kind is ScoringKind.MILESTONE:
        return _milestone(measure, value, start, today)
    if is_blank(value):
        return math.nan
    if measure.kind is ScoringKind.LINEAR:
        return _linear(measure, value)
    if measure.kind is ScoringKind.LOG:
        return _log(measure, value)
    if measure.kind is ScoringKind.BANDS:
        return _bands(measure, value)
    if measure.kind is ScoringKind.BOOLEAN:
        return 100.0 if parse_bool(value) == measure.good_value else 0.0
    if measure.kind is ScoringKind.CATEGORY:
        return _category(measure, value)
    return parse_number(value)  # percentile: the raw number, ranked later


def value_problem(measure: Measure, value: CellValue) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) when a raw value cannot be scored by its measure."""
    if is_blank(value):
        return None
    try:
        sub_score(measure, value, dt.date(2000, 1, 1), dt.date(2000, 1, 1))
    except ValueError as exc:
        fixes = {
            ScoringKind.CATEGORY: f"use one of the values listed in Scorecard row {measure.row}"
            " or add it there as value=points",
            ScoringKind.BOOLEAN: "write yes or no",
            ScoringKind.MILESTONE: "write the date it was reached (YYYY-MM-DD), or leave blank",
        }
        return str(exc), fixes.get(measure.kind, "write a number (or leave it blank)")
    return None


def sub_scores(measure: Measure, values: np.ndarray, starts: Sequence[dt.date | None],
                today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """`sub_score` of a whole column: (sub-scores, NaN when missing; applies?).

    Linear scoring of plain numbers is vectorised; the kinds whose sub-score depends on the
    value alone are worked out once per distinct value; the rest value by value."""
    n = len(values)
    if measure.kind is ScoringKind.LINEAR and set(map(type, values)) <= _PLAIN:  # C speed
        assert measure.red_at is not None and measure.green_at is not None
        x = values.astype(float)
        with np.errstate(invalid="ignore"):
            share = (x - measure.red_at) / (measure.green_at - measure.red_at)
            sub = 100.0 * np.minimum(1.0, np.maximum(0.0, share)) + 0.0
        if np.isfinite(x[~np.isnan(x)]).all():  # NaN is blank; ±inf is refused below
            return sub, np.ones(n, dtype=bool)
    if measure.kind in (ScoringKind.BANDS, ScoringKind.BOOLEAN, ScoringKind.CATEGORY):
        seen: dict[tuple[type, CellValue], float | None] = {}
        column: list[float | None] = []
        for value in values:
            key = (type(value), value)
            if key not in seen:
                seen[key] = sub_score(measure, value, None, today)
            column.append(seen[key])
    else:
        column = [sub_score(measure, value, start, today)
                  for value, start in zip(values, starts, strict=True)]
    due = np.fromiter((v is not None for v in column), bool, n)
    return np.array([math.nan if v is None else v for v in column], dtype=float), due


def _percentile(values: pd.Series, lower_is_better: bool) -> pd.Series:
    """0 for the weakest peer, 100 for the strongest; ties share the average rank."""
    numeric = values.astype(float)
    present = numeric.notna()
    n = int(present.sum())
    if n == 0:
        return numeric
    if n == 1:
        return numeric.where(~present, 100.0)
    ranks = numeric.rank(method="average", ascending=not lower_is_better)
    return (ranks - 1) / (n - 1) * 100.0


# ----------------------------------------------------------------------------- scorecards


def _scorecard(
    key: str,
    members: Sequence[Customer],
    measures: Sequence[Measure],
    grid: _Grid,
    settings: Settings,
) -> _CardScores:
    used_measures = [m for m in measures if m.weight(key) > 0]
    ids = [c.id for c in members]
    names = [m.name for m in used_measures]
    if not ids or not names:
        return _CardScores(key, {cid: i for i, cid in enumerate(ids)},
                           np.full(len(ids), np.nan),
                           [OutcomeScore(key, None, 0.0, ()) for _ in ids])
    rows = np.fromiter((grid.row_of[cid] for cid in ids), np.intp, len(ids))
    cols = np.array([grid.column_of[name] for name in names], dtype=np.intp)
    cells = np.ix_(rows, cols)  # positions, not labels: a label lookup per customer is slow
    s = pd.DataFrame(grid.subs[cells], columns=names)
    for m in used_measures:
        if m.kind is ScoringKind.PERCENTILE:
            s[m.name] = _percentile(s[m.name], m.lower_is_better)
    a = pd.DataFrame(grid.due[cells], columns=names)
    weights = pd.Series({m.name: m.weight(key) for m in used_measures}, dtype=float)
    has_data = s.notna() & a
    filled = s.copy()
    for m in used_measures:
        fill = _FILL.get(m.missing or settings.missing)
        if fill is not None:
            filled[m.name] = filled[m.name].where(has_data[m.name] | ~a[m.name], fill)
    filled = filled.where(a)
    used = filled.notna()
    w_used = used.astype(float).mul(weights, axis=1)
    denominator = w_used.sum(axis=1)
    score = (filled.fillna(0.0) * w_used).sum(axis=1) / denominator.where(denominator > 0)
    applicable_weight = a.astype(float).mul(weights, axis=1).sum(axis=1)
    coverage = has_data.astype(float).mul(weights, axis=1).sum(axis=1) / applicable_weight.where(
        applicable_weight > 0
    )
    # plain arrays: per-cell pandas lookups made 10,000 customers take tens of seconds, and
    # one customer's MeasureScores are built only when someone reads them (`RowDetails`)
    shares, totals = w_used.to_numpy(float), denominator.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals[:, None] > 0, shares / totals[:, None], 0.0)
    no_data_notes = [
        "no data, left out" if (m.missing or settings.missing) is MissingPolicy.SKIP
        else f"no data, counted as {format_number(_FILL[m.missing or settings.missing])}"
        for m in used_measures
    ]
    card = Card(used_measures, grid.raws[cells], filled.to_numpy(float),
                share, has_data.to_numpy(bool), a.to_numpy(bool), no_data_notes)
    floor = settings.min_coverage - 1e-9
    totals = score.to_numpy(float)
    covered = np.nan_to_num(coverage.to_numpy(float), nan=0.0)  # NaN: no weight applies
    totals = np.where(covered >= floor, totals, np.nan)  # NaN: not enough data
    missing = card.missing
    outcomes = [OutcomeScore(key, None if total != total else total, cov,
                             RowDetails(card, i), Lazy(missing, i))
                for i, (total, cov) in enumerate(zip(totals.tolist(), covered.tolist(),
                                                     strict=True))]
    return _CardScores(key, {cid: i for i, cid in enumerate(ids)}, totals, outcomes, card)


@dataclass(eq=False)
class _CardScores:
    """One scorecard's results for its members: row ``rows[id]`` of each array and list."""

    key: str
    rows: Mapping[str, int]
    totals: np.ndarray  # the unrounded score; NaN: not enough data
    outcomes: Sequence[OutcomeScore]
    card: Card | None = None  # None: no member or no measure (every outcome lacks data)


@dataclass(frozen=True)
class _Grid:
    """Every customer's sub-scores, applicability and raw values as arrays (rows: the
    model's customers, columns: its measures), with the position of each id and name."""

    subs: np.ndarray
    due: np.ndarray
    raws: np.ndarray
    row_of: Mapping[str, int]
    column_of: Mapping[str, int]


def sheet_frame(model: SheetModel) -> pd.DataFrame:
    """The measures that are Customers columns: one row per customer, object dtype, each
    cell its own type. Built column by column: pandas' dict-of-dicts constructor turns an
    all-number column into float64 and a `Percent` into a plain float, losing its unit."""
    ids = [c.id for c in model.customers]
    names = dict.fromkeys(name for row in model.sheet_values.values() for name in row)
    return pd.DataFrame(
        {name: pd.Series([model.sheet_values.get(cid, {}).get(name) for cid in ids],
                         index=ids, dtype=object) for name in names},
        index=ids, dtype=object,
    )


def cell_values(raw: pd.DataFrame) -> dict[str, dict[str, CellValue]]:
    """The non-blank raw values per customer id and measure, each its own type (to_dict and
    tolist would turn a `Percent` into a plain float)."""
    columns = [str(c) for c in raw.columns]
    cells = raw.to_numpy(object)
    return {
        str(cid): {name: v for name, v in zip(columns, row, strict=True) if not is_blank(v)}
        for cid, row in zip(raw.index, cells, strict=True)
    }


def score_customers(
    model: SheetModel,
    raw: pd.DataFrame,
    today: dt.date,
) -> dict[str, CustomerScore]:
    """Score every customer. ``raw``: one row per customer id, one column per measure."""
    with collector.paused():  # see `sheets_health.collector`: ~40 % of the time at 100,000
        return _score_customers(model, raw, today)


def _score_customers(model: SheetModel, raw: pd.DataFrame, today: dt.date
                     ) -> dict[str, CustomerScore]:
    customers = model.customers
    ids = [c.id for c in customers]
    raw = raw.reindex(index=ids, columns=[m.name for m in model.measures])
    starts = [c.start_date for c in customers]
    values = raw.to_numpy(object)
    columns = [sub_scores(m, values[:, j], starts, today)
               for j, m in enumerate(model.measures)]
    shape = (len(ids), len(model.measures))
    grid = _Grid(
        np.column_stack([sub for sub, _due in columns]) if columns else np.empty(shape),
        np.column_stack([due for _sub, due in columns]) if columns
        else np.empty(shape, dtype=bool),
        values, {cid: i for i, cid in enumerate(ids)},
        {m.name: j for j, m in enumerate(model.measures)})
    keys = [DEFAULT_SCORECARD, *model.scorecards]
    settings = model.settings
    stages = settings.stages
    # once per distinct start date and (outcomes, stage): most customers share them
    @functools.cache
    def stage_at(start: dt.date | None) -> Stage | None:
        return journey.stage_of(stages, start, today)

    @functools.cache
    def cards_for(outcomes: tuple[str, ...], stage: Stage | None) -> tuple[str, ...]:
        chosen = journey.scorecards_for(outcomes, stage, keys)
        return tuple(k for k in keys if k in chosen)  # Scorecard order

    stage = [stage_at(c.start_date) for c in customers]
    chosen = [cards_for(c.outcomes, stage[i]) for i, c in enumerate(customers)]
    cards = {key: _scorecard(key, [c for i, c in enumerate(customers)  # the inactive
                                   if not c.inactive and key in chosen[i]],  # rank no one
                             model.measures, grid, settings)
             for key in keys}
    if model.baselines is not None:
        baselines = model.baselines
    else:
        history = _history_by_customer(model.history)
        days = settings.trend_days
        baselines = {cid: trend_baseline(points, today, days)
                     for cid, points in history.items()}  # none without History
    labels: list[str | None] = [None] * len(customers)
    if stages:  # the Stage column: blank for an inactive customer
        label = functools.cache(lambda start: journey.stage_label(stages, start, today))
        labels = ["" if c.inactive else label(c.start_date) for c in customers]
    measures = {m.name: m for m in model.measures}
    results: list[CustomerScore | None] = [None] * len(customers)
    # the customers a whole scorecard's arrays can answer for at once: no override, no
    # onboarding stage (whose late milestones turn a customer Red), the same scorecards
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, c in enumerate(customers):
        if c.inactive:
            results[i] = replace(_inactive_result(c), stage=labels[i])
        elif c.override is None and chosen[i] and (stage[i] is None or stage[i] != stages[0]):
            groups.setdefault(chosen[i], []).append(i)
    for group, members in groups.items():
        for i, result in zip(members, _group_results(
                [customers[i] for i in members], [cards[k] for k in group], measures,
                settings, baselines, [labels[i] for i in members]), strict=True):
            results[i] = result
    for i, c in enumerate(customers):
        if results[i] is None:
            outcomes = [cards[k].outcomes[cards[k].rows[c.id]] for k in chosen[i]]
            result = _customer_result(c, outcomes, measures, settings, today,
                                      baselines.get(c.id), stage[i])
            results[i] = result if labels[i] is None else replace(result, stage=labels[i])
    return {c.id: r for c, r in zip(customers, results, strict=True) if r is not None}


def _group_results(
    customers: Sequence[Customer],
    cards: Sequence[_CardScores],
    measures: Mapping[str, Measure],
    settings: Settings,
    baselines: Mapping[str, float | None],
    labels: Sequence[str | None],
) -> list[CustomerScore | None]:
    """`_customer_result` of customers on the same scorecards, with no override and not in
    the onboarding stage, worked out from the cards' arrays a column at a time; None for a
    customer lacking data on a scorecard (`_customer_result` words that one)."""
    ids = [c.id for c in customers]
    rows = [np.fromiter((card.rows[cid] for cid in ids), np.intp, len(ids)) for card in cards]
    totals = np.column_stack([card.totals[r] for card, r in zip(cards, rows, strict=True)])
    if settings.rollup is RollUp.MIN or len(cards) == 1:
        total = totals.min(axis=1)
    else:  # left to right, as Python's sum(): the same float for the same scores
        total = totals[:, 0].copy()
        for k in range(1, len(cards)):
            total = total + totals[:, k]
        total = total / len(cards)
    enough = ~np.isnan(totals).any(axis=1)
    scores = np.floor(np.where(enough, total, 0.0) + 0.5).astype(np.int64)  # `round_score`
    rag = np.where(scores >= settings.green_at, 2, np.where(scores < settings.red_below, 0, 1))
    weakest = np.where(enough, np.nan_to_num(totals, nan=np.inf).argmin(axis=1), 0)
    several = len(cards) > 1
    colours = (Rag.RED, Rag.YELLOW, Rag.GREEN)
    lost_texts = [[] if card.card is None else _loss_texts(card.card, settings.max_reasons)
                  for card in cards]
    actions = [[] if card.card is None else _first_actions(card.card) for card in cards]
    green_actions = _green_actions(cards[0].card, settings) \
        if not several and cards[0].card is not None else None
    # the outcome tuples of the whole group, and each row's position on each card, as lists
    places = [r.tolist() for r in rows]
    outcome_rows = list(zip(*[[card.outcomes[r] for r in place]
                              for card, place in zip(cards, places, strict=True)],
                            strict=True))
    # the weakest outcome's score as `round_score` gives it, for "Weakest outcome … 62:"
    weakest_scores = np.floor(np.nan_to_num(totals[np.arange(len(ids)), weakest]) + 0.5
                              ).astype(np.int64).tolist() if several else []
    trends = [trend_change(score, baselines.get(cid)) for cid, score in
              zip(ids, scores.tolist(), strict=True)] if baselines else [""] * len(ids)
    results: list[CustomerScore | None] = []
    for n, (cid, ok, score, colour, w, outcomes) in enumerate(zip(
            ids, enough.tolist(), scores.tolist(), rag.tolist(), weakest.tolist(),
            outcome_rows, strict=True)):
        if not ok:
            results.append(None)
            continue
        card, row = cards[w], places[w][n]
        assert card.card is not None  # a score: the card has members and measures
        if colour == 2:
            reasons = _green_reasons(card.card, row, settings)
            next_step = _green_step(outcomes, measures, settings) if green_actions is None \
                else green_actions[row]
        else:
            reasons = lost_texts[w][row] or "All measures on target"
            next_step = actions[w][row]
        if several:
            reasons = f"Weakest outcome {card.key} {weakest_scores[n]}: {reasons}"
        results.append(CustomerScore(
            cid, score, colours[colour], colours[colour], False, reasons, next_step,
            trends[n], outcomes, "", labels[n]))
    return results


def _green_actions(card: Card, settings: Settings) -> list[str]:
    """Every row's `_green_step` on a single scorecard: the `Action when green` of the
    measure with a sub-score at or above Green adding the most points (ties: Scorecard
    order)."""
    actions = [m.action_when_green for m in card.measures]
    has = np.array([bool(a) for a in actions], dtype=bool)
    if not has.any() or len(card.sub) == 0:
        return [""] * len(card.sub)
    with np.errstate(invalid="ignore"):
        candidate = has[None, :] & (card.sub >= settings.green_at)
    best = np.where(candidate, card.points, -np.inf).argmax(axis=1)
    found = candidate[np.arange(len(best)), best]
    return [actions[j] if ok else "" for j, ok in zip(best.tolist(), found.tolist(),
                                                       strict=True)]



def _inactive_result(customer: Customer) -> CustomerScore:
    """Not scored (churned or another inactive status): no score, colour or next step."""
    since = f" (since {customer.status_date.isoformat()})" if customer.status_date else ""
    return CustomerScore(
        customer_id=customer.id,
        score=None,
        rag=None,
        computed_rag=None,
        overridden=False,
        reasons=f"Not scored: Status is {customer.status}{since}",
        next_step="",
        trend="",
        outcomes=(),
        inactive=customer.status_label,
    )


# ----------------------------------------------------------------------------- results


def _customer_result(
    customer: Customer,
    outcomes: Sequence[OutcomeScore],
    measures: Mapping[str, Measure],
    settings: Settings,
    today: dt.date,
    baseline: float | None,
    stage: Stage | None = None,
) -> CustomerScore:
    lacking = [o for o in outcomes if o.score is None]
    score: int | None = None
    computed: Rag | None = None
    if outcomes and not lacking:
        values = [o.score for o in outcomes if o.score is not None]
        total = min(values) if settings.rollup is RollUp.MIN else sum(values) / len(values)
        score = round_score(total)
        computed = settings.rag(score)
        weakest = min(outcomes, key=lambda o: (o.score, outcomes.index(o)))
        reasons = _reasons(weakest, measures, settings, computed, len(outcomes) > 1)
        next_step = _green_step(outcomes, measures, settings) if computed is Rag.GREEN \
            else _next_step(weakest, measures)
    else:
        target = lacking[0] if lacking else None
        reasons = _not_enough(target, settings, len(outcomes) > 1)
        missing = target.missing if target else ()
        next_step = f"Add data for: {', '.join(missing)}" if missing else ""
    late = journey.late_milestones(outcomes, measures, customer.start_date, today) \
        if stage is not None and stage == settings.stages[0] else []
    if late:  # onboarding: an overdue milestone makes the customer Red, whatever the score
        assert stage is not None
        if computed is not None and computed is not Rag.RED:
            reasons = _reasons(weakest, measures, settings, Rag.RED, len(outcomes) > 1)
        computed = Rag.RED
        reasons = f"{journey.late_reason(stage, late)}; {reasons}"
        next_step = journey.late_next_step(late, measures) or next_step
    rag = computed
    override = customer.override
    overridden = False
    if override is not None:
        if override.applies_on(today):
            overridden = True
            rag = override.rag
            until = f" until {override.until.isoformat()}" if override.until else ""
            shown = "no score" if score is None else f"{score} {computed}"
            reasons = f"Overridden to {override.rag}{until}: {clip(override.reason)}. " \
                      f"Computed {shown}: {reasons}"
            if rag is Rag.GREEN:
                next_step = _green_step(outcomes, measures, settings)
            elif not next_step:
                weakest_drag = _next_step(min(outcomes, key=lambda o: o.score or 0), measures)
                next_step = weakest_drag or f"Follow up: {clip(override.reason)}"
        else:
            assert override.until is not None
            reasons = f"Override to {override.rag} expired {override.until.isoformat()}. " \
                      f"{reasons}"
    return CustomerScore(
        customer_id=customer.id,
        score=score,
        rag=rag,
        computed_rag=computed,
        overridden=overridden,
        reasons=reasons,
        next_step=next_step,
        trend=trend_change(score, baseline),
        outcomes=tuple(outcomes),
    )


def _not_enough(outcome: OutcomeScore | None, settings: Settings, several: bool) -> str:
    if outcome is None:
        return "Not enough data: no scorecard applies"
    where = f" for {outcome.scorecard}" if several and outcome.scorecard else ""
    text = (f"Not enough data{where}: {outcome.coverage:.0%} of the weight has data "
            f"(minimum {settings.min_coverage:.0%})")
    if outcome.missing:
        text += f"; missing {', '.join(outcome.missing)}"
    return text


def _fmt(value: CellValue) -> str:
    if (type(value) is float and value == value) or type(value) is int:  # the common case
        return format_number(value)
    if is_blank(value):
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)  # a Percent shows as typed: 55%
    return key_text(value)


def _fmt_all(values: Sequence[CellValue]) -> list[str]:
    """`_fmt` of many values: plain finite floats formatted a column at a time (the same
    text `format_number` gives each)."""
    kinds = list(map(type, values))
    at = [k for k, kind in enumerate(kinds) if kind is float]
    x = np.array([values[k] for k in at], dtype=float)
    finite = np.isfinite(x)
    shown: list[str] = [f"{v:,}" if kind is int else "" for v, kind in zip(values, kinds,
                                                                          strict=True)]
    for k, text in zip(np.asarray(at, dtype=np.intp)[finite].tolist(),
                       format_floats(x[finite]), strict=True):
        shown[k] = text
    for k, text in enumerate(shown):
        if not text:
            shown[k] = _fmt(values[k])  # Percent, text, dates, NaN and ±inf
    return shown


def format_floats(values: Sequence[float] | np.ndarray) -> list[str]:
    """`format_number` of finite plain floats, a column at a time: whole within
    `math.isclose` of its rounding → `1,234`; from 100 → `1,235`; under 1 → `0.05`; else
    `12.3`."""
    x = np.asarray(values, dtype=float)
    whole = np.round(x)  # half to even, as round()
    gap = np.abs(x - whole)
    with np.errstate(over="ignore"):
        close = (gap <= 1e-9) | (gap <= 1e-9 * np.maximum(np.abs(x), np.abs(whole)))
    size = np.abs(x)
    big = ~close & (size >= 100)
    small = ~close & (size < 1)
    rest = ~(close | big | small)
    out = np.empty(len(x), dtype=object)
    out[close] = [f"{int(w):,}" for w in whole[close].tolist()]
    out[big] = [f"{v:,.0f}" for v in x[big].tolist()]
    out[small] = [f"{v:.2f}".rstrip("0").rstrip(".") for v in x[small].tolist()]
    out[rest] = [f"{v:.1f}" for v in x[rest].tolist()]
    return out.tolist()


def _target(measure: Measure, sub: float | None) -> str:
    kind = measure.kind
    if kind in (ScoringKind.LINEAR, ScoringKind.LOG):
        assert measure.green_at is not None
        return f"target {'≤' if measure.lower_is_better else '≥'} {_fmt(measure.green_at)}"
    if kind is ScoringKind.BANDS:
        best = max(p for _, p in measure.points)
        bands = list(measure.points)
        i = next(i for i, (_, p) in enumerate(bands) if p == best)
        low = bands[i][0]
        if i == len(bands) - 1:
            return f"target ≥ {_fmt(low)}"
        high = bands[i + 1][0]
        return f"target < {_fmt(high)}" if i == 0 else f"target {_fmt(low)}–{_fmt(high)}"
    if kind is ScoringKind.BOOLEAN:
        return f"target {'yes' if measure.good_value else 'no'}"
    if kind is ScoringKind.CATEGORY:
        best_key = max(measure.points, key=lambda p: p[1])[0]
        return f"target {best_key}"
    if kind is ScoringKind.PERCENTILE:
        return "no data" if sub is None else f"percentile {sub:.0f} among peers"
    return "milestone"


def _driver(card: Card, i: int, j: int, points: float | None = None, sign: str = "") -> str:
    """`Tickets open 9 (target ≤ 2) −14 pts` (without the points when ``points`` is None)."""
    raw, sub, note = card.cell(i, j)
    tail = "" if points is None else f" {sign}{round_score(points)} pts"
    return _driver_text(card, j, raw, sub, note, tail)


def _driver_text(card: Card, j: int, raw: CellValue, sub: float | None, note: str,
                 tail: str) -> str:
    measure = card.measures[j]
    if measure.kind is ScoringKind.MILESTONE:
        value = "reached" if sub == 100 else "not reached, overdue"
        return f"{measure.name} {value}{tail}"
    if note.startswith("no data"):
        return f"{measure.name} no data ({note.removeprefix('no data, ')}){tail}"
    if measure.kind is ScoringKind.PERCENTILE:
        target = _target(measure, sub)
    else:
        target = card.target_texts.get(j) or card.target_texts.setdefault(
            j, _target(measure, sub))
    return f"{measure.name} {_fmt(raw)} ({target}){tail}"


def _reasons(
    outcome: OutcomeScore,
    measures: Mapping[str, Measure],
    settings: Settings,
    rag: Rag,
    several: bool,
) -> str:
    """The measures that cost the most points, in words; a green customer's strengths.

    Picked from the scorecard's arrays: only the few named drivers become `MeasureScore`s."""
    card, i = card_row(outcome.measures, measures)
    if rag is Rag.GREEN:
        text = _green_reasons(card, i, settings)
    else:
        text = _loss_texts(card, settings.max_reasons)[i] or "All measures on target"
    if several:
        assert outcome.score is not None
        text = f"Weakest outcome {outcome.scorecard} {round_score(outcome.score)}: {text}"
    return text


def _loss_texts(card: Card, limit: int) -> list[str]:
    """Every row's drivers that cost the most points, joined: `_driver` for each of a row's
    first ``limit`` `most_lost` columns, worked out for the whole card at once (picking the
    cells from the arrays per customer was most of the time at 100,000 customers)."""
    key = ("lost", limit)
    if key in card.texts:
        return card.texts[key]
    rows = len(card.lost)
    if card.given is not None:  # details passed in: the cells as given, row by row
        texts = ["; ".join(_driver(card, i, j, card.lost_rows[i][j], "−")
                           for j in card.most_lost(i, limit)) for i in range(rows)]
    else:
        width = max(0, min(limit, len(card.measures)))
        top = card.order[:, :width]
        counts = np.minimum(card.lost_counts, width)
        # the named drivers, row after row, most lost first: a flat index into (row, rank)
        named = np.flatnonzero(np.arange(width)[None, :] < counts[:, None])

        def pick(values: np.ndarray) -> list[Any]:
            return np.take_along_axis(values, top, axis=1).ravel()[named].tolist()
        # the same half-up rounding as `round_score`, a column at a time
        lost = pick(np.floor(card.lost + 0.5).astype(np.int64))
        notes = card.no_data_notes
        # `_driver_text` of a measured value, cut where the value goes: "Name ", " (target)"
        simple = {j: (f"{m.name} ", f" ({card.target_texts.setdefault(j, _target(m, None))})")
                  for j, m in enumerate(card.measures)
                  if m.kind not in (ScoringKind.MILESTONE, ScoringKind.PERCENTILE)}
        cols = top.ravel()[named].tolist()
        raws, subs, known, due = (pick(v) for v in (card.raws, card.sub, card.known, card.due))
        plain = [ok and j in simple for j, ok in zip(cols, known, strict=True)]
        at = [k for k, ok in enumerate(plain) if ok]
        drivers = [""] * len(cols)
        for k, shown in zip(at, _fmt_all([raws[k] for k in at]), strict=True):
            head, target = simple[cols[k]]
            drivers[k] = f"{head}{shown}{target} −{lost[k]} pts"
        for k, j in enumerate(cols):
            if not plain[k]:
                sub = subs[k]
                note = "" if known[k] else ("not yet due" if not due[k] else notes[j])
                drivers[k] = _driver_text(card, j, raws[k], None if sub != sub else sub,
                                          note, f" −{lost[k]} pts")
        ends = np.cumsum(counts).tolist()
        texts = ["; ".join(drivers[start:end])
                 for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    card.texts[key] = texts
    return texts


def _first_actions(card: Card) -> list[str]:
    """Every row's `_next_step`: the `Action when red` of the first measure, most points
    lost first, that costs at least one point and has one; worked out for the whole card."""
    key = ("next step",)
    if key in card.texts:
        return card.texts[key]
    actions = [m.action_when_red for m in card.measures]
    has = np.array([bool(a) for a in actions], dtype=bool)
    rows = len(card.lost)
    if not has.any() or rows == 0:
        texts = [""] * rows
    else:
        ranked = has[card.order]  # per row, in most-lost order: has an action?
        first = ranked.argmax(axis=1)
        every = np.arange(rows)
        ok = ranked[every, first] & (first < card.lost_counts)
        column = card.order[every, first]
        texts = [actions[j] if good else ""
                 for j, good in zip(column.tolist(), ok.tolist(), strict=True)]
    card.texts[key] = texts
    return texts


def _green_reasons(card: Card, i: int, settings: Settings) -> str:
    """A green customer's strengths are only measures on target; a measure in its red zone
    (sub-score below `Red below`) is named after "despite:" so Green never hides it.
    Measured ones only: a neutral fill-in for missing data is neither."""
    limit = settings.max_reasons
    parts = []
    for j in card.strengths(i, settings, limit):
        parts.append(_driver(card, i, j, float(card.points[i, j]), "+"))
    text = "; ".join(parts) or "No measure fully on target"
    weak = card.weak(i, settings, limit)
    if weak:
        text += "; despite: " + " and ".join(_driver(card, i, j) for j in weak)
    return text


def _next_step(outcome: OutcomeScore, measures: Mapping[str, Measure]) -> str:
    card, i = card_row(outcome.measures, measures)
    return _first_actions(card)[i]


def _green_step(outcomes: Sequence[OutcomeScore], measures: Mapping[str, Measure],
                settings: Settings) -> str:
    """A Green customer's next step: the `Action when green` of its strongest driver (the
    measure in its own green zone adding the most points), so a healthy account still leads
    to action (advocacy, expansion) — never one built on a weak measure."""
    details = [d for o in outcomes for d in o.measures
               if d.sub_score is not None and d.sub_score >= settings.green_at]
    for detail in sorted(details, key=lambda d: -d.points):
        action = measures[detail.measure].action_when_green
        if action:
            return action
    return ""


# ----------------------------------------------------------------------------- trend


def _history_by_customer(points: Iterable[HistoryPoint]) -> dict[str, list[HistoryPoint]]:
    by: dict[str, list[HistoryPoint]] = {}
    for point in points:
        by.setdefault(point.customer_id, []).append(point)
    for rows in by.values():
        rows.sort(key=lambda p: p.day)
    return by


def trend_baseline(history: Sequence[HistoryPoint], today: dt.date, days: int) -> float | None:
    """The score a Trend compares with: the last History score on or before the window's
    start; without one, the earliest score inside the window (never today's own row).
    ``history`` is one customer's points in date order."""
    start = today - dt.timedelta(days=days)
    scored = [p for p in history if p.score is not None and p.day < today]
    before = [p for p in scored if p.day <= start]
    baseline = before[-1] if before else (scored[0] if scored else None)
    return None if baseline is None else baseline.score


def trend_text(
    score: int | None, history: Sequence[HistoryPoint], today: dt.date, days: int
) -> str:
    """Change against the score at the start of the window: `▲ +5`, `▼ -12`, `= 0`."""
    return trend_change(score, trend_baseline(history, today, days))


def trend_change(score: int | None, baseline: float | None) -> str:
    if score is None or baseline is None:
        return ""
    delta = score - round_score(baseline)
    if delta > 0:
        return f"▲ +{delta}"
    if delta < 0:
        return f"▼ {delta}"
    return "= 0"
