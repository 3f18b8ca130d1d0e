"""Which time zone a sheet's days follow: History dates, `Scored at`, the Sync log.

A spreadsheet has its own zone (Google: File → Settings → Time zone; a workbook: the
`Time zone` row of Settings), and the cron machine's clock must not decide when the team's
day ends. The rule, in one place:

1. a `Time zone` Settings row, when filled, wins on both backends (the team pins it where
   it keeps its other settings; a sync warns when a Google sheet's own zone differs);
2. else the Google spreadsheet's ``properties.timeZone``;
3. else (a workbook without the row) the machine's zone.

Pure: zoneinfo only (the ``tzdata`` package supplies the database where the OS has none).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Google's custom zones when the CLDR name is unknown, e.g. "GMT-07:00" or "GMT+5:30".
_GMT_OFFSET = re.compile(r"^GMT([+-])(\d{1,2})(?::?(\d{2}))?$")


def parse_zone(text: str) -> dt.tzinfo:
    """An IANA/CLDR name (``Europe/Berlin``) or a fixed ``GMT±hh:mm``; ValueError if unknown."""
    name = text.strip()
    match = _GMT_OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset > dt.timedelta(hours=14):
            raise ValueError(f"'{text}' is not a time zone (offsets go up to 14 hours)")
        return dt.timezone(-offset if sign == "-" else offset, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{text}' is not a known time zone") from None


def sheet_zone(setting: dt.tzinfo | None, spreadsheet: str | None) -> dt.tzinfo | None:
    """The zone the sheet's days follow (see the module docstring); None: the machine's.

    Raises ValueError when only the spreadsheet's own zone is there and it is unknown.
    """
    if setting is not None:
        return setting
    if spreadsheet:
        return parse_zone(spreadsheet)
    return None


def zone_name(zone: dt.tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def zone_conflict(setting: dt.tzinfo | None, spreadsheet: str | None) -> str | None:
    """A warning when the Settings row and the Google sheet's own zone disagree."""
    if setting is None or not spreadsheet or zone_name(setting) == spreadsheet.strip():
        return None
    return (f"the Settings row 'Time zone' ({zone_name(setting)}) differs from the "
            f"spreadsheet's own time zone ({spreadsheet}); days follow {zone_name(setting)}, "
            "while the sheet's formulas (TODAY(), NOW()) follow File → Settings → Time zone")


def local_run_time(now: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    """The run's instant as aware wall time in the sheet's zone (None: the machine's zone).

    A naive ``now`` is the machine's wall time, as `datetime.now()` gives it.
    """
    return now.astimezone(zone)
