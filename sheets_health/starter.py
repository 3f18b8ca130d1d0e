"""The commented starter config `sheets-health init --config NEW.toml` writes: a local workbook
that works at once, and the Google Sheet, source and metric a team adds later, commented out."""

from __future__ import annotations

from pathlib import Path

from sheets_health.errors import ConfigError

STARTER_WORKBOOK = "customers.xlsx"

STARTER_CONFIG = f"""\
# sheets-health configuration, written by `sheets-health init`.
# Secrets never go in this file: any value may say ${{NAME}} to read it from the environment.
# The README's "Configuration" and "Sources and metrics" sections explain every key.

# Where the sheet is: a local workbook, relative to this file…
[sheet]
backend = "xlsx"
path = "{STARTER_WORKBOOK}"

# …or a Google Sheet shared (as Editor) with a service account: delete the [sheet] above and
# remove the "# " in front of these lines:
# [sheet]
# backend = "google"
# spreadsheet = "https://docs.google.com/spreadsheets/d/<id>/edit"   # or just the id
# credentials = "service-account.json"   # or leave out and set GOOGLE_APPLICATION_CREDENTIALS
# timeout = 60                           # seconds per request

# Measures are Customers columns (a number a CSM types in) or metrics from sources. A source,
# here a CSV export of support tickets with one row per ticket (remove the "# " to use it):
# [sources.tickets]
# kind = "csv"                 # csv | xlsx | sql | sheet
# path = "tickets.csv"         # relative to this file
# id_column = "customer_id"    # the export's own customer-id column
# time_column = "opened_at"    # ISO 8601 timestamps

# A metric fills the Scorecard measure of the same name (add a Scorecard row for it):
# [metrics."Open tickets"]
# source = "tickets"
# agg = "count"                # count, sum, mean, min, max, last, distinct, days_since, nps…
# window_days = 90
# where = {{ status = "open" }}
# default = 0                  # a customer with no tickets has 0, not "no data"
"""


def write_starter_config(path: Path) -> None:
    """Write the starter config at ``path``; never overwrites a file that exists."""
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(f"config file {path} already exists; it was left as it is") from None
    except FileNotFoundError:
        raise ConfigError(
            f"cannot write {path}: folder {path.parent} does not exist",
            "create the folder first, or pass another --config path",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from exc
