"""Cell values: how input becomes userEnteredValue, and how values are rendered.

Formulas are not evaluated beyond plain arithmetic on literals (``=4/2`` -> 2, as in
the real recordings). Any other formula gets a fixed stand-in effective value, an
``#ERROR!`` error value, unless the test registered a result for that exact formula
text (``emulator.formula_results["=SUM(A1:A3)"] = {"numberValue": 6}``).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import math
import operator
import re
import struct
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]
EPOCH = dt.datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "TIME", "DATE_TIME")
STANDIN_ERROR: JSON = {
    "errorValue": {"type": "ERROR", "message": "Formula not evaluated by the Sheets emulator."}
}
DEFAULT_PATTERNS = {
    "NUMBER": "#,##0.00",
    "PERCENT": "0.00%",
    "CURRENCY": '"$"#,##0.00',
    "SCIENTIFIC": "0.00E+00",
    "DATE": "M/d/yyyy",
    "TIME": "h:mm:ss am/pm",
    "DATE_TIME": "M/d/yyyy H:mm:ss",
}
ERROR_TEXT = {"DIVIDE_BY_ZERO": "#DIV/0!", "N_A": "#N/A", "VALUE": "#VALUE!", "REF": "#REF!",
              "NAME": "#NAME?", "NUM": "#NUM!", "NULL_VALUE": "#NULL!", "ERROR": "#ERROR!"}

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


# --------------------------------------------------------------------------- input
def to_serial(when: dt.datetime) -> float:
    delta = when - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=serial)


def _number(v: float) -> JSON:
    return {"numberValue": json_number(v)}


def parse_input(value: Any, user_entered: bool) -> tuple[JSON | None, JSON | None]:
    """One cell of a values.update body -> (userEnteredValue or None to clear, numberFormat).

    ``None`` input (JSON null) is handled by the caller: it leaves the cell unchanged."""
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, (int, float)):
        return _number(value), None
    if not isinstance(value, str):
        raise TypeError(value)
    if value == "":
        return None, None
    if not user_entered:
        return {"stringValue": value}, None
    if value.startswith("'"):
        return {"stringValue": value[1:]}, None
    if value.startswith("=") and len(value) > 1:
        return {"formulaValue": value}, None
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.upper() == "TRUE"}, None
    if text and _NUMBER.match(text) and any(ch.isdigit() for ch in text):
        grouped = None
        if "," in text:  # typed with thousands separators: Google keeps that look
            grouped = {"type": "NUMBER", "pattern": "#,##0.00" if "." in text else "#,##0"}
        return _number(float(text.replace(",", ""))), grouped
    if text.endswith("%") and _NUMBER.match(text[:-1]) and any(c.isdigit() for c in text):
        pattern = "0.00%" if "." in text else "0%"
        percent = float(text[:-1].replace(",", "")) / 100
        return _number(percent), {"type": "PERCENT", "pattern": pattern}
    try:
        if m := _ISO_DATE.match(text):
            when = dt.datetime(int(m[1]), int(m[2]), int(m[3]))
            return _number(to_serial(when)), {"type": "DATE", "pattern": "yyyy-mm-dd"}
        if m := _ISO_DATETIME.match(text):
            y, mo, d, h, mi, sec = (int(p or 0) for p in m.groups())
            when = dt.datetime(y, mo, d, h, mi, sec)
            return _number(to_serial(when)), {"type": "DATE_TIME", "pattern": "yyyy-mm-dd h:mm:ss"}
        if m := _US_DATE.match(text):
            when = dt.datetime(int(m[3]), int(m[1]), int(m[2]))
            return _number(to_serial(when)), {"type": "DATE", "pattern": "M/d/yyyy"}
    except ValueError:
        pass
    return {"stringValue": value}, None


# ---------------------------------------------------------------------- formulas
_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.USub: operator.neg,
    ast.UAdd: operator.pos}


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_arith(node.left), _arith(node.right)))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_arith(node.operand)))
    raise ValueError("not arithmetic")


def json_copy(obj: Any) -> Any:
    """A copy of parsed JSON (dicts, lists and immutable scalars): `copy.deepcopy` without
    its bookkeeping, which a large read paid for every cell."""
    if type(obj) is dict:
        return {key: json_copy(value) for key, value in obj.items()}
    if type(obj) is list:
        return [json_copy(item) for item in obj]
    if obj is None or type(obj) in (str, int, float, bool):
        return obj
    return copy.deepcopy(obj)


def evaluate_formula(formula: str, registered: dict[str, JSON]) -> JSON:
    if formula in registered:
        return copy.deepcopy(registered[formula])
    expr = formula[1:].strip().replace("^", "**")
    try:
        return _number(_arith(ast.parse(expr, mode="eval").body))
    except ZeroDivisionError:
        return {"errorValue": {"type": "DIVIDE_BY_ZERO",
                               "message": "Function DIVIDE parameter 2 cannot be zero."}}
    except (SyntaxError, ValueError, TypeError, OverflowError):
        return copy.deepcopy(STANDIN_ERROR)


def effective_value(user_value: JSON | None, registered: dict[str, JSON]) -> JSON | None:
    if not user_value:
        return None
    if "formulaValue" in user_value:
        return evaluate_formula(user_value["formulaValue"], registered)
    result: JSON = json_copy(user_value)
    return result


# -------------------------------------------------------------------- formatting
def general_number(v: float) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.10g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}E{'+' if int(exp) >= 0 else '-'}{abs(int(exp)):02d}"
    return text


_DATE_TOKEN = re.compile(
    r'"[^"]*"|\\.|am/pm|a/p|yyyy|yy|y|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|\.0+|.',
    re.IGNORECASE,
)


def format_datetime(serial: float, pattern: str) -> str:
    when = from_serial(serial) + dt.timedelta(microseconds=500)  # round to the second
    tokens = _DATE_TOKEN.findall(pattern)
    low = [t.lower() for t in tokens]
    ampm = any(t in ("am/pm", "a/p") for t in low)
    out: list[str] = []
    for i, (tok, lt) in enumerate(zip(tokens, low, strict=False)):
        if lt in ("m", "mm"):
            prev = [x for x in low[:i] if x[0] in "hdy" and x[0].isalpha()]
            nxt = [x for x in low[i + 1 :] if x[0] in "sdy" and x[0].isalpha()]
            minutes = (prev and prev[-1][0] == "h") or (nxt and nxt[0][0] == "s")
            val = when.minute if minutes else when.month
            out.append(f"{val:02d}" if lt == "mm" else str(val))
        elif lt == "mmm":
            out.append(when.strftime("%b"))
        elif lt == "mmmm":
            out.append(when.strftime("%B"))
        elif lt == "mmmmm":
            out.append(when.strftime("%B")[0])
        elif lt in ("yyyy", "y"):
            out.append(f"{when.year:04d}")
        elif lt == "yy":
            out.append(f"{when.year % 100:02d}")
        elif lt == "d":
            out.append(str(when.day))
        elif lt == "dd":
            out.append(f"{when.day:02d}")
        elif lt == "ddd":
            out.append(when.strftime("%a"))
        elif lt == "dddd":
            out.append(when.strftime("%A"))
        elif lt in ("h", "hh"):
            hour = when.hour % 12 or 12 if ampm else when.hour
            out.append(f"{hour:02d}" if lt == "hh" else str(hour))
        elif lt in ("s", "ss"):
            out.append(f"{when.second:02d}" if lt == "ss" else str(when.second))
        elif lt == "am/pm":
            out.append("AM" if when.hour < 12 else "PM")
        elif lt == "a/p":
            out.append("a" if when.hour < 12 else "p")
        elif tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        else:
            out.append(tok)
    return "".join(out)


def format_number(v: float, pattern: str) -> str:
    sections = pattern.split(";")
    section = sections[1] if v < 0 and len(sections) > 1 else sections[0]
    sign = "-" if v < 0 and len(sections) == 1 else ""
    v = abs(v)
    literal = re.sub(r'"([^"]*)"|\\(.)', lambda m: m.group(1) or m.group(2), section)
    if "%" in literal:
        v *= 100
    m = re.search(r"[#0,]*\.?[#0]*(E\+0+)?", literal)
    core = m.group(0) if m and m.group(0) else "0"
    prefix, suffix = literal[: m.start()] if m else "", literal[m.end():] if m else ""
    if "E+" in core:
        decimals = len(core.split(".")[1].split("E")[0]) if "." in core else 0
        mant, exp = f"{v:.{decimals}E}".split("E")
        body = f"{mant}E+{int(exp):02d}" if int(exp) >= 0 else f"{mant}E-{abs(int(exp)):02d}"
    else:
        frac = core.split(".")[1] if "." in core else ""
        decimals = len(frac)
        body = f"{v:,.{decimals}f}" if "," in core else f"{v:.{decimals}f}"
        if "#" in frac and "." in body:  # optional decimals
            keep = frac.count("0")
            head, tail = body.split(".")
            tail = tail.rstrip("0")
            tail = tail + "0" * max(0, keep - len(tail))
            body = head + ("." + tail if tail else "")
        int_part = core.split(".")[0].replace(",", "")
        if body.startswith("0") and int_part and "0" not in int_part and len(body) > 1:
            body = body[1:] if body[1:2] == "." else body
    return sign + prefix + body + suffix


def formatted_value(effective: JSON | None, number_format: JSON | None) -> str | None:
    if effective is None:
        return None
    if "stringValue" in effective:
        return str(effective["stringValue"])
    if "boolValue" in effective:
        return "TRUE" if effective["boolValue"] else "FALSE"
    if "errorValue" in effective:
        return ERROR_TEXT.get(effective["errorValue"].get("type", "ERROR"), "#ERROR!")
    v = float(effective.get("numberValue", 0))
    kind = (number_format or {}).get("type")
    pattern = (number_format or {}).get("pattern") or DEFAULT_PATTERNS.get(kind or "", "")
    if kind in DATE_TYPES and pattern:
        return format_datetime(v, pattern)
    if kind == "TEXT":
        return general_number(v)
    if pattern:
        return format_number(v, pattern)
    return general_number(v)


def json_number(v: float) -> int | float:
    return int(v) if math.isfinite(v) and v == int(v) and abs(v) < 2**53 else v


def render(
    user_value: JSON | None, effective: JSON | None, formatted: str | None,
    number_format: JSON | None, value_render: str, datetime_render: str,
) -> Any:
    """A cell as the values API returns it (None = empty)."""
    if effective is None and not user_value:
        return None
    if value_render == "FORMATTED_VALUE":
        return formatted
    if value_render == "FORMULA" and user_value and "formulaValue" in user_value:
        return user_value["formulaValue"]
    if effective is None:
        return None
    if "numberValue" in effective:
        is_date = (number_format or {}).get("type") in DATE_TYPES
        if is_date and datetime_render == "FORMATTED_STRING":
            return formatted
        return json_number(effective["numberValue"])
    if "errorValue" in effective:
        return formatted
    return effective.get("stringValue", effective.get("boolValue"))


# ------------------------------------------------------------------------ colours
def float32(x: float) -> float | int:
    """Round a colour component like protobuf's float: shortest text that round-trips."""
    f32 = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return json_number(candidate)
    return f32


def normalise_color(color: JSON) -> JSON:
    return {k: float32(v) for k, v in color.items() if v}


def with_color_styles(fmt: JSON, keys: tuple[str, ...] = ("backgroundColor",)) -> JSON:
    """Return a format with colours both as ``xColor`` and ``xColorStyle`` like Google."""
    out = copy.deepcopy(fmt)
    pairs = [(out, key) for key in keys]
    if isinstance(out.get("textFormat"), dict):
        pairs.append((out["textFormat"], "foregroundColor"))
    for holder, key in pairs:
        style = key + "Style"
        if key in holder:
            holder[key] = normalise_color(holder[key])
            holder[style] = {"rgbColor": copy.deepcopy(holder[key])}
        elif style in holder and isinstance(holder[style].get("rgbColor"), dict):
            holder[style]["rgbColor"] = normalise_color(holder[style]["rgbColor"])
            holder[key] = copy.deepcopy(holder[style]["rgbColor"])
    return out
