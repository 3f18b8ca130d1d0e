"""Alerts: which customers get a row in the tool-owned Alerts tab this sync, and which alerts
still wait for a notification.

A customer's trouble is an *episode*: it begins with the first `worse` (colour worsened) or
`drop` (score fell by `Alert drop points` within the trend window) alert and ends with one
`recovered` row when the colour is back to where it was before (and a drop has been mostly
regained). Inside an episode only a colour worse than the worst so far raises another alert,
so a customer flapping between Yellow and Red is not announced daily.

The Alerts tab itself is the memory: episodes are read back from its rows by their `Episode`
and `Alert key` cells, never by row order, so a person sorting or filtering the tab, a re-run,
or a second sync the same day never repeats an alert.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sheets_health import template as T
from sheets_health.cells import is_blank, key_text, parse_number
from sheets_health.changes import top_reason
from sheets_health.errors import Problem
from sheets_health.model import (
    CellValue,
    CellWrite,
    CustomerScore,
    Rag,
    RowUpdate,
    Table,
    TabPlan,
    norm_header,
)
from sheets_health.roster import (
    RANK,
    CustomerRow,
    Seen,
    by_customer,
    date_or_none,
    number_or_none,
    rag_of,
)

ALERTS = T.ALERTS

SET_ALERT_ON = T.SET_ALERT_ON
SET_ALERT_DROP = T.SET_ALERT_DROP
ALERT_SETTING_KEYS = (SET_ALERT_ON, SET_ALERT_DROP)

KIND = "Kind"
FROM = "From"
TO = "To"
SCORE = "Score"
CHANGE = "Score change"
TOP_REASON = "Top reason"
RENEWAL = "Renewal date"
EPISODE = "Episode"
KEY = "Alert key"
NOTIFIED = "Notified"
ALERT_HEADERS = (T.DATE, T.CUSTOMER_ID, T.CUSTOMER_NAME, "CSM", KIND, FROM, TO, SCORE, CHANGE,
                 TOP_REASON, T.NEXT_STEP, RENEWAL, EPISODE, KEY, NOTIFIED)
assert ALERT_HEADERS == T.ALERT_HEADERS, "the template's Alerts headers are these"

NOTIFIED_YES = "yes"
NOTIFIED_PENDING = "pending"  # written with a new alert when a webhook is configured
RETRY_DAYS = 7  # an alert whose notification kept failing stops being retried after a week


class AlertRule(StrEnum):
    WORSE = "worse"
    DROP = "drop"


class AlertKind(StrEnum):
    WORSE = "worse"
    DROP = "drop"
    RECOVERED = "recovered"


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class AlertSettings:
    rules: frozenset[AlertRule] = frozenset({AlertRule.WORSE})
    drop_points: float = 10.0


_OFF = {"none", "off", "no", "never"}


def parse_alert_on(value: CellValue) -> frozenset[AlertRule]:
    """`worse`, `drop`, `worse, drop` (or `worse and drop`), `none`; raises ValueError."""
    words = [w for w in re.split(r"[\s,;+/&]+|\band\b", key_text(value).casefold()) if w]
    if len(words) == 1 and words[0] in _OFF:
        return frozenset()
    rules = set()
    for word in words:
        try:
            rules.add(AlertRule(word))
        except ValueError:
            raise ValueError(f"'{value}' is not worse, drop, 'worse, drop' or none") from None
    return frozenset(rules)


def parse_drop_points(value: CellValue) -> float:
    points = parse_number(value)
    if not 0 < points <= 100:
        raise ValueError(f"{points:g} is outside 1–100")
    return points


def alert_settings(table: Table | None) -> tuple[AlertSettings, tuple[Problem, ...]]:
    """The alert rows of the Settings tab; other keys are left to the sheet contract."""
    if table is None or table.column(T.SETTING) is None or table.column(T.VALUE) is None:
        return AlertSettings(), ()
    found: dict[str, object] = {}
    problems = []
    column = table.header_of(T.VALUE)
    parsers = {
        norm_header(SET_ALERT_ON): ("rules", parse_alert_on,
                                                    "worse, drop, 'worse, drop' or none"),
        norm_header(SET_ALERT_DROP): ("drop_points", parse_drop_points,
                                                      "a number of score points, e.g. 10"),
    }
    for index, row in enumerate(table.row_numbers):
        key = norm_header(table.value(index, T.SETTING))
        value = table.value(index, T.VALUE)
        if key not in parsers or is_blank(value):
            continue
        name, parse, fix = parsers[key]
        try:
            found[name] = parse(value)
        except ValueError as exc:
            problems.append(Problem(table.tab, row, column, str(exc), fix))
    return AlertSettings(**found), tuple(problems)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- alert rows


@dataclass(frozen=True)
class Alert:
    day: dt.date
    customer_id: str
    customer: str
    csm: str
    kind: AlertKind
    before: Rag | None
    after: Rag | None
    score: float | None
    change: float | None
    reason: str
    next_step: str
    renewal: dt.date | None
    episode: str  # the date the episode began (`2026-03-05`, `2026-03-05#2` for a second)
    key: str
    notified: str = ""

    def cells(self) -> dict[str, CellWrite]:
        return {
            T.DATE: CellWrite(self.day),
            T.CUSTOMER_ID: CellWrite(self.customer_id),
            T.CUSTOMER_NAME: CellWrite(self.customer),
            "CSM": CellWrite(self.csm),
            KIND: CellWrite(self.kind.value),
            FROM: CellWrite(self.before.value if self.before else ""),
            TO: CellWrite(self.after.value if self.after else ""),
            SCORE: CellWrite(self.score),
            CHANGE: CellWrite(self.change),
            TOP_REASON: CellWrite(self.reason),
            T.NEXT_STEP: CellWrite(self.next_step),
            RENEWAL: CellWrite(self.renewal),
            EPISODE: CellWrite(self.episode),
            KEY: CellWrite(self.key),
            NOTIFIED: CellWrite(self.notified),
        }


def alert_key(customer_id: str, kind: AlertKind, episode: str, to: Rag | None = None) -> str:
    """Stable identity: a worse alert per colour reached, a drop and a recovery per episode."""
    parts = [customer_id, kind.value, episode]
    if kind is AlertKind.WORSE and to is not None:
        parts.append(to.value)
    return "|".join(parts)


def _kind(value: CellValue) -> AlertKind | None:
    text = key_text(value).casefold()
    return next((k for k in AlertKind if k.value == text), None)


def read_alerts(table: Table | None) -> tuple[tuple[Alert, int], ...]:
    """Alert rows with their sheet row; rows without a key or kind (hand-made) are skipped."""
    if table is None:
        return ()
    alerts = []
    for index, row in enumerate(table.row_numbers):
        def cell(header: str, _i: int = index) -> CellValue:
            return table.value(_i, header)

        key, kind, day = key_text(cell(KEY)), _kind(cell(KIND)), date_or_none(cell(T.DATE))
        if not key or kind is None or day is None:
            continue
        alerts.append((Alert(
            day=day, customer_id=key_text(cell(T.CUSTOMER_ID)),
            customer=key_text(cell(T.CUSTOMER_NAME)), csm=key_text(cell("CSM")), kind=kind,
            before=rag_of(cell(FROM)), after=rag_of(cell(TO)), score=number_or_none(cell(SCORE)),
            change=number_or_none(cell(CHANGE)), reason=key_text(cell(TOP_REASON)),
            next_step=key_text(cell(T.NEXT_STEP)), renewal=date_or_none(cell(RENEWAL)),
            episode=key_text(cell(EPISODE)), key=key, notified=key_text(cell(NOTIFIED)),
        ), row))
    return tuple(alerts)


# ----------------------------------------------------------------------------- episodes


@dataclass
class Episode:
    customer_id: str
    began: str
    baseline: Rag | None = None  # the colour before the episode: recovering means reaching it
    worst: Rag | None = None
    drop_from: float | None = None  # the peak a drop alert was measured from
    recovered: bool = False
    kinds: set[AlertKind] = field(default_factory=set)

    def order(self) -> tuple[str, int]:
        day, _, nth = self.began.partition("#")
        return day, int(nth) if nth.isdigit() else 1


def _better(a: Rag | None, b: Rag | None) -> Rag | None:
    if a is None or b is None:
        return a or b
    return a if RANK[a] >= RANK[b] else b


def _worse(a: Rag | None, b: Rag | None) -> Rag | None:
    if a is None or b is None:
        return a or b
    return a if RANK[a] <= RANK[b] else b


def episodes(alerts: Sequence[Alert]) -> dict[str, list[Episode]]:
    """Each customer's episodes, oldest first, folded from rows in any order."""
    found: dict[tuple[str, str], Episode] = {}
    for alert in alerts:
        if not alert.episode:
            continue
        ep = found.setdefault((alert.customer_id, alert.episode),
                              Episode(alert.customer_id, alert.episode))
        ep.kinds.add(alert.kind)
        if alert.kind is AlertKind.RECOVERED:
            ep.recovered = True
            continue
        ep.baseline = _better(ep.baseline, alert.before)
        ep.worst = _worse(ep.worst, alert.after)
        if alert.kind is AlertKind.DROP and alert.score is not None and alert.change is not None:
            ep.drop_from = alert.score - alert.change
    by: dict[str, list[Episode]] = {}
    for ep in found.values():
        by.setdefault(ep.customer_id, []).append(ep)
    for eps in by.values():
        eps.sort(key=Episode.order)
    return by


