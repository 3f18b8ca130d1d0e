"""The webhook against a real local HTTP server: what it receives, and a failure retried."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from sheets_health import alerts as A
from sheets_health.errors import ConfigError
from sheets_health.notify import NotifySpec, build_message, notify_spec, send
from sheets_health.roster import read_roster
from tests.action_sheet import Sheet, score
from tests.hook import SECRET_PATH, Hook
from tests.hook import hook as hook  # the fixture

DAY0 = dt.date(2026, 3, 1)


def link_for(cid: str) -> str | None:
    rows = {"c1": 2, "c2": 3}
    return f"https://docs.google.com/spreadsheets/d/abc/edit#gid=0&range=A{rows[cid]}" \
        if cid in rows else None


def sheet_with_alerts() -> tuple[Sheet, A.AlertPlan]:
    sheet = Sheet({
        "c1": {"Customer ID": "c1", "Customer": "Acme & Co", "CSM": "Ben"},
        "c2": {"Customer ID": "c2", "Customer": "Globex", "CSM": "Ana"},
        "c3": {"Customer ID": "c3", "Customer": "Initech", "CSM": "Ana",
               "Renewal date": dt.date(2026, 4, 15)},
    })
    plan = None
    for offset, values in [(0, {"c1": 80, "c2": 80, "c3": 80}),
                           (1, {"c1": 80, "c2": 80, "c3": 30}),
                           (2, {"c1": 30, "c2": 60, "c3": 75})]:
        day = DAY0 + dt.timedelta(days=offset)
        scores = {cid: score(cid, v) for cid, v in values.items()}
        plan = A.plan_alerts(table=sheet.alerts_table(),
                             roster=read_roster(sheet.customers_table()), scores=scores,
                             seen=sheet.history, today=day, window_days=30,
                             settings=A.AlertSettings())
        sheet.apply_alerts(plan.plan)
        sheet.record(scores, day)
        # c3's worse alert of day 1 was delivered then
        sheet.apply_alerts(A.plan_notified(sheet.alerts(), {
            a.key: True for a in plan.new if a.customer_id == "c3"}, day))
    assert plan is not None
    return sheet, plan


def test_the_webhook_gets_one_message_grouped_by_csm_with_links(hook: Hook) -> None:
    _sheet, plan = sheet_with_alerts()
    delivery = send(NotifySpec(hook.url, timeout=5), plan.pending, link_for, sheet="Health")
    assert delivery.delivered == tuple(a.key for a in plan.new) and delivery.failed == ()
    assert len(hook.payloads) == 1
    text = hook.payloads[0]["text"]
    assert text.splitlines() == [
        "Customer health: 3 alerts (2 worse, 1 recovered) in Health",
        "",
        "*Ana*",
        "• <https://docs.google.com/spreadsheets/d/abc/edit#gid=0&range=A3|Globex> worse: "
        "Green → Yellow (−20) — Tickets open 9 (target ≤ 2) −14 pts. "
        "Next: Call about the open tickets",
        "• *Initech* recovered: Red → Green (+45) — Tickets open 9 (target ≤ 2) −14 pts. "
        "Renews 2026-04-15",
        "",
        "*Ben*",
        "• <https://docs.google.com/spreadsheets/d/abc/edit#gid=0&range=A2|Acme &amp; Co> "
        "worse: Green → Red (−50) — Tickets open 9 (target ≤ 2) −14 pts. "
        "Next: Call about the open tickets",
    ]
    blocks = hook.payloads[0]["blocks"]
    assert [b["text"]["text"].splitlines()[0] for b in blocks] == [
        "*Customer health: 3 alerts (2 worse, 1 recovered) in Health*", "*Ana*", "*Ben*"]


def test_a_line_without_a_link_names_the_customer_in_bold() -> None:
    _sheet, plan = sheet_with_alerts()
    message = build_message(plan.new, lambda cid: None)
    assert "• *Initech* recovered: Red → Green (+45) — Tickets open 9" in message["text"]
    assert "Renews 2026-04-15" in message["text"]
    line = next(x for x in message["text"].splitlines() if "*Initech*" in x)
    assert "Next:" not in line  # a recovery needs no next step


def test_a_webhook_that_fails_once_is_retried_on_the_next_sync(hook: Hook) -> None:
    sheet, plan = sheet_with_alerts()
    hook.statuses = [500]
    spec = NotifySpec(hook.url, timeout=5)
    first = send(spec, plan.pending, link_for)
    assert first.delivered == () and set(first.failed) == {a.key for a in plan.new}
    assert first.error == "the webhook answered HTTP 500; will retry next sync"
    day = DAY0 + dt.timedelta(days=2)
    sheet.apply_alerts(A.plan_notified(sheet.alerts(), first.outcome(), day))
    # the next sync: nothing new, the failed alerts are still pending and are sent again
    scores = {"c1": score("c1", 30), "c2": score("c2", 60), "c3": score("c3", 75)}
    later = A.plan_alerts(table=sheet.alerts_table(), roster=read_roster(
        sheet.customers_table()), scores=scores, seen=sheet.history,
        today=day + dt.timedelta(days=1), window_days=30, settings=A.AlertSettings())
    assert later.new == () and {a.key for a in later.pending} == set(first.failed)
    second = send(spec, later.pending, link_for)
    assert set(second.delivered) == set(first.failed)
    assert hook.payloads[0] == hook.payloads[1]  # the same message, not a partial one
    sheet.apply_alerts(A.plan_notified(sheet.alerts(), second.outcome(), day))
    notified = [r[sheet.alerts_headers.index(A.NOTIFIED)] for r in sheet.alerts_rows]
    assert notified == ["yes"] * 4  # c3's earlier alert and the three of this sync


def test_no_alerts_means_no_message(hook: Hook) -> None:
    assert send(NotifySpec(hook.url), (), link_for).delivered == ()
    assert hook.payloads == []


def test_a_stalled_webhook_times_out_and_stays_pending(hook: Hook) -> None:
    _sheet, plan = sheet_with_alerts()
    hook.stall = True
    delivery = send(NotifySpec(hook.url, timeout=0.3), plan.pending, link_for)
    assert delivery.delivered == () and len(delivery.failed) == 3
    assert delivery.error == "the webhook did not answer within 0.3 s; will retry next sync"


def test_an_unreachable_webhook_never_shows_its_url(caplog: pytest.LogCaptureFixture) -> None:
    _sheet, plan = sheet_with_alerts()
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:9{SECRET_PATH}"  # port 9 (discard): nothing listens there
    delivery = send(NotifySpec(url, timeout=2), plan.pending, link_for)
    assert delivery.failed and "ConnectionError" in delivery.error
    assert "s3cr3t" not in delivery.error
    assert "s3cr3t" not in caplog.text
    assert "s3cr3t" not in repr(NotifySpec(url))


def test_urllib3_debug_logs_of_a_delivery_do_not_carry_the_secret_path(
        hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    _sheet, plan = sheet_with_alerts()
    caplog.set_level(logging.DEBUG)
    assert send(NotifySpec(hook.url), plan.pending, link_for).delivered
    assert "s3cr3t" not in caplog.text


# ----------------------------------------------------------------------------- the spec


def test_the_spec_takes_the_webhook_and_a_timeout() -> None:
    assert notify_spec(None) is None
    assert notify_spec({"webhook": "https://hooks.slack.com/services/x"}) == NotifySpec(
        "https://hooks.slack.com/services/x", 10.0)
    assert notify_spec({"webhook": "https://h/x", "timeout": 3}) == NotifySpec("https://h/x", 3)


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "[notify] webhook is missing or empty"),
    ({"webhook": "hooks.slack.com/s3cr3t"}, "[notify] webhook is not an http(s) URL"),
    ({"webhook": "https://h/x", "timeout": 0}, "[notify] timeout must be a number of seconds "
                                               "from 0 to 120"),
    ({"webhook": "https://h/x", "retries": 3}, "[notify] has unknown keys: retries"),
])
def test_a_bad_spec_says_what_is_wrong_without_the_secret(raw: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        notify_spec(raw)
    assert caught.value.message == message
    assert "s3cr3t" not in str(caught.value)
