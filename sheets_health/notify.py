"""An optional chat webhook: one Slack-compatible message per sync that has alerts to tell.

The sheet writes come first; this runs after them and never raises past its caller: a
failure returns the alerts as undelivered, the caller marks them `failed <date>` in the
Alerts tab and the next sync sends them again. The webhook URL is a secret (it is the whole
credential), so no error text, repr or log record carries it.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from sheets_health.alerts import Alert, AlertKind
from sheets_health.cells import format_number
from sheets_health.errors import ConfigError

LinkFor = Callable[[str], str | None]

DEFAULT_TIMEOUT = 10.0
MAX_BLOCKS = 48  # Slack allows 50 blocks per message: the header and a "more" line besides
MAX_SECTION = 2900  # Slack's section text limit is 3000 characters
NO_CSM = "No CSM"


@dataclass(frozen=True)
class NotifySpec:
    webhook: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        return f"NotifySpec(webhook=<hidden>, timeout={self.timeout:g})"


def notify_spec(raw: Mapping[str, Any] | None, where: str = "[notify]") -> NotifySpec | None:
    """The `[notify]` table (with `${VAR}` already filled in); None when there is none."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table", 'write it as [notify] webhook = "${VAR}"')
    unknown = sorted(set(raw) - {"webhook", "timeout"})
    if unknown:
        raise ConfigError(f"{where} has unknown keys: {', '.join(unknown)}",
                          "use webhook and (optionally) timeout")
    webhook = raw.get("webhook")
    if not isinstance(webhook, str) or not webhook.strip():
        raise ConfigError(f"{where} webhook is missing or empty",
                          'set webhook = "${SLACK_WEBHOOK_URL}" and export that variable')
    parts = urlsplit(webhook.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # never echo the value: it is the secret
        raise ConfigError(f"{where} webhook is not an http(s) URL",
                          "set the environment variable to the incoming-webhook URL "
                          "your chat tool gave you")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) \
            or not math.isfinite(timeout) or not 0 < timeout <= 120:
        raise ConfigError(f"{where} timeout must be a number of seconds from 0 to 120",
                          "e.g. timeout = 10")
    return NotifySpec(webhook.strip(), float(timeout))


# ----------------------------------------------------------------------------- the message


def _escape(text: str) -> str:
    """Slack's three control characters in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _signed(value: float) -> str:
    text = format_number(abs(value))
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else "±0"


def alert_line(alert: Alert, link: str | None) -> str:
    name = _escape(alert.customer or alert.customer_id)
    who = f"<{link}|{name}>" if link else f"*{name}*"
    colours = f"{alert.before or '?'} → {alert.after or '?'}"
    change = "" if alert.change is None else f" ({_signed(alert.change)})"
    label = {AlertKind.WORSE: "worse", AlertKind.DROP: "score drop",
             AlertKind.RECOVERED: "recovered"}[alert.kind]
    line = f"• {who} {label}: {colours}{change}"
    if alert.reason:
        line += f" — {_escape(alert.reason)}"
    if alert.next_step and alert.kind is not AlertKind.RECOVERED:
        line += f". Next: {_escape(alert.next_step)}"
    if alert.renewal is not None:
        line += f". Renews {alert.renewal.isoformat()}"
    return line


def build_message(alerts: Sequence[Alert], link_for: LinkFor, sheet: str = "") -> dict[str, Any]:
    """A Slack incoming-webhook payload: a `text` fallback and one section per CSM."""
    counts: dict[AlertKind, int] = {}
    for alert in alerts:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
    parts = ", ".join(f"{counts[k]} {k.value}" for k in AlertKind if k in counts)
    noun = "alert" if len(alerts) == 1 else "alerts"
    title = f"Customer health: {len(alerts)} {noun} ({parts})"
    if sheet:
        title += f" in {_escape(sheet)}"
    groups: dict[str, list[str]] = {}
    for alert in alerts:
        groups.setdefault(alert.csm or NO_CSM, []).append(alert_line(alert, link_for(
            alert.customer_id)))
    order = sorted(groups, key=lambda csm: (csm == NO_CSM, csm.casefold()))
    sections = []
    for csm in order:
        text = f"*{_escape(csm)}*\n" + "\n".join(groups[csm])
        if len(text) > MAX_SECTION:
            text = text[: MAX_SECTION - 1] + "…"
        sections.append(text)
    blocks: list[dict[str, Any]] = [{"type": "section",
                                     "text": {"type": "mrkdwn", "text": f"*{title}*"}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": t}}
               for t in sections[:MAX_BLOCKS]]
    if len(sections) > MAX_BLOCKS:
        more = len(sections) - MAX_BLOCKS
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {more} more CSMs: see the Alerts tab"}]})
    return {"text": "\n\n".join([title, *sections]), "blocks": blocks}


# ----------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Delivery:
    delivered: tuple[str, ...] = ()  # alert keys the webhook accepted
    failed: tuple[str, ...] = ()  # alert keys to retry next sync
    error: str = ""  # why it failed, without the URL

    def outcome(self) -> dict[str, bool]:
        """What `alerts.plan_notified` marks: key → delivered."""
        return {**{k: True for k in self.delivered}, **{k: False for k in self.failed}}


class _Redact(logging.Filter):
    """Drops urllib3's debug records that would print the webhook's secret path."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self.secret not in record.getMessage()
        except Exception:  # a record that cannot format is dropped rather than risked
            return False


@contextlib.contextmanager
def _no_secret_in_logs(url: str) -> Iterator[None]:
    parts = urlsplit(url)
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    redact = _Redact(secret if secret.strip("/") else url)
    loggers = [logging.getLogger(n) for n in ("urllib3.connectionpool", "urllib3", "requests")]
    for logger in loggers:
        logger.addFilter(redact)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redact)


def send(
    spec: NotifySpec,
    alerts: Sequence[Alert],
    link_for: LinkFor,
    *,
    sheet: str = "",
    session: requests.Session | None = None,
) -> Delivery:
    """Post one message for ``alerts``; never raises for a network or HTTP failure."""
    keys = tuple(a.key for a in alerts)
    if not alerts:
        return Delivery()
    payload = build_message(alerts, link_for, sheet)
    http = session or requests.Session()
    try:
        with _no_secret_in_logs(spec.webhook):
            response = http.post(spec.webhook, json=payload, timeout=spec.timeout)
    except requests.Timeout:
        return Delivery(failed=keys, error=f"the webhook did not answer within "
                                           f"{spec.timeout:g} s; will retry next sync")
    except requests.RequestException as exc:  # its text names the URL: keep only the kind
        return Delivery(failed=keys, error=f"the webhook could not be reached "
                                           f"({type(exc).__name__}); will retry next sync")
    finally:
        if session is None:
            http.close()
    if not 200 <= response.status_code < 300:
        return Delivery(failed=keys, error=f"the webhook answered HTTP {response.status_code}; "
                                           "will retry next sync")
    return Delivery(delivered=keys)
