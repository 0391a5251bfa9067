"""bol.com's transporter code for each carrier koppel detects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from koppel.carriers import detect
from koppel.connectors.bol.transporters import bol_transporter
from koppel_local.reference import MISSING_REASON, reference_file


@pytest.mark.parametrize(
    ("carrier", "country", "transporter"),
    [
        ("postnl", "NL", "TNT"),
        ("postnl", "BE", "TNT"),
        ("dhl_parcel", "NL", "DHL"),
        ("dhl_parcel", "DE", "DHL_DE"),
        ("dhl_express", "NL", "DHL"),
        ("dhl_ecommerce", "NL", "DHL"),
        ("dhl_for_you", "NL", "DHLFORYOU"),
        ("dpd", "NL", "DPD-NL"),
        ("dpd", "be", "DPD-BE"),
        ("gls", "NL", "GLS"),
        ("ups", "BE", "UPS"),
        ("bpost", "BE", "BPOST_BE"),
        ("bpost", "NL", "BPOST_BE"),
        ("fedex", "NL", "FEDEX_NL"),
        ("fedex", "BE", "FEDEX_BE"),
        ("tnt_express", "NL", "TNT-EXPRESS"),
        ("rjp", "NL", "RJP"),
        ("dynalogic", "NL", "DYL"),
        ("budbee", "NL", "OTHER"),
        ("usps", "NL", "OTHER"),
        ("s10_postal", "NL", "OTHER"),
        ("amazon", "NL", "OTHER"),
        (None, "NL", "OTHER"),
    ],
)
def test_bol_transporter(carrier: str | None, country: str, transporter: str) -> None:
    assert bol_transporter(carrier, country) == transporter


def test_bol_transporter_codes_are_bols() -> None:
    path = reference_file("bol", "facts.json")
    if path is None:
        pytest.skip(MISSING_REASON)
    codes = json.loads(Path(path).read_text())["transporter_codes"]["list_ts_client_enum"]
    carriers = ["dhl_express", "dhl_parcel", "dhl_ecommerce", "s10_postal", "postnl", "bpost", "dpd", "fedex"]
    carriers += ["gls", "ups", "dhl_for_you"]
    carriers += ["tnt_express", "rjp", "dynalogic", "transmission", "fiege", "parcel_nl", "logoix", "packs"]
    for carrier in carriers:
        for country in ("NL", "BE", "DE"):
            assert bol_transporter(carrier, country) in codes


def test_a_bol_example_round_trip() -> None:
    # GIVEN the code in bol's own shipment example, from a backoffice that says "PostNL"
    found = detect("3SBOL0987654321", hint="PostNL")
    # THEN bol is sent TNT with that code
    assert found is not None
    assert (bol_transporter(found.carrier), found.tracking_code) == ("TNT", "3SBOL0987654321")
