"""Point the real gspread (6.x) stack at the emulator.

gspread builds absolute URLs from ``gspread.urls`` (``https://sheets.googleapis.com/v4/...``);
the client below rewrites that prefix (and Drive's) to the emulator's base URL just before
the request goes out through google-auth's AuthorizedSession, so everything else — token
refresh, headers, JSON encoding, error handling — is the real code path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import gspread
from google.auth import _helpers
from google.oauth2.service_account import Credentials
from gspread.http_client import HTTPClient
from requests import Response

SHEETS_PREFIX = "https://sheets.googleapis.com"
DRIVE_PREFIX = "https://www.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


class RedirectingHTTPClient(HTTPClient):
    """An HTTPClient that sends Google API requests to ``base_url`` instead."""

    base_url: str = ""

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> Response:
        for prefix in (SHEETS_PREFIX, DRIVE_PREFIX):
            if endpoint.startswith(prefix):
                endpoint = self.base_url.rstrip("/") + endpoint[len(prefix):]
                break
        return super().request(method, endpoint, *args, **kwargs)


def redirecting_http_client(base_url: str,
                            base: type[HTTPClient] = HTTPClient) -> type[HTTPClient]:
    """A gspread ``http_client`` factory bound to ``base_url``.

    Pass ``base=gspread.http_client.BackOffHTTPClient`` to keep gspread's retries."""
    return type("EmulatorHTTPClient", (RedirectingHTTPClient, base), {"base_url": base_url})


def no_boundary_lookup(creds: Credentials) -> Credentials:
    """Stop google-auth (>= 2.4x) from looking up the key's "regional access boundary" at
    iamcredentials.googleapis.com in a background thread: no test may reach the internet.

    It marks the boundary as known (the no-op value) for a year, through the hook gcloud
    uses; older google-auth versions without the feature are left alone."""
    setter = getattr(creds, "_set_regional_access_boundary", None)
    if setter is not None:
        setter({"encodedLocations": "0x0",
                "expiry": _helpers.utcnow() + dt.timedelta(days=365)})
    return creds


def gspread_client(base_url: str, key: Mapping[str, Any], scopes: list[str] | None = None,
                   base: type[HTTPClient] = HTTPClient,
                   timeout: float | None = 10) -> gspread.Client:
    """A gspread Client authenticated with a service-account key against the emulator."""
    creds = no_boundary_lookup(
        Credentials.from_service_account_info(dict(key), scopes=scopes or SCOPES))
    client = gspread.Client(auth=creds, http_client=redirecting_http_client(base_url, base))
    client.set_timeout(timeout)
    return client
