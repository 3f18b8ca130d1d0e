"""A demo workbook with a long History, ready for a timed sync (`benchmarks/README.md`,
"Workbook History, detached").

Writes the demo (with its sources) for N customers into DIRECTORY/demo-N, adds DAYS days of
daily History before today, runs `sheets-health init` and a first sync of the day (they place
the bookmarks a sync reads History through) and keeps that workbook as `book_marked.xlsx`,
so every timed run can start from the same file. Prints the directory and the config.

    python benchmarks/history_workbook.py /tmp/year --customers 1000 --days 365
    python benchmarks/history_workbook.py /tmp/empty --customers 1000 --days 0
    S='cp book_marked.xlsx book.xlsx && exec sheets-health --config wb.toml sync'
    farm-bench -n 5 --timeout 300 --vs "sh -c 'cd /tmp/empty/demo-1000 && $S'" \\
      -- sh -c "cd /tmp/year/demo-1000 && $S"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, with its tests
sys.path.insert(0, str(Path(__file__).resolve().parent))  # these helpers

from bench_scale import init_command, make_demo, sync_command, with_history
from wide_sheet import history_rows

from sheets_health import template as T
from sheets_health.demo import WORKBOOK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    demo = make_demo(args.customers, args.directory, now)
    ids = [str(r[0]) for r in demo.tabs[T.CUSTOMERS][1:]]
    book = demo.directory / "book.xlsx"
    with_history(demo.directory / WORKBOOK, book,
                 history_rows(ids, dt.datetime.now().date(), args.days))
    text = demo.config.read_text(encoding="utf-8").replace(f'path = "{WORKBOOK}"',
                                                           'path = "book.xlsx"')
    config = demo.directory / "wb.toml"
    config.write_text(text, encoding="utf-8")
    init_command(config, demo.directory)
    first = sync_command(config, demo.directory)
    shutil.copyfile(book, demo.directory / "book_marked.xlsx")
    print(json.dumps({"directory": str(demo.directory), "config": str(config),
                      "history_rows": len(ids) * args.days,
                      "first_sync_seconds": round(first.seconds, 2)}))


if __name__ == "__main__":
    main()
