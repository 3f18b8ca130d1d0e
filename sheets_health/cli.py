"""The `sheets-health` command: parse options, call the library, print the report.

Exit codes are documented in `sheets_health.errors` (0 ok, 2 bad input, 3 outage, 4 access
denied, 5 refused for safety, 6 another run holds the lock, 1 internal error).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from sheets_health import __version__, commands
from sheets_health.config import DEFAULT_CONFIG
from sheets_health.errors import EXIT_INTERNAL, EXIT_OK, ContractError, SheetsHealthError
from sheets_health.quiet import Gathered, gathered
from sheets_health.sources.common import scrub

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (also when nothing changed)
  1  internal error (rerun with --debug and report it)
  2  bad input: config, sheet or source data (the message names tab, row, column)
  3  outage: API, network or database unavailable; retry later
  4  access denied: credentials, or the sheet is not shared with the account
  5  refused for safety: the input looks wrong; check it, then rerun with --force
  6  another sync is running on this sheet
"""
INTERNAL_HINT = "rerun with --debug and report the traceback"


class _State:
    """The global options as finally given (before or after the subcommand) and the run's
    start, for the one JSON line each run prints."""

    def __init__(self, config: str, as_json: bool, debug: bool) -> None:
        self.config = Path(config)
        self.json = as_json
        self.debug = debug
        self.started = time.monotonic()
        self.started_at = dt.datetime.now().astimezone()
        self.gathered: Gathered | None = None  # with --json: library output kept off stderr


def _record(command: str | None, started: float, started_at: dt.datetime,
            payload: Mapping[str, Any]) -> str:
    """One JSON line: the same leading fields on every run, success or failure."""
    head = {
        "command": command,
        "ok": payload.get("ok", True),
        "exit_code": payload.get("exit_code", EXIT_OK),
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
    }
    return json.dumps({**head, **payload}, default=str, ensure_ascii=False)


def _json_line(state: _State, payload: Mapping[str, Any]) -> None:
    command = click.get_current_context().info_name
    notes = state.gathered.notes() if state.gathered is not None else []
    extra = {"library_warnings": notes} if notes else {}
    click.echo(_record(command, state.started, state.started_at, {**payload, **extra}))


def _error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SheetsHealthError):
        payload: dict[str, Any] = {"ok": False, "exit_code": exc.exit_code,
                                   "error": exc.message, "hint": exc.hint}
        if isinstance(exc, ContractError):
            payload["problems"] = [p.as_dict() for p in exc.problems]
        return payload
    return {"ok": False, "exit_code": EXIT_INTERNAL, "error": _internal_text(exc),
            "hint": INTERNAL_HINT}


def _internal_text(exc: BaseException) -> str:
    return f"internal error: {type(exc).__name__}: {scrub(str(exc), ())}"


def _handled(func: F) -> F:
    """Turn the library's errors into `Error: …` (or a JSON line) and the documented exit code;
    an unexpected exception exits 1, with its traceback under --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state: _State = click.get_current_context().find_object(_State)  # type: ignore[assignment]
        if not state.json:
            return _run(state, func, args, kwargs)
        with gathered() as found:
            state.gathered = found
            return _run(state, func, args, kwargs)

    return wrapper  # type: ignore[return-value]


def _run(state: _State, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except SheetsHealthError as exc:
        if state.json:
            _json_line(state, _error_payload(exc))
        else:
            click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:
        if state.debug:  # the traceback quotes library messages: mask URLs' passwords too
            click.echo(scrub(traceback.format_exc(), ()).rstrip("\n"), err=True)
        if state.json:
            _json_line(state, _error_payload(exc))
        elif not state.debug:
            click.echo(f"Error: {_internal_text(exc)}\n  Fix: {INTERNAL_HINT}", err=True)
        sys.exit(EXIT_INTERNAL)


def _emit(state: _State, payload: dict[str, Any], text: str) -> None:
    if state.json:
        _json_line(state, payload)
    elif text:
        click.echo(text)


# ----------------------------------------------------------------------------- global options


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(_State).config = Path(value)  # type: ignore[union-attr]


def _set_flag(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            setattr(ctx.find_object(_State), name, True)

    return callback


CONFIG_HELP = f"Config file (default: $SHEETS_HEALTH_CONFIG, else {DEFAULT_CONFIG})."
JSON_HELP = "One JSON line on stdout per run, success or failure (for a log of runs)."
DEBUG_HELP = "Show tracebacks of unexpected errors."


def global_options(command: F) -> F:
    """--config/-c, --json and --debug after the subcommand too (`sync --config F --json`)."""
    command = click.option("--debug", is_flag=True, expose_value=False, callback=_set_flag("debug"),
                           help=DEBUG_HELP)(command)
    command = click.option("--json", "as_json", is_flag=True, expose_value=False,
                           callback=_set_flag("json"), help=JSON_HELP)(command)
    return click.option("--config", "-c", default=None, expose_value=False, callback=_set_config,
                        metavar="PATH", help=CONFIG_HELP)(command)


class _Cli(click.Group):
    """Usage errors (an unknown option, a missing argument) become a JSON line too when the
    command line asked for --json, so even a mistyped cron line leaves a parseable record."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        started, started_at = time.monotonic(), dt.datetime.now().astimezone()
        try:
            result = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            if _asks_for_json(argv):
                command = next((a for a in argv if a in self.commands), None)
                click.echo(_record(command, started, started_at, {
                    "ok": False, "exit_code": exc.exit_code, "error": exc.format_message(),
                    "hint": "see `sheets-health --help` and `sheets-health COMMAND --help`"}))
            else:
                exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _asks_for_json(argv: Sequence[str]) -> bool:
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in options