def _new_episode(existing: Sequence[Episode], today: dt.date) -> str:
    day = today.isoformat()
    same_day = sum(1 for ep in existing if ep.order()[0] == day)
    return day if not same_day else f"{day}#{same_day + 1}"


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class AlertPlan:
    plan: TabPlan
    new: tuple[Alert, ...]  # appended by this sync, in Customers order
    pending: tuple[Alert, ...]  # waiting for a notification: earlier failures, then the new


def _pending(existing: Sequence[Alert], today: dt.date) -> list[Alert]:
    oldest = today - dt.timedelta(days=RETRY_DAYS)
    return [a for a in existing
            if (not a.notified or a.notified.casefold().startswith(("failed", NOTIFIED_PENDING)))
            and a.day >= oldest]


@dataclass(frozen=True)
class _Customer:
    """One customer's inputs to the decision, gathered once."""

    info: CustomerRow
    score: CustomerScore
    before: Rag | None  # the colour the team saw before this sync
    before_score: float | None
    earlier: tuple[Seen, ...]  # History days before today, oldest first

    def alert(self, kind: AlertKind, began: str, reference: float | None,
              today: dt.date, before: Rag | None) -> Alert:
        score = self.score
        change = None if reference is None or score.score is None else score.score - reference
        return Alert(
            day=today, customer_id=self.info.id, customer=self.info.name, csm=self.info.csm,
            kind=kind, before=before, after=score.rag, score=score.score, change=change,
            reason=top_reason(score.reasons), next_step=score.next_step,
            renewal=self.info.renewal, episode=began,
            key=alert_key(self.info.id, kind, began, score.rag))


