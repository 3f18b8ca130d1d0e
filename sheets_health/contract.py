"""The sheet contract: tabs and headers → a validated `SheetModel`.

Every problem is gathered (tab, row, column, what is wrong, how to fix it) and raised together
in one `ContractError`, so a user fixes the sheet in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from sheets_health import journey, units
from sheets_health import template as T
from sheets_health.cells import (
    Percent,
    format_number,
    is_blank,
    key_text,
    parse_bool,
    parse_date,
    parse_number,
)
from sheets_health.errors import ContractError, Problem
from sheets_health.headers import header_problems
from sheets_health.model import (
    DEFAULT_SCORECARD,
    CellValue,
    Customer,
    CustomerStatus,
    HistoryPoint,
    Measure,
    MissingPolicy,
    Override,
    Rag,
    RollUp,
    ScoringKind,
    Settings,
    SheetModel,
    Table,
    norm_header,
)
from sheets_health.zones import parse_zone

V = TypeVar("V")

_KIND_HELP = ", ".join(k.value for k in ScoringKind)
SUGGESTED_HEADERS = frozenset(norm_header(h) for h in T.SUGGESTED_COLUMNS)


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, tab: str, row: int | None, column: str | None, message: str, fix: str) -> None:
        self.items.append(Problem(tab, row, column, message, fix))

    def parse(
        self,
        parser: Callable[[CellValue], V],
        value: CellValue,
        tab: str,
        row: int,
        column: str,
        fix: str,
    ) -> V | None:
        """Parse a non-blank cell, recording a problem instead of raising."""
        if is_blank(value):
            return None
        try:
            return parser(value)
        except ValueError as exc:
            self.add(tab, row, column, str(exc), fix)
            return None


def _require(table: Table, headers: Collection[str], problems: _Problems) -> bool:
    ok = True
    for header in headers:
        if table.column(header) is None:
            ok = False
            problems.add(
                table.tab,
                1,
                header,
                f"required column '{header}' is missing",
                f"add a column headed '{header}' to row 1 (or run `sheets-health init`)",
            )
    return ok


E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E]) -> Callable[[CellValue], E]:
    """A parser for a dropdown-like cell: case-insensitive, naming the choices when wrong."""

    def parse(value: CellValue) -> E:
        text = key_text(value).casefold()
        for member in enum:
            if member.value == text:
                return member
        raise ValueError(f"'{value}' is not one of {', '.join(m.value for m in enum)}")

    return parse


def _parse_rag(value: CellValue) -> Rag:
    text = key_text(value).casefold()
    for rag in Rag:
        if text == rag.value.casefold():
            return rag
    raise ValueError(f"'{value}' is not Green, Yellow or Red")


# ----------------------------------------------------------------------------- Settings


def _share(value: CellValue, tab: str, row: int, col: str, problems: _Problems
           ) -> float | None:
    """A share setting through the percent rule (`sheets_health.units.share`)."""
    fraction, finding = units.share(value)
    if finding is not None:
        problems.add(tab, row, col, *finding)
    return fraction


def _settings(table: Table | None, problems: _Problems) -> Settings:
    if table is None:
        return Settings()
    if not _require(table, (T.SETTING, T.VALUE), problems):
        return Settings()
    values: dict[str, Any] = {}
    tab = table.tab
    col = table.header_of(T.VALUE)
    history_days_row: int | None = None

    def number(row: int, v: CellValue, lo: float, hi: float, fix: str,
               percent_ok: bool = False) -> float | None:
        n = problems.parse(parse_number, v, tab, row, col, fix)
        if isinstance(n, Percent) and not percent_ok:
            problems.add(tab, row, col, f"{format_number(n)} is a percent", fix)
            return None
        if n is not None and not lo <= n <= hi:
            problems.add(tab, row, col, f"{format_number(n)} is outside {lo:g}–{hi:g}", fix)
            return None
        return n

    def threshold(row: int, v: CellValue, fix: str) -> float | None:
        """A score threshold: 70 or 70% (stored as 0.7) both mean 70; a plain 0.7 is refused
        rather than guessed at."""
        n = number(row, v, 0, 100, fix, percent_ok=True)
        if isinstance(n, Percent):
            return n * 100 if n <= 1 else number(row, n * 100, 0, 100, fix)
        if n is not None and 0 < n < 1:
            problems.add(tab, row, col, f"{format_number(n)} is a fraction, but scores run "
                         "from 0 to 100", f"write the score, e.g. {format_number(n * 100)} "
                         f"(or {format_number(n * 100)}%)")
            return None
        return n

    for index, row in enumerate(table.row_numbers):
        key = norm_header(table.value(index, T.SETTING))
        value = table.value(index, T.VALUE)
        if not key or is_blank(value):
            continue
        if key == norm_header(T.SET_GREEN_AT):
            values["green_at"] = threshold(row, value, "a score from 0 to 100, e.g. 70")
        elif key == norm_header(T.SET_RED_BELOW):
            values["red_below"] = threshold(row, value, "a score from 0 to 100, e.g. 40")
        elif key == norm_header(T.SET_MIN_COVERAGE):
            n = number(row, value, 0, 100, "a share such as 50% or 0.5", percent_ok=True)
            if isinstance(n, Percent) and n > 1:
                problems.add(tab, row, col, f"{format_number(n)} is more than all the weight",
                             "a share from 0% to 100%, e.g. 50%")
                n = None
            # 50% and 0.5 are the share itself; a plain 50 can only mean 50%
            values["min_coverage"] = None if n is None else (n / 100 if n > 1 else float(n))
        elif key == norm_header(T.SET_TREND_DAYS):
            n = number(row, value, 1, 3660, "a whole number of days, e.g. 30")
            values["trend_days"] = None if n is None else int(n)
        elif key == norm_header(T.SET_MAX_REASONS):
            n = number(row, value, 1, 10, "a whole number from 1 to 10, e.g. 3")
            values["max_reasons"] = None if n is None else int(n)
        elif key == norm_header(T.SET_SYNC_LOG_ROWS):
            n = number(row, value, 1, 1_000_000, "a whole number of rows, e.g. 1000")
            values["sync_log_rows"] = None if n is None else int(n)
        elif key == norm_header(T.SET_HISTORY_DAYS):
            n = number(row, value, 2, 36_600, "a whole number of days, e.g. 400 (or blank to "
                       "keep all History)")
            values["history_days"] = None if n is None else int(n)
            history_days_row = row
        elif key == norm_header(T.SET_MAX_COLOUR_CHANGES):
            values["max_colour_changes"] = _share(value, tab, row, col, problems)
        elif key == norm_header(T.SET_MISSING):
            values["missing"] = problems.parse(
                _choice(MissingPolicy), value, tab, row, col, "skip, neutral or zero"
            )
        elif key == norm_header(T.SET_ROLLUP):
            values["rollup"] = problems.parse(_choice(RollUp), value, tab, row, col, "mean or min")
        elif key == norm_header(T.SET_INACTIVE):
            values["inactive_statuses"] = _inactive_statuses(value, tab, row, col, problems)
        elif key == norm_header(T.SET_TIME_ZONE):
            values["time_zone"] = problems.parse(
                lambda v: parse_zone(key_text(v)), value, tab, row, col,
                "an IANA time zone name such as Europe/Berlin or America/New_York "
                "(or clear the value to use the spreadsheet's or this computer's zone)",
            )
        elif key == norm_header(T.SET_STAGES):
            values["stages"] = problems.parse(journey.parse_stages, value, tab, row, col,
                                              journey.STAGES_FIX + " (or clear the value)")
        elif key in (norm_header(T.SET_ALERT_ON), norm_header(T.SET_ALERT_DROP)):
            pass  # checked by `alerts.alert_settings` (read_model adds its problems)
        elif key == norm_header(T.SET_CALIBRATION_LEAD_DAYS):
            pass  # read by `calibrate` (sheets_health.calibrate_run.lead_days)
        else:
            known = ", ".join(
                (T.SET_GREEN_AT, T.SET_RED_BELOW, T.SET_MISSING, T.SET_MIN_COVERAGE,
                 T.SET_TREND_DAYS, T.SET_ROLLUP, T.SET_MAX_REASONS, T.SET_INACTIVE,
                 T.SET_TIME_ZONE, T.SET_SYNC_LOG_ROWS, T.SET_HISTORY_DAYS, T.SET_STAGES,
                 T.SET_MAX_COLOUR_CHANGES, T.SET_ALERT_ON, T.SET_ALERT_DROP,
                 T.SET_CALIBRATION_LEAD_DAYS)
            )
            problems.add(
                tab, row, table.header_of(T.SETTING),
                f"unknown setting '{table.value(index, T.SETTING)}'",
                f"use one of: {known} (or clear the row)",
            )
    settings = Settings(**{k: v for k, v in values.items() if v is not None})
    if settings.red_below > settings.green_at:
        problems.add(
            tab, None, col,
            f"'{T.SET_RED_BELOW}' ({settings.red_below:g}) is above "
            f"'{T.SET_GREEN_AT}' ({settings.green_at:g})",
            "make the red threshold lower than the green one",
        )
    if settings.history_days is not None and settings.history_days <= settings.trend_days:
        problems.add(
            tab, history_days_row, col,
            f"'{T.SET_HISTORY_DAYS}' ({settings.history_days}) is not more than "
            f"'{T.SET_TREND_DAYS}' ({settings.trend_days}): trends would lose their baseline",
            "keep more days than the trend window, or clear it to keep all History",
        )
    return settings


def _inactive_statuses(
    value: CellValue, tab: str, row: int, col: str, problems: _Problems
) -> tuple[str, ...] | None:
    """`churned, paused` → the Status values that are not scored; `none` → every status is."""
    words = tuple(dict.fromkeys(
        w.strip().casefold() for w in key_text(value).split(",") if w.strip()))
    if words == ("none",):
        return ()
    if CustomerStatus.ACTIVE.value in words:
        problems.add(tab, row, col, f"'{CustomerStatus.ACTIVE.value}' cannot be an inactive "
                     "status", "list the statuses that are not scored, e.g. churned")
        return None
    return words


# ----------------------------------------------------------------------------- Scorecard


def parse_points(spec: str, kind: ScoringKind) -> tuple[tuple[float | str, float], ...]:
    """`bands: 0=0, 5=50, 10=100` or `category: none=0, exec sponsor=100`."""
    pairs: list[tuple[float | str, float]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", spec))):
        if "=" not in part:
            raise ValueError(f"'{part}' has no '=' (write value=points)")
        left, right = (s.strip() for s in part.rsplit("=", 1))
        points = parse_number(right)
        if isinstance(points, Percent):
            raise ValueError(f"points {right} for '{left}' are a percent (points run 0–100)")
        if not 0 <= points <= 100:
            raise ValueError(f"points {right} for '{left}' are outside 0–100")
        key: float | str = parse_number(left) if kind is ScoringKind.BANDS else left.casefold()
        if key in (k for k, _ in pairs):
            raise ValueError(f"'{left}' appears twice")
        pairs.append((key, points))
    if len(pairs) < (2 if kind is ScoringKind.BANDS else 1):
        raise ValueError(f"{kind.value} needs value=points pairs, e.g. '{_example(kind)}'")
    if kind is ScoringKind.BANDS:
        pairs.sort(key=lambda p: float(p[0]))
    return tuple(pairs)


def _example(kind: ScoringKind) -> str:
    return {
        ScoringKind.BANDS: "bands: 0=0, 5=50, 10=100",
        ScoringKind.CATEGORY: "category: single-threaded=30, multi-threaded=70",
    }.get(kind, kind.value)


def _scoring(
    text: str, measure: dict[str, Any], tab: str, row: int, col: str, problems: _Problems
) -> bool:
    head, _, params = text.partition(":")
    try:
        kind = ScoringKind(head.strip().casefold())
    except ValueError:
        problems.add(tab, row, col, f"unknown scoring kind '{text}'", f"use one of: {_KIND_HELP}")
        return False
    measure["kind"] = kind
    params = params.strip()
    if kind in (ScoringKind.BANDS, ScoringKind.CATEGORY):
        try:
            measure["points"] = parse_points(params, kind)
        except ValueError as exc:
            problems.add(tab, row, col, str(exc), f"write it like '{_example(kind)}'")
            return False
        if kind is ScoringKind.BANDS:
            thresholds = [k for k, _ in measure["points"] if isinstance(k, float)]
            clash = units.band_clash(thresholds)
            if clash:
                problems.add(tab, row, col, *clash)
                return False
            measure["percent"] = any(units.unit_of(t) for t in thresholds)
    elif kind is ScoringKind.PERCENTILE:
        if params.casefold() not in ("", "higher", "lower"):
            problems.add(tab, row, col, f"unknown percentile direction '{params}'",
                         "write 'percentile' (higher is better) or 'percentile: lower'")
        measure["lower_is_better"] = params.casefold() == "lower"
    elif kind is ScoringKind.MILESTONE and params:
        fix = "write 'milestone: 30' for a milestone due 30 days after Start date"
        due = problems.parse(parse_number, params, tab, row, col, fix)
        if isinstance(due, Percent):
            problems.add(tab, row, col, f"'{params}' is a percent, not a number of days", fix)
        elif due is not None:
            measure["green_at"] = due
    elif params and kind in (ScoringKind.LINEAR, ScoringKind.LOG, ScoringKind.BOOLEAN):
        problems.add(tab, row, col, f"'{kind.value}' takes no parameters after ':'",
                     f"write just '{kind.value}' and use '{T.RED_AT}'/'{T.GREEN_AT}'")
    return True


def _measures(
    table: Table,
    available: Collection[str],
    problems: _Problems,
) -> tuple[tuple[Measure, ...], tuple[str, ...]]:
    tab = table.tab
    if not _require(table, (T.MEASURE, T.SCORING), problems):
        return (), ()
    weight_cols: dict[str, str] = {}  # scorecard key -> header as spelled
    for header in table.headers:
        n = norm_header(header)
        if n == norm_header(T.WEIGHT):
            weight_cols[DEFAULT_SCORECARD] = header
        elif n in SUGGESTED_HEADERS or T.is_suggested_weight(header):
            continue  # `calibrate --suggest` writes it for a person to adopt: not a scorecard
        elif n.startswith(norm_header(T.WEIGHT_PREFIX)):
            outcome = header.split(":", 1)[1].strip()
            if not outcome:
                problems.add(tab, 1, header, f"the column '{header}' names no outcome",
                             "write 'Weight: <outcome>', or delete the column")
                continue
            weight_cols[outcome] = header
    if not weight_cols:
        problems.add(tab, 1, T.WEIGHT, "no 'Weight' column",
                     "add a 'Weight' column (and 'Weight: <outcome>' columns per outcome)")
    available_norm = {norm_header(a): a for a in available}
    typed_weights: dict[str, list[units.Located]] = {h: [] for h in weight_cols.values()}
    seen: dict[str, int] = {}
    measures: list[Measure] = []
    for index, row in enumerate(table.row_numbers):
        raw_name = table.value(index, T.MEASURE)
        name = key_text(raw_name)
        if not name:
            problems.add(tab, row, table.header_of(T.MEASURE), "the measure has no name",
                         "type the Customers column or metric name, or delete the row")
            continue
        if norm_header(name) in seen:
            problems.add(tab, row, table.header_of(T.MEASURE),
                         f"measure '{name}' is listed twice (also row {seen[norm_header(name)]})",
                         "keep one row per measure")
            continue
        seen[norm_header(name)] = row
        if norm_header(name) not in available_norm:
            problems.add(tab, row, table.header_of(T.MEASURE), f"unknown measure '{name}'",
                         "name a Customers column or a metric from the config's [metrics]")
        fields: dict[str, Any] = {
            "name": available_norm.get(norm_header(name), name),
            "row": row,
            "dimension": key_text(table.value(index, T.DIMENSION)),
            "action_when_red": key_text(table.value(index, T.ACTION_WHEN_RED)),
            "action_when_green": key_text(table.value(index, T.ACTION_WHEN_GREEN)),
        }
        scol = table.header_of(T.SCORING)
        scoring_text = key_text(table.value(index, T.SCORING))
        if not scoring_text:
            problems.add(tab, row, scol, "no scoring kind", f"use one of: {_KIND_HELP}")
            continue
        if not _scoring(scoring_text, fields, tab, row, scol, problems):
            continue
        kind: ScoringKind = fields["kind"]
        red_col, green_col = table.header_of(T.RED_AT), table.header_of(T.GREEN_AT)
        red_raw, green_raw = table.value(index, T.RED_AT), table.value(index, T.GREEN_AT)
        if kind is ScoringKind.BOOLEAN:
            good = problems.parse(parse_bool, green_raw, tab, row, green_col,
                                  "write yes (the default) or no: which answer is healthy")
            fields["good_value"] = True if good is None else good
        elif kind in (ScoringKind.LINEAR, ScoringKind.LOG, ScoringKind.MILESTONE):
            days = " of days after Start date" if kind is ScoringKind.MILESTONE else ""
            fix = f"a number{days}"
            red = problems.parse(parse_number, red_raw, tab, row, red_col, fix)
            green = problems.parse(parse_number, green_raw, tab, row, green_col, fix)
            if kind is ScoringKind.MILESTONE:
                for raw, value, where in ((red_raw, red, red_col), (green_raw, green, green_col)):
                    if isinstance(value, Percent):
                        problems.add(tab, row, where, f"{key_text(raw)} is a percent", fix)
                red = None if isinstance(red, Percent) else red
                green = None if isinstance(green, Percent) else green
            fields["red_at"] = red
            fields["green_at"] = green if green is not None else fields.get("green_at")
            if kind in (ScoringKind.LINEAR, ScoringKind.LOG):
                if is_blank(red_raw) or is_blank(green_raw):
                    problems.add(tab, row, red_col if is_blank(red_raw) else green_col,
                                 f"{kind.value} scoring needs both 'Red at' and 'Green at'",
                                 "fill in the value that is fully red and the one fully green")
                elif red is not None and green is not None and red == green:
                    problems.add(tab, row, green_col,
                                 f"'Red at' equals 'Green at' ({red:g}): no range to score in",
                                 "make them differ (Green at < Red at means lower is better)")
                elif clash := units.threshold_clash(red, green):
                    problems.add(tab, row, green_col, *clash)
                elif kind is ScoringKind.LOG and red is not None and green is not None \
                        and min(red, green) < 0:
                    problems.add(tab, row, red_col if red < 0 else green_col,
                                 "log scoring is for counts: 'Red at' and 'Green at' must be "
                                 "0 or more",
                                 "use thresholds of 0 or more, or the 'linear' scoring")
                elif red is not None and green is not None:
                    fields["lower_is_better"] = green < red
                    fields["percent"] = bool(units.unit_of(red) or units.unit_of(green))
            elif fields["green_at"] is None:
                problems.add(tab, row, green_col, "a milestone needs its due day",
                             "put the days after Start date it is due in 'Green at', e.g. 30")
            elif red is not None and red <= fields["green_at"]:
                problems.add(tab, row, red_col,
                             "for a milestone 'Red at' (days until fully red) must be after "
                             "'Green at' (the due day)",
                             "make 'Red at' larger than 'Green at', or leave it blank")
        weights: dict[str, float] = {}
        for scorecard, header in weight_cols.items():
            raw = table.value(index, header)
            w = problems.parse(parse_number, raw, tab, row, header,
                               "a non-negative number (blank means 0)")
            if w is not None and w < 0:
                problems.add(tab, row, header, f"weight {format_number(w)} is negative",
                             "use 0 or a positive number")
                w = None
            if w:
                weights[scorecard] = float(w)
                typed_weights[header].append((f"row {row}", raw))
        # a weight of 0 everywhere is allowed: the measure is shown but does not count
        # (adopting a suggestion that drops a measure must not make the sheet invalid)
        fields["weights"] = weights
        missing_raw = table.value(index, T.MISSING)
        if not is_blank(missing_raw):
            fields["missing"] = problems.parse(
                _choice(MissingPolicy), missing_raw, tab, row,
                table.header_of(T.MISSING), "skip, neutral or zero (or blank for the setting)")
        degree = problems.parse(parse_number, table.value(index, T.VALUE_DEGREE), tab, row,
                                table.header_of(T.VALUE_DEGREE), "1, 2 or 3")
        if degree is not None and (isinstance(degree, Percent) or degree not in (1, 2, 3)):
            problems.add(tab, row, table.header_of(T.VALUE_DEGREE),
                         f"value degree {format_number(degree)} is not 1, 2 or 3",
                         "1 = outcome achieved, 2 = core work done, 3 = logins/activity")
            degree = None
        fields["value_degree"] = None if degree is None else int(degree)
        fields["proactive"] = problems.parse(parse_bool, table.value(index, T.PROACTIVE), tab,
                                             row, table.header_of(T.PROACTIVE), "yes or no")
        measures.append(Measure(**fields))
    for header, typed in typed_weights.items():
        if clash := units.weight_clash(typed):
            problems.add(tab, None, header, *clash)
    scorecards = tuple(k for k in weight_cols if k != DEFAULT_SCORECARD)
    return tuple(measures), scorecards


# ----------------------------------------------------------------------------- Customers


def _status(settings: Settings) -> Callable[[CellValue], str]:
    """A parser for the Status cell: the lifecycle statuses plus Settings' inactive ones."""
    known = tuple(dict.fromkeys([*(s.value for s in CustomerStatus),
                                 *settings.inactive_statuses]))

    def parse(value: CellValue) -> str:
        text = key_text(value).casefold()
        if text not in known:
            raise ValueError(f"'{value}' is not one of {', '.join(known)}")
        return text

    return parse


