"""How a request carries its credentials, each an `httpx.Auth` a connector passes to `HttpApi.request`.

- `BearerAuth`: a `TokenProvider`'s token; on a 401 one new token and the request once more.
- `BasicAuth`: a user and password (KORONA's API user), nothing to renew.
- `SignedAuth`: headers computed per request by a hook (a key id and an HMAC over the request).

None of them shows a secret in its repr.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping

import httpx

from koppel.connectors.auth.tokens import TokenProvider


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` from the provider, plus `headers` sent with every request
    (SnelStart's subscription key). A 401 means the system let the token go before its time: one new
    token, the request once more; a second 401 is the caller's to handle (wrong credentials)."""

    requires_response_body = True  # read the 401 before the token request reuses the connection

    def __init__(
        self,
        provider: TokenProvider,
        *,
        header: str = "Authorization",
        scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self._header = header
        self._scheme = scheme
        self._headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"BearerAuth({self.provider!r})"

    def _value(self, token: str) -> str:
        return f"{self._scheme} {token}" if self._scheme else token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._headers)
        token = self.provider.token()
        request.headers[self._header] = self._value(token)
        response = yield request
        if response.status_code == 401:
            request.headers[self._header] = self._value(self.provider.refused(token))
            yield request


class BasicAuth(httpx.BasicAuth):
    """HTTP Basic, its repr naming the user only."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self._username = username

    def __repr__(self) -> str:
        return f"BasicAuth(username={self._username!r})"


Signer = Callable[[httpx.Request], Mapping[str, str]]


class SignedAuth(httpx.Auth):
    """Headers a `sign` hook computes from each request (its method, URL, headers and body), e.g. a
    key id and an HMAC with a timestamp. The hook holds the secret; this class never sees it."""

    requires_request_body = True  # the signature covers the body

    def __init__(self, sign: Signer, *, name: str = "signed") -> None:
        self._sign = sign
        self._name = name

    def __repr__(self) -> str:
        return f"SignedAuth(name={self._name!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._sign(request))
        yield request
