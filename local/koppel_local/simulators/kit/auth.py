"""Authentication as the simulated systems check it, and HMAC signatures on webhooks they send.

Each checker answers with an `AuthFailure` (or None); the simulator renders it in its system's
own words, since every system spells a 401 differently.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from werkzeug.wrappers import Request

FailureKind = Literal["missing", "unknown", "expired", "bad_credentials", "bad_grant"]


@dataclass(frozen=True)
class AuthFailure:
    kind: FailureKind
    detail: str
    seconds_late: float = 0.0  # for "expired": how long ago the token ran out


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str

    def check(self, request: Request) -> AuthFailure | None:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return AuthFailure("missing", "basic credentials are required")
        if not (
            hmac.compare_digest(auth.username or "", self.username)
            and hmac.compare_digest(auth.password or "", self.password)
        ):
            return AuthFailure("bad_credentials", "the credentials do not match")
        return None


@dataclass(frozen=True)
class HeaderKey:
    """A fixed secret in one header (Shopify's `X-Shopify-Access-Token`, an API key)."""

    header: str
    secret: str

    def check(self, request: Request) -> AuthFailure | None:
        given = request.headers.get(self.header)
        if not given:
            return AuthFailure("missing", f"{self.header} is required")
        if not hmac.compare_digest(given, self.secret):
            return AuthFailure("unknown", f"{self.header} is not valid")
        return None


@dataclass
class BearerTokens:
    """Bearer tokens with an expiry time each, on the simulator's clock."""

    clock: Callable[[], float] = time.monotonic
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at

    def add(self, ttl_seconds: float, token: str | None = None) -> str:
        token = token or secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + ttl_seconds
        return token

    def expire_all(self) -> None:
        """Every token issued so far is expired from now on."""
        now = self.clock()
        self.tokens = dict.fromkeys(self.tokens, now)

    def check(self, request: Request) -> AuthFailure | None:
        auth = request.authorization
        if auth is None or auth.type != "bearer" or not auth.token:
            return AuthFailure("missing", "a bearer token is required")
        expires_at = self.tokens.get(auth.token)
        if expires_at is None:
            return AuthFailure("unknown", "the token was not issued here")
        now = self.clock()
        if now >= expires_at:
            return AuthFailure("expired", "the token has expired", seconds_late=now - expires_at)
        return None


@dataclass
class ClientCredentials:
    """An OAuth 2.0 client-credentials token endpoint: basic client auth in, a bearer token out."""

    client_id: str
    client_secret: str
    ttl_seconds: float
    clock: Callable[[], float] = time.monotonic
    issued: int = 0  # token requests seen, granted or not
    bearer: BearerTokens = field(init=False)

    def __post_init__(self) -> None:
        self.bearer = BearerTokens(clock=self.clock)

    def issue(self, request: Request) -> str | AuthFailure:
        """A new token, or why none is given; the grant type may come in the query or the form."""
        self.issued += 1
        denied = BasicAuth(self.client_id, self.client_secret).check(request)
        if denied is not None:
            return AuthFailure("bad_credentials", "bad client credentials")
        grant = request.args.get("grant_type") or request.form.get("grant_type")
        if grant != "client_credentials":
            return AuthFailure("bad_grant", "only client_credentials is supported")
        return self.bearer.add(self.ttl_seconds)

    def check(self, request: Request) -> AuthFailure | None:
        return self.bearer.check(request)

    def expire_all(self) -> None:
        self.bearer.expire_all()


# --- webhooks out --------------------------------------------------------------------------------
def hmac_signature(
    secret: str | bytes, body: bytes, *, encoding: Literal["base64", "hex"] = "base64", digest: str = "sha256"
) -> str:
    """The HMAC of a body as Shopify (base64) and WooCommerce (base64) or most others (hex) send it."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, body, digest).digest()
    return base64.b64encode(mac).decode() if encoding == "base64" else mac.hex()


def signature_matches(secret: str | bytes, body: bytes, given: str, **options: Any) -> bool:
    return hmac.compare_digest(hmac_signature(secret, body, **options).encode(), given.encode())


@dataclass
class WebhookSender:
    """Sends signed webhooks the way a system does: JSON body, signature header, topic header."""

    client: httpx.Client
    secret: str
    signature_header: str = "X-Signature"
    topic_header: str = "X-Topic"
    encoding: Literal["base64", "hex"] = "base64"
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    sent: list[httpx.Response] = field(default_factory=list)

    def deliver(self, url: str, topic: str, payload: Mapping[str, Any], *, forge: bool = False) -> httpx.Response:
        """POST one webhook; `forge` signs it with a wrong secret, as an attacker would."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = self.secret + "-forged" if forge else self.secret
        headers = {
            "Content-Type": "application/json",
            self.signature_header: hmac_signature(secret, body, encoding=self.encoding),
            self.topic_header: topic,
            **self.extra_headers,
        }
        response = self.client.post(url, content=body, headers=headers)
        self.sent.append(response)
        return response
