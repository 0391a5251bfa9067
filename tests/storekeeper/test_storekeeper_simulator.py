"""The StoreKeeper simulator refuses what the facts say StoreKeeper would: another API key, a call off
its shape, a price with more than two decimals, a second order of one shop order number."""

from __future__ import annotations

import json
from typing import Any

import httpx

from koppel_local.simulators.storekeeper import DEMO_ACCOUNT, DEMO_APIKEY, DEMO_USER, StoreKeeperSimulator

AUTH = {"account": DEMO_ACCOUNT, "user": DEMO_USER, "rights": "subuser", "mode": "apikey", "apikey": DEMO_APIKEY}


def rpc(http: httpx.Client, sim: StoreKeeperSimulator, function: str, params: list[Any], auth: Any = AUTH) -> Any:
    module, _, name = function.partition("::")
    return http.post(
        f"{sim.api_url()}/",
        params={"action": "request", "api": "fulljson", "module": module, "function": name},
        content=json.dumps({"auth": auth, "params": params}),
    )


def an_order(number: str, product_id: int, price: float = 19.95) -> dict[str, Any]:
    return {
        "shop_order_number": number,
        "order_items": [{"sku": "MUG", "quantity": 1, "ppu_wt": price, "shop_product_id": product_id}],
    }


def test_another_api_key_is_refused_401_and_nothing_is_done(http, sim) -> None:
    mug = sim.add_product("MUG")
    answer = rpc(http, sim, "ShopModule::newOrder", [an_order("1", mug.id)], auth={**AUTH, "apikey": "guess"})
    assert answer.status_code == 401 and answer.json()["success"] is False
    assert sim.orders == {}


def test_a_call_off_its_shape_is_refused_and_recorded(http, sim) -> None:
    sim.add_product("MUG")
    answer = rpc(http, sim, "ShopModule::naturalSearchShopFlatProductForHooks", [0, 0, 0, 10])

    assert answer.status_code == 400 and answer.json()["class"] == "Core::InvalidCall"
    assert [v.name for v in sim.violations] == ["params"]


def test_a_price_with_three_decimals_is_refused(http, sim) -> None:
    mug = sim.add_product("MUG")
    answer = rpc(http, sim, "ShopModule::newOrder", [an_order("1", mug.id, 19.995)])

    assert answer.status_code == 400 and "two decimals" in answer.json()["error"]
    assert [v.name for v in sim.violations] == ["params[0].order_items[0].ppu_wt"]
    assert sim.orders == {}


def test_a_second_order_of_one_shop_order_number_is_refused_as_a_duplicate(http, sim) -> None:
    mug = sim.add_product("MUG", stock=5)
    first = rpc(http, sim, "ShopModule::newOrder", [an_order("77", mug.id)])
    second = rpc(http, sim, "ShopModule::newOrder", [an_order("77", mug.id)])

    assert first.json() == {"success": True, "response": first.json()["response"]}
    assert second.json()["class"] == "ShopModule::OrderDuplicateNumber"
    assert len(sim.orders_numbered("77")) == 1 and sim.stock("MUG") == 4


def test_an_order_is_paid_once_its_payments_reach_its_total(http, sim) -> None:
    mug = sim.add_product("MUG")
    order_id = rpc(http, sim, "ShopModule::newOrder", [an_order("5", mug.id)]).json()["response"]
    payment = rpc(http, sim, "PaymentModule::newWebPayment", [{"amount": 19.95, "description": "x"}]).json()["response"]

    rpc(http, sim, "ShopModule::attachPaymentIdsToOrder", [{"payment_ids": [payment]}, order_id])
    again = rpc(http, sim, "ShopModule::attachPaymentIdsToOrder", [{"payment_ids": [payment]}, order_id])

    assert sim.order(order_id)["is_paid"] is True
    assert again.json()["error"] == "Order is already paid"
