"""koppel's single DynamoDB table.

Key design (pk / sk):
- CONFIG            / ACCOUNT#{account_id}      an account (credentials only by secret reference)
- CONFIG            / LINK#{link_id}            a link
- ACTIVITY#{subject}/ {iso time}#{nonce}       what happened, newest last, expires via `ttl`
- JOURNEY#{link}#{channel order id} / {iso time}#{nonce}   one order's steps (same `ttl`)
- JOURNEY#{link}#{backoffice id or number} / ALIAS      which channel order that id is
Flows add their own items under LINK#{link_id} (mappings, order links, cursors, stock, RAN#{job}: when a
scheduled job last ran the link well).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from koppel.config import Account, Link, parse
from koppel.errors import KoppelError, UnknownAccount, UnknownLink
from koppel.models import sortable
from koppel.ports.config import Activity, RunOutcome
from koppel.queue import Envelope

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONFIG_PK = "CONFIG"
BATCH_GET_MAX = 100  # DynamoDB BatchGetItem keys per request
M = TypeVar("M", Account, Link)


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


class DynamoTable:
    """The raw table: typed item helpers every store in this package shares."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        return from_item(answer["Item"]) if "Item" in answer else None

    def get_many(self, pk: str, sks: Iterable[str]) -> list[dict[str, Any]]:
        """Consistent reads of these items of one partition (missing ones left out), 100 keys a request."""
        keys = [to_item({"pk": pk, "sk": sk}) for sk in dict.fromkeys(sks)]
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_MAX):
            request: dict[str, Any] = {
                self.table_name: {"Keys": keys[start : start + BATCH_GET_MAX], "ConsistentRead": True}
            }
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                items.extend(from_item(item) for item in answer["Responses"].get(self.table_name, []))
                request = answer.get("UnprocessedKeys") or {}
        return items

    def put(self, values: dict[str, Any], **conditions: Any) -> None:
        self.client.put_item(TableName=self.table_name, Item=to_item(values), **conditions)

    def delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}))

    def query(self, pk: str, prefix: str = "", *, newest_first: bool = False, limit: int | None = None) -> list[dict]:
        items: list[dict] = []
        for item in self.iter_query(pk, prefix, newest_first=newest_first):
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
        return items

    def iter_query(self, pk: str, prefix: str = "", *, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        """The partition's items in key order, a page at a time: memory stays flat however many there are."""
        expression = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values = {":pk": pk, **({":prefix": prefix} if prefix else {})}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": not newest_first,
        }
        for page in self.client.get_paginator("query").paginate(**kwargs):
            yield from (from_item(item) for item in page["Items"])


class TextCursor:
    """Where a paged read of a link stopped: LINK#{link_id} / CURSOR#{name}; None once it is done."""

    def __init__(self, table: DynamoTable, name: str) -> None:
        self.table = table
        self.sk = f"CURSOR#{name}"

    def get(self, link_id: str) -> str | None:
        item = self.table.get(f"LINK#{link_id}", self.sk)
        return str(item["value"]) if item else None

    def set(self, link_id: str, cursor: str | None) -> None:
        if cursor is None:
            self.table.delete(f"LINK#{link_id}", self.sk)
        else:
            self.table.put({"pk": f"LINK#{link_id}", "sk": self.sk, "value": cursor})