def _customers(
    table: Table,
    scorecards: Collection[str],
    has_default: bool,
    settings: Settings,
    problems: _Problems,
) -> tuple[Customer, ...]:
    tab = table.tab
    if not _require(table, (T.CUSTOMER_ID,), problems):
        return ()
    id_col = table.header_of(T.CUSTOMER_ID)
    by_norm = {norm_header(s): s for s in scorecards}
    seen: dict[str, int] = {}
    folded: dict[str, str] = {}  # casefolded id -> the id as first seen
    customers: list[Customer] = []
    for index, row in enumerate(table.row_numbers):
        cid = key_text(table.value(index, T.CUSTOMER_ID))
        if not cid:
            problems.add(tab, row, id_col, "the row has data but no Customer ID",
                         "type the customer's id, or delete the row")
            continue
        if cid in seen:
            problems.add(tab, row, id_col, f"Customer ID '{cid}' is also on row {seen[cid]}",
                         "give each customer one row with a unique id")
            continue
        other = folded.get(cid.casefold())
        if other is not None:  # a Google Sheet's lookup (VLOOKUP, MATCH) ignores case
            problems.add(tab, row, id_col,
                         f"Customer ID '{cid}' differs only in upper/lower case from "
                         f"'{other}' on row {seen[other]}: Google Sheets' lookups take them "
                         "for one id",
                         "give each customer an id that differs by more than case, or correct "
                         "the case if they are the same customer")
            continue
        seen[cid] = row
        folded[cid.casefold()] = cid

        def cell(header: str, _index: int = index) -> CellValue:
            return table.value(_index, header)

        outcomes: list[str] = []
        for part in key_text(cell(T.OUTCOMES)).split(","):
            name = part.strip()
            if not name:
                continue
            if any(norm_header(name) == norm_header(s.name) for s in settings.stages):
                problems.add(tab, row, table.header_of(T.OUTCOMES),
                             f"'{name}' is a stage (Settings '{T.SET_STAGES}'), not an outcome",
                             "remove it from Outcomes: the stage follows from Start date")
            elif norm_header(name) not in by_norm:
                problems.add(tab, row, table.header_of(T.OUTCOMES),
                             f"outcome '{name}' has no 'Weight: {name}' column in Scorecard",
                             f"add a 'Weight: {name}' column to Scorecard or fix the spelling")
            elif by_norm[norm_header(name)] not in outcomes:
                outcomes.append(by_norm[norm_header(name)])
        date_fix = "write the date as YYYY-MM-DD (or use a date cell)"
        start = problems.parse(parse_date, cell(T.START_DATE), tab, row,
                               table.header_of(T.START_DATE), date_fix)
        status = problems.parse(
            _status(settings), cell(T.STATUS), tab, row, table.header_of(T.STATUS),
            f"use one of those, or list '{key_text(cell(T.STATUS)).casefold()}' in the "
            f"Settings row '{T.SET_INACTIVE}' (customers with it are not scored)")
        status_date = problems.parse(parse_date, cell(T.STATUS_DATE), tab, row,
                                     table.header_of(T.STATUS_DATE), date_fix)
        inactive = status is not None and status in settings.inactive_statuses
        if not outcomes and not has_default and not inactive:
            problems.add(tab, row, table.header_of(T.OUTCOMES),
                         "no outcome given and Scorecard has no default 'Weight' column",
                         "name an outcome, or add a 'Weight' column to Scorecard")
        override = None
        rag = problems.parse(_parse_rag, cell(T.OVERRIDE), tab, row,
                             table.header_of(T.OVERRIDE), "Green, Yellow or Red (or blank)")
        until = problems.parse(parse_date, cell(T.OVERRIDE_UNTIL), tab, row,
                               table.header_of(T.OVERRIDE_UNTIL), date_fix)
        if rag is not None:
            reason = key_text(cell(T.OVERRIDE_REASON))
            if not reason:
                problems.add(tab, row, table.header_of(T.OVERRIDE_REASON),
                             f"override to {rag.value} has no reason",
                             "say why in 'Override reason' (or clear 'Override')")
            else:
                override = Override(rag, reason, until)
        customers.append(Customer(
            id=cid,
            name=key_text(cell(T.CUSTOMER_NAME)) or cid,
            row=row,
            outcomes=tuple(outcomes),
            start_date=start,
            override=override,
            status=status,
            status_date=status_date,
            inactive=inactive,
        ))
    return tuple(customers)


