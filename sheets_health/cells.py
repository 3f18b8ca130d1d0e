"""The one place that turns cell values into typed values and back.

Policy (both backends hand `Table` cells to this module in the same shapes):

- blanks: None or "" (or whitespace-only text) are blank;
- numbers: int/float; text that looks like a number (``"1,234"``, ``"45%"``) is read as a
  number where a number is expected;
- percents: a cell typed as a percent — text ``"45%"``, an xlsx number with a percent number
  format, a Google cell whose number format type is PERCENT — is a `Percent`: the fraction
  the spreadsheet stores (0.45) that remembers it was typed as a percent, so that the contract
  can insist it meets thresholds and weights in the same unit (never a silent rescale);
- dates: `datetime.date`/`datetime.datetime`; ISO text (``2026-03-31``) is accepted;
  a bare number where a date is expected is a spreadsheet serial date (days since
  1899-12-30); other text such as ``31/03/2026`` is refused as ambiguous;
- formulas: backends return the computed value; a formula the tool cannot see computed
  arrives as None (blank);
- keys (customer ids) are text: ``00123`` and ``123`` differ; a number typed into an id cell
  is read as its integer digits (``123.0`` → ``"123"``).
"""

from __future__ import annotations

import datetime as dt
import math
import re

from sheets_health.model import CellValue

SERIAL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = (dt.date(9999, 12, 31) - SERIAL_EPOCH).days  # 20260115 typed as a number is not
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


class Percent(float):
    """A number typed as a percent: its value is the stored fraction (``55%`` → 0.55).

    Arithmetic gives plain floats; only the value read from the cell carries the unit.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return format_percent(self)


def is_percent(value: CellValue) -> bool:
    """Was the cell typed as a percent (a `Percent`, or text such as ``"55%"``)?"""
    if isinstance(value, Percent):
        return True
    return isinstance(value, str) and value.strip().endswith("%") and _is_number_text(
        value.strip()[:-1].strip())


def unitless(value: CellValue) -> CellValue:
    """A source's value without its unit: a percent becomes its plain fraction (55% → 0.55).
    Metrics carry no unit, so their thresholds are written in the source's own numbers."""
    if isinstance(value, Percent):
        return float(value)
    if is_percent(value):
        return float(parse_number(value))
    return value


def format_percent(value: float) -> str:
    """A fraction as a person types the percent: 0.55 → ``55%``, 0.125 → ``12.5%``."""
    return f"{format_number(value * 100)}%"


def is_blank(value: CellValue) -> bool:
    """None, empty text, and the not-a-value markers pandas leaves (NaN, NaT)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(value != value)  # only NaN and NaT differ from themselves


def key_text(value: CellValue) -> str:
    """Text identity of a key cell (ids, dates in History keys)."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _is_number_text(text: str) -> bool:
    return bool(text) and bool(_NUMBER.match(text)) and text not in {"+", "-", "."}


def parse_number(value: CellValue) -> float:
    """A number from a cell; raises ValueError with the offending text otherwise.

    A percent (typed ``55%`` or percent-formatted) comes back as a `Percent` (0.55).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a yes/no value, not a number")
    if isinstance(value, Percent):
        if not math.isfinite(value):
            raise ValueError(f"{float(value)} is not a finite number")
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return float(value)
    if isinstance(value, dt.date):
        raise ValueError(f"{value.isoformat()} is a date, not a number")
    text = str(value).strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if not _is_number_text(text):
        raise ValueError(f"'{value}' is not a number")
    number = float(text.replace(",", ""))
    return Percent(number / 100.0) if percent else number


def parse_date(value: CellValue) -> dt.date:
    """A date from a cell; raises ValueError saying which format to use otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and 0 <= value < MAX_SERIAL):
            raise ValueError(f"{value} is not a date; write it as YYYY-MM-DD")
        return SERIAL_EPOCH + dt.timedelta(days=int(value))
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"'{value}' is not a date in YYYY-MM-DD form") from None


_TRUE = {"yes", "y", "true", "1", "x", "✓", "done"}
_FALSE = {"no", "n", "false", "0", ""}


def parse_bool(value: CellValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = key_text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{value}' is not yes/no")


def same_value(a: CellValue, b: CellValue) -> bool:
    """Does a cell already hold this value? (So an unchanged sync writes nothing.)"""
    if is_blank(a) and is_blank(b):
        return True
    if is_blank(a) or is_blank(b):
        return False
    numeric = (int, float)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool):
        return not isinstance(b, bool) and math.isclose(float(a), float(b), abs_tol=1e-9)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return key_text(a) == key_text(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return type(a) is type(b) and a == b


def format_number(value: float) -> str:
    """A value as a person writes it: 9, 0.5, 12.3, 1,234 (a `Percent` as 55%)."""
    if isinstance(value, Percent):
        return format_percent(value)
    if math.isclose(value, round(value), abs_tol=1e-9):
        return f"{round(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:.1f}"


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
