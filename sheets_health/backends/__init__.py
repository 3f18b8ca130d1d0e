"""Backends: where the sheet lives. Each one reads tables and applies a write plan."""

from __future__ import annotations

from sheets_health.backends.base import Backend
from sheets_health.config import Backend as BackendKind
from sheets_health.config import SheetConfig

__all__ = ["Backend", "open_backend"]


def open_backend(sheet: SheetConfig) -> Backend:
    """The backend a config names; imported lazily so xlsx users never load gspread."""
    if sheet.backend is BackendKind.GOOGLE:
        from sheets_health.backends.google import GoogleBackend

        return GoogleBackend.from_config(sheet)
    from sheets_health.backends.xlsx import XlsxBackend

    assert sheet.path is not None
    return XlsxBackend(sheet.path)
