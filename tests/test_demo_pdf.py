"""The demo workbook opens in LibreOffice and its colours survive into a PDF.

Needs LibreOffice and poppler (`apt-get install libreoffice-calc-nogui poppler-utils`);
skipped with a message when they are not installed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from sheets_health import commands
from sheets_health.model import Fill

pytestmark = pytest.mark.skipif(
    not (shutil.which("libreoffice") and shutil.which("pdftoppm")),
    reason="LibreOffice and pdftoppm are not installed",
)


def fill_pixels(ppm: bytes) -> dict[Fill, int]:
    """Pixels of exactly each fill colour in a binary PPM image."""
    magic, size, _maxval, pixels = ppm.split(b"\n", 3)
    assert magic == b"P6"
    width, height = map(int, size.split())
    colours = {bytes.fromhex(f.value): f for f in Fill}
    counts = dict.fromkeys(Fill, 0)
    for i in range(0, width * height * 3, 3):
        fill = colours.get(pixels[i:i + 3])
        if fill is not None:
            counts[fill] += 1
    return counts


def test_demo_colours_are_visible_in_a_pdf(tmp_path: Path) -> None:
    _, workbook = commands.demo(tmp_path / "demo", now=dt.datetime(2026, 11, 22, 9, 0))
    subprocess.run(
        ["libreoffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(workbook)],
        check=True, capture_output=True, timeout=180,
    )
    pdf = tmp_path / "customers.pdf"
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=60)
    counts = fill_pixels(next(tmp_path.glob("p-*.ppm")).read_bytes())
    assert all(n > 100 for n in counts.values()), counts
