"""Typed errors. Each carries what the edges need: an HTTP status for the API, retryability for queues."""

from __future__ import annotations


class KoppelError(Exception):
    """Base of every koppel error."""

    http_status: int = 500
    retryable: bool = False

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


# --- webhook / API edge -------------------------------------------------------------------------
class BadRequest(KoppelError):
    http_status = 400


class Unauthorized(KoppelError):
    http_status = 401


class NotFound(KoppelError):
    http_status = 404


class PayloadTooLarge(KoppelError):
    http_status = 413


class InProgress(KoppelError):
    """The same delivery is being handled right now; the sender should retry shortly."""

    http_status = 409
    retryable = True


# --- configuration ------------------------------------------------------------------------------
class ConfigurationError(KoppelError):
    """A stored or submitted account/link is invalid; `field` names what is wrong."""

    http_status = 422

    def __init__(self, message: str, field: str = "", **context: object) -> None:
        super().__init__(message, field=field, **context)
        self.field = field


class UnsupportedSystem(ConfigurationError):
    """koppel has no connector yet for this system in this role."""


class UnknownAccount(NotFound):
    pass


class UnknownLink(NotFound):
    pass


# --- external systems ---------------------------------------------------------------------------
class ConnectorError(KoppelError):
    """An external system answered in a way koppel cannot use."""

    http_status = 502


class TransientConnectorError(ConnectorError):
    """Worth retrying: timeouts, 5xx, rate limits that outlasted the retry budget."""

    retryable = True


class RateLimited(TransientConnectorError):
    def __init__(self, message: str, retry_after: float | None = None, **context: object) -> None:
        super().__init__(message, retry_after=retry_after, **context)
        self.retry_after = retry_after


class QuotaExhausted(RateLimited):
    """A quota is spent until it renews (`retry_after` seconds): a daily request limit, not a burst to back off."""


class PermanentConnectorError(ConnectorError):
    """Will fail again the same way (4xx other than 408/429): needs a person, not a retry."""


class AuthenticationFailed(PermanentConnectorError):
    pass


# --- state --------------------------------------------------------------------------------------
class StateConflict(KoppelError):
    """A conditional write lost: someone else moved the record first."""

    http_status = 409


class NeedsAttention(KoppelError):
    """The item cannot go through until a person acts (e.g. an unmapped SKU); it waits, visibly."""


class ServiceUnavailable(KoppelError):
    """koppel's own storage or queue failed; the sender should try again."""

    http_status = 503
    retryable = True
