"""Invented Dutch customers and products for generated bol.com orders (no real person in them)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from koppel_local.simulators.bol.records import SimItem

_FIRST_NAMES = (
    ("Sanne", "FEMALE"),
    ("Daan", "MALE"),
    ("Femke", "FEMALE"),
    ("Joost", "MALE"),
    ("Lotte", "FEMALE"),
    ("Bram", "MALE"),
    ("Noor", "FEMALE"),
    ("Thijs", "MALE"),
    ("Robin", "UNKNOWN"),
)
_SURNAMES = (
    "de Vries",
    "Jansen",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "van Leeuwen",
)
_STREETS = (
    "Lindenlaan",
    "Kerkstraat",
    "Molenweg",
    "Havenkade",
    "Beukenlaan",
    "Schoolstraat",
    "Dijkweg",
    "Populierenhof",
)
_CITIES = (
    ("Utrecht", "3512"),
    ("Zwolle", "8011"),
    ("Groningen", "9712"),
    ("Haarlem", "2011"),
    ("Delft", "2611"),
    ("Breda", "4811"),
    ("Arnhem", "6811"),
    ("Leiden", "2312"),
)
_POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
# (title, price incl. VAT, offer reference; empty: the retailer set none, so the EAN identifies it)
_PRODUCTS = (
    ("Koffiebonen Arabica, 1 kg", "14.95", "KOF-ARA-1000"),
    ("Linnen theedoeken, set van 3", "12.50", "THD-LIN-3"),
    ("Oplaadbare fietslamp LED", "24.99", ""),
    ("Legpuzzel Grachtengordel, 1000 stukjes", "17.99", "PZL-GRA-1000"),
    ("RVS drinkfles 750 ml", "19.95", "FLS-RVS-750"),
    ("Wollen plaid, oker", "39.00", "PLD-WOL-OKR"),
)


def sample_ean(index: int) -> str:
    """A valid EAN-13 (correct check digit) for the index-th invented product."""
    body = f"8719{index:08d}"
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def sample_items(rng: random.Random) -> list[SimItem]:
    chosen = rng.sample(range(len(_PRODUCTS)), k=rng.randint(1, 3))
    return [
        SimItem(
            ean=sample_ean(index),
            title=_PRODUCTS[index][0],
            unit_price=Decimal(_PRODUCTS[index][1]),
            quantity=rng.choice((1, 1, 1, 2, 3)),
            offer_reference=_PRODUCTS[index][2],
        )
        for index in chosen
    ]


def dutch_person(rng: random.Random) -> dict[str, Any]:
    first_name, salutation = rng.choice(_FIRST_NAMES)
    city, postcode_digits = rng.choice(_CITIES)
    person: dict[str, Any] = {
        "salutation": salutation,
        "firstName": first_name,
        "surname": rng.choice(_SURNAMES),
        "streetName": rng.choice(_STREETS),
        "houseNumber": str(rng.randint(1, 240)),
        "zipCode": postcode_digits + "".join(rng.choices(_POSTCODE_LETTERS, k=2)),
        "city": city,
        "countryCode": "NL",
        # bol hands out scrambled relay addresses, never the buyer's own.
        "email": f"{rng.getrandbits(120):030x}@verkopen.bol.example",
        "language": "nl",
    }
    if rng.random() < 0.2:
        person["houseNumberExtension"] = rng.choice(("A", "B", "2", "bis"))
    return person


_BILLING_FIELDS = frozenset(
    {
        "salutation",
        "firstName",
        "surname",
        "streetName",
        "houseNumber",
        "houseNumberExtension",
        "extraAddressInformation",
        "zipCode",
        "city",
        "countryCode",
        "email",
        "company",
        "vatNumber",
        "kvkNumber",
        "orderReference",
    }
)


def billing_from(shipping: Mapping[str, Any]) -> dict[str, Any]:
    """A consumer usually pays where the parcel goes: billing mirrors shipping."""
    return {key: value for key, value in shipping.items() if key in _BILLING_FIELDS}
