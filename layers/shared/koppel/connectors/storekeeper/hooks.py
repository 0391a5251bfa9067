"""What StoreKeeper's hooks tell koppel: its API credentials (`init`), that they are taken back
(`disconnect`, `deactivated`), and which products changed (`events`), nothing more.

Built from public facts (`FACTS-systems-2.md` §2.2: the WooCommerce plugin's endpoint and its recorded
hook requests, the Magento plugin's webhook), not from a specification. Every hook is
`POST {"action": ..., "payload": {...}}` with the shop's hook token in `UpxHookToken`; no HMAC.

Authentication (`verify`): the token is compared in constant time with each of the account's secrets
(`webhook_secret`, and `previous_webhook_secret` while it is rotated), before the body is read: a hook
without it, or with another, is 401 and nothing comes of it. Then:
- `init` hands over `api_url` and `sync_auth {account, subaccount, user, apikey}`: an `Install` that
  writes them into the account's secret under `settings.API_CREDENTIALS` (never queued, stored in the
  table or logged). A missing part is 400;
- `disconnect` and `deactivated`: an `Install` that removes them; the connector then says to connect
  the app again;
- `info`: a `Ping`; `sso` (a merchant's log-in to the app, which koppel does not offer) is ignored;
- `events`: the shop products it names (its `backref`, `ShopModule::ShopProduct(id=9)`, and any event's
  own `backref`) are queued as `{"product_ids": [...]}` under the topic `stock.changed`; koppel reads
  their levels from the API (`stock_of`), trusting nothing else of the body. A `stock_change` caused
  by koppel's own order (`is_own_order_stock_change`) is queued too: the channel must see what the
  order left. Events about other entities (orders, coupons, categories) are ignored. A body sent
  again is the same delivery (de-duplicated on its digest).
Unverified: which of the plugin's answers StoreKeeper needs (the receiver answers 200); that an event
carries its own `backref`; StoreKeeper's retry policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from koppel.config import Account
from koppel.connectors.storekeeper.settings import (
    API_ACCOUNT,
    API_CREDENTIALS,
    API_KEY,
    API_SUBACCOUNT,
    API_URL,
    API_USER,
    TOKEN_HEADER,
)
from koppel.errors import BadRequest, Unauthorized
from koppel.webhooks import (
    Delivery,
    Ignored,
    Install,
    Ping,
    VerifyContext,
    body_signed_delivery,
    header,
    matches,
    parse_object,
)

TOPIC = "stock.changed"
MAX_PRODUCTS = 500  # products one hook may name
PRODUCT = re.compile(r"^ShopModule::ShopProduct\(id=(\d{1,18})\)$")
URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
ACTIONS = frozenset({"init", "events", "info", "sso", "disconnect", "deactivated"})


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ping | Ignored | Install:
    """The hook token checked first, then the hook read for what koppel takes of it."""
    token = header(headers, TOKEN_HEADER)
    if not token:
        raise Unauthorized(f"missing {TOKEN_HEADER}")
    if not matches(secrets, token):
        raise Unauthorized(f"{TOKEN_HEADER} does not match")
    hook = parse_object(body)
    action, payload = hook.get("action"), hook.get("payload")
    if not isinstance(action, str) or action not in ACTIONS:
        raise BadRequest(f"a StoreKeeper hook names its action, one of {', '.join(sorted(ACTIONS))}")
    if not isinstance(payload, dict):
        raise BadRequest("a StoreKeeper hook carries its payload as an object")
    if action == "init":
        return Install(account.account_id, "init", credentials=credentials_of(payload), removed=removed_of(payload))
    if action in ("disconnect", "deactivated"):
        return Install(account.account_id, action, removed=API_CREDENTIALS)
    if action == "info":
        return Ping(account.account_id)
    if action == "sso":
        return Ignored(account.account_id, "sso")
    ids = product_ids(payload)
    if not ids:
        return Ignored(account.account_id, entity_of(payload))
    delivery = body_signed_delivery(account, TOPIC, "", body, {"product_ids": ids})
    return replace(delivery, queued_body=json.dumps({"product_ids": ids}))


def stock_ids(envelope: Any, payload: Mapping[str, Any]) -> list[str]:
    """The shop product ids a queued hook names (what `verify` kept of it)."""
    ids = payload.get("product_ids")
    if not isinstance(ids, list) or not all(isinstance(each, str) and each.isdigit() for each in ids):
        raise ValueError("a queued StoreKeeper hook holds product_ids, a list of digit strings")
    return ids[:MAX_PRODUCTS]


def credentials_of(payload: Mapping[str, Any]) -> dict[str, str]:
    """The API credentials an `init` hook hands over, under the names the connector reads; 400 when a
    part is missing."""
    api_url = str(payload.get("api_url") or "").strip()
    if not URL.fullmatch(api_url):
        raise BadRequest("a StoreKeeper init hook carries api_url, an http(s) address")
    auth = payload.get("sync_auth")
    if not isinstance(auth, dict):
        raise BadRequest("a StoreKeeper init hook carries sync_auth, an object")
    found = {API_URL: api_url}
    for name, key in (("account", API_ACCOUNT), ("user", API_USER), ("apikey", API_KEY)):
        value = auth.get(name)
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise BadRequest(f"a StoreKeeper init hook's sync_auth carries {name}, a text")
        found[key] = value.strip()
    subaccount = auth.get("subaccount")
    if isinstance(subaccount, str) and subaccount.strip() and subaccount.isprintable():
        found[API_SUBACCOUNT] = subaccount.strip()
    return found


def removed_of(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """A sub-account the new credentials have none of is dropped, not left from an earlier `init`."""
    subaccount = (payload.get("sync_auth") or {}).get("subaccount")
    return () if isinstance(subaccount, str) and subaccount.strip() else (API_SUBACCOUNT,)


def product_ids(payload: Mapping[str, Any]) -> list[str]:
    """The shop products an `events` hook names, each once, in order."""
    refs = [payload.get("backref")]
    events = payload.get("events")
    listed = events.values() if isinstance(events, dict) else events if isinstance(events, list) else ()
    refs.extend(event.get("backref") for event in listed if isinstance(event, dict))
    ids: list[str] = []
    for ref in refs:
        found = PRODUCT.fullmatch(ref.strip()) if isinstance(ref, str) else None
        if found and found.group(1) not in ids:
            ids.append(found.group(1))
    return ids[:MAX_PRODUCTS]


def entity_of(payload: Mapping[str, Any]) -> str:
    """What an ignored hook was about (`ShopModule::Order`), for the answer and the log."""
    ref = payload.get("backref")
    entity = ref.split("(", 1)[0].strip() if isinstance(ref, str) else ""
    return f"events:{entity[:60]}" if entity and entity.replace(":", "").isalnum() else "events"
