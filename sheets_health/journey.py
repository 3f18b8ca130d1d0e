"""The customer journey: tenure stages from `Start date`, the scorecard each stage chooses, and
the onboarding rule (an overdue milestone makes a customer in its first stage Red).

Pure: no IO. A stage depends on the day scored, so the choice of scorecard is made when
scoring, not when the sheet is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from sheets_health.cells import key_text
from sheets_health.model import (
    DEFAULT_SCORECARD,
    CellValue,
    Customer,
    Measure,
    OutcomeScore,
    ScoringKind,
    Stage,
    norm_header,
)

NO_START_DATE = "No start date"  # the Stage cell of a customer whose tenure is unknown
STAGES_EXAMPLE = "Onboarding 90, Adoption 365, Mature"
STAGES_FIX = (f"write each stage with the day it ends (days since Start date) and the last "
              f"without a number, e.g. '{STAGES_EXAMPLE}'")
AT = "@"  # `Weight: <outcome> @ <stage>`

_NUMBERISH = re.compile(r"[-+]?[\d.,]+%?")


# ----------------------------------------------------------------------------- Settings


def parse_stages(value: CellValue) -> tuple[Stage, ...]:
    """`Onboarding 90, Adoption 365, Mature` → stages; ValueError saying what is wrong."""
    text = key_text(value)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    stages: list[Stage] = []
    for part in parts:
        tokens = part.split()
        if len(tokens) > 2 and tokens[-1].casefold() in ("day", "days") \
                and _NUMBERISH.fullmatch(tokens[-2]):
            tokens = tokens[:-1]  # `Onboarding 90 days` says the same as `Onboarding 90`
        limit: int | None = None
        if _NUMBERISH.fullmatch(tokens[-1]):
            if not tokens[-1].isdigit() or int(tokens[-1]) < 1:
                raise ValueError(f"'{tokens[-1]}' in '{part}' is not a whole number of days "
                                 "above 0")
            limit = int(tokens[-1])
            tokens = tokens[:-1]
        name = " ".join(tokens)
        if not name:
            raise ValueError(f"'{part}' has no stage name")
        if AT in name:
            raise ValueError(f"stage name '{name}' holds '{AT}', which separates outcome and "
                             f"stage in 'Weight: <outcome> {AT} <stage>'")
        if any(norm_header(s.name) == norm_header(name) for s in stages):
            raise ValueError(f"stage '{name}' is listed twice")
        if stages and stages[-1].until_day is None:
            raise ValueError(f"stage '{stages[-1].name}' has no day limit, but only the last "
                             "stage may be open-ended")
        if limit is not None and stages:
            previous = stages[-1]
            assert previous.until_day is not None
            if limit <= previous.until_day:
                raise ValueError(f"'{part}' does not end after '{previous.name} "
                                 f"{previous.until_day}': the days must increase")
        stages.append(Stage(name, limit))
    if len(stages) < 2:
        raise ValueError(f"'{text}' names {len(stages)} stage; a journey needs at least two")
    last = stages[-1]
    if last.until_day is not None:
        raise ValueError(f"the last stage '{last.name} {last.until_day}' has a day limit: "
                         f"customers past day {last.until_day} would have no stage")
    return tuple(stages)


def stage_of(stages: Sequence[Stage], start: dt.date | None, today: dt.date) -> Stage | None:
    """The first stage whose limit the tenure is under (a future start date is day 0);
    None without stages or without a start date."""
    if not stages or start is None:
        return None
    tenure = max(0, (today - start).days)
    return next(s for s in stages if s.until_day is None or tenure < s.until_day)


def stage_label(stages: Sequence[Stage], start: dt.date | None, today: dt.date) -> str:
    """What the Stage column shows: the stage, `No start date`, or blank without stages."""
    if not stages:
        return ""
    stage = stage_of(stages, start, today)
    return NO_START_DATE if stage is None else stage.name


def start_date_warnings(customers: Sequence[Customer], stages: Sequence[Stage]) -> list[str]:
    """Active customers without a `Start date` when there are stages: say so on every run, as
    their Stage cell does, rather than let them pass as any stage."""
    if not stages:
        return []
    rows = [c.row for c in customers if c.start_date is None and not c.inactive]
    if not rows:
        return []
    shown = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
    many = len(rows) > 1
    return [f"{len(rows)} customer{'s' if many else ''} without a Start date "
            f"(Customers row{'s' if many else ''} {shown}) {'have' if many else 'has'} no "
            "journey stage: "
            f"Stage says '{NO_START_DATE}' and the stage scorecards do not apply; fill in "
            "Start date"]


# ----------------------------------------------------------------------------- scorecards


def is_stage_key(key: str, stages: Sequence[Stage]) -> bool:
    """A `Weight: <stage>` or `Weight: <outcome> @ <stage>` column's key (not an outcome)."""
    return AT in key or any(norm_header(s.name) == norm_header(key) for s in stages)