class DynamoConfigStore:
    """Accounts and links. The list of links is read at most every `links_ttl` seconds per container
    (every delivery asks for it); a change made through this store is seen at once, one made
    elsewhere (the CLI) within that time."""

    def __init__(self, table: DynamoTable, links_ttl: float = 5.0, clock: Any = time.monotonic) -> None:
        self.table = table
        self.links_ttl = links_ttl
        self.clock = clock
        self._links: tuple[float, list[Link]] | None = None

    def _get(self, model: type[M], kind: str, key: str, missing: type[KoppelError]) -> M:
        item = self.table.get(CONFIG_PK, f"{kind}#{key}")
        if item is None:
            raise missing(f"no {kind.lower()} {key!r}", id=key)
        return parse(model, json.loads(item["body"]))

    def get_account(self, account_id: str) -> Account:
        return self._get(Account, "ACCOUNT", account_id, UnknownAccount)

    def put_account(self, account: Account) -> None:
        self.table.put({"pk": CONFIG_PK, "sk": f"ACCOUNT#{account.account_id}", "body": account.model_dump_json()})

    def list_accounts(self) -> list[Account]:
        return [parse(Account, json.loads(item["body"])) for item in self.table.query(CONFIG_PK, "ACCOUNT#")]

    def delete_account(self, account_id: str) -> None:
        self.table.delete(CONFIG_PK, f"ACCOUNT#{account_id}")

    def get_link(self, link_id: str) -> Link:
        return self._get(Link, "LINK", link_id, UnknownLink)

    def put_link(self, link: Link) -> None:
        self.table.put({"pk": CONFIG_PK, "sk": f"LINK#{link.link_id}", "body": link.model_dump_json()})
        self._links = None

    def list_links(self) -> list[Link]:
        now = self.clock()
        if self._links is None or now - self._links[0] >= self.links_ttl:
            links = [parse(Link, json.loads(item["body"])) for item in self.table.query(CONFIG_PK, "LINK#")]
            self._links = (now, links)
        return list(self._links[1])

    def delete_link(self, link_id: str) -> None:
        self.table.delete(CONFIG_PK, f"LINK#{link_id}")
        self._links = None


