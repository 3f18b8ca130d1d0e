"""CSV, XLSX and sheet-tab sources: reading, cell policy, errors, empty sources, reports."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from sheets_health.errors import EXIT_BAD_INPUT, EXIT_REFUSED, SourceError
from sheets_health.model import Table
from sheets_health.sources import EmptySourceError, MetricsResult, load_metrics, unknown_ids
from tests.sources_fixtures import RUN_AT, make_config


def csv_source(tmp_path: Path, text: str, **extra: Any) -> dict[str, Any]:
    (tmp_path / "data.csv").write_text(text, encoding=extra.pop("file_encoding", "utf-8"))
    return {"kind": "csv", "path": "data.csv", **extra}


def load(
    tmp_path: Path, source: dict[str, Any], metrics: dict[str, dict[str, Any]], **kw: Any
) -> MetricsResult:
    config = make_config(
        tmp_path, {"s": source}, {k: {"source": "s", **v} for k, v in metrics.items()}
    )
    return load_metrics(config, RUN_AT, **kw)


def test_a_per_customer_table_gives_raw_cell_values(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path,
        "Customer ID,Plan,Seats,Code,Ratio\n00123,Pro,12,007,0.5\n123,Team,,A1,1.25\n",
    )
    metrics = {m: {"column": m} for m in ("Plan", "Seats", "Code", "Ratio")}
    frame = load(tmp_path, source, metrics).frame
    assert frame.index.name == "customer_id"
    assert frame.loc["00123"].to_dict() == {"Plan": "Pro", "Seats": 12, "Code": "007", "Ratio": 0.5}
    assert frame.loc["123"].to_dict() == {
        "Plan": "Team",
        "Seats": None,
        "Code": "A1",
        "Ratio": 1.25,
    }


def test_a_column_metric_ignores_the_time_column(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path, "Customer ID,updated,Plan\nA,2030-01-01,Pro\nB,,Team\n", time_column="updated"
    )
    frame = load(tmp_path, source, {"Plan": {"column": "Plan"}}).frame
    assert frame["Plan"].to_dict() == {"A": "Pro", "B": "Team"}


def test_numbers_follow_the_cell_policy(tmp_path: Path) -> None:
    source = csv_source(tmp_path, 'Customer ID,v\nA,"1,234"\nA,45%\nA, 2 \nB,\n')
    frame = load(tmp_path, source, {"sum": {"agg": "sum", "column": "v"}}).frame
    assert frame.loc["A", "sum"] == pytest.approx(1236.45)
    assert frame.loc["B", "sum"] == 0


def test_a_bad_number_names_source_row_column_and_value(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,v\nA,1\nA,n/a\nB,x\n")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"m": {"agg": "mean", "column": "v"}})
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert str(caught.value).startswith(
        "source 's' (data.csv), row 3, column 'v': not a number (2 such rows) (value 'n/a')"
    )


def test_a_bad_timestamp_names_the_row_and_suggests_time_format(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path, "Customer ID,t\nA,2026-03-01\nA,31/03/2026 10:00\n", time_column="t"
    )
    with pytest.raises(
        SourceError, match=r"row 3, column 't': not an ISO 8601 timestamp"
    ) as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert "time_format" in str(caught.value)


def test_time_format_reads_other_timestamp_spellings(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path,
        "Customer ID,t\nA,30/03/2026 10:00\nA,01/01/2026 10:00\n",
        time_column="t",
        time_format="%d/%m/%Y %H:%M",
    )
    frame = load(tmp_path, source, {"m": {"agg": "count", "window_days": 30}}).frame
    assert frame.loc["A", "m"] == 1


def test_a_missing_column_lists_the_columns_there_are(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "account,when\nA,2026-03-01\n")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert str(caught.value) == (
        "source 's' (data.csv): there is no column 'Customer ID'\n"
        "  Fix: the columns are 'account', 'when'; set id_column, time_column, column or the "
        "where keys to one of them"
    )


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"file .*gone.csv does not exist") as caught:
        load(tmp_path, {"kind": "csv", "path": "gone.csv"}, {"m": {"agg": "count"}})
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_delimiter_and_encoding(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path,
        "Customer ID;Société\nA;Crème\n",
        delimiter=";",
        encoding="latin-1",
        file_encoding="latin-1",
    )
    frame = load(tmp_path, source, {"m": {"column": "Société"}}).frame
    assert frame.loc["A", "m"] == "Crème"


def test_wrong_encoding_says_how_to_fix_it(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,n\nA,Crème\n", file_encoding="latin-1")
    with pytest.raises(SourceError, match="is not utf-8-sig text") as caught:
        load(tmp_path, source, {"m": {"column": "n"}})
    assert 'encoding = "latin-1"' in str(caught.value)


@pytest.mark.parametrize("text", ["", "Customer ID,t\n"], ids=["zero bytes", "headers only"])
def test_an_empty_source_is_refused_unless_allowed(tmp_path: Path, text: str) -> None:
    source = csv_source(tmp_path, text)
    with pytest.raises(EmptySourceError) as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert isinstance(caught.value, SourceError)
    assert caught.value.exit_code == EXIT_REFUSED
    assert caught.value.sources == ("s",)
    assert "source(s) s returned no rows: s (data.csv)" in str(caught.value)
    assert "--force" in str(caught.value)
    result = load(tmp_path, source, {"m": {"agg": "count"}}, allow_empty=True)
    assert result.frame.empty and list(result.frame.columns) == ["m"]
    assert result.sources[0].empty and result.sources[0].rows == 0


def test_a_duplicate_id_in_a_per_customer_table_is_an_error(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,Plan\nA,Pro\nB,Team\nA,Team\n")
    with pytest.raises(SourceError, match="ids appear on several rows: A"):
        load(tmp_path, source, {"Plan": {"column": "Plan"}})
    where = {"Plan": {"column": "Plan", "where": {"Plan": "Team"}}}
    assert load(tmp_path, source, where).frame["Plan"].to_dict() == {
        "A": "Team",
        "B": "Team",
    }


def test_nps_outside_0_to_10_is_an_error(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,score\nA,9\nA,11\n")
    with pytest.raises(SourceError, match="row 3, column 'score': an NPS score must be 0–10"):
        load(tmp_path, source, {"NPS": {"agg": "nps", "column": "score"}})


def test_the_report_counts_rows_ids_and_blank_ids(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,v\nA,1\n,2\n  ,3\nB,4\nA,5\n")
    result = load(tmp_path, source, {"m": {"agg": "count"}})
    (report,) = result.sources
    assert (report.name, report.kind, report.rows, report.ids) == ("s", "csv", 3, 2)
    assert report.notes == ("2 rows have a blank customer id",)


def test_progress_reports_each_step(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Customer ID,v\nA,1\n")
    calls: list[tuple[str, int, int]] = []
    load(
        tmp_path,
        source,
        {"a": {"agg": "count"}, "b": {"agg": "sum", "column": "v"}},
        progress=lambda *call: calls.append(call),
    )
    assert calls == [("s", 0, 3), ("s", 1, 3), ("s", 2, 3), ("s", 3, 3)]


def test_unknown_ids_are_listed_per_source_sorted_and_capped(tmp_path: Path) -> None:
    ids = [f"X{n:02d}" for n in range(25)] + ["00123", "123"]
    source = csv_source(tmp_path, "Customer ID\n" + "\n".join(ids) + "\n")
    result = load(tmp_path, source, {"m": {"agg": "count"}})
    found = unknown_ids(result, ["00123", "X00"])
    assert found["s"][:3] == ["123", "X01", "X02"]
    assert len(found["s"]) == 21 and found["s"][-1] == "… and 5 more"
    assert unknown_ids(result, ids) == {}


def _workbook(path: Path, tabs: dict[str, list[list[object]]]) -> None:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in tabs.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


NPS_ROWS: list[list[object]] = [
    ["Timestamp", "Customer ID", "How likely are you to recommend us?", "Comment"],
    [dt.datetime(2026, 3, 30, 9, 15), 123, 10, "Great"],
    [dt.datetime(2026, 3, 29, 9, 15), 123.0, 6, None],
    [None, None, None, None],
    [dt.datetime(2025, 3, 29, 9, 15), "00123", 0, "old"],
]
NPS_METRIC = {"agg": "nps", "column": "How likely are you to recommend us?", "window_days": 90}


def test_a_sheet_tab_is_read_through_read_tab(tmp_path: Path) -> None:
    table = Table(
        tab="NPS responses",
        headers=tuple(str(h) for h in NPS_ROWS[0]),
        rows=tuple(tuple(r) for r in NPS_ROWS[1:] if any(r)),  # type: ignore[misc]
        row_numbers=(2, 3, 5),
    )
    asked: list[tuple[str | None, str]] = []

    def read_tab(spreadsheet: str | None, tab: str) -> Table:
        asked.append((spreadsheet, tab))
        return table

    source = {"kind": "sheet", "tab": "NPS responses", "time_column": "Timestamp"}
    result = load(tmp_path, source, {"NPS": NPS_METRIC}, read_tab=read_tab)
    assert asked == [(None, "NPS responses")]
    assert result.frame["NPS"].to_dict() == {
        "123": 0.0,
        "00123": pytest.approx(math.nan, nan_ok=True),
    }


def test_a_sheet_tab_on_the_xlsx_backend_reads_the_workbook(tmp_path: Path) -> None:
    _workbook(tmp_path / "customers.xlsx", {"Customers": [["Customer ID"]], "NPS": NPS_ROWS})
    source = {"kind": "sheet", "tab": "nps", "time_column": "timestamp"}
    result = load(tmp_path, source, {"NPS": NPS_METRIC})
    assert result.frame.loc["123", "NPS"] == 0.0
    assert result.sources[0].rows == 3


def test_an_xlsx_source_with_a_missing_tab_lists_the_tabs(tmp_path: Path) -> None:
    _workbook(tmp_path / "other.xlsx", {"Responses": NPS_ROWS})
    source = {"kind": "xlsx", "path": "other.xlsx", "tab": "Answers"}
    with pytest.raises(SourceError, match=r"other\.xlsx has no tab 'Answers'") as caught:
        load(tmp_path, source, {"m": {"agg": "count"}})
    assert "'Responses'" in str(caught.value)


def test_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_text("id\n1\n")
    with pytest.raises(SourceError, match=r"fake\.xlsx is not an \.xlsx workbook"):
        load(tmp_path, {"kind": "xlsx", "path": "fake.xlsx"}, {"m": {"agg": "count"}})


def test_an_empty_tab_of_another_workbook(tmp_path: Path) -> None:
    _workbook(tmp_path / "other.xlsx", {"Responses": [NPS_ROWS[0]]})
    source = {"kind": "sheet", "tab": "Responses", "path": "other.xlsx"}
    with pytest.raises(EmptySourceError):
        load(tmp_path, source, {"m": {"agg": "count"}})
