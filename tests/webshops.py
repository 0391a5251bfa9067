"""The webshops koppel polls for orders (no webhooks), each as one adapter over its simulator, so a flow
test runs against every one of them alike: a fourth webshop is one connector, one simulator and one
adapter here.

An adapter sets up the webshop as the merchant has it (products with stock), places orders as buyers
do, and says what the webshop shows (stock, price, whether a product exists), in koppel's terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from koppel_local.simulators.kit.pytest_plugin import contract_or_skip


@dataclass(frozen=True)
class Buyer:
    email: str
    first_name: str = "Anna"
    last_name: str = "de Vries"
    street: str = "Prinsengracht"
    number: str = "263"
    postcode: str = "1016 GV"
    city: str = "Amsterdam"


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    price: str  # per unit, VAT included


class Webshop(Protocol):
    system: str
    app: Any  # the simulator (a WSGI app)

    def account(self, url: str) -> tuple[dict[str, Any], dict[str, str]]: ...  # settings, secret

    def add_product(self, sku: str, title: str, price: str, quantity: int = 0) -> None: ...

    def place_order(
        self, lines: list[Line], buyer: Buyer, *, discount: str = "0", shipping: str = "4.95"
    ) -> str: ...  # the order id koppel knows it by; `discount` comes off the first line, VAT included

    def later(self, seconds: int) -> None: ...  # the shop's clock moves on

    def number_of(self, order_id: str) -> str: ...  # the order's number as the merchant sees it

    def quantity(self, sku: str) -> int | None: ...

    def price(self, sku: str) -> Decimal: ...  # VAT included, as the buyer sees it

    def has_product(self, sku: str) -> bool: ...

    @property
    def violations(self) -> list[Any]: ...


class MagentoShop:
    system = "magento"

    def __init__(self) -> None:
        from koppel_local.simulators.magento import MagentoSimulator, load_contract

        self.app = MagentoSimulator(contract=contract_or_skip(load_contract), now=datetime.now(UTC))
        self._numbers = iter(range(101, 10_000))

    def account(self, url: str) -> tuple[dict[str, Any], dict[str, str]]:
        from koppel_local.simulators.magento import DEMO_TOKEN

        return {"base_url": url, "inventory": "msi"}, {"access_token": DEMO_TOKEN}

    def add_product(self, sku: str, title: str, price: str, quantity: int = 0) -> None:
        self.app.add_product(sku, title, price=price, quantity=quantity)

    def place_order(self, lines: list[Line], buyer: Buyer, *, discount: str = "0", shipping: str = "4.95") -> str:
        from koppel_local.simulators.magento import item

        number = f"{next(self._numbers):09d}"
        address = {
            "firstname": buyer.first_name,
            "lastname": buyer.last_name,
            "street": [buyer.street, buyer.number],
            "postcode": buyer.postcode,
            "city": buyer.city,
            "country_id": "NL",
        }
        items = [
            item(line.sku, line.quantity, line.price, discount=discount if index == 0 else "0")
            for index, line in enumerate(lines)
        ]
        self.app.add_order(items, increment_id=number, email=buyer.email, billing=address, shipping_incl_tax=shipping)
        return number

    def later(self, seconds: int) -> None:
        self.app.advance(seconds)

    def number_of(self, order_id: str) -> str:
        return order_id  # the increment id: what the buyer's e-mail and the admin show

    def quantity(self, sku: str) -> int | None:
        return self.app.quantity(sku)

    def price(self, sku: str) -> Decimal:
        return Decimal(str(self.app.product(sku)["price"]))

    def has_product(self, sku: str) -> bool:
        return self.app.product(sku) is not None

    @property
    def violations(self) -> list[Any]:
        return self.app.violations


class PrestaShopShop:
    system = "prestashop"
    rate = Decimal(21)  # the simulator's default tax rules group

    def __init__(self) -> None:
        from koppel_local.simulators.prestashop import PrestaShopSimulator, load_contract

        self.app = PrestaShopSimulator(contract=contract_or_skip(load_contract), now=datetime.now(UTC))

    def account(self, url: str) -> tuple[dict[str, Any], dict[str, str]]:
        from koppel_local.simulators.prestashop import DEMO_WS_KEY

        return {"base_url": url}, {"ws_key": DEMO_WS_KEY}

    def add_product(self, sku: str, title: str, price: str, quantity: int = 0) -> None:
        excl = (Decimal(price) / (1 + self.rate / 100)).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        self.app.add_product(sku, title, price=excl, quantity=quantity)

    def place_order(self, lines: list[Line], buyer: Buyer, *, discount: str = "0", shipping: str = "4.95") -> str:
        from koppel_local.simulators.prestashop import row
        from koppel_local.simulators.prestashop.app import text

        rows = []
        for line in lines:
            product = self.app.product(line.sku)
            product_id = int(text(product, "id")) if product is not None else 0
            rows.append(row(line.sku, line.quantity, line.price, product_id=product_id))
        address = {
            "address1": f"{buyer.street} {buyer.number}",
            "postcode": buyer.postcode,
            "city": buyer.city,
            "firstname": buyer.first_name,
            "lastname": buyer.last_name,
        }
        order = self.app.add_order(
            rows, email=buyer.email, delivery=address, shipping_tax_incl=shipping, discounts_tax_incl=discount
        )
        return text(order, "id")

    def later(self, seconds: int) -> None:
        self.app.advance(seconds)

    def number_of(self, order_id: str) -> str:
        from koppel_local.simulators.prestashop.app import text

        order = next(node for node in self.app.data["orders"].values() if text(node, "id") == order_id)
        return text(order, "reference")  # what the back office and the buyer's e-mail show

    def quantity(self, sku: str) -> int | None:
        return self.app.quantity(sku)

    def price(self, sku: str) -> Decimal:
        from koppel_local.simulators.prestashop.app import text

        excl = Decimal(text(self.app.product(sku), "price"))
        return (excl * (1 + self.rate / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def has_product(self, sku: str) -> bool:
        return self.app.product(sku) is not None

    @property
    def violations(self) -> list[Any]:
        return self.app.violations


class OpenCartShop:
    """OpenCart through the REST admin extension koppel documents (no published spec: the simulator
    checks the shapes koppel's docs describe)."""

    system = "opencart"

    def __init__(self) -> None:
        from koppel_local.simulators.opencart import OpenCartSimulator

        self.app = OpenCartSimulator(now=datetime.now(UTC))

    def account(self, url: str) -> tuple[dict[str, Any], dict[str, str]]:
        from koppel_local.simulators.opencart import DEMO_SECRET

        return {"base_url": url}, {"restadmin_secret": DEMO_SECRET}

    def add_product(self, sku: str, title: str, price: str, quantity: int = 0) -> None:
        self.app.add_product(sku, title, price=price, quantity=quantity)

    def place_order(self, lines: list[Line], buyer: Buyer, *, discount: str = "0", shipping: str = "4.95") -> str:
        from koppel_local.simulators.opencart import item

        address = {
            "firstname": buyer.first_name,
            "lastname": buyer.last_name,
            "address_1": f"{buyer.street} {buyer.number}",
            "postcode": buyer.postcode,
            "city": buyer.city,
        }
        items = [item(line.sku, line.quantity, line.price) for line in lines]
        order = self.app.add_order(
            items, email=buyer.email, payment=address, shipping_incl=shipping, coupon_incl=discount
        )
        return str(order["order_id"])

    def later(self, seconds: int) -> None:
        self.app.advance(seconds)

    def number_of(self, order_id: str) -> str:
        return order_id  # OpenCart shows its order id

    def quantity(self, sku: str) -> int | None:
        return self.app.quantity(sku)

    def price(self, sku: str) -> Decimal:
        return Decimal(str(self.app.product(sku)["price"]))

    def has_product(self, sku: str) -> bool:
        return self.app.product(sku) is not None

    @property
    def violations(self) -> list[Any]:
        return self.app.violations


WEBSHOPS: dict[str, type] = {"magento": MagentoShop, "prestashop": PrestaShopShop, "opencart": OpenCartShop}
