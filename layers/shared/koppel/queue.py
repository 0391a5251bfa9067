"""The event queue between the webhook receiver and the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class Envelope(BaseModel):
    """One authenticated delivery, as queued. `body` is the raw text the sender signed."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: str
    system: str
    topic: str
    event_id: str
    dedupe_key: str
    received_at: datetime
    body: str


class EventQueue(Protocol):
    def send(self, envelope: Envelope) -> str: ...


class SqsEventQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, envelope: Envelope) -> str:
        answer = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=envelope.model_dump_json(),
            MessageAttributes={
                "account_id": {"DataType": "String", "StringValue": envelope.account_id},
                "topic": {"DataType": "String", "StringValue": envelope.topic},
            },
        )
        return str(answer["MessageId"])