def _decide(c: _Customer, eps: Sequence[Episode], today: dt.date, window_days: int,
            settings: AlertSettings) -> Alert | None:
    """At most one alert per customer per sync: worse, else recovered, else drop."""
    now = c.score.rag
    assert now is not None
    episode = eps[-1] if eps and not eps[-1].recovered else None
    reference = episode.worst if episode else c.before
    if AlertRule.WORSE in settings.rules and reference is not None \
            and RANK[now] < RANK[reference]:
        began = episode.began if episode else _new_episode(eps, today)
        return c.alert(AlertKind.WORSE, began, c.before_score, today, reference)
    if episode is not None:
        back = episode.baseline is None or RANK[now] >= RANK[episode.baseline]
        regained = episode.drop_from is None or (
            c.score.score is not None
            and c.score.score >= episode.drop_from - settings.drop_points / 2)
        if back and regained:
            shown = c.info.health or episode.worst  # what it recovers from, as the team saw
            return c.alert(AlertKind.RECOVERED, episode.began, c.before_score, today, shown)
        return None
    if AlertRule.DROP in settings.rules and c.score.score is not None:
        start = today - dt.timedelta(days=window_days)
        window = [p.score for p in c.earlier if p.day >= start and p.score is not None]
        if c.info.health_score is not None:
            window.append(c.info.health_score)
        if window and max(window) - c.score.score >= settings.drop_points:
            return c.alert(AlertKind.DROP, _new_episode(eps, today), max(window), today,
                           c.before)
    return None


