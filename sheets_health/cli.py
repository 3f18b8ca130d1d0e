"""The `sheets-health` command: parse options, call the library, print the report.

Exit codes are documented in `sheets_health.errors` (0 ok, 2 bad input, 3 outage, 4 access
denied, 5 refused for safety, 6 another run holds the lock, 1 internal error).
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sheets_health import __version__, commands
from sheets_health.config import DEFAULT_CONFIG
from sheets_health.errors import EXIT_INTERNAL, ContractError, SheetsHealthError

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


class _State:
    def __init__(self, config: str, as_json: bool, debug: bool) -> None:
        self.config = Path(config)
        self.json = as_json
        self.debug = debug


def _handled(func: F) -> F:
    """Turn the library's errors into `Error: …` and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state: _State = click.get_current_context().find_object(_State)  # type: ignore[assignment]
        try:
            return func(*args, **kwargs)
        except SheetsHealthError as exc:
            if state is not None and state.json:
                payload: dict[str, Any] = {"ok": False, "error": exc.message, "hint": exc.hint,
                                           "exit_code": exc.exit_code}
                if isinstance(exc, ContractError):
                    payload["problems"] = [p.as_dict() for p in exc.problems]
                click.echo(json.dumps(payload, indent=2))
            else:
                click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if state is not None and state.debug:
                traceback.print_exc()
            else:
                click.echo(f"Error: internal error: {type(exc).__name__}: {exc}\n"
                           "  Fix: rerun with --debug and report the traceback", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _emit(state: _State, payload: dict[str, Any], text: str) -> None:
    if state.json:
        click.echo(json.dumps(payload, indent=2, default=str))
    elif text:
        click.echo(text)


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="sheets-health")
@click.option("--config", "-c", default=DEFAULT_CONFIG, show_default=True,
              envvar="SHEETS_HEALTH_CONFIG", help="Config file (sheets-health.toml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.pass_context
def main(ctx: click.Context, config: str, as_json: bool, debug: bool) -> None:
    """Keep customer health scores in a shared Google Sheet (or a local workbook)."""
    ctx.obj = _State(config, as_json, debug)


@main.command()
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
@click.pass_obj
@_handled
def sync(state: _State, dry_run: bool, force: bool) -> None:
    """Read the sheet and sources, score every customer, write the results back."""
    progress = _progress() if not state.json and sys.stderr.isatty() else None
    report = commands.sync(state.config, dry_run=dry_run, force=force, progress=progress)
    _emit(state, {"ok": True, **report.as_dict()}, commands.describe_sync(report))


@main.command()
@click.pass_obj
@_handled
def check(state: _State) -> None:
    """Validate the sheet and the config without writing anything."""
    summary = commands.check(state.config)
    _emit(state, {"ok": True, **summary},
          f"OK: {summary['customers']} customers, {summary['measures']} measures, "
          f"{len(summary['scorecards'])} outcome scorecards")


@main.command()
@click.argument("customer_id")
@click.pass_obj
@_handled
def explain(state: _State, customer_id: str) -> None:
    """Show how one customer's score is made: every measure's value, sub-score and points."""
    payload, text = commands.explain(state.config, customer_id)
    _emit(state, payload, text)


@main.command()
@click.argument("directory", default="sheets-health-demo", type=click.Path(file_okay=False))
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
