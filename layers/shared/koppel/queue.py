"""The event queue between the webhook receiver and the worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from koppel.errors import PayloadTooLarge


class Envelope(BaseModel):
    """One authenticated delivery, as queued. `body` is the raw text the sender signed."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: str
    system: str
    topic: str
    event_id: str
    dedupe_key: str
    received_at: datetime
    sent_at: datetime | None = None  # the moment the sender signed (koppel scheme) or Shopify triggered it
    body: str


class EventQueue(Protocol):
    def send(self, envelope: Envelope) -> str: ...


SQS_MESSAGE_LIMIT = 1_048_576
ATTRIBUTES_ALLOWANCE = 4_096


class SqsEventQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, envelope: Envelope) -> str:
        message = envelope.model_dump_json()
        if len(message.encode()) > SQS_MESSAGE_LIMIT - ATTRIBUTES_ALLOWANCE:
            # Escaping as JSON text can grow a body; refuse clearly rather than fail inside SQS.
            raise PayloadTooLarge("body is too large to queue once escaped; send smaller deliveries")
        answer = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message,
            MessageAttributes={
                "account_id": {"DataType": "String", "StringValue": envelope.account_id},
                "topic": {"DataType": "String", "StringValue": envelope.topic},
            },
        )
        return str(answer["MessageId"])


SQS_MAX_DELAY_SECONDS = 900
PUSH_MESSAGE_SKUS = 2000  # keeps a push request well under SQS's 256 KiB default for long SKUs


class PushRequest(BaseModel):
    """Push these SKUs of a link to its channel: the pusher reads their stock as it is then."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    link_id: str
    skus: tuple[str, ...]
    attempt: int = 0  # how many times these SKUs have failed to go out already


class SqsPushRequests:
    """The stock push queue. A short delay lets a burst of mutations on a SKU become one push."""

    def __init__(self, client: Any, queue_url: str, delay_seconds: int) -> None:
        self.client = client
        self.queue_url = queue_url
        self.delay_seconds = delay_seconds

    def request(self, link_id: str, skus: Sequence[str], *, attempt: int = 0, delay: int | None = None) -> None:
        for start in range(0, len(skus), PUSH_MESSAGE_SKUS):
            message = PushRequest(link_id=link_id, skus=tuple(skus[start : start + PUSH_MESSAGE_SKUS]), attempt=attempt)
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=message.model_dump_json(),
                DelaySeconds=self.delay_seconds if delay is None else min(delay, SQS_MAX_DELAY_SECONDS),
            )
