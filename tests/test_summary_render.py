"""The demo's Summary tab as LibreOffice prints it: the chart is drawn (its bars in the
colour-mix colours) and the figures are printed whole, not cut off by the next column.

Needs LibreOffice and poppler; skipped with a message when they are not installed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_health import commands
from sheets_health import template as T
from sheets_health.summary_sheet import SERIES_COLOURS
from tests.test_demo_pdf import colour_pixels, pdf_words

pytestmark = pytest.mark.skipif(
    not (shutil.which("libreoffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="LibreOffice and poppler-utils (pdftoppm, pdftotext) are not installed",
)

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def test_the_demo_summary_prints_its_chart_and_figures(tmp_path: Path) -> None:
    _, workbook = commands.demo(tmp_path / "demo", now=NOW)
    book = load_workbook(workbook)
    for ws in list(book.worksheets):
        if ws.title != T.SUMMARY:
            book.remove(ws)
    only = tmp_path / "summary.xlsx"
    book.save(only)
    subprocess.run(["libreoffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(only)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "summary.pdf"
    words = [w.text for page in pdf_words(pdf) for w in page]
    text = " ".join(words)
    assert "Customer health summary" in text and "ARR at risk (Red + Yellow)" in text
    summary = load_workbook(workbook, data_only=True)[T.SUMMARY]
    reasons = [str(c.value) for row in summary.iter_rows() for c in row
               if isinstance(c.value, str) and "pts" in c.value]
    assert reasons  # the renewals at risk, with their reasons, printed whole
    printed = {part for w in words for part in w.split("-")}  # "single-" wraps to a new line
    missing = [p for r in reasons for w in r.split() for p in w.split("-")
               if p and p not in printed]
    assert not missing, missing[:8]
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    (image,) = tmp_path.glob("page-*.ppm")
    counts = colour_pixels(image.read_bytes(), SERIES_COLOURS[:3])
    assert all(n > 200 for n in counts.values()), counts  # green, yellow and red bars
