"""Version guards for the two places that patch a library's private internals.

Each patch was written against one release line of its library. Private names can change
meaning in any release, so outside the versions a patch was checked with it refuses to run
— a loud error naming the library and the version — instead of silently doing the wrong
thing. `pyproject.toml` pins the same ranges; to widen one, run the patch's tests against
the new release, then raise the bound in both places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sheets_health.errors import SheetsHealthError


class UnsupportedLibraryError(SheetsHealthError):
    """An installed library is outside the versions a private-internals patch was checked
    with (exit 1: the installation needs fixing, not the sheet or the config)."""


@dataclass(frozen=True)
class Checked:
    """The releases ``library`` was checked with: ``lowest`` <= version < ``below``."""

    library: str  # the distribution name, as pip knows it
    lowest: str
    below: str
    patch: str  # what the patch does, for the error message

    def pin(self) -> str:
        return f"{self.library}>={self.lowest},<{self.below}"

    def checks(self, installed: str) -> bool:
        """Whether ``installed`` is in the checked range."""
        return _release(self.lowest) <= _release(installed) < _release(self.below)

    def require(self, installed: str) -> None:
        """Raise `UnsupportedLibraryError` unless ``installed`` is in the checked range."""
        if not self.checks(installed):
            raise self.unsupported(installed)

    def unsupported(self, installed: str, detail: str = "") -> UnsupportedLibraryError:
        return UnsupportedLibraryError(
            f"{self.library} {installed} is not supported: sheets-health {self.patch} through "
            f"{self.library}'s private internals, checked only with {self.pin()}"
            + (f" ({detail})" if detail else ""),
            f"install a checked version: pip install '{self.pin()}'",
        )


def _release(version: str) -> tuple[int, ...]:
    """``"2.63.0"`` → (2, 63, 0); a pre-release (``3.2.0b1``) counts as its release."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if match is None:
        return (0,)
    numbers = [int(part) for part in match.group(0).split(".")]
    return tuple(numbers + [0] * (3 - len(numbers)))


# Keep in step with the pins in pyproject.toml.
OPENPYXL = Checked("openpyxl", "3.1.5", "3.2", "keeps the cached results of formula cells")
GOOGLE_AUTH = Checked(
    "google-auth", "2.63.0", "2.64", "switches off the regional-access-boundary lookup"
)
