"""StoreKeeper's hooks: the hook token checked in constant time before the body is read, the API key
`init` hands over as an Install, `disconnect` taking it back, `events` read for product ids only (and
those ids' levels read from the API)."""

from __future__ import annotations

import json

import pytest
from storekeeper.builders import HOOK_TOKEN, context, hook, order_of, storekeeper_account

from koppel.connectors.storekeeper import hooks
from koppel.connectors.storekeeper.settings import API_CREDENTIALS
from koppel.errors import BadRequest, Unauthorized
from koppel.webhooks import Delivery, Ignored, Install, Ping, verify
from koppel_local.simulators.storekeeper import DEMO_ACCOUNT, DEMO_APIKEY, DEMO_USER, TOKEN_HEADER

ACCOUNT = storekeeper_account()


@pytest.mark.parametrize(
    "token", [None, "", "not-the-token", HOOK_TOKEN + "x"], ids=["absent", "empty", "other", "longer"]
)
def test_a_hook_without_the_token_is_refused_before_its_body_is_read(token) -> None:
    with pytest.raises(Unauthorized):
        hook(ACCOUNT, b"{not json at all", token=token)


def test_the_previous_token_still_verifies_while_it_is_rotated(sim) -> None:
    assert isinstance(hook(ACCOUNT, sim.hook_body("info"), token="old", secrets=[HOOK_TOKEN, "old"]), Ping)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1, 2]", "JSON object"),
        (b'{"payload": {}}', "action"),
        (b'{"action": "rename", "payload": {}}', "action"),
        (b'{"action": "events", "payload": []}', "payload"),
        (b'{"action": "init", "payload": {"api_url": "ftp://x", "sync_auth": {}}}', "api_url"),
        (b'{"action": "init", "payload": {"api_url": "https://sk.test/api", "sync_auth": {"account": "a"}}}', "user"),
    ],
    ids=["list", "no-action", "unknown-action", "payload-list", "bad-url", "no-key"],
)
def test_a_malformed_hook_is_400_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        hook(ACCOUNT, body)


def test_init_hands_over_the_api_key_under_the_names_the_connector_reads(sim) -> None:
    installed = hook(ACCOUNT, sim.hook_body("init"))

    assert isinstance(installed, Install) and installed.topic == "init"
    assert installed.credentials == {
        "api_url": sim.api_url(),
        "api_account": DEMO_ACCOUNT,
        "api_user": DEMO_USER,
        "api_key": DEMO_APIKEY,
    }
    assert set(installed.credentials) <= set(API_CREDENTIALS)
    assert installed.removed == ("api_subaccount",)  # none given: an earlier one is not kept
    assert DEMO_APIKEY not in repr(installed)


def test_a_subaccount_is_kept_when_init_gives_one(sim) -> None:
    payload = sim.init_payload()
    payload["sync_auth"]["subaccount"] = "winkel"
    installed = hook(ACCOUNT, sim.hook_body("init", payload))
    assert installed.credentials["api_subaccount"] == "winkel" and installed.removed == ()


@pytest.mark.parametrize("action", ["disconnect", "deactivated"])
def test_disconnect_takes_the_api_key_back(sim, action: str) -> None:
    taken = hook(ACCOUNT, sim.hook_body(action))
    assert taken == Install(ACCOUNT.account_id, action, removed=API_CREDENTIALS)


def test_info_is_a_ping_and_sso_is_ignored(sim) -> None:
    assert isinstance(hook(ACCOUNT, sim.hook_body("info")), Ping)
    assert hook(ACCOUNT, sim.hook_body("sso", {"shortname": "x"})) == Ignored(ACCOUNT.account_id, "sso")


def test_a_stock_event_queues_only_the_product_id_and_its_level_is_read_from_the_api(sim, connect) -> None:
    mug = sim.add_product("MUG", stock=4)
    payload = sim.set_stock("MUG", 2)
    payload["events"][next(iter(payload["events"]))]["details"] = {"orderable_stock_value": 99}  # not trusted

    delivery = hook(ACCOUNT, sim.hook_body("events", payload))

    assert isinstance(delivery, Delivery) and delivery.topic == "stock.changed"
    assert json.loads(delivery.queued_body) == {"product_ids": [str(mug.id)]}
    ids = hooks.stock_ids(None, json.loads(delivery.queued_body))
    assert [(level.sku, level.on_hand) for level in connect().stock_of(ids)] == [("MUG", 2)]


def test_a_stock_change_from_koppels_own_order_is_queued_too(sim, connect) -> None:
    mug = sim.add_product("MUG", stock=4)
    sim.add_product("PEN")
    connect().create_order(order_of(sim, "1", ("MUG", 1, "19.95")), tag="koppel")
    own = sim.events[-1]
    assert own["details"] == {"is_own_order_stock_change": True}

    body = sim.hook_body("events", {"backref": own["backref"], "events": {str(own["id"]): own}})
    delivery = hook(ACCOUNT, body)
    assert isinstance(delivery, Delivery) and json.loads(delivery.queued_body) == {"product_ids": [str(mug.id)]}


def test_a_body_sent_again_is_the_same_delivery_a_new_change_another(sim) -> None:
    sim.add_product("MUG")
    first = sim.hook_body("events", sim.set_stock("MUG", 3))
    second = sim.hook_body("events", sim.set_stock("MUG", 2))

    assert hook(ACCOUNT, first).dedupe_key == hook(ACCOUNT, first).dedupe_key
    assert hook(ACCOUNT, first).dedupe_key != hook(ACCOUNT, second).dedupe_key


def test_events_about_other_entities_are_ignored(sim) -> None:
    payload = {"backref": "ShopModule::Order(id=12)", "events": {"1": {"id": 1, "event": "updated", "details": {}}}}
    assert hook(ACCOUNT, sim.hook_body("events", payload)) == Ignored(ACCOUNT.account_id, "events:ShopModule::Order")


def test_the_receiver_takes_stock_changed_from_storekeeper_by_its_declaration(sim) -> None:
    sim.add_product("MUG")
    body = sim.hook_body("events", sim.set_stock("MUG", 1))

    delivery = verify(ACCOUNT, [HOOK_TOKEN], {TOKEN_HEADER.lower(): HOOK_TOKEN}, body, context())

    assert isinstance(delivery, Delivery) and delivery.system == "storekeeper"


def test_a_queued_body_that_is_not_product_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="product_ids"):
        hooks.stock_ids(None, {"product_ids": ["12; drop"]})
    with pytest.raises(ValueError, match="product_ids"):
        hooks.stock_ids(None, {"levels": []})
