"""Alerts over a sequence of syncs: one row per change, a recovery row, never a repeat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from sheets_health import alerts as A
from sheets_health.alerts import AlertKind, AlertRule, AlertSettings
from sheets_health.model import CellValue, Rag
from sheets_health.roster import read_roster
from tests.action_sheet import Sheet, score, table

DAY0 = dt.date(2026, 3, 1)
WORSE = AlertSettings(frozenset({AlertRule.WORSE}))
BOTH = AlertSettings(frozenset({AlertRule.WORSE, AlertRule.DROP}), drop_points=10)


def fresh(*ids: str) -> Sheet:
    return Sheet({cid: {"Customer ID": cid, "Customer": f"Cust {cid}", "CSM": "Ana",
                        "Renewal date": dt.date(2026, 6, 30)} for cid in ids})


def sync(sheet: Sheet, day: dt.date, values: Mapping[str, float | None],
         settings: AlertSettings = WORSE, window: int = 30) -> A.AlertPlan:
    """One sync: plan from the sheet as read, then write what the sync writes."""
    scores = {cid: score(cid, v) for cid, v in values.items()}
    result = A.plan_alerts(table=sheet.alerts_table(), roster=read_roster(sheet.customers_table()),
                           scores=scores, seen=sheet.history, today=day, window_days=window,
                           settings=settings)
    sheet.apply_alerts(result.plan)
    sheet.record(scores, day)
    return result


def kinds(result: A.AlertPlan) -> list[tuple[str, str, str | None, str | None]]:
    return [(a.customer_id, a.kind.value, a.before and a.before.value,
             a.after and a.after.value) for a in result.new]


# Each step: the day offset, the scores that day, and the alerts that sync must raise.
SEQUENCE = [
    (0, {"c1": 80, "c2": 30}, []),  # first scores are not changes
    (1, {"c1": 60, "c2": 30}, [("c1", "worse", "Green", "Yellow")]),
    (2, {"c1": 62, "c2": 30}, []),  # still Yellow: the episode is open, nothing new
    (3, {"c1": 30, "c2": 45}, [("c1", "worse", "Yellow", "Red")]),  # c2 improving: no alert
    (4, {"c1": 50, "c2": 45}, []),  # Red → Yellow is not back to Green yet
    (5, {"c1": 35, "c2": 45}, []),  # flapping back to Red: already announced in this episode
    (6, {"c1": 75, "c2": 30}, [("c1", "recovered", "Red", "Green"),
                               ("c2", "worse", "Yellow", "Red")]),
    (7, {"c1": 75, "c2": 30}, []),
    (8, {"c1": 65, "c2": 75}, [("c1", "worse", "Green", "Yellow"),  # a new episode
                               ("c2", "recovered", "Red", "Green")]),
]


def test_a_sequence_of_days_gives_one_alert_per_change_and_a_recovery() -> None:
    sheet = fresh("c1", "c2")
    for offset, values, expected in SEQUENCE:
        result = sync(sheet, DAY0 + dt.timedelta(days=offset), values)
        assert kinds(result) == expected, f"day {offset}"
    keys = [row[sheet.alerts_headers.index(A.KEY)] for row in sheet.alerts_rows]
    assert len(keys) == len(set(keys)) == 6
    # c1's two episodes are told apart by the day each began
    assert keys[0] == "c1|worse|2026-03-02|Yellow"
    assert "c1|worse|2026-03-09|Yellow" in keys


def test_rerunning_a_sync_or_a_second_sync_the_same_day_repeats_nothing() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    first = sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 30})
    assert kinds(first) == [("c1", "worse", "Green", "Red")]
    for _ in range(2):  # later syncs that day, nothing changed
        assert sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 30}).new == ()
    assert len(sheet.alerts_rows) == 1


def test_a_sync_whose_customers_write_was_lost_does_not_repeat_the_alert() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    day = DAY0 + dt.timedelta(days=1)
    scores = {"c1": score("c1", 30)}
    roster = read_roster(sheet.customers_table())
    plan = A.plan_alerts(table=sheet.alerts_table(), roster=roster, scores=scores,
                         seen=sheet.history, today=day, window_days=30, settings=WORSE)
    sheet.apply_alerts(plan.plan)  # Alerts written, Customers and History not
    again = A.plan_alerts(table=sheet.alerts_table(), roster=roster, scores=scores,
                          seen=sheet.history, today=day, window_days=30, settings=WORSE)
    assert again.new == ()


def test_an_alert_write_that_failed_is_caught_up_by_the_next_sync_that_day() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    day = DAY0 + dt.timedelta(days=1)
    sheet.record({"c1": score("c1", 30)}, day)  # Customers and History written, Alerts lost
    assert kinds(sync(sheet, day, {"c1": 30})) == [("c1", "worse", "Green", "Red")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorting_the_alerts_tab_never_repeats_an_alert(seed: int) -> None:
    sheet = fresh("c1", "c2")
    for offset, values, expected in SEQUENCE:
        sheet.shuffle_alerts(seed + offset)
        result = sync(sheet, DAY0 + dt.timedelta(days=offset), values)
        assert kinds(result) == expected, f"day {offset}"
        assert sync(sheet, DAY0 + dt.timedelta(days=offset), values).new == ()


def test_a_same_day_relapse_after_recovery_is_a_new_episode() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    day = DAY0 + dt.timedelta(days=1)
    assert kinds(sync(sheet, day, {"c1": 60})) == [("c1", "worse", "Green", "Yellow")]
    assert kinds(sync(sheet, day, {"c1": 80})) == [("c1", "recovered", "Yellow", "Green")]
    relapse = sync(sheet, day, {"c1": 60})
    assert [a.key for a in relapse.new] == ["c1|worse|2026-03-02#2|Yellow"]
    assert sync(sheet, day, {"c1": 60}).new == ()


def test_a_second_worsening_the_same_day_starts_from_the_colour_the_team_saw() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    day = DAY0 + dt.timedelta(days=1)
    assert kinds(sync(sheet, day, {"c1": 60})) == [("c1", "worse", "Green", "Yellow")]
    assert kinds(sync(sheet, day, {"c1": 30})) == [("c1", "worse", "Yellow", "Red")]
    assert sync(sheet, day, {"c1": 30}).new == ()


def test_a_drop_within_the_window_alerts_once_and_recovers_when_mostly_regained() -> None:
    sheet = fresh("c1")
    steps = [
        (0, 95, []),
        (5, 90, []),
        (10, 84, [("c1", "drop", "Green", "Green")]),  # 95 → 84 within 30 days: −11
        (11, 80, []),  # the drop is already announced
        (12, 88, []),  # 7 below the peak: not yet regained (within 10 / 2 = 5)
        (13, 91, [("c1", "recovered", "Green", "Green")]),
        (14, 91, []),
    ]
    for offset, value, expected in steps:
        result = sync(sheet, DAY0 + dt.timedelta(days=offset), {"c1": value}, BOTH)
        assert kinds(result) == expected, f"day {offset}"
    drop = next(a for a, _ in A.read_alerts(sheet.alerts_table()) if a.kind is AlertKind.DROP)
    assert drop.change == -11 and drop.score == 84


def test_a_drop_older_than_the_window_is_not_an_alert() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 95}, BOTH, window=7)
    for offset in range(8, 40, 8):  # falls 3 points every 8 days: never 10 within 7
        value = 95 - 3 * offset // 8
        assert sync(sheet, DAY0 + dt.timedelta(days=offset), {"c1": value}, BOTH,
                    window=7).new == ()


def test_a_colour_change_and_a_drop_on_the_same_day_are_one_alert() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80}, BOTH)
    result = sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 55}, BOTH)
    assert kinds(result) == [("c1", "worse", "Green", "Yellow")]
    assert result.new[0].change == -25


def test_drop_alerts_are_off_unless_the_setting_asks_for_them() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 95})
    assert sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 72}).new == ()


def test_not_enough_data_is_neither_an_alert_nor_a_recovery() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 30})
    assert sync(sheet, DAY0 + dt.timedelta(days=2), {"c1": None}).new == ()
    # the colour before "not enough data" comes from History: Red → Red is no change
    assert sync(sheet, DAY0 + dt.timedelta(days=3), {"c1": 30}).new == ()
    assert kinds(sync(sheet, DAY0 + dt.timedelta(days=4), {"c1": 80})) == [
        ("c1", "recovered", "Red", "Green")]


def test_an_override_colour_is_what_alerts_follow() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    scores = {"c1": score("c1", 80, rag=Rag.RED)}
    result = A.plan_alerts(table=sheet.alerts_table(),
                           roster=read_roster(sheet.customers_table()), scores=scores,
                           seen=sheet.history, today=DAY0 + dt.timedelta(days=1),
                           window_days=30, settings=WORSE)
    assert [(a.kind, a.after) for a in result.new] == [(AlertKind.WORSE, Rag.RED)]


def test_an_alert_row_says_what_a_csm_needs() -> None:
    sheet = fresh("c1")
    sync(sheet, DAY0, {"c1": 80})
    sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 30})
    row = dict(zip(sheet.alerts_headers, sheet.alerts_rows[0], strict=True))
    assert row == {
        "Date": DAY0 + dt.timedelta(days=1), "Customer ID": "c1", "Customer": "Cust c1",
        "CSM": "Ana", "Kind": "worse", "From": "Green", "To": "Red", "Score": 30,
        "Score change": -50, "Top reason": "Tickets open 9 (target ≤ 2) −14 pts",
        "Next step": "Call about the open tickets", "Renewal date": dt.date(2026, 6, 30),
        "Episode": "2026-03-02", "Alert key": "c1|worse|2026-03-02|Red", "Notified": "",
    }
    assert tuple(sheet.alerts_headers) == A.ALERT_HEADERS


def test_a_first_sync_on_an_existing_sheet_does_not_flood_the_alerts_tab() -> None:
    sheet = fresh("c1", "c2")
    sheet.customers["c1"].update({"Health": "Red", "Health score": 20})
    sheet.customers["c2"].update({"Health": "Yellow", "Health score": 50})
    assert sync(sheet, DAY0, {"c1": 20, "c2": 50}).new == ()


# ----------------------------------------------------------------------------- pending


def test_pending_alerts_are_the_unnotified_and_failed_ones_of_the_last_week() -> None:
    sheet = fresh("c1", "c2", "c3")
    sync(sheet, DAY0, {"c1": 80, "c2": 80, "c3": 80})
    sync(sheet, DAY0 + dt.timedelta(days=1), {"c1": 30, "c2": 30, "c3": 80})
    delivered = {"c1|worse|2026-03-02|Red": True, "c2|worse|2026-03-02|Red": False}
    marks = A.plan_notified(sheet.alerts(), delivered, DAY0 + dt.timedelta(days=1))
    sheet.shuffle_alerts(4)
    sheet.apply_alerts(marks)
    notified = {r[sheet.alerts_headers.index(A.KEY)]: r[-1] for r in sheet.alerts_rows}
    assert notified == {"c1|worse|2026-03-02|Red": "yes",
                        "c2|worse|2026-03-02|Red": "failed 2026-03-02"}
    result = sync(sheet, DAY0 + dt.timedelta(days=2), {"c1": 30, "c2": 30, "c3": 30})
    assert [a.key for a in result.pending] == ["c2|worse|2026-03-02|Red",
                                               "c3|worse|2026-03-03|Red"]
    week_later = sync(sheet, DAY0 + dt.timedelta(days=10), {"c1": 30, "c2": 30, "c3": 30})
    assert week_later.pending == ()
    # marking again with the same outcome writes nothing
    assert A.plan_notified(sheet.alerts(), delivered,
                           DAY0 + dt.timedelta(days=1)).updates == ()


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(("value", "rules"), [
    ("worse", {AlertRule.WORSE}),
    ("Drop", {AlertRule.DROP}),
    ("worse, drop", {AlertRule.WORSE, AlertRule.DROP}),
    ("worse and drop", {AlertRule.WORSE, AlertRule.DROP}),
    ("none", set()),
])
def test_alert_on_values(value: str, rules: set[AlertRule]) -> None:
    settings, problems = A.alert_settings(
        table("Settings", ("Setting", "Value"), [("Alert on", value)]))
    assert (settings.rules, problems) == (rules, ())


def test_alert_setting_names_match_like_headers() -> None:
    settings, _ = A.alert_settings(table("Settings", ("setting", "VALUE"), [
        ("alert  ON", "drop"), ("Alert drop Points", "15")]))
    assert settings == AlertSettings(frozenset({AlertRule.DROP}), 15.0)


def test_alert_settings_default_to_colour_worsening_and_ten_points() -> None:
    settings, problems = A.alert_settings(
        table("Settings", ("Setting", "Value"), [("Green at or above", 70)]))
    assert (settings, problems) == (AlertSettings(frozenset({AlertRule.WORSE}), 10.0), ())


@pytest.mark.parametrize(("key", "value", "message"), [
    ("Alert on", "worse, sometimes",
     "'worse, sometimes' is not worse, drop, 'worse, drop' or none"),
    ("Alert drop points", "lots", "'lots' is not a number"),
    ("Alert drop points", 0, "0 is outside 1–100"),
])
def test_bad_alert_settings_name_the_cell_and_the_fix(key: str, value: CellValue,
                                                       message: str) -> None:
    _settings, problems = A.alert_settings(table(
        "Settings", ("Setting", "Value"), [("Trend window days", 30), (key, value)]))
    assert [(p.tab, p.row, p.column, p.message) for p in problems] == [
        ("Settings", 3, "Value", message)]
    assert problems[0].fix
