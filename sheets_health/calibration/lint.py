"""Practice warnings for `check`: where a scorecard goes against what the CS literature says.

Warnings, never errors: the sheet stays valid. Each says what was found and, in one sentence
a CS lead understands, why it matters.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sheets_health.calibration.stats import spearman_pairs
from sheets_health.model import DEFAULT_SCORECARD, Measure

MIN_MEASURES, MAX_MEASURES, MAX_OUTCOMES = 2, 10, 4
RECALIBRATE_MONTHS = 6


@dataclass(frozen=True)
class LintWarning:
    code: str
    message: str
    scorecard: str | None = None  # None: the Scorecard as a whole
    measures: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


def _label(key: str) -> str:
    return "The default scorecard (Weight)" if key == DEFAULT_SCORECARD else \
        f"The {key} scorecard"


def _names(measures: Sequence[Measure]) -> str:
    return ", ".join(m.name for m in measures)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the 31st falls back to the month's
    last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _scorecard_warnings(key: str, measures: Sequence[Measure]) -> list[LintWarning]:
    weighted = [m for m in measures if m.weight(key) > 0]
    label = _label(key)
    found = []
    n = len(weighted)
    if n < MIN_MEASURES:
        found.append(LintWarning(
            "too-few-measures",
            f"{label} has {n} measure{'' if n == 1 else 's'} with weight. With fewer than "
            f"{MIN_MEASURES}, one data glitch or one bad week turns a customer red on its own.",
            key, tuple(m.name for m in weighted)))
    if n > MAX_MEASURES:
        found.append(LintWarning(
            "too-many-measures",
            f"{label} has {n} measures with weight. With more than {MAX_MEASURES}, each one "
            "moves the score so little that nobody can tell what to act on.",
            key, tuple(m.name for m in weighted)))
    total = sum(m.weight(key) for m in weighted)
    if total <= 0:
        return found
    degree3 = [m for m in weighted if m.value_degree == 3]
    share3 = sum(m.weight(key) for m in degree3) / total
    if share3 > 0.5:
        found.append(LintWarning(
            "value-degree-3",
            f"{label} puts {share3:.0%} of its weight on value-degree-3 measures "
            f"({_names(degree3)}). Logins and activity only roughly show whether a customer "
            "gets value; most of the weight belongs on outcomes achieved and the core work "
            "done in the product.", key, tuple(m.name for m in degree3)))
    proactive = sum(m.weight(key) for m in weighted if m.proactive) / total
    if proactive < 0.5:
        unknown = [m for m in weighted if m.proactive is None]
        blank = (f" ({len(unknown)} of its measures do not say whether they are proactive)"
                 if unknown else "")
        found.append(LintWarning(
            "proactive-share",
            f"{label} puts only {proactive:.0%} of its weight on proactive measures{blank}. "
            "A score made of problems that already happened (tickets, escalations) warns "
            "late; about half should reflect proactive, value-adding moments.",
            key, tuple(m.name for m in unknown)))
    return found


def lint_scorecard(
    measures: Sequence[Measure],
    scorecards: Sequence[str],
    today: dt.date,
    values: pd.DataFrame | None = None,
    last_calibration: dt.date | None = None,
    rho: float = 0.7,
) -> list[LintWarning]:
    """Every practice warning for a Scorecard.

    ``scorecards``: the outcome names (`Weight: <outcome>` columns); ``values``: current
    values, one column per measure (numbers; NaN when missing) for the correlation check;
    ``last_calibration``: the date of the last calibration (from the Calibration tab).
    """
    outcomes = [s for s in scorecards if s != DEFAULT_SCORECARD]
    keys = list(outcomes)
    if not outcomes or any(m.weight(DEFAULT_SCORECARD) > 0 for m in measures):
        keys.insert(0, DEFAULT_SCORECARD)
    found: list[LintWarning] = []
    for key in keys:
        found.extend(_scorecard_warnings(key, measures))
    if len(outcomes) > MAX_OUTCOMES:
        found.append(LintWarning(
            "too-many-outcomes",
            f"The Scorecard has {len(outcomes)} desired outcomes ({', '.join(outcomes)}). "
            f"More than {MAX_OUTCOMES} split the customers so thin that no outcome scorecard "
            "can be checked against who renewed."))
    weighted = [m for m in measures if any(w > 0 for w in m.weights.values())]
    no_action = [m for m in weighted if not m.action_when_red.strip()]
    if no_action:
        found.append(LintWarning(
            "no-action-when-red",
            f"{_names(no_action)} {'has' if len(no_action) == 1 else 'have'} weight but no "
            "Action when red. A red measure without a next step tells the CSM something is "
            "wrong but not what to do about it.", None, tuple(m.name for m in no_action)))
    if values is not None:
        found.extend(_correlated(weighted, values, rho))
    found.extend(_calibration_age(today, last_calibration))
    return found


def _correlated(weighted: Sequence[Measure], values: pd.DataFrame, rho: float
                ) -> list[LintWarning]:
    columns = [m.name for m in weighted if m.name in values.columns]
    numeric = values[columns].apply(pd.to_numeric, errors="coerce")
    direction = {m.name: -1.0 if m.lower_is_better else 1.0 for m in weighted}
    oriented = numeric * pd.Series(direction)[columns]  # health direction: + means agree
    return [LintWarning(
        "double-count",
        f"{a} and {b} move together (Spearman ρ {r:.2f} over {n} customers). Weighting both "
        "counts the same signal twice, so it outweighs everything else on the scorecard.",
        None, (a, b)) for a, b, r, n in spearman_pairs(oriented, rho)]


def _calibration_age(today: dt.date, last: dt.date | None) -> list[LintWarning]:
    if last is None:
        return [LintWarning(
            "never-calibrated",
            "The score has never been calibrated against outcomes. A health score nobody "
            "checks against who actually renewed or churned is decoration.")]
    if last < months_before(today, RECALIBRATE_MONTHS):
        return [LintWarning(
            "calibration-due",
            f"The last calibration was on {last.isoformat()}, more than "
            f"{RECALIBRATE_MONTHS} months ago. Customers, product and team change; re-check "
            "the weights against who renewed and churned about every six months.")]
    return []
