"""A small evaluator for the array-formula family the sync writes in Customers' output
headers, and the spill Google gives an array result:

    ={"Health score";ARRAYFORMULA(IF(A2:A="",,IFERROR(VLOOKUP(A2:A&"",'Scores'!A2:G,2,FALSE),)))}

Exactly these: array literals ``{a;b}`` (rows stacked), string and number literals, empty
arguments, A1 ranges (``A2:A``, ``'Tab'!A2:G``, ``$`` allowed), ``&``, ``=``, and the functions
ARRAYFORMULA, IF, IFERROR and VLOOKUP (exact match; text compared case-insensitively, as
Google does; text never equals a number). An unknown function is Google's ``#NAME?``;
anything else this does not parse is ``#ERROR!``. Values are effective-value JSON cells
(``{"numberValue": 1}``…), None for blank; arrays are lists of rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .a1 import col_to_index

JSON = dict[str, Any]
Value = JSON | None
Array = list[list[Value]]
Reader = Callable[[str | None, int, int, int, int], Array]  # tab, r0, r1, c0, c1 (end-excl.)

FUNCTIONS = {"ARRAYFORMULA", "IF", "IFERROR", "VLOOKUP"}
_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_][A-Za-z0-9_ ]*!)?\$?[A-Za-z]{1,3}\$?\d*
            (?::\$?[A-Za-z]{1,3}\$?\d*)?)(?![A-Za-z0-9_(])
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?=\s*\()
  | (?P<bool>TRUE|FALSE)\b
  | (?P<op>[{};,()&=])
)""", re.VERBOSE)


class FormulaError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def value(self) -> JSON:
        return {"errorValue": {"type": self.kind, "message": self.message}}


def error(kind: str, message: str) -> JSON:
    return {"errorValue": {"type": kind, "message": message}}


def is_array_formula(text: str) -> bool:
    body = text[1:].lstrip().upper() if text.startswith("=") else ""
    return body.startswith("{") or body.startswith("ARRAYFORMULA(")


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    read: Reader
    pos: int = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if text is not None and token[1] != text:
            raise FormulaError("ERROR", f"Formula parse error: expected {text!r}.")
        self.pos += 1
        return token

    # expression := concat ('=' concat)?
    def expression(self) -> Any:
        left = self.concat()
        if self.peek() == ("op", "="):
            self.take()
            right = self.concat()
            return _broadcast(lambda a, b: {"boolValue": _equal(a, b)}, left, right)
        return left

    def concat(self) -> Any:
        left = self.atom()
        while self.peek() == ("op", "&"):
            self.take()
            right = self.atom()
            left = _broadcast(lambda a, b: {"stringValue": _text(a) + _text(b)}, left, right)
        return left

    def atom(self) -> Any:
        kind, text = self.peek()
        if kind == "str":
            self.take()
            return {"stringValue": text[1:-1].replace('""', '"')}
        if kind == "num":
            self.take()
            return {"numberValue": float(text)}
        if kind == "bool":
            self.take()
            return {"boolValue": text == "TRUE"}
        if kind == "ref":
            self.take()
            return self.range(text)
        if kind == "name":
            return self.call()
        if (kind, text) == ("op", "{"):
            return self.literal()
        if (kind, text) == ("op", "("):
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        raise FormulaError("ERROR", "Formula parse error.")

    def literal(self) -> Array:
        self.take("{")
        rows: Array = []
        while True:
            part = self.expression()
            block = part if isinstance(part, list) else [[part]]
            if rows and block and len(block[0]) != len(rows[0]):
                raise FormulaError("VALUE", "In ARRAY_LITERAL, an Array Literal was missing "
                                            "values for one or more rows.")
            rows.extend(block)
            if self.peek() == ("op", ";"):
                self.take()
                continue
            self.take("}")
            return rows

    def call(self) -> Any:
        _kind, name = self.take()
        upper = name.upper()
        self.take("(")
        args: list[Any] = []
        if self.peek() != ("op", ")"):
            while True:
                if self.peek()[1] in (",", ")"):
                    args.append(None)  # an empty argument
                else:
                    args.append(self.expression())
                if self.peek() == ("op", ","):
                    self.take()
                    continue
                break
        self.take(")")
        if upper not in FUNCTIONS:
            raise FormulaError("NAME", f"Unknown function: '{name}'.")
        return _FUNCTIONS[upper](args)

    def range(self, text: str) -> Array:
        tab: str | None = None
        if "!" in text:
            tab, text = text.rsplit("!", 1)
            tab = tab[1:-1].replace("''", "'") if tab.startswith("'") else tab
        first, _, last = text.replace("$", "").partition(":")
        last = last or first
        c0, r0 = _cell(first)
        c1, r1 = _cell(last)
        return self.read(tab, (r0 or 1) - 1, r1 if r1 is not None else -1, c0, c1 + 1)


def _cell(text: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"([A-Za-z]{1,3})(\d*)", text)
    if not match:
        raise FormulaError("ERROR", "Formula parse error.")
    return col_to_index(match.group(1).upper()), int(match.group(2)) if match.group(2) else None


