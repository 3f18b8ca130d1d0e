"""OAuth: service-account keys for tests and the JWT-bearer token exchange.

The token endpoint checks what Google checks: the grant type, an RS256 signature by a
registered key, audience, expiry and the spreadsheets scope.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if TYPE_CHECKING:
    from .server import SheetsEmulator

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth always signs for Google's endpoint, whatever the key's token_uri says.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class TokenError(Exception):
    """An OAuth error: answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, code: int, error: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.error = error
        self.description = description


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class TokenInfo:
    client_email: str
    scopes: list[str]
    expires_at: float


@dataclass
class AuthRegistry:
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # client_email -> key
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, client_email: str, public_key: rsa.RSAPublicKey) -> None:
        with self.lock:
            self.keys[client_email] = public_key

    def exchange(self, form: dict[str, list[str]], token_uri: str) -> dict[str, Any]:
        grant = form.get("grant_type", [""])[0]
        if grant != JWT_BEARER:
            raise TokenError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        assertion = form.get("assertion", [""])[0]
        parts = assertion.split(".")
        if len(parts) != 3:
            raise TokenError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except ValueError:
            raise TokenError(400, "invalid_grant", "Invalid JWT: malformed token") from None
        if header.get("alg") != "RS256":
            raise TokenError(400, "invalid_grant", "Invalid JWT: unsupported algorithm")
        issuer = claims.get("iss", "")
        with self.lock:
            key = self.keys.get(issuer)
        if key is None:
            raise TokenError(400, "invalid_grant", "Invalid grant: account not found")
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(),
                       hashes.SHA256())
        except InvalidSignature:
            raise TokenError(400, "invalid_grant", "Invalid JWT Signature.") from None
        now = time.time()
        if claims.get("aud") not in (token_uri, GOOGLE_TOKEN_URI):
            raise TokenError(400, "invalid_grant", "Invalid JWT: audience does not match")
        if not claims.get("exp") or claims["exp"] < now - 60 or claims.get("iat", now) > now + 300:
            raise TokenError(400, "invalid_grant",
                             "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                             "a reasonable timeframe. Check your iat and exp values in the JWT "
                             "claim.")
        scopes = str(claims.get("scope", "")).split()
        if SPREADSHEETS_SCOPE not in scopes:
            raise TokenError(400, "invalid_scope",
                             f"Scope {SPREADSHEETS_SCOPE} missing from the assertion.")
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = TokenInfo(issuer, scopes, now + 3600)
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def check_bearer(self, header: str | None) -> TokenInfo | None:
        if not header or not header.startswith("Bearer "):
            return None
        with self.lock:
            info = self.tokens.get(header[len("Bearer "):].strip())
        if info is None or info.expires_at < time.time():
            return None
        return info


def make_service_account_key(emulator: SheetsEmulator, client_email: str | None = None,
                             register: bool = True) -> dict[str, str]:
    """A fresh service-account key JSON whose token_uri is the emulator's.

    With ``register=False`` the public key is unknown to the emulator, so the token
    exchange fails with a signature/account error, as with a revoked key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    email = client_email or f"sync-{secrets.token_hex(4)}@emulator-project.iam.gserviceaccount.com"
    if register:
        emulator.auth.register(email, private.public_key())
    key_id = secrets.token_hex(20)
    return {
        "type": "service_account",
        "project_id": "emulator-project",
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": emulator.url + "/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/" + email,
    }


def write_key_file(path: Path, key: Mapping[str, str] | str) -> Path:
    """Write a key file the way a careful admin keeps it: readable by its owner only (mode
    600), as the tool requires on POSIX."""
    path.write_text(key if isinstance(key, str) else json.dumps(key), encoding="utf-8")
    path.chmod(0o600)
    return path
