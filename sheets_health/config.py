"""`sheets-health.toml`: where the sheet is and where measures come from.

Secrets never sit in the file: any string may say ``${NAME}`` and is filled from the
environment; a missing variable is a clear error naming it.

The file is parsed once, here, into typed specs (the backend as an enum, each source and
metric as a `SourceSpec` / `MetricSpec`); every problem with them is gathered and reported
at load time, so nothing downstream reads raw tables.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheets_health.errors import ConfigError
from sheets_health.sources.spec import MetricSpec, SourceSpec, parse_specs

if TYPE_CHECKING:
    from sheets_health.notify import NotifySpec

DEFAULT_CONFIG = "sheets-health.toml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Backend(StrEnum):
    XLSX = "xlsx"
    GOOGLE = "google"


@dataclass(frozen=True)
class SheetConfig:
    backend: Backend
    path: Path | None = None  # xlsx: the workbook
    spreadsheet: str | None = None  # google: key or URL
    credentials: Path | None = None  # google: service-account key file
    api_url: str | None = None  # google: API base URL (tests point it at an emulator)
    timeout: float = 60.0
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # callers may say backend="google"; the field always holds the enum
        object.__setattr__(self, "backend", Backend(self.backend))


@dataclass(frozen=True)
class Config:
    path: Path | None
    base_dir: Path
    sheet: SheetConfig
    sources: Mapping[str, SourceSpec] = field(default_factory=dict)  # in config order
    metrics: Mapping[str, MetricSpec] = field(default_factory=dict)  # in config order
    notify: NotifySpec | None = None  # [notify]: the chat webhook told of new alerts
    # [history] url: measure snapshots go to this SQL database instead of the Snapshots tab
    history_url: str | None = None


class ConfigProblemsError(ConfigError):
    """Several problems with [sources]/[metrics], gathered so all are fixed in one go."""

    def __init__(self, problems: list[str], where: str) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) with [sources]/[metrics] in {where}:\n{lines}",
            "correct each key named above (all the problems are listed at once)",
        )
        self.problems = tuple(problems)


def expand_env(value: Any, where: str, env: Mapping[str, str] | None = None) -> Any:
    """Fill ``${NAME}`` from the environment, recursively through tables and arrays."""
    env = os.environ if env is None else env
    if isinstance(value, str):

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    f"{where} uses ${{{name}}} but the environment variable {name} is not set",
                    f"export {name}=... before running (secrets live only in the environment)",
                )
            return env[name]

        return _VAR.sub(fill, value)
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    return value


def _sheet_config(raw: Mapping[str, Any], base_dir: Path, where: str) -> SheetConfig:
    known = {"backend", "path", "spreadsheet", "credentials", "api_url", "timeout"}
    named = str(raw.get("backend") or ("google" if raw.get("spreadsheet") else "xlsx"))
    try:
        backend = Backend(named)
    except ValueError:
        raise ConfigError(
            f"{where}: backend = '{named}' is not known", "use backend = \"google\" or \"xlsx\""
        ) from None
    path = Path(raw["path"]) if raw.get("path") else None
    if path is not None and not path.is_absolute():
        path = base_dir / path
    credentials = Path(raw["credentials"]) if raw.get("credentials") else None
    if credentials is not None and not credentials.is_absolute():
        credentials = base_dir / credentials
    if backend is Backend.XLSX and path is None:
        raise ConfigError(f"{where}: the xlsx backend needs path", 'add path = "customers.xlsx"')
    if backend is Backend.GOOGLE and not raw.get("spreadsheet"):
        raise ConfigError(
            f"{where}: the google backend needs spreadsheet",
            'add spreadsheet = "<the id or URL of the Google Sheet>"',
        )
    try:
        timeout = float(raw.get("timeout", 60))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.timeout must be a number of seconds") from None
    api_url = raw.get("api_url") or os.environ.get("SHEETS_HEALTH_API_URL") or None
    return SheetConfig(
        backend=backend,
        path=path,
        spreadsheet=str(raw["spreadsheet"]) if raw.get("spreadsheet") else None,
        credentials=credentials,
        api_url=api_url,
        timeout=timeout,
        options={k: v for k, v in raw.items() if k not in known},
    )


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; every error names the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            "pass --config PATH, or run `sheets-health demo` for a worked example",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return config_from_dict(raw, path.parent.resolve(), path, env)


def config_from_dict(
    raw: Mapping[str, Any],
    base_dir: Path,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The config from parsed TOML; raises `ConfigProblemsError` listing every problem with
    the sources and metrics (files are not looked for: that is `sources.check_config`)."""
    name = str(path) if path else "config"
    unknown = set(raw) - {"sheet", "sources", "metrics", "notify", "history"}
    if unknown:
        raise ConfigError(
            f"{name}: unknown section(s) {', '.join(sorted(unknown))}",
            "the sections are [sheet], [sources.<name>], [metrics.\"<measure>\"], [notify] "
            "and [history]",
        )
    expanded = expand_env(dict(raw), name, env)
    sheet_raw = expanded.get("sheet")
    if not isinstance(sheet_raw, dict):
        raise ConfigError(f"{name}: the [sheet] section is missing", "add [sheet] with a backend")
    sources = expanded.get("sources", {})
    metrics = expanded.get("metrics", {})
    for section, value in (("sources", sources), ("metrics", metrics)):
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ConfigError(
                f"{name}: [{section}] must hold one table per entry", f"write [{section}.<name>]"
            )
    sheet = _sheet_config(sheet_raw, base_dir, f"{name} [sheet]")
    specs, problems = parse_specs(sources, metrics, base_dir, sheet.backend)
    if problems:
        raise ConfigProblemsError(problems, name)
    notify = None
    if "notify" in expanded:  # imported only then: it brings requests in
        from sheets_health.notify import notify_spec

        notify = notify_spec(expanded["notify"], f"{name} [notify]")
    return Config(path=path, base_dir=base_dir, sheet=sheet, sources=specs.sources,
                  metrics=specs.metrics, notify=notify,
                  history_url=_history_url(expanded.get("history"), base_dir, name))


def _history_url(raw: Any, base_dir: Path, name: str) -> str | None:
    """`[history] url = "${HISTORY_URL}"`: any SQLAlchemy URL; a relative SQLite path is
    relative to the config file, like every other path in it."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"url"} or not isinstance(raw.get("url"), str) \
            or not raw["url"].strip():
        raise ConfigError(f"{name}: [history] takes one key, url, a database URL",
                          'write [history] url = "${HISTORY_URL}" (any SQLAlchemy URL, e.g. '
                          'sqlite:///history.db)')
    url = str(raw["url"]).strip()
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:" \
            and not Path(url[len(prefix):]).is_absolute():
        url = prefix + str(base_dir / url[len(prefix):])
    return url
