"""Order links, SKU mappings and cursors in koppel's table (items under LINK#{link_id}).

- ORDER#{channel order id}: state, backoffice id, reason, lease; gsi1 = LINK#{link}#ORDERS#{state}
- SKU#{channel sku}: backoffice variant id, manual or auto
- CURSOR#{name}: where a paged flow stopped
Every order state change is a conditional write: a run can only move an order it holds.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from koppel.connectors.base import BackofficeOrder
from koppel.errors import StateConflict
from koppel.models import sortable
from koppel.ports.orders import Claim, OrderRecord, OrderState, ParcelState, Pause, SkuMapping
from koppel.store.dynamodb import DynamoTable, from_item, to_item


def _pk(link_id: str) -> str:
    return f"LINK#{link_id}"


def _gsi(link_id: str, state: OrderState, order_id: str, now: str) -> dict[str, Any]:
    return {":gpk": f"LINK#{link_id}#ORDERS#{state.value}", ":gsk": f"{now}#{order_id}"}


class DynamoOrderLinks:
    def __init__(self, table: DynamoTable, clock: Any = time.time) -> None:
        self.table = table
        self.clock = clock

    def _key(self, link_id: str, order_id: str) -> dict[str, Any]:
        return to_item({"pk": _pk(link_id), "sk": f"ORDER#{order_id}"})

    def _record(self, item: dict[str, Any]) -> OrderRecord:
        return OrderRecord(
            link_id=item["pk"][len("LINK#") :],
            channel_order_id=item["sk"][len("ORDER#") :],
            state=OrderState(item["state"]),
            backoffice_order_id=item.get("backoffice_order_id", ""),
            backoffice_name=item.get("backoffice_name", ""),
            reason=item.get("reason", ""),
            updated_at=item.get("updated_at", ""),
            attempts=int(item.get("attempts", 0)),
            accepted=bool(item.get("accepted", False)),
            waiting_since=item.get("waiting_since", ""),
        )

    def get(self, link_id: str, channel_order_id: str) -> OrderRecord | None:
        item = self.table.get(_pk(link_id), f"ORDER#{channel_order_id}")
        return self._record(item) if item and "state" in item else None

    # --- what a channel delivered, kept for the flows that book it (webshop orders and refunds) ---
    def keep(self, link_id: str, key: str, document: str, version: str) -> bool:
        """Keep the channel's copy of an order or return under `key`, unless a newer one is kept:
        deliveries come out of order, and an older state must never replace a newer one."""
        client = self.table.client
        try:
            client.update_item(
                TableName=self.table.table_name,
                Key=self._key(link_id, key),
                UpdateExpression="SET kept = :doc, kept_version = :version",
                ConditionExpression="attribute_not_exists(kept_version) OR kept_version <= :version",
                ExpressionAttributeValues=to_item({":doc": document, ":version": version}),
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def kept(self, link_id: str, key: str) -> str | None:
        item = self.table.get(_pk(link_id), f"ORDER#{key}") or {}
        return item.get("kept")

    def note_booked_back(self, link_id: str, key: str, units: dict[str, int]) -> None:
        """Units per order line a return booking puts back, written before it goes out."""
        self.table.client.update_item(
            TableName=self.table.table_name,
            Key=self._key(link_id, key),
            UpdateExpression="SET booked_back = :units",
            ExpressionAttributeValues=to_item({":units": units}),
        )

    def booked_back(self, link_id: str, prefix: str) -> list[tuple[OrderRecord, dict[str, int]]]:
        """Every return booking under `prefix` (an order's: `{order id}/`), with the units it puts back."""
        client = self.table.client
        found: list[tuple[OrderRecord, dict[str, int]]] = []
        for page in client.get_paginator("query").paginate(
            TableName=self.table.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": _pk(link_id), ":prefix": f"ORDER#{prefix}"}),
        ):
            for raw in page["Items"]:
                item = from_item(raw)
                if "state" in item:
                    units = {str(line): int(count) for line, count in (item.get("booked_back") or {}).items()}
                    found.append((self._record(item), units))
        return found

    def _update(
        self, link_id: str, order_id: str, expression: str, condition: str, values: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        client = self.table.client
        try:
            answer = client.update_item(
                TableName=self.table.table_name,
                Key=self._key(link_id, order_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(values),
                **extra,
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise StateConflict("order is held or moved by another run", order_id=order_id) from exc
        return from_item(answer.get("Attributes", {}))

    def claim(self, link_id: str, channel_order_id: str, run_id: str, lease_seconds: int) -> Claim | None:
        now = self.clock()
        stamp = datetime.fromtimestamp(now, UTC).isoformat()
        try:
            old = self._update(
                link_id,
                channel_order_id,
                "SET #state = :claimed, claimed_by = :run, lease_until = :lease, updated_at = :now, "
                "attempts = if_not_exists(attempts, :zero) + :one, gsi1pk = :gpk, gsi1sk = :gsk",
                "attribute_not_exists(#state) OR #state = :attention OR (#state = :claimed AND lease_until < :clock)",
                {
                    ":claimed": OrderState.CLAIMED.value,
                    ":attention": OrderState.NEEDS_ATTENTION.value,
                    ":run": run_id,
                    ":lease": int(now + lease_seconds),
                    ":clock": int(now),
                    ":now": stamp,
                    ":zero": 0,
                    ":one": 1,
                    **_gsi(link_id, OrderState.CLAIMED, channel_order_id, stamp),
                },
                ReturnValues="ALL_OLD",
            )
        except StateConflict:
            return None
        return Claim(run_id=run_id, may_exist=bool(old.get("create_sent")))

    def _move(
        self,
        link_id: str,
        order_id: str,
        run_id: str,
        state: OrderState,
        extra_set: str,
        values: dict[str, Any],
        *,
        extra_remove: str = "",
    ) -> None:
        stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        self._update(
            link_id,
            order_id,
            f"SET #state = :state, updated_at = :now, gsi1pk = :gpk, gsi1sk = :gsk{extra_set} "
            f"REMOVE claimed_by{extra_remove}",
            "#state = :claimed AND claimed_by = :run",
            {
                ":state": state.value,
                ":claimed": OrderState.CLAIMED.value,
                ":run": run_id,
                ":now": stamp,
                **_gsi(link_id, state, order_id, stamp),
                **values,
            },
        )

    def mark_created(self, link_id: str, channel_order_id: str, run_id: str, order: BackofficeOrder) -> None:
        self._move(
            link_id,
            channel_order_id,
            run_id,
            OrderState.CREATED,
            ", backoffice_order_id = :bid, backoffice_name = :bname, reason = :none",
            {":bid": order.backoffice_order_id, ":bname": order.name, ":none": ""},
            extra_remove=", waiting_since",
        )

    def mark_needs_attention(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None:
        # The first time it waits is kept across retries: how long it has waited raises the alarm.
        self._move(
            link_id,
            channel_order_id,
            run_id,
            OrderState.NEEDS_ATTENTION,
            ", reason = :reason, waiting_since = if_not_exists(waiting_since, :now)",
            {":reason": reason},
        )

    def accept(self, link_id: str, channel_order_id: str) -> bool:
        """A person accepts a waiting order for booking; False when koppel holds no waiting order by that id."""
        try:
            self._update(
                link_id,
                channel_order_id,
                "SET accepted = :yes",
                "#state = :waiting",
                {":yes": True, ":waiting": OrderState.NEEDS_ATTENTION.value},
            )
        except StateConflict:
            return False
        return True

    def mark_create_sent(self, link_id: str, channel_order_id: str, run_id: str) -> None:
        self._update(
            link_id,
            channel_order_id,
            # An acceptance is spent by the create it allowed: after a lost answer, a person accepts anew.
            "SET create_sent = :yes REMOVE accepted",
            "#state = :claimed AND claimed_by = :run",
            {":yes": True, ":claimed": OrderState.CLAIMED.value, ":run": run_id},
        )

    def mark_cancelled(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None:
        self._move(
            link_id,
            channel_order_id,
            run_id,
            OrderState.CANCELLED,
            ", reason = :reason",
            {":reason": reason},
            extra_remove=", waiting_since",
        )

    def release(self, link_id: str, channel_order_id: str, run_id: str) -> None:
        """Give the claim back at once (a transient failure): the next run may try again."""
        self._update(
            link_id,
            channel_order_id,
            "SET lease_until = :zero REMOVE claimed_by",
            "#state = :claimed AND claimed_by = :run",
            {":zero": 0, ":claimed": OrderState.CLAIMED.value, ":run": run_id},
        )

    def note(self, link_id: str, channel_order_id: str, reason: str) -> None:
        self.table.client.update_item(
            TableName=self.table.table_name,
            Key=self._key(link_id, channel_order_id),
            UpdateExpression="SET reason = :reason",
            ExpressionAttributeValues=to_item({":reason": reason}),
        )

    def in_state(self, link_id: str, state: OrderState) -> list[OrderRecord]:
        client = self.table.client
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("query").paginate(
            TableName=self.table.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :gpk",
            ExpressionAttributeValues=to_item({":gpk": f"LINK#{link_id}#ORDERS#{state.value}"}),
        ):
            items.extend(from_item(item) for item in page["Items"])
        return [self._record(item) for item in items]

    # --- the tracking side: parcels sent to the channel, cancellations, closing.
    # Each parcel is its own attribute (`parcel_<digest>`) on the order item, so marking one "sending"
    # is a single conditional write that only one run can win.
    @staticmethod
    def _parcel_attr(key: str) -> str:
        return "parcel_" + hashlib.sha256(key.encode()).hexdigest()[:20]

    def parcels(self, link_id: str, channel_order_id: str) -> dict[str, ParcelState]:
        item = self.table.get(_pk(link_id), f"ORDER#{channel_order_id}") or {}
        found = [value for name, value in item.items() if name.startswith("parcel_")]
        return {
            value["key"]: ParcelState(
                value["key"], value["status"], value.get("process_id", ""), value.get("reason", "")
            )
            for value in found
        }

    def _set_parcel(self, link_id: str, order_id: str, state: ParcelState, condition: str | None) -> bool:
        client = self.table.client
        kwargs: dict[str, Any] = {}
        if condition:
            kwargs["ConditionExpression"] = condition
        value = {"key": state.key, "status": state.status, "process_id": state.process_id, "reason": state.reason}
        try:
            client.update_item(
                TableName=self.table.table_name,
                Key=self._key(link_id, order_id),
                UpdateExpression="SET #parcel = :parcel",
                ExpressionAttributeNames={"#parcel": self._parcel_attr(state.key)}
                | ({"#state": "state"} if condition else {}),
                ExpressionAttributeValues=to_item(
                    {":parcel": value, **({":created": OrderState.CREATED.value} if condition else {})}
                ),
                **kwargs,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def start_parcel(self, link_id: str, channel_order_id: str, key: str) -> bool:
        return self._set_parcel(
            link_id,
            channel_order_id,
            ParcelState(key, "SENDING"),
            "attribute_not_exists(#parcel) AND #state = :created",
        )

    def settle_parcel(self, link_id: str, channel_order_id: str, state: ParcelState) -> None:
        self._set_parcel(link_id, channel_order_id, state, None)

    def forget_parcel(self, link_id: str, channel_order_id: str, key: str) -> None:
        self.table.client.update_item(
            TableName=self.table.table_name,
            Key=self._key(link_id, channel_order_id),
            UpdateExpression="REMOVE #parcel",
            ExpressionAttributeNames={"#parcel": self._parcel_attr(key)},
        )

    def completed_seen(self, link_id: str, channel_order_id: str, at: datetime) -> datetime:
        answer = self.table.client.update_item(
            TableName=self.table.table_name,
            Key=self._key(link_id, channel_order_id),
            UpdateExpression="SET completed_seen_at = if_not_exists(completed_seen_at, :at)",
            ExpressionAttributeValues=to_item({":at": at.isoformat()}),
            ReturnValues="ALL_NEW",
        )
        return datetime.fromisoformat(from_item(answer["Attributes"])["completed_seen_at"])

    def finish(self, link_id: str, channel_order_id: str, state: OrderState, reason: str = "") -> bool:
        stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat()
        try:
            self._update(
                link_id,
                channel_order_id,
                "SET #state = :state, updated_at = :now, reason = :reason, gsi1pk = :gpk, gsi1sk = :gsk",
                "#state = :created",
                {
                    ":state": state.value,
                    ":created": OrderState.CREATED.value,
                    ":now": stamp,
                    ":reason": reason,
                    **_gsi(link_id, state, channel_order_id, stamp),
                },
            )
        except StateConflict:
            return False
        return True


class DynamoSkuMappings:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def get(self, link_id: str, channel_sku: str) -> SkuMapping | None:
        item = self.table.get(_pk(link_id), f"SKU#{channel_sku}", consistent=False)
        return SkuMapping(channel_sku, item["variant_id"], item["source"]) if item else None

    def put(self, link_id: str, mapping: SkuMapping) -> None:
        values = {
            "pk": _pk(link_id),
            "sk": f"SKU#{mapping.channel_sku}",
            "variant_id": mapping.variant_id,
            "source": mapping.source,
            "updated_at": datetime.now(UTC).isoformat(),
        }
        if mapping.source == "manual":
            self.table.put(values)
            return
        # An automatic match never overwrites a person's explicit mapping.
        try:
            self.table.put(
                values,
                ConditionExpression="attribute_not_exists(pk) OR #source <> :manual",
                ExpressionAttributeNames={"#source": "source"},
                ExpressionAttributeValues=to_item({":manual": "manual"}),
            )
        except self.table.client.exceptions.ConditionalCheckFailedException:
            return

    def delete(self, link_id: str, channel_sku: str) -> None:
        self.table.delete(_pk(link_id), f"SKU#{channel_sku}")

    def all(self, link_id: str) -> list[SkuMapping]:
        return [
            SkuMapping(item["sk"][len("SKU#") :], item["variant_id"], item["source"])
            for item in self.table.query(_pk(link_id), "SKU#")
        ]


class DynamoCursors:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def get(self, link_id: str, name: str) -> int | None:
        item = self.table.get(_pk(link_id), f"CURSOR#{name}")
        return int(item["value"]) if item else None

    def put(self, link_id: str, name: str, value: int | None) -> None:
        if value is None:
            self.table.delete(_pk(link_id), f"CURSOR#{name}")
        else:
            self.table.put({"pk": _pk(link_id), "sk": f"CURSOR#{name}", "value": value})


class DynamoPauses:
    """ACCOUNT#{account_id} / PAUSE: until when koppel sends the account nothing, and why (it expires)."""

    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def pause(self, account_id: str, until: datetime, reason: str) -> bool:
        try:
            self.table.client.put_item(
                TableName=self.table.table_name,
                Item=to_item(
                    {
                        "pk": f"ACCOUNT#{account_id}",
                        "sk": "PAUSE",
                        "until": sortable(until),
                        "reason": reason,
                        "ttl": int(until.timestamp()) + 86_400,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR #until < :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues=to_item({":until": sortable(until)}),
            )
        except self.table.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def paused(self, account_id: str, now: datetime) -> Pause | None:
        item = self.table.get(f"ACCOUNT#{account_id}", "PAUSE")
        if not item or str(item["until"]) <= sortable(now):
            return None
        return Pause(until=datetime.fromisoformat(str(item["until"])), reason=str(item.get("reason") or ""))


class DynamoCustomerLocks:
    """ACCOUNT#{account_id} / CUSTOMER#{key}: the order creating that customer in the backoffice now. The
    key is a digest, never the e-mail itself; the item expires with its lock."""

    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def take(self, account_id: str, customer_key: str, holder: str, seconds: int) -> bool:
        now = int(time.time())
        try:
            self.table.client.put_item(
                TableName=self.table.table_name,
                Item=to_item(
                    {
                        "pk": f"ACCOUNT#{account_id}",
                        "sk": f"CUSTOMER#{customer_key}",
                        "holder": holder,
                        "until": now + seconds,
                        "ttl": now + seconds + 86_400,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR #until < :now OR holder = :holder",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues=to_item({":now": now, ":holder": holder}),
            )
        except self.table.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, account_id: str, customer_key: str, holder: str) -> None:
        # A lock that expired and was taken by another order since is theirs now: left alone.
        with suppress(self.table.client.exceptions.ConditionalCheckFailedException):
            self.table.client.delete_item(
                TableName=self.table.table_name,
                Key=to_item({"pk": f"ACCOUNT#{account_id}", "sk": f"CUSTOMER#{customer_key}"}),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues=to_item({":holder": holder}),
            )
