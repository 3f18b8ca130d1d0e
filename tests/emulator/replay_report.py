"""Print how the emulator compares with gspread's real-API recordings.

    python -m tests.emulator.replay_report [--examples N]
"""

from __future__ import annotations

import argparse
import sys

from .replay import CASSETTES, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=0, help="example requests per category")
    args = parser.parse_args(argv)
    if not CASSETTES.is_dir():
        print(f"No cassettes at {CASSETTES}; nothing to compare.")
        return 0
    print(replay(CASSETTES).summary(examples=args.examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
