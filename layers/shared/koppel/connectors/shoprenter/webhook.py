"""What a Shoprenter "order status change" webhook tells koppel: which orders changed, nothing more.

Shoprenter signs nothing it sends (development/api/07_webhook.md), so a delivery is a hint: koppel
reads only the order ids from it and fetches each order from the API (`order(order_id)`), never
trusting a price, an address or a status in the body. The body is JSON or XML, as the merchant chose
in the automation: `{"orders": {"order": [{...}]}}` in the docs' sample, or one flat order; each
order names itself by `innerId` (the order number) and `innerResourceId` (`orders/{resource id}`).
An id is taken from `innerId` when it is digits, else from the number the resource id encodes.

Authentication (`verify`): each Shoprenter account has a `webhook_secret`, and the merchant enters
`{WebhookUrl}/{account_id}/{webhook_secret}` as the automation's address. The secret in the path is
compared in constant time with the account's (and, while it is rotated, its previous one); a delivery
to the plain route or with another secret is 401 and queues nothing. What is queued is only the ids
(`{"order_ids": [...]}`), so a forged or altered body can at most make koppel read an order again.
A re-sent body is the same delivery (de-duplicated on its digest); a new status change of the same
order is a new one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from koppel.config import Account
from koppel.connectors.shoprenter.orders import ORDER_ID, decoded
from koppel.errors import BadRequest, Unauthorized
from koppel.webhooks import Delivery, VerifyContext, body_signed_delivery, matches

MAX_ORDERS = 500  # ids one delivery may name; more is not a status change
TOPIC = "order.changed"


class UnreadableWebhook(BadRequest):
    """The body is neither JSON nor XML koppel can read."""


def changed_order_ids(body: bytes) -> list[str]:
    """The order ids (innerIds) a webhook body names, each once, in its order.

    Anything else in the body is ignored; a body that parses but names no order gives []. Only a body
    that is not JSON or XML at all raises `UnreadableWebhook`."""
    text = body.decode("utf-8", "replace").strip().lstrip("\ufeff")
    if text.startswith("<"):
        orders = list(_xml_orders(text))
    else:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise UnreadableWebhook("the Shoprenter webhook body is neither JSON nor XML") from exc
        orders = list(_json_orders(parsed))
    ids: list[str] = []
    for order in orders:
        found = _order_id(order)
        if found and found not in ids:
            ids.append(found)
        if len(ids) >= MAX_ORDERS:
            break
    return ids


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery:
    """The webhook's URL secret checked, its body read for order ids only."""
    if not ctx.url_secret:
        raise Unauthorized(
            "Shoprenter signs nothing: its webhooks go to /webhooks/{account_id}/{webhook_secret}, not this route"
        )
    if not matches(secrets, ctx.url_secret):
        raise Unauthorized("the webhook URL's secret does not match")
    ids = changed_order_ids(body)
    if not ids:
        raise BadRequest("the Shoprenter webhook names no order (innerId or innerResourceId)")
    payload = {"order_ids": ids}
    delivery = body_signed_delivery(account, TOPIC, "", body, payload)
    return replace(delivery, queued_body=json.dumps(payload))


def order_ids(envelope: Any, payload: Mapping[str, Any]) -> list[str]:
    """The ids a queued delivery names (what `verify` kept of the body)."""
    ids = payload.get("order_ids")
    if not isinstance(ids, list) or not all(isinstance(each, str) and each.isdigit() for each in ids):
        raise ValueError("a queued Shoprenter order webhook holds order_ids, a list of digit strings")
    return ids[:MAX_ORDERS]


def _order_id(order: dict[str, Any]) -> str:
    inner = str(order.get("innerId") or "").strip()
    if inner.isdigit():
        return inner
    found = ORDER_ID.search(decoded(str(order.get("innerResourceId") or "")))
    return found.group(1) if found else ""


def _json_orders(parsed: Any) -> Iterator[dict[str, Any]]:
    if isinstance(parsed, list):
        for entry in parsed:
            yield from _json_orders(entry)
        return
    if not isinstance(parsed, dict):
        return
    if "innerId" in parsed or "innerResourceId" in parsed:
        yield parsed  # one flat order
        return
    for key in ("orders", "order", "data"):
        if key in parsed:
            yield from _json_orders(parsed[key])


def _xml_orders(text: str) -> Iterator[dict[str, Any]]:
    try:
        root = ElementTree.fromstring(text, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise UnreadableWebhook("the Shoprenter webhook body is neither JSON nor XML") from exc
    for element in _order_elements(root):
        yield {
            child.tag: (child.text or "").strip() for child in element if child.tag in ("innerId", "innerResourceId")
        }


def _order_elements(root: Element) -> Iterator[Element]:
    if root.find("innerId") is not None or root.find("innerResourceId") is not None:
        yield root
        return
    for element in root.iter():
        if (
            element is not root
            and re.fullmatch(r"order", element.tag or "")
            and (element.find("innerId") is not None or element.find("innerResourceId") is not None)
        ):
            yield element