def _unweighted_scorecards(
    table: Table, measures: Collection[Measure], customers: Collection[Customer],
    problems: _Problems,
) -> None:
    """A scorecard customers rely on but where no measure has a weight: say so once, there."""
    weighted = {key for m in measures for key in m.weights}
    users: dict[str, list[int]] = {}
    for c in customers:
        if c.inactive:
            continue  # not scored: a scorecard only they use needs no weights
        for key in c.outcomes or (DEFAULT_SCORECARD,):
            users.setdefault(key, []).append(c.row)
    for key, rows in users.items():
        if key in weighted or table.column(T.WEIGHT if key == DEFAULT_SCORECARD else
                                           f"{T.WEIGHT_PREFIX} {key}") is None:
            continue
        header = table.header_of(T.WEIGHT if key == DEFAULT_SCORECARD else
                                 f"{T.WEIGHT_PREFIX} {key}")
        shown = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
        who = "without an outcome" if key == DEFAULT_SCORECARD else f"with outcome {key}"
        problems.add(table.tab, None, header,
                     f"no measure has a weight here, but {len(rows)} customers {who} are "
                     f"scored with it (Customers rows {shown})",
                     "give some measures a weight in this column"
                     + (", or name outcomes in Customers" if key == DEFAULT_SCORECARD else ""))


