"""What the StoreKeeper simulator takes as StoreKeeper's contract: the call shapes of the functions it
serves, since StoreKeeper publishes no spec.

Built from the public facts koppel keeps on StoreKeeper (`FACTS-systems-2.md` §2.2: the PHP API
wrapper's full-JSON adapter, the WooCommerce and Magento plugins and their recorded calls), not from a
specification. Everything here is **unverified** against the real API. Checked on every request:
- the query: `action=request`, `api=fulljson`, `module`, `function`;
- the body: a JSON object with `auth` (an object with `account` and `mode`; in `apikey` mode `user`
  and `apikey` too) and `params`, a list of exactly the function's positional arguments, each of its
  kind (a number, a text, an object, a list, or null where the plugins pass null);
- list filters `{"name": "<field>__<operator>", "val": ...}` or `{..., "multi_val": [...]}` on the
  fields the simulator serves, orders `{"name", "dir": asc|desc}`;
- `newOrder`'s call data: only the keys the plugin sends, a `shop_order_number`, at least one order
  item, each with a whole `quantity` above 0 and a `ppu_wt` (or `ppu`) of at most two decimals (the
  facts: StoreKeeper refuses more), a product line (neither discount, shipping nor payment) with its
  `shop_product_id`;
- `newWebPayment`'s amount: at most two decimals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from koppel_local.simulators.kit.contract import Answer, Call, CheckingContract, Violation

SOURCE = "FACTS-systems-2.md#2.2"

Check = Callable[[Any], str]  # "" : fine, else why not


def number(value: Any) -> str:
    return "" if isinstance(value, int | Decimal) and not isinstance(value, bool) else "must be a number"


def whole(value: Any) -> str:
    return "" if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else "must be a whole number"


def identifier(value: Any) -> str:
    return "" if isinstance(value, int) and not isinstance(value, bool) and value > 0 else "must be an id (a number)"


def obj(value: Any) -> str:
    return "" if isinstance(value, dict) else "must be an object"


def null(value: Any) -> str:
    return "" if value is None else "must be null"


def text_or_zero(value: Any) -> str:
    return "" if isinstance(value, str) or value == 0 else "must be a text or 0"


def listed(value: Any) -> str:
    return "" if isinstance(value, list) or value is None else "must be a list or null"


def cents(value: Any) -> str:
    if number(value):
        return "must be a number"
    return "" if Decimal(value).as_tuple().exponent >= -2 else "has more than two decimals, which StoreKeeper refuses"


LIST = (whole, whole, listed, listed)  # start, limit, order, filters
FUNCTIONS: dict[str, tuple[Check, ...]] = {
    "ShopModule::naturalSearchShopFlatProductForHooks": (text_or_zero, text_or_zero, *LIST),
    "ShopModule::getShopSettingsForHooks": (),
    "ShopModule::newOrder": (obj,),
    "ShopModule::getOrder": (identifier, null),
    "ShopModule::listOrders": LIST,
    "ShopModule::updateOrderStatus": (obj, identifier),
    "ShopModule::findShopCustomerBySubuserEmail": (obj,),
    "ShopModule::newShopCustomer": (obj,),
    "ShopModule::attachPaymentIdsToOrder": (obj, identifier),
    "PaymentModule::newWebPayment": (obj,),
}
FILTERS: dict[str, frozenset[str]] = {
    "ShopModule::naturalSearchShopFlatProductForHooks": frozenset(
        {
            "id__=",
            "id__in_list",
            "flat_product/product/sku__=",
            "flat_product/product/ean__=",
            "flat_product/product/type__in_list",
        }
    ),
    "ShopModule::listOrders": frozenset({"id__=", "shop_order_number__="}),
}
ORDER_KEYS = frozenset(
    {
        "shop_order_number",
        "customer_reference",
        "customer_comment",
        "is_anonymous",
        "relation_data_id",
        "billing_address",
        "shipping_address",
        "billing_address__merge",
        "shipping_address__merge",
        "force_order_if_product_not_active",
        "force_backorder_if_not_on_stock",
        "calculate_from_wt",
        "order_items",
        "order_coupon_codes",
    }
)
ITEM_KEYS = frozenset(
    {
        "sku",
        "name",
        "description",
        "quantity",
        "ppu_wt",
        "ppu",
        "before_discount_ppu_wt",
        "before_discount_ppu",
        "shop_product_id",
        "tax_rate_id",
        "is_discount",
        "is_payment",
        "is_shipping",
        "extra",
    }
)
STATUSES = frozenset({"new", "processing", "on_hold", "complete", "refunded", "cancelled"})


def parse(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"), parse_float=Decimal)


class StoreKeeperContract(CheckingContract):
    source = SOURCE

    def request_violations(self, call: Call) -> list[Violation]:
        found: list[Violation] = []
        for name, wanted in (("action", "request"), ("api", "fulljson")):
            if call.query.get(name) != wanted:
                found.append(Violation(f"query.{name}", f"must be {wanted!r}", "rpc-transport"))
        function = f"{call.query.get('module', '')}::{call.query.get('function', '')}"
        if function not in FUNCTIONS:
            return [*found, Violation("query.function", f"{function} is not a function koppel may call", "functions")]
        try:
            body = parse(call.body)
        except ValueError:
            return [*found, Violation("body", "must be JSON", "rpc-transport")]
        if not isinstance(body, dict) or set(body) - {"auth", "params"}:
            return [*found, Violation("body", "must be an object of auth and params", "rpc-transport")]
        found.extend(auth_violations(body.get("auth")))
        params = body.get("params")
        checks = FUNCTIONS[function]
        if not isinstance(params, list) or len(params) != len(checks):
            return [*found, Violation("params", f"{function} takes {len(checks)} positional arguments", "functions")]
        for index, (check, value) in enumerate(zip(checks, params, strict=True)):
            reason = check(value)
            if reason:
                found.append(Violation(f"params[{index}]", reason, "functions"))
        if found:
            return found
        if function in FILTERS:
            order, filters = params[-2], params[-1]
            found.extend(filter_violations(filters, FILTERS[function]))
            found.extend(order_violations(order))
        found.extend(call_data_violations(function, params))
        return found

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        try:
            body = parse(answer.body)
        except ValueError:
            return [Violation("answer", "is not JSON", "rpc-transport")]
        if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
            return [Violation("answer", "must carry success", "rpc-transport")]
        return []


def auth_violations(auth: Any) -> list[Violation]:
    if not isinstance(auth, dict):
        return [Violation("auth", "must be an object", "auth")]
    found = [Violation(f"auth.{name}", "is required", "auth") for name in ("account", "mode") if not auth.get(name)]
    if auth.get("mode") == "apikey":
        found.extend(
            Violation(f"auth.{name}", "is required in apikey mode", "auth")
            for name in ("user", "apikey")
            if not auth.get(name)
        )
    elif auth.get("mode") not in (None, "", "password", "hash", "none"):
        found.append(Violation("auth.mode", "must be apikey, password, hash or none", "auth"))
    return found


def filter_violations(filters: Any, served: frozenset[str]) -> list[Violation]:
    found: list[Violation] = []
    for index, entry in enumerate(filters or ()):
        where = f"params.filters[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            found.append(Violation(where, "must be an object with a name", "filters"))
            continue
        if entry["name"] not in served:
            found.append(Violation(where, f"{entry['name']} is not a filter the simulator serves", "filters"))
        many = entry["name"].endswith("__in_list")
        if many and not isinstance(entry.get("multi_val"), list):
            found.append(Violation(where, "an __in_list filter carries multi_val, a list", "filters"))
        if not many and "val" not in entry:
            found.append(Violation(where, "a filter carries val", "filters"))
    return found


def order_violations(order: Any) -> list[Violation]:
    return [
        Violation(f"params.order[{index}]", "must be {name, dir: asc|desc}", "filters")
        for index, entry in enumerate(order or ())
        if not isinstance(entry, dict)
        or not isinstance(entry.get("name"), str)
        or entry.get("dir") not in ("asc", "desc")
    ]


def call_data_violations(function: str, params: list[Any]) -> list[Violation]:
    data: Mapping[str, Any] = params[0] if params and isinstance(params[0], dict) else {}
    if function == "ShopModule::newOrder":
        return order_data_violations(data)
    if function == "PaymentModule::newWebPayment":
        reason = cents(data.get("amount"))
        found = [Violation("params[0].amount", reason, "payments")] if reason else []
        if not isinstance(data.get("description", ""), str):
            found.append(Violation("params[0].description", "must be a text", "payments"))
        return found
    if function == "ShopModule::attachPaymentIdsToOrder":
        ids = data.get("payment_ids")
        if not isinstance(ids, list) or not ids or any(identifier(each) for each in ids):
            return [Violation("params[0].payment_ids", "must be a list of payment ids", "payments")]
    if function == "ShopModule::findShopCustomerBySubuserEmail" and not isinstance(data.get("email"), str):
        return [Violation("params[0].email", "must be a text", "customers")]
    if function == "ShopModule::newShopCustomer":
        relation = data.get("relation")
        subuser = relation.get("subuser") if isinstance(relation, dict) else None
        if not isinstance(subuser, dict) or not subuser.get("email"):
            return [Violation("params[0].relation.subuser.email", "is required", "customers")]
    if function == "ShopModule::updateOrderStatus" and data.get("status") not in STATUSES:
        return [Violation("params[0].status", f"must be one of {', '.join(sorted(STATUSES))}", "orders")]
    return []


def order_data_violations(data: Mapping[str, Any]) -> list[Violation]:
    found = [
        Violation(f"params[0].{key}", "is not a newOrder field", "orders") for key in sorted(set(data) - ORDER_KEYS)
    ]
    if not isinstance(data.get("shop_order_number"), str | int) or not str(data.get("shop_order_number")).strip():
        found.append(Violation("params[0].shop_order_number", "is required", "orders"))
    items = data.get("order_items")
    if not isinstance(items, list) or not items:
        return [*found, Violation("params[0].order_items", "must list at least one item", "orders")]
    for index, item in enumerate(items):
        where = f"params[0].order_items[{index}]"
        if not isinstance(item, dict):
            found.append(Violation(where, "must be an object", "orders"))
            continue
        found.extend(
            Violation(f"{where}.{key}", "is not an order item field", "orders") for key in sorted(set(item) - ITEM_KEYS)
        )
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            found.append(Violation(f"{where}.quantity", "must be a whole number above 0", "orders"))
        price = "ppu_wt" if "ppu_wt" in item else "ppu"
        reason = cents(item.get(price))
        if reason:
            found.append(Violation(f"{where}.{price}", reason, "orders"))
        special = item.get("is_discount") or item.get("is_shipping") or item.get("is_payment")
        if not special and identifier(item.get("shop_product_id")):
            found.append(Violation(f"{where}.shop_product_id", "a product line names its shop product", "orders"))
    return found
