"""The event queue between the webhook receiver and the worker."""

from __future__ import annotations

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
