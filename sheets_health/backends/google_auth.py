"""Credentials and spreadsheet ids for the Google backend (spreadsheets scope only)."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
from pathlib import Path

import google.auth
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from gspread.exceptions import NoValidUrlKeyFound
from gspread.utils import extract_id_from_url

from sheets_health.backends.google_http import SHEETS_SCOPE, redact
from sheets_health.errors import ConfigError, CredentialsError

_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")


def spreadsheet_key(text: str) -> str:
    """The spreadsheet id from an id or any Google Sheets URL."""
    text = text.strip()
    if "/" in text or text.startswith("http"):
        try:
            return extract_id_from_url(text)
        except NoValidUrlKeyFound:
            raise ConfigError(
                f"spreadsheet = '{text}' is not a Google Sheets URL with an id in it",
                "paste the sheet's URL (https://docs.google.com/spreadsheets/d/<id>/edit) "
                "or just the id",
            ) from None
    if not _KEY.match(text):
        raise ConfigError(
            f"spreadsheet = '{text}' does not look like a Google Sheets id",
            "copy the id from the sheet's URL (the part between /d/ and /edit)",
        )
    return text


def load_credentials(path: Path | None) -> tuple[Credentials, str | None]:
    """A service-account key (the given path or GOOGLE_APPLICATION_CREDENTIALS), else ADC."""
    from google.oauth2 import service_account

    env_path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    key_path = path or (Path(env_path) if env_path else None)
    if key_path is None:
        try:
            creds, _project = google.auth.default(scopes=[SHEETS_SCOPE])
        except auth_exceptions.DefaultCredentialsError:
            raise CredentialsError(
                "no Google credentials found",
                "set credentials = \"service-account.json\" in [sheet], export "
                "GOOGLE_APPLICATION_CREDENTIALS=/path/key.json, or run `gcloud auth "
                "application-default login --scopes=https://www.googleapis.com/auth/"
                "spreadsheets,https://www.googleapis.com/auth/cloud-platform`",
            ) from None
        return _sheets_only(creds), getattr(creds, "service_account_email", None)
    key_path = key_path.expanduser()
    named_by = "" if path else " (named by GOOGLE_APPLICATION_CREDENTIALS)"
    fix = ("download a JSON key for the service account (Google Cloud console > IAM > Service "
           "accounts > Keys > Add key > JSON) and point credentials at it")
    if not key_path.exists():
        raise CredentialsError(f"the credentials file {key_path}{named_by} does not exist",
                               fix)
    _private_to_owner(key_path, named_by)
    try:
        info = json.loads(key_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"the credentials file {key_path}{named_by} does not exist",
                               fix) from None
    except (OSError, ValueError):
        raise CredentialsError(f"the credentials file {key_path}{named_by} is not a readable "
                               "JSON key", fix) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else None
        raise CredentialsError(
            f"the credentials file {key_path} is not a service-account key (type is {kind!r})",
            fix + "; for your own user account use application-default credentials instead",
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=[SHEETS_SCOPE])
    except ValueError as exc:
        detail = str(exc) if "missing fields" in str(exc) else "the private key cannot be read"
        raise CredentialsError(f"the credentials file {key_path} is not a valid key: "
                               f"{redact(detail)}", fix) from None
    return _sheets_only(creds), creds.service_account_email


def _private_to_owner(key_path: Path, named_by: str) -> None:
    """Refuse a key other users of the machine can read: it grants the sheet to anyone who
    copies it. POSIX mode bits only; Windows has ACLs instead, which this does not judge."""
    if os.name == "nt":
        return
    try:
        mode = key_path.stat().st_mode
    except OSError:
        return  # reading it fails next, with its own message
    if mode & 0o077:
        raise CredentialsError(
            f"the credentials file {key_path}{named_by} is readable by other users of this "
            f"computer (mode {stat.S_IMODE(mode):o})",
            f"make it private to its owner: chmod 600 {shlex.quote(str(key_path))}",
        )


def _sheets_only(creds: Credentials) -> Credentials:
    """Keep the network footprint to the token endpoint and the Sheets API.

    google-auth 2.63 can start a background "regional access boundary" lookup at
    iamcredentials.googleapis.com after a token refresh (when the environment sets
    GOOGLE_SDK_EXPERIMENTAL_PYTHON_REGIONAL_ACCESS_BOUNDARY_LOOKUP_ENABLED); it would bypass
    the API base URL (and reach the internet from tests). There is no public switch, so the
    private predicate is overridden on these credentials — checked with google-auth 2.63
    only (the guard in `private_api` refuses others; pyproject.toml pins the same). It can
    go when google-auth offers a public way to turn the lookup off per credentials, or
    sends it to the caller's endpoint.
    """
    from google.auth import __version__ as installed

    from sheets_health.backends.private_api import GOOGLE_AUTH

    GOOGLE_AUTH.require(installed)
    try:
        from google.auth.credentials import CredentialsWithRegionalAccessBoundary as Looking
    except ImportError as exc:
        raise GOOGLE_AUTH.unsupported(installed, str(exc)) from exc
    hook = "_is_regional_access_boundary_lookup_required"
    if not isinstance(creds, Looking):
        return creds  # a kind of credentials that never looks the boundary up
    if not callable(getattr(creds, hook, None)):
        raise GOOGLE_AUTH.unsupported(installed, f"{type(creds).__name__} has no {hook}")
    setattr(creds, hook, lambda: False)
    return creds