def _stage_columns(table: Table, scorecards: Collection[str], measures: Collection[Measure],
                   settings: Settings, problems: _Problems) -> None:
    """`Weight: <stage>` / `Weight: <outcome> @ <stage>` columns must name known stages."""
    weighted = {key for m in measures for key in m.weights}
    for key, message, fix in journey.weight_column_problems(scorecards, settings.stages,
                                                            weighted):
        problems.add(table.tab, 1, table.header_of(f"{T.WEIGHT_PREFIX} {key}"), message, fix)


def _has_setting(table: Table | None, name: str) -> bool:
    """A row for the setting holds a value (when it did not parse, that is reported there)."""
    if table is None:
        return False
    return any(norm_header(table.value(i, T.SETTING)) == norm_header(name)
               and not is_blank(table.value(i, T.VALUE)) for i in range(len(table.rows)))


def history_points(table: Table | None) -> tuple[HistoryPoint, ...]:
    """History is tool-owned; rows a person mangled are ignored rather than fatal.

    A bounded read gives only the rows it read (see `sheets_health.tails`), each with its
    sheet row."""
    if table is None or table.column(T.DATE) is None or table.column(T.CUSTOMER_ID) is None:
        return ()

    def number(raw: CellValue) -> float | None:
        try:
            return None if is_blank(raw) else parse_number(raw)
        except ValueError:
            return None

    points = []
    for index in range(len(table.rows)):
        try:
            day = parse_date(table.value(index, T.DATE))
        except (ValueError, TypeError):
            continue
        cid = key_text(table.value(index, T.CUSTOMER_ID))
        if cid:
            points.append(HistoryPoint(day, cid, number(table.value(index, T.HEALTH_SCORE)),
                                       number(table.value(index, T.TREND_BASELINE)),
                                       table.row_numbers[index]))
    return tuple(points)