def _text(value: Value) -> str:
    if value is None:
        return ""
    if "errorValue" in value:
        raise _Propagate(value)
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    number = float(value["numberValue"])
    return str(int(number)) if number.is_integer() else repr(number)


def _equal(a: Value, b: Value) -> bool:
    for v in (a, b):
        if v is not None and "errorValue" in v:
            raise _Propagate(v)
    if a is None or b is None:
        other = b if a is None else a
        return other is None or other.get("stringValue") == "" or other.get("numberValue") == 0
    if "stringValue" in a and "stringValue" in b:
        return str(a["stringValue"]).lower() == str(b["stringValue"]).lower()
    if "numberValue" in a and "numberValue" in b:
        return float(a["numberValue"]) == float(b["numberValue"])
    if "boolValue" in a and "boolValue" in b:
        return bool(a["boolValue"]) == bool(b["boolValue"])
    return False


class _Propagate(Exception):
    def __init__(self, value: JSON) -> None:
        super().__init__("error")
        self.value = value


def _each(fn: Callable[..., Value], *args: Value) -> Value:
    try:
        return fn(*args)
    except _Propagate as exc:
        return exc.value


def _broadcast(fn: Callable[..., Value], *args: Any) -> Any:
    """Apply ``fn`` cell by cell: arrays of one shape, scalars repeated."""
    arrays = [a for a in args if isinstance(a, list)]
    if not arrays:
        return _each(fn, *args)
    rows, cols = len(arrays[0]), len(arrays[0][0]) if arrays[0] else 0
    out: Array = []
    for i in range(rows):
        out.append([_each(fn, *[(a[i][j] if i < len(a) and j < len(a[i]) else None)
                                if isinstance(a, list) else a for a in args])
                    for j in range(cols)])
    return out


def _truth(value: Value) -> bool:
    if value is None:
        return False
    if "errorValue" in value:
        raise _Propagate(value)
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "numberValue" in value:
        return float(value["numberValue"]) != 0
    raise _Propagate(error("VALUE", "Function IF parameter 1 expects boolean values. But "
                                    f"'{value.get('stringValue')}' is a text and cannot be "
                                    "coerced to a boolean."))


def _if(args: list[Any]) -> Any:
    cond, yes, no = ([*args, None, None, None])[:3]
    return _broadcast(lambda c, y, n: y if _truth(c) else n, cond, yes, no)


def _iferror(args: list[Any]) -> Any:
    value, fallback = ([*args, None, None])[:2]
    return _broadcast(lambda v, f: f if v is not None and "errorValue" in v else v,
                      value, fallback)


def _vlookup(args: list[Any]) -> Any:
    if len(args) not in (3, 4):
        raise FormulaError("N_A", "Wrong number of arguments to VLOOKUP.")
    keys, table, index = args[0], args[1], args[2]
    exact = len(args) < 4 or (args[3] is not None and not _truth(args[3]))
    if not isinstance(table, list) or not exact or not isinstance(index, dict):
        raise FormulaError("ERROR", "VLOOKUP: only exact lookups in a range are emulated.")
    col = int(float(index.get("numberValue", 0))) - 1
    if not table or col < 0 or col >= len(table[0]):
        raise FormulaError("VALUE", "Function VLOOKUP parameter 3 value is out of range.")
    found: dict[tuple[str, Any], Value] = {}
    for row in table:
        key = row[0]
        if key is None or "errorValue" in key:
            continue
        marker = ("s", str(key["stringValue"]).lower()) if "stringValue" in key else \
            ("n", float(key["numberValue"])) if "numberValue" in key else ("b", key)
        found.setdefault(marker, row[col])

    def one(key: Value) -> Value:
        if key is not None and "errorValue" in key:
            return key
        if key is None:
            marker: tuple[str, Any] = ("s", "")
        elif "stringValue" in key:
            marker = ("s", str(key["stringValue"]).lower())
        elif "numberValue" in key:
            marker = ("n", float(key["numberValue"]))
        else:
            marker = ("b", key)
        if marker not in found:
            return error("N_A", f"Did not find value '{_text(key)}' in VLOOKUP evaluation.")
        return found[marker]

    return _broadcast(one, keys)


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "ARRAYFORMULA": lambda args: args[0] if args else None,
    "IF": _if,
    "IFERROR": _iferror,
    "VLOOKUP": _vlookup,
}


def tokens(formula: str) -> list[tuple[str, str]]:
    out = []
    text = formula[1:] if formula.startswith("=") else formula
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FormulaError("ERROR", "Formula parse error.")
        kind = match.lastgroup or "op"
        out.append((kind, match.group(kind).strip()))
        pos = match.end()
    return out


def evaluate(formula: str, read: Reader) -> Array:
    """The formula's result as an array (a scalar is a 1×1 array); errors become values."""
    try:
        parser = _Parser(tokens(formula), read)
        result = parser.expression()
        if parser.peek()[0] != "end":
            raise FormulaError("ERROR", "Formula parse error.")
    except FormulaError as exc:
        return [[exc.value()]]
    except _Propagate as exc:
        return [[exc.value]]
    return result if isinstance(result, list) else [[result]]
