"""Short-lived access tokens, fetched once and reused until shortly before they expire.

A token is cached per account under `TokenKey` (account id, token URL, client id): connectors are
rebuilt often (every tracking run, every warm container's few minutes), tokens should not be, and
some systems block clients that ask too often (bol). One lock per key: when many threads need a
token at once, one fetches and the others wait for it. A token the system refused is renewed once,
by whichever thread saw the refusal first; the others take that new token.

A token's value is never in a repr, a log line or an exception message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from koppel.connectors.http import Clock
from koppel.observability import logger

# Renew this long before the system's expiry, so a token never runs out between our check and theirs.
DEFAULT_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class Issued:
    """A token as the token endpoint handed it out."""

    value: str = field(repr=False)
    expires_in: float  # seconds from now


@dataclass(frozen=True)
class TokenKey:
    """Whose token it is: one account's, from one endpoint, for one client."""

    account_id: str
    token_url: str
    client_id: str = ""  # "" for grants without one (SnelStart's client key is a secret)


@dataclass(frozen=True)
class _Held:
    value: str = field(repr=False)
    renew_at: float
    # The clock the moment above was read on; an entry made on another clock means nothing here.
    now: Callable[[], float] = field(repr=False, compare=False)


class TokenCache:
    """Tokens by `TokenKey`, shared by every connector of the process that is given the cache."""

    def __init__(self) -> None:
        self._held: dict[TokenKey, _Held] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenCache(tokens={len(self._held)})"

    def lock(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def valid(self, key: TokenKey, now: Callable[[], float]) -> str | None:
        held = self._held.get(key)
        if held is None or held.now != now or now() >= held.renew_at:
            return None
        return held.value

    def current(self, key: TokenKey) -> str | None:
        held = self._held.get(key)
        return held.value if held is not None else None

    def put(self, key: TokenKey, value: str, renew_at: float, now: Callable[[], float]) -> None:
        self._held[key] = _Held(value, renew_at, now)

    def forget(self, key: TokenKey | None = None) -> None:
        """Forget one key's token, or every token (tests; credentials changed)."""
        with self._guard:
            if key is None:
                self._held.clear()
            else:
                self._held.pop(key, None)


# The process's tokens: what `from_account` connectors share.
TOKENS = TokenCache()


def forget_tokens() -> None:
    """Forget every token the process holds (wiring's reset: a fresh world per test)."""
    TOKENS.forget()


class TokenProvider:
    """One account's token: from the cache while it is good, else fetched (once, under the key's lock).

    `fetch` asks the token endpoint (see `koppel.connectors.auth.grants`); it raises a typed
    connector error when the endpoint refuses, and never puts a secret in it.
    """

    def __init__(
        self,
        key: TokenKey,
        fetch: Callable[[], Issued],
        *,
        system: str,
        cache: TokenCache | None = None,
        clock: Clock | None = None,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
    ) -> None:
        self.key = key
        self.system = system
        self._fetch = fetch
        self._cache = cache if cache is not None else TokenCache()
        self._now = (clock or Clock()).now
        self._margin = margin_seconds

    def __repr__(self) -> str:
        return f"TokenProvider(system={self.system!r}, account_id={self.key.account_id!r})"

    def token(self) -> str:
        found = self._cache.valid(self.key, self._now)
        if found is not None:
            return found
        with self._cache.lock(self.key):
            found = self._cache.valid(self.key, self._now)  # another thread may have fetched it meanwhile
            return found if found is not None else self._renew()

    def refused(self, value: str) -> str:
        """The system refused `value` (a 401): a new token, fetched unless another thread already has."""
        with self._cache.lock(self.key):
            current = self._cache.current(self.key)
            if current is not None and current != value and self._cache.valid(self.key, self._now) is not None:
                return current
            logger.info("token refused, fetching a new one", system=self.system, account_id=self.key.account_id)
            return self._renew()

    def _renew(self) -> str:
        self._cache.forget(self.key)
        issued = self._fetch()
        renew_at = self._now() + max(0.0, issued.expires_in - self._margin)
        self._cache.put(self.key, issued.value, renew_at, self._now)
        logger.debug("token fetched", system=self.system, account_id=self.key.account_id, expires_in=issued.expires_in)
        return issued.value