def customer_measure_columns(customers: Table) -> list[str]:
    """Customers columns that can be measures: every column not reserved by the template."""
    reserved = {norm_header(h) for h in T.CUSTOMER_RESERVED}
    return [h for h in customers.headers if h and norm_header(h) not in reserved]


def read_model(tables: Mapping[str, Table], metrics: Collection[str] = ()) -> SheetModel:
    """Validate the sheet; raises `ContractError` listing every problem found."""
    problems = _Problems()
    customers_table = tables.get(T.CUSTOMERS)
    scorecard_table = tables.get(T.SCORECARD)
    for name, table in ((T.CUSTOMERS, customers_table), (T.SCORECARD, scorecard_table)):
        if table is None:
            problems.add(name, None, None, f"the '{name}' tab is missing",
                         "run `sheets-health init` to add it, or rename your tab")
    for name in (T.CUSTOMERS, T.SCORECARD, T.SETTINGS):
        if name in tables:
            problems.items += header_problems(tables[name])
    settings = _settings(tables.get(T.SETTINGS), problems)
    from sheets_health.alerts import alert_settings  # alerts builds on this module's callers

    problems.items += alert_settings(tables.get(T.SETTINGS))[1]
    sheet_measures = customer_measure_columns(customers_table) if customers_table else []
    measures: tuple[Measure, ...] = ()
    scorecards: tuple[str, ...] = ()
    has_default = True
    if scorecard_table is not None:
        derived = [] if T.TENURE_DAYS in metrics else [T.TENURE_DAYS]
        measures, scorecards = _measures(scorecard_table, [*sheet_measures, *metrics, *derived],
                                         problems)
        if settings.stages or not _has_setting(tables.get(T.SETTINGS), T.SET_STAGES):
            _stage_columns(scorecard_table, scorecards, measures, settings, problems)
        has_default = scorecard_table.column(T.WEIGHT) is not None
        from_sheet = {norm_header(h) for h in sheet_measures}
        for m in measures:
            clash = None if norm_header(m.name) in from_sheet else units.metric_clash(m)
            if clash:
                where = T.SCORING if m.kind is ScoringKind.BANDS else T.RED_AT
                problems.add(scorecard_table.tab, m.row, scorecard_table.header_of(where),
                             *clash)
    customers: tuple[Customer, ...] = ()
    values: dict[str, dict[str, CellValue]] = {}
    if customers_table is not None:
        customers = _customers(customers_table, journey.outcome_keys(scorecards, settings.stages),
                               has_default, settings, problems)
        if scorecard_table is not None:
            _unweighted_scorecards(scorecard_table, measures, customers, problems)
        measure_cols = [m.name for m in measures
                        if customers_table.column(m.name) is not None]
        rows = {key_text(customers_table.value(i, T.CUSTOMER_ID)): i
                for i in range(len(customers_table.rows))}
        for customer in customers:
            i = rows[customer.id]
            values[customer.id] = {m: customers_table.value(i, m) for m in measure_cols}
    if problems.items:
        raise ContractError(problems.items)
    return SheetModel(
        customers=customers,
        measures=measures,
        scorecards=scorecards,
        settings=settings,
        sheet_values=values,
        history=history_points(tables.get(T.HISTORY)),
    )


