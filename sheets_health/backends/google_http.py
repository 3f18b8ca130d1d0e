"""The HTTP seam under gspread: API base URL, a timeout on every call, bounded retries.

`SheetsHTTPClient` is passed to ``gspread.Client(auth, http_client=...)``. It rewrites
``https://sheets.googleapis.com`` to the configured API base URL, retries reads on 408, 429,
5xx, timeouts and dropped connections (exponential backoff with full jitter, ``Retry-After``
honoured, at most ``RetryPolicy.attempts`` tries), and translates Google's errors into
`sheets_health.errors` at the boundary. A write (``batchUpdate``) is retried here only on
429, which Google answers before applying anything; any other failure of a write may have
been applied, so it surfaces as `UncertainWriteError` and the backend decides.

Nothing here logs or raises the Authorization header, the access token or a private key.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import requests
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from gspread.http_client import FileType, HTTPClient, ParamsType

from sheets_health.errors import (
    AccessDeniedError,
    ConfigError,
    NotFoundError,
    OutageError,
    SheetsHealthError,
)

log = logging.getLogger("sheets_health.backends.google")

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
GOOGLE_API_ROOT = "https://sheets.googleapis.com"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
ENABLE_API_URL = "https://console.cloud.google.com/apis/library/sheets.googleapis.com"

_SECRETS = (
    re.compile(r"(?i)bearer\s+[^\s'\",}]+"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"ya29\.[\w.\-]+"),
    re.compile(r"(?i)(\"?(access_token|id_token|refresh_token|private_key|assertion)\"?\s*[:=]\s*)"
               r"(\"[^\"]*\"|'[^']*'|[^\s&,}]+)"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove anything that looks like a credential (and the given secret strings)."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRETS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs credentials from records of the HTTP/auth libraries a sync runs through."""

    LOGGERS = ("sheets_health", "gspread", "google.auth", "google_auth_httplib2", "urllib3",
               "requests")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        http = getattr(record, "httpRequest", None)
        if isinstance(http, dict) and isinstance(http.get("headers"), Mapping):
            headers = {k: ("[redacted]" if k.lower() == "authorization" else v)
                       for k, v in http["headers"].items()}
            record.httpRequest = {**http, "headers": headers}
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Redact every record of the loggers a request passes through, and of their children.

    A filter on a logger runs only for records logged on that very logger, never for those
    its children (``urllib3.connectionpool``, ``google.auth.transport.requests``) propagate
    up, so the filter is applied where every record is made: once, around the record factory.
    """
    for name in RedactingFilter.LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if getattr(factory, "sheets_health_redacts", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        name = record.name
        if any(name == n or name.startswith(n + ".") for n in RedactingFilter.LOGGERS):
            _FILTER.filter(record)
        return record

    redacting_factory.sheets_health_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)


class UncertainWriteError(OutageError):
    """A write failed in a way that may or may not have applied it (5xx, timeout, reset)."""


class GoogleRequestError(ConfigError):
    """Google rejected a request as malformed (400): its message says what is wrong."""

    def __init__(self, message: str, hint: str | None, google_message: str) -> None:
        super().__init__(message, hint)
        self.google_message = google_message


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 32.0
    max_retry_after: float = 300.0  # a longer Retry-After is an outage: give up at once

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1))]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass
class RequestRecord:
    kind: str
    method: str
    path: str
    status: int | None
    sent_bytes: int
    received_bytes: int
    seconds: float


@dataclass
class Context:
    """What error messages need to know: where, and which account to share with."""

    description: str = "the Google Sheet"
    spreadsheet_id: str = ""
    client_email: str | None = None
    secrets: list[str] = field(default_factory=list)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _google_error(response: requests.Response) -> tuple[str, str]:
    """(message, whole error text) from a Google error body, safe to show."""
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if isinstance(error, str):  # OAuth style
            return str(body.get("error_description") or error), str(body)
        return str(error.get("message") or response.reason or ""), str(error)
    except ValueError:
        return (response.text or response.reason or "")[:300], response.text[:2000]


def translate_status(status: int, message: str, detail: str, ctx: Context) -> SheetsHealthError:
    """Google's answer as the product's typed error, with the fix in the hint."""
    where = ctx.description
    message = redact(message, ctx.secrets)
    if status == 403:
        disabled = ("SERVICE_DISABLED" in detail or "has not been used" in message
                    or "is disabled" in message)
        if disabled:
            return AccessDeniedError(
                f"{where}: the Google Sheets API is not enabled for the key's Cloud project "
                f"(403: {message})",
                f"enable the Google Sheets API at {ENABLE_API_URL} for the project of "
                f"{ctx.client_email or 'the service account'}, wait a minute, then rerun",
            )
        who = ctx.client_email or "the service account (client_email in the key file)"
        return AccessDeniedError(
            f"{where}: permission denied (403: {message})",
            f"share the sheet with {who} as Editor (Share button in Google Sheets)",
        )
    if status == 404:
        return NotFoundError(
            f"{where}: spreadsheet '{ctx.spreadsheet_id}' was not found (404); "
            "the spreadsheet id looks wrong",
            "copy the id from the sheet's URL (the part between /d/ and /edit), or paste the "
            "whole URL into spreadsheet = \"...\" in the [sheet] section",
        )
    if status == 401:
        return AccessDeniedError(
            f"{where}: Google rejected the credentials (401: {message})",
            "the key may be revoked or deleted: create a new JSON key for the service account "
            "and point credentials (or GOOGLE_APPLICATION_CREDENTIALS) at it",
        )
    if status == 400:
        return GoogleRequestError(
            f"{where}: Google rejected the request (400): {message}",
            "check tab names and the [sheet] settings; if they look right, rerun with --debug "
            "and report it",
            message,
        )
    if status in RETRYABLE_STATUS:
        return OutageError(
            f"{where}: the Google Sheets API is unavailable ({status}: {message}) after retries",
            "Google is overloaded or down: the next scheduled run will try again",
        )
    return ConfigError(f"{where}: Google answered {status}: {message}")


def refresh_error(exc: auth_exceptions.RefreshError, ctx: Context) -> SheetsHealthError:
    first = exc.args[0] if exc.args else ""
    text = redact(str(first), ctx.secrets)[:300]
    return AccessDeniedError(
        f"{ctx.description}: the service-account key was rejected when getting a token ({text})",
        "the key may be revoked, deleted or malformed: create a new JSON key for "
        f"{ctx.client_email or 'the service account'} and point credentials at it",
    )


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    auth_exceptions.TransportError,
)


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client with the product's base URL, timeout, retries and errors."""

    def __init__(self, auth: Credentials, session: requests.Session | None = None) -> None:
        super().__init__(auth, session)
        self.api_url: str | None = None
        self.policy = RetryPolicy()
        self.sleep: Callable[[float], None] = time.sleep
        self.rng = random.Random()
        self.context = Context()
        self.kind = "other"  # label for the request log (read / recheck / write ...)
        self.records: list[RequestRecord] = []

    # ------------------------------------------------------------------ configuration

    def configure(
        self,
        *,
        api_url: str | None,
        timeout: float,
        context: Context,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.api_url = normalise_api_url(api_url)
        self.set_timeout(timeout)
        self.context = context
        if sleep is not None:
            self.sleep = sleep
        if rng is not None:
            self.rng = rng
        if policy is not None:
            self.policy = policy

    def url(self, endpoint: str) -> str:
        if self.api_url and endpoint.startswith(GOOGLE_API_ROOT):
            return self.api_url + endpoint[len(GOOGLE_API_ROOT):]
        return endpoint

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        url = self.url(endpoint)
        safe = method.upper() == "GET" or not url.endswith(":batchUpdate")
        if json is not None:  # serialised once, compactly: what is sent is what is counted
            data = _dumps(json)
            headers = {**(headers or {}), "Content-Type": "application/json"}
        sent = len(data or b"")
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        ctx = self.context
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method=method, url=url, params=params, data=data, files=files,
                    headers=headers, timeout=self.timeout,
                )
            except auth_exceptions.RefreshError as exc:
                self._record(method, path, None, sent, 0, started)
                if getattr(exc, "retryable", False) and attempt < self.policy.attempts:
                    self._wait(attempt, None, f"token endpoint: {type(exc).__name__}")
                    continue
                if getattr(exc, "retryable", False):
                    raise OutageError(
                        f"{ctx.description}: could not get an access token after {attempt} "
                        "tries", "Google's token endpoint is unavailable: retry later",
                    ) from None
                raise refresh_error(exc, ctx) from None
            except _CONNECTION_ERRORS as exc:
                self._record(method, path, None, sent, 0, started)
                what = _describe_network_error(exc)
                if not safe:
                    raise UncertainWriteError(
                        f"{ctx.description}: a write request failed ({what})",
                        "the network or Google failed mid-write",
                    ) from None
                if attempt < self.policy.attempts:
                    self._wait(attempt, None, what)
                    continue
                raise OutageError(
                    f"{ctx.description}: the Google Sheets API did not answer ({what}) after "
                    f"{attempt} tries",
                    "check the network (and SHEETS_HEALTH_API_URL if set); the next run "
                    "will try again",
                ) from None
            self._record(method, path, response.status_code, sent, len(response.content),
                         started)
            if response.ok:
                return response
            status = response.status_code
            message, detail = _google_error(response)
            if status in RETRYABLE_STATUS:
                wait_for = retry_after_seconds(response.headers.get("Retry-After"))
                if wait_for is not None and wait_for > self.policy.max_retry_after:
                    raise OutageError(
                        f"{ctx.description}: Google asked to wait {wait_for:.0f} s ({status})",
                        "quota exhausted: the next scheduled run will try again",
                    )
                if not safe and status != 429:
                    raise UncertainWriteError(
                        f"{ctx.description}: a write request failed ({status}: "
                        f"{redact(message, ctx.secrets)})",
                        "Google failed mid-write",
                    )
                if attempt < self.policy.attempts:
                    self._wait(attempt, wait_for, f"{status} {redact(message, ctx.secrets)}")
                    continue
            raise translate_status(status, message, detail, ctx)

    def backoff_sleep(self, attempt: int, why: str) -> None:
        """The same backoff for the backend's own re-tries of uncertain writes."""
        self._wait(attempt, None, why)

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = self.policy.backoff(attempt, self.rng) if retry_after is None else retry_after
        log.info("retrying in %.2f s (attempt %d of %d failed: %s)", delay, attempt,
                 self.policy.attempts, why)
        self.sleep(delay)

    def _record(self, method: str, path: str, status: int | None, sent: int, received: int,
                started: float) -> None:
        seconds = time.monotonic() - started
        path = path.split("?", 1)[0]
        self.records.append(RequestRecord(self.kind, method.upper(), path, status, sent,
                                          received, seconds))
        log.debug("%s %s -> %s (%d bytes sent, %d received, %.3f s)", method.upper(), path,
                  status if status is not None else "no answer", sent, received, seconds)


def normalise_api_url(api_url: str | None) -> str | None:
    """Accept ``http://host:port``, ``.../v4`` or ``.../v4/spreadsheets`` alike."""
    if not api_url:
        return None
    url = api_url.strip().rstrip("/")
    for suffix in ("/v4/spreadsheets", "/v4"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def _describe_network_error(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, auth_exceptions.TransportError):
        return "could not reach the token endpoint"
    return "connection failed"


def _dumps(body: Mapping[str, Any]) -> bytes:
    import json

    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
