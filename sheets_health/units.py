"""The percent rule: a value, threshold or weight typed with `%` meets others in the same unit.

Spreadsheets store `55%` as 0.55. Compared with `Red at` 30 / `Green at` 80 that scores 0,
and rescaling it to 55 would be a guess, so the tool never does either: values and thresholds
of one measure, and the weights of one Weight column, must all be percents or all be plain
numbers, or it is bad input naming the cells. Zero is the same number in both units and fits
either. Numbers from sources carry no unit (they are plain), so a metric's thresholds must be
plain numbers in the source's own unit.

Pure: each check returns ``(what is wrong, how to fix it)`` or None; the contract locates it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sheets_health.cells import Percent, format_number, is_blank, is_percent, parse_number
from sheets_health.model import CellValue, Measure, ScoringKind

Finding = tuple[str, str]
Located = tuple[str, CellValue]  # e.g. ("row 2", cell value)


def unit_of(value: CellValue) -> bool | None:
    """True: a percent; False: a plain number; None: no unit (blank, zero, not a number)."""
    if type(value) in (int, float):  # the common case, checked per cell: keep it cheap
        return None if value == 0 or value != value else False
    if is_blank(value) or isinstance(value, bool):
        return None
    try:
        number = parse_number(value)
    except ValueError:
        return None
    if number == 0:
        return None
    return isinstance(number, Percent) or is_percent(value)


def shown(value: CellValue) -> str:
    """A cell value as it was typed: 55%, 30, yes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value).strip()


def as_other_unit(value: float, percent: bool) -> str:
    """The same digits in the other unit: 30 → `30%`, 80% → `80` (what the user retypes)."""
    return format_number(value * 100) if percent else f"{format_number(value)}%"


def _listing(items: Sequence[Located], limit: int = 5) -> str:
    text = ", ".join(f"{where}: {shown(v)}" for where, v in items[:limit])
    return text + (" …" if len(items) > limit else "")


def _unit_word(percent: bool, plural: bool = False) -> str:
    if percent:
        return "percents" if plural else "a percent"
    return "plain numbers" if plural else "a plain number"


def threshold_clash(red: float | None, green: float | None) -> Finding | None:
    """`Red at` and `Green at` of one linear measure typed in different units."""
    red_unit, green_unit = unit_of(red), unit_of(green)
    if red is None or green is None or None in (red_unit, green_unit) or red_unit == green_unit:
        return None
    return (
        f"'Red at' {shown(red)} is {_unit_word(bool(red_unit))} but 'Green at' {shown(green)} "
        f"is {_unit_word(bool(green_unit))}",
        f"type both the same way: {_percent_text(red)} and {_percent_text(green)}, or "
        f"{_plain_text(red)} and {_plain_text(green)}",
    )


def _percent_text(value: float) -> str:
    return shown(value) if isinstance(value, Percent) else as_other_unit(value, False)


def _plain_text(value: float) -> str:
    return as_other_unit(value, True) if isinstance(value, Percent) else shown(value)


def band_clash(thresholds: Sequence[float]) -> Finding | None:
    percents = [t for t in thresholds if unit_of(t) is True]
    plains = [t for t in thresholds if unit_of(t) is False]
    if not (percents and plains):
        return None
    return (
        f"the band thresholds mix percents ({', '.join(map(shown, percents))}) with plain "
        f"numbers ({', '.join(map(shown, plains))})",
        f"write them all as percents ({as_other_unit(plains[-1], False)}) or all as plain "
        "numbers",
    )


def weight_clash(weights: Sequence[Located]) -> Finding | None:
    """One Weight column: `30%` beside `30` would weigh a hundred times less."""
    percents = [w for w in weights if unit_of(w[1]) is True]
    plains = [w for w in weights if unit_of(w[1]) is False]
    if not (percents and plains):
        return None
    example = parse_number(plains[0][1])
    return (
        f"the weights mix percents ({_listing(percents)}) with plain numbers "
        f"({_listing(plains)})",
        "write every weight in this column the same way: all as percents "
        f"({as_other_unit(example, False)}) or all as plain numbers ({shown(example)})",
    )


