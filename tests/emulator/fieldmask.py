"""Field masks: partial-response selection (``fields=``) and update masks (``fields``).

Grammar (Google's partial-response syntax)::

    mask  := path ("," path)*
    path  := name (("." | "/") name)* ["(" mask ")"]
    name  := identifier | "*"

A mask parses into a tree ``{name: subtree | None}`` where None selects the whole field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .cells import json_copy

Tree = dict[str, "Tree | None"]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\*")


class FieldMaskError(ValueError):
    pass


def _merge(into: Tree, path: list[str], sub: Tree | None) -> None:
    node = into
    for name in path[:-1]:
        child = node.get(name, {})
        if child is None:  # already selected whole
            return
        node[name] = child
        node = child
    last = path[-1]
    if sub is None or node.get(last, {}) is None:
        node[last] = None
        return
    existing = node.setdefault(last, {})
    assert existing is not None
    for key, value in sub.items():
        _merge(existing, [key], value)


def parse(text: str) -> Tree:
    tree, pos = _parse_mask(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise FieldMaskError(text)
    return tree


def _parse_mask(text: str, pos: int) -> tuple[Tree, int]:
    tree: Tree = {}
    while True:
        path: list[str] = []
        while True:
            m = _NAME.match(text, pos)
            if not m:
                raise FieldMaskError(text)
            path.append(m.group(0))
            pos = m.end()
            if pos < len(text) and text[pos] in "./":
                pos += 1
                continue
            break
        sub: Tree | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_mask(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise FieldMaskError(text)
            pos += 1
        _merge(tree, path, sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return tree, pos


def paths(tree: Tree, prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, sub in tree.items():
        name = f"{prefix}.{key}" if prefix else key
        out.extend([name] if sub is None else paths(sub, name))
    return out


def select(obj: Any, tree: Tree | None) -> Any:
    """Apply a partial-response mask. Selected message fields stay even when empty."""
    if tree is None or ("*" in tree and tree["*"] is None):
        return json_copy(obj)
    if isinstance(obj, list):
        return [select(item, tree) for item in obj]
    if not isinstance(obj, dict):
        return json_copy(obj)
    out: dict[str, Any] = {}
    star = tree.get("*")
    for key, value in obj.items():
        if key in tree:
            out[key] = select(value, tree[key])
        elif "*" in tree:
            out[key] = select(value, star)
    return out


def validate(tree: Tree, schema_name: str, schemas: dict[str, Any]) -> str | None:
    """Return the first selected name that the schema does not have, else None."""
    schema = schemas.get(schema_name, {})
    props = schema.get("properties", {})
    for key, sub in tree.items():
        if key == "*":
            continue
        if key not in props:
            return key
        if sub is None:
            continue
        prop = props[key]
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if ref is None:
            if prop.get("type") == "object" and "additionalProperties" in prop:
                continue
            return next(iter(sub))
        bad = validate(sub, ref, schemas)
        if bad is not None:
            return bad
    return None


def apply_update(target: dict[str, Any], source: dict[str, Any], tree: Tree) -> None:
    """Copy the masked fields from ``source`` into ``target`` (absent in source = clear)."""
    for key, sub in tree.items():
        if key == "*":
            keep = {k: v for k, v in target.items() if k in ("sheetId",)}
            target.clear()
            target.update(keep)
            target.update(copy.deepcopy(source))
            continue
        if sub is None or not isinstance(source.get(key, {}), dict):
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
            continue
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
        apply_update(child, source.get(key) or {}, sub)
        if child:
            target[key] = child
        else:
            target.pop(key, None)