class CachedAccounts:
    """Accounts read through a short per-container cache: a burst of webhooks costs one lookup.

    A changed or deleted account takes effect within `ttl_seconds` (default 60).
    """

    def __init__(self, store: DynamoConfigStore, ttl_seconds: float = 60, clock: Any = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl_seconds
        self.clock = clock
        self._seen: dict[str, tuple[float, Account]] = {}

    def get_account(self, account_id: str) -> Account:
        now = self.clock()
        hit = self._seen.get(account_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        account = self.store.get_account(account_id)  # unknown accounts are not cached: they raise
        self._seen[account_id] = (now, account)
        return account


class DynamoRunStamps:
    """When each link last ran a scheduled job well: LINK#{link_id} / RAN#{job}."""

    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def last_run(self, link_id: str, job: str) -> datetime | None:
        item = self.table.get(f"LINK#{link_id}", f"RAN#{job}", consistent=False)
        return datetime.fromisoformat(str(item["at"])) if item else None

    def ran(self, link_id: str, job: str, at: datetime) -> None:
        self.table.put({"pk": f"LINK#{link_id}", "sk": f"RAN#{job}", "at": at.astimezone(UTC).isoformat()})

    def finished(self, link_id: str, job: str, at: datetime, outcome: str, summary: str) -> None:
        item = {"pk": f"LINK#{link_id}", "sk": f"LAST#{job}", "at": at.astimezone(UTC).isoformat()}
        self.table.put(item | {"outcome": outcome, "summary": summary[:500]})

    def outcomes(self, link_id: str) -> dict[str, RunOutcome]:
        return {
            str(item["sk"]).removeprefix("LAST#"): RunOutcome(
                job=str(item["sk"]).removeprefix("LAST#"),
                at=datetime.fromisoformat(str(item["at"])),
                outcome=str(item["outcome"]),
                summary=str(item.get("summary", "")),
            )
            for item in self.table.query(f"LINK#{link_id}", "LAST#")
        }


class DynamoActivityLog:
    """What happened, per link or account; an entry that names an order (`order_id=`, the channel's id)
    is also written to that order's journey, so `koppel journey` is one query, not a scan."""

    def __init__(self, table: DynamoTable, ttl_days: int = 30) -> None:
        self.table = table
        self.ttl = timedelta(days=ttl_days)

    def _entry(self, pk: str, now: datetime, kind: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "pk": pk,
            "sk": f"{now.isoformat()}#{secrets.token_hex(4)}",
            "kind": kind,
            "message": message,
            "details": json.dumps(details, default=str),
            "ttl": int((now + self.ttl).timestamp()),
        }

    def record(self, subject: str, kind: str, message: str, **details: Any) -> None:
        now = datetime.now(UTC)
        self.table.put(self._entry(f"ACTIVITY#{subject}", now, kind, message, details))
        order_id = details.get("order_id")
        if order_id:
            self.table.put(self._entry(journey_pk(subject, str(order_id)), now, kind, message, details))

    def recent(self, subject: str, limit: int = 50) -> list[Activity]:
        items = self.table.query(f"ACTIVITY#{subject}", newest_first=True, limit=limit)
        return [_activity(subject, item) for item in reversed(items)]

    # --- an order's journey (`koppel.ports.config.OrderJourneys`) ---------------------------------
    def step(self, link_id: str, order_id: str, kind: str, message: str, **details: Any) -> None:
        """A step of one order, in its journey only: the link's own activity keeps to runs and deliveries."""
        details = {"order_id": order_id, **details}
        self.table.put(self._entry(journey_pk(link_id, order_id), datetime.now(UTC), kind, message, details))

    def alias(self, link_id: str, order_id: str, *other_ids: str) -> None:
        expires = int((datetime.now(UTC) + self.ttl).timestamp())
        for other in dict.fromkeys(other_ids):
            if other and other != order_id:
                self.table.put({"pk": journey_pk(link_id, other), "sk": ALIAS, "order_id": order_id, "ttl": expires})

    def journey(self, link_id: str, any_order_id: str) -> tuple[str, list[Activity]]:
        """One query for the channel's order id; a backoffice id or number costs a second, of its alias."""
        items = self.table.query(journey_pk(link_id, any_order_id))
        steps = [item for item in items if item["sk"] != ALIAS]
        alias = next((item for item in items if item["sk"] == ALIAS), None)
        if steps or alias is None:
            return any_order_id, [_activity(link_id, item) for item in steps]
        order_id = str(alias["order_id"])
        found = self.table.query(journey_pk(link_id, order_id))
        return order_id, [_activity(link_id, item) for item in found if item["sk"] != ALIAS]


ALIAS = "ALIAS"


def journey_pk(link_id: str, order_id: str) -> str:
    return f"JOURNEY#{link_id}#{order_id}"


def _activity(subject: str, item: dict[str, Any]) -> Activity:
    return Activity(
        subject=subject,
        at=datetime.fromisoformat(item["sk"].rsplit("#", 1)[0]),
        kind=item["kind"],
        message=item["message"],
        details=json.loads(item.get("details") or "{}"),
    )


class DynamoParkedDeliveries:
    """PARKED#{link_id} / {received_at}#{event_id}: the whole envelope and why it waits.

    Kept `retention_days` (default 90): long enough to be replayed when its flow ships, not
    forever, because an order body holds a person's name and address.
    """

    def __init__(self, table: DynamoTable, retention_days: int = 90) -> None:
        self.table = table
        self.retention = timedelta(days=retention_days)

    def park(self, link_id: str, envelope: Envelope, reason: str) -> None:
        self.table.put(
            {
                "pk": f"PARKED#{link_id}",
                "sk": f"{sortable(envelope.received_at)}#{envelope.event_id}",
                "topic": envelope.topic,
                "reason": reason,
                "envelope": envelope.model_dump_json(),
                "ttl": int((envelope.received_at + self.retention).timestamp()),
            }
        )

    def waiting(self, link_id: str) -> list[tuple[Envelope, str]]:
        return [
            (Envelope.model_validate_json(item["envelope"]), item["reason"])
            for item in self.table.query(f"PARKED#{link_id}")
        ]

    def release(self, link_id: str, envelope: Envelope) -> None:
        self.table.delete(f"PARKED#{link_id}", f"{sortable(envelope.received_at)}#{envelope.event_id}")