def thresholds_text(measure: Measure) -> str:
    if measure.kind is ScoringKind.BANDS:
        return "band thresholds " + ", ".join(shown(k) for k, _ in measure.points)
    return f"'Red at' {shown(measure.red_at)} and 'Green at' {shown(measure.green_at)}"


def _thresholds(measure: Measure) -> list[float]:
    if measure.kind is ScoringKind.BANDS:
        return [k for k, _ in measure.points if isinstance(k, float)]
    return [t for t in (measure.red_at, measure.green_at) if t is not None]


def metric_clash(measure: Measure) -> Finding | None:
    """A metric (a source's number, no unit) scored against thresholds typed as percents."""
    if not measure.percent:
        return None
    values = _thresholds(measure)
    fractions = " and ".join(format_number(float(v)) for v in values)
    hundreds = " and ".join(format_number(v * 100) for v in values)
    return (
        f"'{measure.name}' comes from a source, whose numbers carry no unit, but its "
        f"{thresholds_text(measure)} are typed as percents",
        f"type them as plain numbers in the unit the source gives ({fractions} for shares "
        f"given as fractions, {hundreds} for shares given as 0–100)",
    )


def needs_one_unit(measure: Measure, has_percents: bool, has_plains: bool) -> bool:
    """Would `value_clash` find something? (Cheap, so the cells are located only then.)"""
    if measure.kind is ScoringKind.PERCENTILE:
        return has_percents and has_plains
    if measure.kind in (ScoringKind.LINEAR, ScoringKind.LOG, ScoringKind.BANDS):
        return has_plains if measure.percent else has_percents
    return False


def value_clash(measure: Measure, values: Sequence[Located]) -> Finding | None:
    """A measure's values against its thresholds (or, for percentile, against each other)."""
    if measure.kind not in (ScoringKind.LINEAR, ScoringKind.LOG, ScoringKind.BANDS,
                            ScoringKind.PERCENTILE):
        return None
    percents = [v for v in values if unit_of(v[1]) is True]
    plains = [v for v in values if unit_of(v[1]) is False]
    if measure.kind is ScoringKind.PERCENTILE:
        if not (percents and plains):
            return None
        return (
            f"the values mix percents ({_listing(percents)}) with plain numbers "
            f"({_listing(plains)})",
            "type every value of the column the same way: all as percents or all as plain "
            "numbers",
        )
    wrong = plains if measure.percent else percents
    if not wrong:
        return None
    count = f"{len(wrong)} value is" if len(wrong) == 1 else f"{len(wrong)} values are"
    first = parse_number(wrong[0][1])
    where = "'Red at' and 'Green at'" if measure.kind is not ScoringKind.BANDS else \
        "the band thresholds"
    others = ", ".join(as_other_unit(t, measure.percent) for t in _thresholds(measure))
    if measure.percent:
        retype = f"as percents ({as_other_unit(first, False)} for {shown(first)})"
    else:
        retype = f"as plain numbers ({as_other_unit(first, True)} for {shown(first)})"
    return (
        f"{count} {_unit_word(not measure.percent, plural=len(wrong) > 1)} ({_listing(wrong)}) "
        f"but its {thresholds_text(measure)} (Scorecard row {measure.row}) are "
        f"{_unit_word(measure.percent, plural=True)}",
        f"type the values {retype}, or {where} as "
        f"{_unit_word(not measure.percent, plural=True)} ({others}) — all in one unit",
    )


def share(value: CellValue) -> tuple[float | None, Finding | None]:
    """A share setting (`Minimum coverage`, `Max colour changes`) as a fraction of one.

    `50%` is the share itself; so is a plain fraction such as `0.5`; a plain number above 1
    can only mean percent points (`50` → 50%). Anything outside 0–100 % is refused, never
    clamped."""
    try:
        number = parse_number(value)
    except ValueError as exc:
        return None, (str(exc), "a share such as 50%")
    if isinstance(number, Percent):
        if not 0 <= number <= 1:
            return None, (f"{shown(value)} is outside 0%–100%", "a share such as 50%")
        return float(number), None
    if not 0 <= number <= 100:
        return None, (f"{format_number(number)} is outside 0%–100%", "a share such as 50%")
    return (number / 100 if number > 1 else float(number)), None
