"""The one row-matching rule both backends follow (`sheets_health.rowmatch`)."""

from __future__ import annotations

import pytest

from sheets_health.rowmatch import find_row, key_index


@pytest.mark.parametrize(("hint", "rows", "want"), [
    (5, [5], (5, None, None)),
    (5, [3, 5], (5, None, None)),  # the hinted row still holds the key: trusted
    (5, [9], (9, "Customers: C1 moved from row 5 to row 9", None)),
    (5, [], (None, None, "Customers: C1 (was row 5) is no longer there")),
    (5, [7, 9], (None, None, "Customers: C1 is in several rows (7, 9); not written")),
])
def test_a_row_is_found_again_by_its_key(hint: int, rows: list[int],
                                         want: tuple[object, object, object]) -> None:
    assert find_row("Customers", "C1", hint, rows) == want


def test_blank_keys_belong_to_nobody() -> None:
    index = key_index([(2, ("C1",)), (3, ("",)), (4, ("C1",)), (5, ("C2",))])
    assert index == {("C1",): [2, 4], ("C2",): [5]}