def outcome_keys(keys: Iterable[str], stages: Sequence[Stage]) -> tuple[str, ...]:
    """The scorecard keys a customer's `Outcomes` may name."""
    return tuple(k for k in keys if k != DEFAULT_SCORECARD and not is_stage_key(k, stages))


def scorecards_for(
    outcomes: Sequence[str], stage: Stage | None, keys: Collection[str]
) -> tuple[str, ...]:
    """The scorecard per outcome, first found of `<outcome> @ <stage>`, `<stage>`,
    `<outcome>`; without an outcome, `<stage>` then the default `Weight`. Two outcomes that
    land on the same scorecard are scored once."""
    index = {norm_header(k): k for k in keys if k != DEFAULT_SCORECARD}
    staged = "" if stage is None else norm_header(stage.name)
    chosen: list[str] = []
    for outcome in outcomes or (DEFAULT_SCORECARD,):
        candidates = [norm_header(outcome) + AT + staged, staged] if staged else []
        found = next((index[c] for c in candidates if c in index), outcome)
        if found not in chosen:
            chosen.append(found)
    return tuple(chosen)


def weight_column_problems(
    keys: Iterable[str], stages: Sequence[Stage], weighted: Collection[str]
) -> list[tuple[str, str, str]]:
    """(key, what is wrong, how to fix it) for each stage column that cannot be used."""
    names = {norm_header(s.name): s.name for s in stages}
    keys = list(keys)
    plain = {norm_header(k) for k in outcome_keys(keys, stages)}
    shown = ", ".join(s.name for s in stages)
    found: list[tuple[str, str, str]] = []
    for key in keys:
        if not is_stage_key(key, stages):
            continue
        outcome, stage = ("", key)
        if AT in key:
            outcome, stage = (part.strip() for part in key.split(AT, 1))
        if not stages:
            found.append((key, f"the column names stage '{stage}', but Settings has no "
                          "'Stages' row", f"add a 'Stages' row to Settings, e.g. "
                          f"'{STAGES_EXAMPLE}', or rename the column"))
        elif norm_header(stage) not in names:
            found.append((key, f"'{stage}' is not one of the stages in Settings ({shown})",
                          "use one of those stage names, or add the stage to 'Stages'"))
        elif AT in key and norm_header(outcome) not in plain:
            found.append((key, f"outcome '{outcome}' has no 'Weight: {outcome}' column",
                          f"add a 'Weight: {outcome}' column (its scorecard in the other "
                          "stages), or fix the spelling"))
        elif key not in weighted:
            found.append((key, f"no measure has a weight here, but it is the scorecard of "
                          f"stage {names[norm_header(stage)]}",
                          "give some measures a weight in this column, or delete it"))
    return found


# ----------------------------------------------------------------------------- onboarding


def late_milestones(
    outcomes: Sequence[OutcomeScore], measures: Mapping[str, Measure],
    start: dt.date | None, today: dt.date,
) -> list[tuple[str, dt.date]]:
    """(milestone, due day) for each milestone on the customer's scorecards that is past due
    and not reached. With a start date and the due day passed a milestone scores 100 only
    when reached, so the sub-score tells."""
    if start is None:
        return []
    late: dict[str, dt.date] = {}
    for outcome in outcomes:
        for detail in outcome.measures:
            measure = measures[detail.measure]
            if measure.kind is not ScoringKind.MILESTONE or measure.green_at is None:
                continue
            due = start + dt.timedelta(days=int(measure.green_at))
            if today > due and (detail.sub_score is None or detail.sub_score < 100):
                late.setdefault(measure.name, due)
    return sorted(late.items(), key=lambda item: (item[1], item[0]))


def late_reason(stage: Stage, late: Sequence[tuple[str, dt.date]]) -> str:
    """`Red: Onboarding milestone 'Kickoff done' overdue since 2026-11-10`."""
    return "Red: " + "; ".join(f"{stage.name} milestone '{name}' overdue since "
                               f"{due.isoformat()}" for name, due in late)


def late_next_step(late: Sequence[tuple[str, dt.date]], measures: Mapping[str, Measure]) -> str:
    """The first late milestone's `Action when red` (blank when it has none)."""
    return next((measures[name].action_when_red for name, _ in late
                 if measures[name].action_when_red), "")
