"""A dead-letter queue in SQS, and the queue its messages came from (`koppel.ports.config.DeadLetters`).

Reading leaves every message in the queue: what is received to be shown is made visible again at once.
Replaying sends a message back to its source queue, body and attributes as they were, and deletes it
from the dead-letter queue only once that send has succeeded: a failed send loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from koppel.ports.config import DeadLetter

SQS_BATCH = 10  # messages per ReceiveMessage
HOLD_SECONDS = 300  # how long messages taken for a replay are hidden from other readers


class SqsDeadLetters:
    def __init__(self, client: Any, queue_url: str, source_url: str = "") -> None:
        self.client = client
        self.queue_url = queue_url
        self.source_url = source_url

    def count(self) -> int:
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def _receive(self, limit: int, hold: int) -> list[DeadLetter]:
        letters: dict[str, DeadLetter] = {}
        while len(letters) < limit:
            answer = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_BATCH, limit - len(letters)),
                VisibilityTimeout=hold,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                MessageAttributeNames=["All"],
            )
            batch = answer.get("Messages") or []
            fresh = [message for message in batch if message["MessageId"] not in letters]
            if not fresh:
                break
            for message in fresh:
                letters[message["MessageId"]] = _letter(message)
        return list(letters.values())

    def read(self, limit: int) -> list[DeadLetter]:
        letters = self._receive(limit, hold=60)
        self.give_back(letters)
        return letters

    def take(self, limit: int) -> list[DeadLetter]:
        return self._receive(limit, hold=HOLD_SECONDS)

    def resend(self, letter: DeadLetter) -> None:
        attributes = {name: {"DataType": "String", "StringValue": value} for name, value in letter.attributes.items()}
        self.client.send_message(
            QueueUrl=self.source_url,
            MessageBody=letter.body,
            **({"MessageAttributes": attributes} if attributes else {}),
        )

    def delete(self, letter: DeadLetter) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt)

    def give_back(self, letters: list[DeadLetter]) -> None:
        for start in range(0, len(letters), SQS_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": letter.receipt, "VisibilityTimeout": 0}
                for n, letter in enumerate(letters[start : start + SQS_BATCH])
            ]
            self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)


def _letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes") or {}
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        receipt=message["ReceiptHandle"],
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        attributes={
            name: str(value.get("StringValue", ""))
            for name, value in (message.get("MessageAttributes") or {}).items()
            if value.get("DataType", "").startswith("String")
        },
    )
