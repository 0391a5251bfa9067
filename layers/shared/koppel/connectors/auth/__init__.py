"""Credentials on a connector's requests: cached tokens (`tokens`), the token requests of each
system (`grants`) and the `httpx.Auth` schemes that carry them (`schemes`).

A connector builds a `TokenProvider` from a grant's fetch and hands a `BearerAuth` over it to each
request; `from_account` connectors share the process's `TOKENS`, keyed by account, token URL and
client id, so a connector rebuilt for the next run keeps the token it had.
"""

from koppel.connectors.auth.grants import (
    client_credentials,
    lwa_refresh,
    shoprenter_client_credentials,
    snelstart_client_key,
)
from koppel.connectors.auth.schemes import BasicAuth, BearerAuth, SignedAuth
from koppel.connectors.auth.tokens import TOKENS, Issued, TokenCache, TokenKey, TokenProvider, forget_tokens

__all__ = [
    "TOKENS",
    "BasicAuth",
    "BearerAuth",
    "Issued",
    "SignedAuth",
    "TokenCache",
    "TokenKey",
    "TokenProvider",
    "client_credentials",
    "forget_tokens",
    "lwa_refresh",
    "shoprenter_client_credentials",
    "snelstart_client_key",
]
