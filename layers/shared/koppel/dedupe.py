"""Exactly-once side effects on top of Powertools idempotency (DynamoDB persistence).

`once(key, action)` runs `action` the first time a key is seen and returns its result; later
calls with the same key return the stored result, marked as a duplicate. A concurrent call while
the first is still running raises `InProgress` (the sender retries). If the first call fails, the
key is released so a retry can succeed: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from koppel.errors import InProgress, ServiceUnavailable


class Deduplicator(Protocol):
    def once(self, key: str, action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """(result, first_time)"""
        ...


def _mark_duplicate(response: Any, _record: Any) -> Any:
    return {**response, "_duplicate": True}


class IdempotencyDeduplicator:
    def __init__(self, table_name: str, client: Any, expires_after_seconds: int, lambda_context: Any = None) -> None:
        self.persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            expires_after_seconds=expires_after_seconds,
            raise_on_no_idempotency_key=True,
            response_hook=_mark_duplicate,
        )
        if lambda_context is not None:
            # Lets a crashed attempt's in-progress marker expire with the invocation, not hours later.
            self.config.register_lambda_context(lambda_context)

    def once(self, key: str, action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        @idempotent_function(data_keyword_argument="request", persistence_store=self.persistence, config=self.config)
        def run(request: dict[str, str]) -> dict[str, Any]:
            return action()

        try:
            result = run(request={"key": key})
        except IdempotencyAlreadyInProgressError as exc:
            raise InProgress("the same delivery is being handled right now") from exc
        except IdempotencyPersistenceLayerError as exc:
            raise ServiceUnavailable("deduplication store unavailable") from exc
        duplicate = bool(result.pop("_duplicate", False))
        return result, not duplicate