def plan_alerts(
    *,
    table: Table | None,
    roster: Mapping[str, CustomerRow],
    scores: Mapping[str, CustomerScore],
    seen: Sequence[Seen],
    today: dt.date,
    window_days: int,
    settings: AlertSettings,
    notify: bool = False,
) -> AlertPlan:
    """The rows to append to the Alerts tab (``table`` None: the tab does not exist yet);
    with ``notify`` (a webhook is configured) new rows say `pending` until it has been told.

    "Before" is the healthier of the Customers `Health` cell as read and the last History day
    before today, so a sync whose Alerts write failed after the Customers write is caught up
    by the next sync that day. A customer with no colour ("not enough data") is left alone.
    """
    existing = [a for a, _row in read_alerts(table)]
    keys = {a.key for a in existing}
    history = by_customer(seen)
    all_eps = episodes(existing)
    new: list[Alert] = []
    for cid, score in scores.items():
        if score.rag is None:
            continue
        info = roster.get(cid) or CustomerRow(cid, cid, 0)
        earlier = tuple(p for p in history.get(cid, ()) if p.day < today)
        last = earlier[-1] if earlier else None
        customer = _Customer(
            info, score,
            before=_better(info.health, last.rag if last else None),
            before_score=info.health_score if info.health_score is not None
            else (last.score if last else None),
            earlier=earlier,
        )
        alert = _decide(customer, all_eps.get(cid, []), today, window_days, settings)
        if alert is not None and alert.key not in keys:
            keys.add(alert.key)
            new.append(replace(alert, notified=NOTIFIED_PENDING) if notify else alert)
    plan = TabPlan(
        tab=table.tab if table is not None else ALERTS,
        key_columns=(table.header_of(KEY) if table is not None else KEY,),
        add_headers=tuple(h for h in ALERT_HEADERS
                          if table is None or table.column(h) is None),
        appends=tuple(a.cells() for a in new),
    )
    return AlertPlan(plan, tuple(new), (*_pending(existing, today), *new))


def plan_notified(table: Table, delivered: Mapping[str, bool], today: dt.date) -> TabPlan:
    """Mark the `Notified` cell of alerts a notification was tried for (found by key, after
    the sync's writes were applied and the tab read again): `yes`, or `failed <date>` so the
    next sync retries it."""
    updates = []
    for alert, row in read_alerts(table):
        if alert.key not in delivered:
            continue
        mark = NOTIFIED_YES if delivered[alert.key] else f"failed {today.isoformat()}"
        if alert.notified != mark:
            updates.append(RowUpdate(row, (alert.key,), {NOTIFIED: CellWrite(mark)}))
    return TabPlan(
        tab=table.tab,
        key_columns=(table.header_of(KEY),),
        add_headers=() if table.column(NOTIFIED) is not None else (NOTIFIED,),
        updates=tuple(updates),
    )
