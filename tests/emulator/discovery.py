"""Strictness from the Discovery document shipped with google-api-python-client.

Routes come from the methods' ``flatPath``; query parameters and JSON bodies are
checked against the method's parameters and request schema, with Google's messages
(``Unknown name "foo" at 'requests[0].update_cells': Cannot find field.``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import googleapiclient

JSON = dict[str, Any]
TYPE_PREFIX = "type.googleapis.com/google.apps.sheets.v4."
# Message schemas whose properties form a proto oneof: (oneof name, members or None = all).
ONEOFS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "Request": ("kind", None),
    "ExtendedValue": ("value", None),
    "ColorStyle": ("kind", None),
    "UpdateCellsRequest": ("area", ("start", "range")),
    "DataFilter": ("filter", None),
}
QUERY_ENUM_TYPES = {
    "valueInputOption": "ValueInputOption",
    "valueRenderOption": "ValueRenderOption",
    "responseValueRenderOption": "ValueRenderOption",
    "dateTimeRenderOption": "DateTimeRenderOption",
    "responseDateTimeRenderOption": "DateTimeRenderOption",
    "majorDimension": "Dimension",
    "insertDataOption": "AppendValuesRequest.InsertDataOption",
}
# The proto field that carries the body in the method's request message.
BODY_FIELD = {"sheets.spreadsheets.values.update": "data",
              "sheets.spreadsheets.values.append": "data",
              "sheets.spreadsheets.create": "spreadsheet"}


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    STATUS: ClassVar[dict[int, str]] = {
        400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
        404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str, violations: list[JSON] | None = None,
                 status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations or []
        self.status = status or self.STATUS.get(code, "UNKNOWN")

    def body(self) -> JSON:
        error: JSON = {"code": self.code, "message": self.message, "status": self.status}
        if self.violations:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "fieldViolations": self.violations}]
        return {"error": error}


@functools.cache
def snake(name: str) -> str:
    """camelCase → snake_case (Google accepts both spellings of a field); cached, as a large
    batchUpdate asks for the same few names hundreds of thousands of times."""
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Method:
    id: str
    http_method: str
    pattern: re.Pattern[str]
    parameters: JSON
    request: str | None
    response: str | None


@dataclass(frozen=True)
class Route:
    method: Method
    path_params: dict[str, str]


class Discovery:
    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = (Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
                    / "sheets.v4.json")
        self.doc: JSON = json.loads(path.read_text())
        self.schemas: JSON = self.doc["schemas"]
        self.global_params: JSON = self.doc["parameters"]
        self.methods: list[Method] = []
        self._collect(self.doc["resources"])
        # Literal suffixes (":append") before bare captures, so greedy ranges do not win.
        self.methods.sort(key=lambda m: -len(re.sub(r"\(\?P<\w+>[^)]*\)", "", m.pattern.pattern)))

    def _collect(self, resources: JSON) -> None:
        for resource in resources.values():
            for m in resource.get("methods", {}).values():
                flat = "/" + m.get("flatPath", m["path"])
                regex = re.sub(r"\{(\w+)\}", lambda g: f"(?P<{g.group(1)}>[^/]+)", re.escape(flat)
                               .replace(r"\{", "{").replace(r"\}", "}"))
                self.methods.append(Method(
                    m["id"], m["httpMethod"], re.compile(f"^{regex}$"), m.get("parameters", {}),
                    m.get("request", {}).get("$ref"), m.get("response", {}).get("$ref")))
            self._collect(resource.get("resources", {}))

    def route(self, http_method: str, raw_path: str) -> Route | None:
        """Match a raw (still percent-encoded) path; None means Google's 404 page."""
        for method in self.methods:
            m = method.pattern.match(raw_path)
            if m and method.http_method == http_method:
                return Route(method, {k: unquote(v) for k, v in m.groupdict().items()})
        return None

    # ------------------------------------------------------------------ query
    def check_query(self, method: Method, query: dict[str, list[str]]) -> None:
        for name, values in query.items():
            spec = method.parameters.get(name) or self.global_params.get(name)
            if spec is None or spec.get("location") == "path":
                raise ApiError(400, f'Invalid JSON payload received. Unknown name "{name}": '
                               f"Cannot bind query parameter. Field '{name}' could not be found "
                               "in request message.")
            for value in values:
                if spec.get("type") == "boolean" and value.lower() not in ("true", "false"):
                    raise ApiError(400, f"Invalid value at '{snake(name)}' (TYPE_BOOL), "
                                   f'"{value}"')
                if spec.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                    raise ApiError(400, f"Invalid value at '{snake(name)}' (TYPE_INT32), "
                                   f'"{value}"')
                if "enum" in spec and value not in spec["enum"]:
                    kind = QUERY_ENUM_TYPES.get(name)
                    where = f"{TYPE_PREFIX}{kind}" if kind else "TYPE_ENUM"
                    raise ApiError(400, f"Invalid value at '{snake(name)}' ({where}), "
                                   f'"{value}"')

    # ------------------------------------------------------------------- body
    def check_body(self, method: Method, body: Any) -> None:
        if method.request is None:
            return
        root = BODY_FIELD.get(method.id, "")
        errors: list[tuple[str, str]] = []
        self._check({"$ref": method.request}, body, root, errors)
        if errors:
            raise ApiError(400, "\n".join(msg for _, msg in errors),
                           [{"field": field, "description": msg} for field, msg in errors])

    def _check(self, schema: JSON, value: Any, path: str, errors: list[tuple[str, str]]) -> None:
        if value is None:
            return
        if "$ref" in schema:
            self._check_message(schema["$ref"], value, path, errors)
            return
        kind = schema.get("type")
        if kind == "array":
            if not isinstance(value, list):
                items = schema.get("items", {})
                name = ("google.protobuf.ListValue" if items.get("type") == "array"
                        else items.get("$ref", ""))
                where = f"type.googleapis.com/{name}" if "." in name else f"{TYPE_PREFIX}{name}"
                if not name:
                    where = _scalar_kind(items)
                errors.append((path, f"Invalid value at '{path}' ({where}), {_json_text(value)}"))
                return
            for i, item in enumerate(value):
                self._check(schema.get("items", {}), item, f"{path}[{i}]", errors)
        elif kind == "object":
            if not isinstance(value, dict):
                errors.append((path, f"Invalid value at '{path}' (google.protobuf.Struct), "
                                     f"{_json_text(value)}"))
                return
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    self._check(extra, item, f"{path}[{key}]", errors)
        elif kind == "any":
            return
        else:
            self._check_scalar(schema, value, path, errors)

    def _check_scalar(self, schema: JSON, value: Any, path: str,
                      errors: list[tuple[str, str]]) -> None:
        kind = schema.get("type")
        fmt = schema.get("format", "")
        bad = False
        if kind == "string":
            if "enum" in schema:
                if not isinstance(value, str) or value not in schema["enum"]:
                    errors.append((path, f"Invalid value at '{path}' (TYPE_ENUM), "
                                         f"{_json_text(value)}"))
                return
            if fmt == "int64":
                bad = isinstance(value, bool) or not (
                    isinstance(value, int)
                    or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)))
            else:
                bad = not isinstance(value, str)
        elif kind == "integer":
            if isinstance(value, bool):
                bad = True
            elif isinstance(value, float):
                bad = not value.is_integer()
            elif isinstance(value, str):
                bad = not re.fullmatch(r"-?\d+", value)
            else:
                bad = not isinstance(value, int)
            if not bad and fmt == "int32" and not -(2**31) <= int(value) < 2**31:
                bad = True
        elif kind == "number":
            if isinstance(value, str):
                try:
                    float(value)
                except ValueError:
                    bad = True
            else:
                bad = isinstance(value, bool) or not isinstance(value, (int, float))
        elif kind == "boolean":
            bad = not isinstance(value, bool)
        if bad:
            errors.append((path, f"Invalid value at '{path}' ({_scalar_kind(schema)}), "
                                 f"{_json_text(value)}"))

    def _check_message(self, ref: str, value: Any, path: str,
                       errors: list[tuple[str, str]]) -> None:
        if not isinstance(value, dict):
            if isinstance(value, list):
                leaf = path.rsplit(".", 1)[-1]
                parent = path.rsplit(".", 1)[0] if "." in path else ""
                at = f" at '{parent}'" if parent and parent != path else ""
                errors.append((parent, f'Invalid JSON payload received. Unknown name "{leaf}"{at}: '
                                       "Proto field is not repeating, cannot start list."))
            else:
                errors.append((path, f"Invalid value at '{path}' ({TYPE_PREFIX}{ref}), "
                                     f"{_json_text(value)}"))
            return
        schema = self.schemas[ref]
        props: JSON = schema.get("properties", {})
        by_snake = {snake(k): k for k in props}
        seen: list[str] = []
        for key, item in value.items():
            name = key if key in props else by_snake.get(key)
            if name is None:
                at = f" at '{path}'" if path else ""
                errors.append((path, f'Invalid JSON payload received. Unknown name "{key}"{at}: '
                                     "Cannot find field."))
                continue
            if item is not None:
                seen.append(name)
            self._check(props[name], item, f"{path}.{snake(name)}" if path else snake(name), errors)
        if ref in ONEOFS:
            oneof, members = ONEOFS[ref]
            chosen = [n for n in seen if members is None or n in members]
            if len(chosen) > 1:
                errors.append((path, f"Invalid value at '{path}' (oneof), oneof field '{oneof}' "
                                     f"is already set. Cannot set '{chosen[1]}'"))


def _scalar_kind(schema: JSON) -> str:
    kind, fmt = schema.get("type"), schema.get("format", "")
    if kind == "integer":
        return "TYPE_UINT32" if fmt == "uint32" else "TYPE_INT32"
    if kind == "number":
        return "TYPE_FLOAT" if fmt == "float" else "TYPE_DOUBLE"
    if kind == "boolean":
        return "TYPE_BOOL"
    if fmt == "int64":
        return "TYPE_INT64"
    if fmt == "byte":
        return "TYPE_BYTES"
    return "TYPE_STRING"


@functools.lru_cache(maxsize=1)
def load() -> Discovery:
    return Discovery()
