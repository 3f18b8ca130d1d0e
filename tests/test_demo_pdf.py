"""The demo workbook prints legibly from LibreOffice: readable text, whole reasons, colours.

Needs LibreOffice and poppler (`apt-get install libreoffice-calc-nogui poppler-utils`);
skipped with a message when they are not installed.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_health import commands
from sheets_health import template as T
from sheets_health.model import Fill

pytestmark = pytest.mark.skipif(
    not (shutil.which("libreoffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="LibreOffice and poppler-utils (pdftoppm, pdftotext) are not installed",
)

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
# pdftotext's word box is about 1.3 × the font size: 11.5 pt boxes are 9 pt text, the least
# that reads well on paper. The demo's 11 pt cells printed at 100 % give 14.3 pt boxes; the
# old page that squeezed all 23 columns onto one width gave 3.4 pt (under 3 pt text).
MIN_WORD_HEIGHT_PT = 11.5
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


@dataclass(frozen=True)
class Word:
    text: str
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Printed:
    pdf: Path
    workbook: Path
    pages: list[list[Word]]  # every page's words, in reading order

    def customers_pages(self) -> list[int]:
        """0-based pages of the Customers tab: each starts with its repeated `Customer ID`."""
        return [i for i, words in enumerate(self.pages)
                if [w.text for w in words[:2]] == ["Customer", "ID"]]


def pdf_words(pdf: Path) -> list[list[Word]]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        words = [Word(html.unescape(m[4]), float(m[0]), float(m[1]), float(m[3]) - float(m[1]))
                 for m in _WORD.findall(page)]
        pages.append(sorted(words, key=lambda w: (round(w.y), w.x)))
    return pages


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printed]:
    tmp = tmp_path_factory.mktemp("pdf")
    _, workbook = commands.demo(tmp / "demo", now=NOW)
    subprocess.run(
        ["libreoffice", f"-env:UserInstallation=file://{tmp}/lo", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp), str(workbook)],
        check=True, capture_output=True, timeout=180,
    )
    pdf = tmp / "customers.pdf"
    yield Printed(pdf, workbook, pdf_words(pdf))


def customers_column(workbook: Path, header: str) -> list[str]:
    ws = load_workbook(workbook, read_only=True)[T.CUSTOMERS]
    rows = list(ws.iter_rows(values_only=True))
    col = list(rows[0]).index(header)
    return [str(r[col]) for r in rows[1:] if r[col]]


def colour_pixels(ppm: bytes, colours: tuple[str, ...]) -> dict[str, int]:
    """Pixels of exactly each colour (hex RGB) in a binary PPM image."""
    magic, size, _maxval, pixels = ppm.split(b"\n", 3)
    assert magic == b"P6"
    width, height = map(int, size.split())
    wanted = {bytes.fromhex(c): c for c in colours}
    counts = dict.fromkeys(colours, 0)
    for i in range(0, width * height * 3, 3):
        found = wanted.get(pixels[i:i + 3])
        if found is not None:
            counts[found] += 1
    return counts


def fill_pixels(ppm: bytes) -> dict[Fill, int]:
    """Pixels of exactly each fill colour in a binary PPM image."""
    counts = colour_pixels(ppm, tuple(f.value for f in Fill))
    return {f: counts[f.value] for f in Fill}


def test_customers_text_is_legible_at_100_percent(printed: Printed) -> None:
    pages = printed.customers_pages()
    assert len(pages) >= 2  # 23 columns do not fit one legible page
    heights = [w.height for i in pages for w in printed.pages[i]]
    assert min(heights) >= MIN_WORD_HEIGHT_PT, sorted(heights)[:5]
    # the key columns repeat on every page, so each page says whose row it is
    for i in pages:
        assert any(re.fullmatch(r"C\d{3}", w.text) for w in printed.pages[i]), (
            f"page {i + 1} does not say which customers its rows are")


@pytest.mark.parametrize("header", [T.REASONS, T.NEXT_STEP])
def test_reasons_and_next_step_are_printed_whole(printed: Printed, header: str) -> None:
    """Long text wraps inside its column instead of being cut off by the next one."""
    cells = customers_column(printed.workbook, header)
    assert len(cells) > 20
    wanted = Counter(word for text in cells for word in text.split())
    printed_words = Counter(w.text for i in printed.customers_pages() for w in printed.pages[i])
    missing = wanted - printed_words
    assert not missing, f"{sum(missing.values())} words of {header} are not printed: " \
                        f"{list(missing.items())[:8]}"


def test_demo_colours_are_visible_in_a_pdf(printed: Printed, tmp_path: Path) -> None:
    pages = printed.customers_pages()
    counts = dict.fromkeys(Fill, 0)
    for page in pages:  # the Health column is on one of the pages across
        subprocess.run(["pdftoppm", "-r", "60", "-f", str(page + 1), "-l", str(page + 1),
                        str(printed.pdf), str(tmp_path / f"p{page}")], check=True, timeout=60)
        for image in tmp_path.glob(f"p{page}-*.ppm"):
            for fill, n in fill_pixels(image.read_bytes()).items():
                counts[fill] += n
    assert all(n > 100 for n in counts.values()), counts