def check_values(
    measures: Collection[Measure],
    values: Mapping[str, Mapping[str, CellValue]],
    locate: Callable[[str, str], tuple[str, int | None, str | None]],
) -> None:
    """Raw values a measure cannot score (text in a linear measure, an unmapped category).

    ``locate(customer_id, measure)`` says where the value came from (tab, row, column).
    """
    from sheets_health.scoring import value_problem  # scoring owns the kind semantics

    problems = _Problems()
    for customer_id, row in values.items():
        for measure in measures:
            if measure.name not in row:
                continue
            message = value_problem(measure, row[measure.name])
            if message:
                tab, sheet_row, column = locate(customer_id, measure.name)
                problems.add(tab, sheet_row, column, message[0], message[1])
    for measure in measures:  # the percent rule: one unit per measure (see `units`)
        typed: dict[str, CellValue] = {}
        found: set[bool] = set()
        for cid, row in values.items():
            unit = units.unit_of(row[measure.name]) if measure.name in row else None
            if unit is not None:
                typed[cid] = row[measure.name]
                found.add(unit)
        if not units.needs_one_unit(measure, True in found, False in found):
            continue  # the common case: no need to locate every cell
        by_place: dict[tuple[str, str | None], list[tuple[int | None, CellValue]]] = {}
        for customer_id, value in typed.items():
            tab, sheet_row, column = locate(customer_id, measure.name)
            by_place.setdefault((tab, column), []).append((sheet_row, value))
        for (tab, column), cells in by_place.items():
            cells.sort(key=lambda c: c[0] or 0)
            clash = units.value_clash(measure, [(f"row {r}", v) for r, v in cells])
            if clash:
                wrong = [r for r, v in cells if units.unit_of(v) is not measure.percent]
                single = len(wrong) == 1 and measure.kind is not ScoringKind.PERCENTILE
                problems.add(tab, wrong[0] if single else None, column, *clash)
    if problems.items:
        raise ContractError(problems.items)