@click.group(cls=_Cli, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="sheets-health")
@click.option("--config", "-c", default=DEFAULT_CONFIG, show_default=True, metavar="PATH",
              envvar="SHEETS_HEALTH_CONFIG", help="Config file (or $SHEETS_HEALTH_CONFIG).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.pass_context
def main(ctx: click.Context, config: str, as_json: bool, debug: bool) -> None:
    """Keep customer health scores in a shared Google Sheet (or a local workbook).

    --config, --json and --debug may come before or after the command.
    """
    ctx.obj = _State(config, as_json, debug)


@main.command()
@global_options
@click.pass_obj
@_handled
def init(state: _State) -> None:
    """Create or upgrade the tabs and headers from the template (never clobbers data)."""
    changes = commands.init(state.config)
    text = "\n".join(f"  {c}" for c in changes) if changes else "  nothing to change"
    _emit(state, {"ok": True, "changes": changes}, f"init:\n{text}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--force", is_flag=True,
              help="Write even when the input looks wrong (shrunk customer list, empty source).")
@global_options
@click.pass_obj
@_handled
def sync(state: _State, dry_run: bool, force: bool) -> None:
    """Read the sheet and sources, score every customer, write the results back."""
    progress = _progress() if not state.json and sys.stderr.isatty() else None
    report = commands.sync(state.config, dry_run=dry_run, force=force, progress=progress)
    _emit(state, {"ok": True, **report.as_dict()}, commands.describe_sync(report))


@main.command()
@global_options
@click.pass_obj
@_handled
def check(state: _State) -> None:
    """Validate the sheet and the config without writing anything."""
    summary = commands.check(state.config)
    lines = [f"OK: {summary['customers']} customers, {summary['measures']} measures, "
             f"{len(summary['scorecards'])} outcome scorecards"]
    lines += [f"  warning: {w}" for w in summary["warnings"]]
    _emit(state, {"ok": True, **summary}, "\n".join(lines))


@main.command()
@click.argument("customer_id")
@global_options
@click.pass_obj
@_handled
def explain(state: _State, customer_id: str) -> None:
    """Show how one customer's score is made: every measure's value, sub-score and points."""
    payload, text = commands.explain(state.config, customer_id)
    _emit(state, payload, text)


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the report; write nothing.")
@click.option("--suggest", is_flag=True,
              help="Also write supported suggested weights (and scorings) into Scorecard's "
                   "'Weight: suggested' columns; the team's own weights are never changed.")
@global_options
@click.pass_obj
@_handled
def calibrate(state: _State, dry_run: bool, suggest: bool) -> None:
    """Check the score against Gut RAG and against who churned or renewed."""
    payload, text = commands.calibrate(state.config, dry_run=dry_run, suggest=suggest)
    _emit(state, payload, text)


@main.command()
@click.argument("directory", default="sheets-health-demo", type=click.Path(file_okay=False))
@global_options
@click.pass_obj
@_handled
def demo(state: _State, directory: str) -> None:
    """Write a complete example (workbook, config, sources) to DIRECTORY and sync it."""
    report, workbook = commands.demo(Path(directory))
    text = commands.describe_sync(report) + (
        f"\n\nThe demo workbook is {workbook}\n"
        f"Try:  sheets-health --config {Path(directory) / DEFAULT_CONFIG} explain "
        f"{commands.demo_example_id(report)}"
    )
    _emit(state, {"ok": True, "workbook": str(workbook), **report.as_dict()}, text)


def _progress() -> Callable[[str, int, int], None]:
    def show(name: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        click.echo(f"\r  {name}: {done}/{total}", err=True, nl=False)
        if end:
            click.echo("", err=True)

    return show


if __name__ == "__main__":  # pragma: no cover
    main()
