"""What a Shoprenter "order status change" webhook tells koppel: which orders changed, nothing more.

Shoprenter signs nothing it sends (development/api/07_webhook.md), so a delivery is a hint: koppel
reads only the order ids from it and fetches each order from the API (`order(order_id)`), never
trusting a price, an address or a status in the body. The body is JSON or XML, as the merchant chose
in the automation: `{"orders": {"order": [{...}]}}` in the docs' sample, or one flat order; each
order names itself by `innerId` (the order number) and `innerResourceId` (`orders/{resource id}`).
An id is taken from `innerId` when it is digits, else from the number the resource id encodes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from koppel.connectors.shoprenter.orders import ORDER_ID, decoded
from koppel.errors import BadRequest

MAX_ORDERS = 500  # ids one delivery may name; more is not a status change


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
