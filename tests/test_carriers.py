"""Which carrier a track & trace code belongs to (bol.com's transporter codes: tests/bol/test_bol_transporters.py).

The reference test numbers (jkeen/tracking_number_data and the EU formats collected beside the
repository) are read at run time; those tests skip when the reference folder is absent. The other
codes here are koppel's own examples.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from koppel.carriers import Detection, carrier_from_name, detect
from koppel_local.reference import MISSING_REASON, reference_dir, reference_file

COURIERS = reference_dir() / "tracking_number_data"
# A reference courier whose numbers koppel names more precisely: any of these carriers is that courier.
SAME_COURIER = {
    "dhl": {"dhl_express", "dhl_parcel", "dhl_ecommerce"},
    "s10": {"s10_postal", "postnl", "bpost"},
}


def carriers_for(courier: str) -> set[str]:
    return SAME_COURIER.get(courier, {courier})


def reference_products() -> list[tuple[str, dict[str, Any]]]:
    products = []
    for path in sorted(COURIERS.glob("*.json")):
        data = json.loads(path.read_text())
        products += [(data["courier_code"], product) for product in data.get("tracking_numbers", [])]
    return products


def reference_cases(kind: str) -> list[Any]:
    if not COURIERS.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=MISSING_REASON), id="no-reference")]
    return [
        pytest.param(courier, product, number, id=f"{courier}:{product['name']}:{number.strip()}")
        for courier, product in reference_products()
        for number in product["test_numbers"].get(kind, [])
    ]


@cache
def valid_reference_numbers() -> dict[str, set[str]]:
    valid: dict[str, set[str]] = {}
    for courier, product in reference_products():
        for number in product["test_numbers"].get("valid", []):
            valid.setdefault(courier, set()).add(re.sub(r"\s", "", number).upper())
    return valid


def has_check_digit(product: dict[str, Any]) -> bool:
    return bool(product.get("validation", {}).get("checksum"))


# --- every reference test number ----------------------------------------------------------------------
@pytest.mark.parametrize(("courier", "product", "number"), reference_cases("valid"))
def test_a_valid_reference_number_names_its_courier(courier: str, product: dict[str, Any], number: str) -> None:
    # GIVEN a valid test number from the reference data, no carrier name
    # WHEN it is detected
    found = detect(number)

    # THEN it is that courier's, and the check digit was verified where the format has one; a bare
    # number other carriers print too is not claimed for any of them, but names this courier as one
    assert found is not None, f"{product['name']} not recognised"
    if found.ambiguous:
        assert found.carrier == "" and set(found.candidates) & set(carriers_for(courier)), found
    else:
        assert found.carrier in carriers_for(courier)
    assert found.tracking_code == re.sub(r"\s", "", number).upper()
    assert found.checked == has_check_digit(product)


@pytest.mark.parametrize(("courier", "product", "number"), reference_cases("invalid"))
def test_an_invalid_reference_number_is_not_taken_for_its_courier(
    courier: str, product: dict[str, Any], number: str
) -> None:
    # GIVEN a number the reference lists as invalid for one of a courier's formats
    found = detect(number)

    # THEN koppel does not name that courier, unless the number is valid in another of its formats
    if found is not None and found.carrier in carriers_for(courier):
        assert found.tracking_code in valid_reference_numbers()[courier], f"{found.format} accepted it"


def quirks(product: dict[str, Any]) -> list[str]:
    """The checksum details a plain checker gets wrong, where the format has them."""
    validation = product.get("validation", {})
    checksum = validation.get("checksum", {})
    found = [key for key in ("evens_multiplier", "odds_multiplier") if key in checksum]
    found += ["reverse"] if checksum.get("reverse") else []
    found += ["prepend_if"] if validation.get("serial_number_format", {}).get("prepend_if") else []
    found += ["exists"] if validation.get("additional", {}).get("exists") else []
    return found


def quirky_cases() -> list[Any]:
    return [case for case in reference_cases("valid") if case.values[1] is None or quirks(case.values[1])]


@pytest.mark.parametrize(("courier", "product", "number"), quirky_cases())
def test_checksum_details_are_honoured(courier: str, product: dict[str, Any], number: str) -> None:
    # GIVEN a number whose check needs a reversed serial, a restored prefix, or a known country
    found = detect(number)

    # THEN its check digit verifies as a check digit of that courier
    assert found is not None
    assert found.checked
    assert found.carrier in carriers_for(courier)


# --- the EU formats ---------------------------------------------------------------------------------
def eu_formats() -> dict[str, Any]:
    path = reference_file("carriers_eu", "formats.json")
    if path is None:
        pytest.skip(MISSING_REASON)
    return json.loads(Path(path).read_text())


def codes_in(text: str, prefix: str) -> list[str]:
    return re.findall(rf"\b{prefix}[0-9A-Z]{{8,}}\b", text)


def test_postnl_examples_are_postnl() -> None:
    examples = [code for text in eu_formats()["PostNL"]["examples"] for code in codes_in(text, "3S")]
    assert examples
    for code in examples:
        assert detect(code) == Detection("postnl", code, checked=False, format="postnl_3s")


def test_dhl_parcel_examples_are_dhl_parcel() -> None:
    text = eu_formats()["DHL_Parcel_NL"]["format"]
    examples = codes_in(text, "3S") + codes_in(text, "JVGL")
    assert len(examples) == 2
    for code in examples:
        assert detect(code).carrier == "dhl_parcel"  # type: ignore[union-attr]


def test_dhl_express_example_is_dhl_express() -> None:
    (code,) = codes_in(eu_formats()["DHL_Parcel_NL"]["DHL_Express_for_comparison"], "JJD")
    assert detect(code).carrier == "dhl_express"  # type: ignore[union-attr]


def test_dpd_numbers_carry_an_iso_7064_check_character() -> None:
    tests = eu_formats()["DPD"]["jkeen_tests"]
    for code in tests["dpd_14_valid"] + tests["dpd_28_valid"]:
        found = detect(code)
        assert found is not None
        assert (found.carrier, found.checked) == ("dpd", True)
    for code in tests["dpd_14_invalid"]:
        assert detect(code) is None


def test_s10_examples() -> None:
    text = eu_formats()["UPU_S10"]
    valid = re.findall(r"valid ([A-Z0-9]{13});", text)
    invalid = re.findall(r"[A-Z]{2}\d{9}[A-Z]{2}", text.split("invalid", 1)[1])
    assert valid and invalid
    for code in valid:
        assert detect(code) == Detection("s10_postal", code, checked=True, format="s10")
    for code in invalid:
        assert detect(code) is None


@pytest.mark.parametrize(
    ("code", "carrier", "checked"),
    [
        ("3SKOPL000123456", "postnl", False),  # 3S + 4-character range + 9 digits
        ("3SKOPL1234567", "postnl", False),  # 3S + range + 7 digits
        ("LA000000005NL", "postnl", True),  # S10 issued by PostNL
        ("3SKOP123456789", "dhl_parcel", False),  # 3S, but not PostNL's 13 or 15 characters
        ("JVGL05842160001098", "dhl_parcel", False),
        ("JJD000390012345678901", "dhl_parcel", False),
        ("00340434161094042557", "dhl_parcel", True),  # DHL Paket, GS1 mod 10
        ("05221234567890V", "dpd", True),
        ("01015026003653C", "dpd", True),  # paketda.de's DPD example
        ("123456789011", "gls", True),  # 11 digits + GLS check digit
        ("323212345678901234567890", "bpost", False),
        ("CD000000005BE", "bpost", True),  # S10 issued by bpost
        ("RR000000005DE", "s10_postal", True),
        ("1ZKOPPEL0012345673", "ups", True),
    ],
)
def test_eu_and_own_examples(code: str, carrier: str, checked: bool) -> None:
    found = detect(code)
    assert found is not None
    assert (found.carrier, found.checked) == (carrier, checked)


def test_a_mistyped_check_character_is_not_dpd() -> None:
    assert detect("05221234567890W") is None
    assert detect("LA000000006NL") is None  # S10 with a wrong check digit


def test_codes_are_normalised() -> None:
    found = detect("  3skopl 0001 23456\t")
    assert found == Detection("postnl", "3SKOPL000123456", checked=False, format="postnl_3s")


def test_nothing_to_detect() -> None:
    assert detect("") is None
    assert detect("   ") is None
    assert detect("not a code") is None
    assert detect("", hint="PostNL") is None


# --- the backoffice's carrier name --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "hint", "carrier", "checked"),
    [
        # consistent: the code fits the named carrier's format
        ("3SKOPL000123456", "DHL", "dhl_parcel", False),  # 3S is DHL Parcel's prefix too
        ("3SKOPL000123456", "PostNL", "postnl", False),
        ("JJD0002257639032011", "DHL", "dhl_parcel", False),  # Yodel's shape without a name
        ("12345678901234", "DPD", "dpd", False),  # DPD's 14 digits printed without the check character
        ("12345678901234", "GLS", "gls", False),
        ("100000000150", "FedEx", "fedex", True),  # passes GLS's and FedEx's check: the name decides
        ("100000000150", "", "gls", True),
        ("XHAX4HDA", "GLS", "gls", False),  # GLS Track-ID
        ("JVGL05842160001098", "DHL For You", "dhl_for_you", False),
        ("LA000000005NL", "PostNL", "postnl", True),
        # carriers koppel knows no format for
        ("BB1234ABCD", "Budbee", "budbee", False),
        ("1ZKOPPEL0012345673", "Budbee", "budbee", False),
        ("RJP123456", "Red je Pakketje", "rjp", False),
        # not consistent, and no check digit says otherwise: the backoffice booked it
        ("JVGL05842160001098", "GLS", "gls", False),
        ("ABC-123", "PostNL", "postnl", False),
        # not consistent, and the code's check digit verifies for another carrier
        ("1ZKOPPEL0012345673", "PostNL", "ups", True),
        ("05221234567890V", "GLS", "dpd", True),
        ("LA000000005NL", "DHL", "postnl", True),
        # a name koppel does not know is ignored
        ("3SKOPL000123456", "Eigen bezorging", "postnl", False),
        ("12345678901234", "Standaard", "", False),  # bare digits DPD, GLS and DHL eCommerce all print
    ],
)
def test_the_backoffice_name(code: str, hint: str, carrier: str, checked: bool) -> None:
    found = detect(code, hint=hint)
    assert found is not None
    assert (found.carrier, found.checked) == (carrier, checked)


def test_bare_digits_several_carriers_print_name_no_carrier_but_say_which_it_could_be() -> None:
    # GIVEN DPD's 14 digits without their check character, and no carrier name
    found = detect("0522 1234 5678 90")
    # THEN koppel does not guess DHL eCommerce (or DPD): it keeps the code and names the candidates
    assert found is not None
    assert (found.carrier, found.tracking_code, found.ambiguous) == ("", "05221234567890", True)
    assert {"dpd", "dhl_ecommerce"} <= set(found.candidates)
    # AND the backoffice's carrier name settles it
    assert detect("05221234567890", hint="DPD").carrier == "dpd"


def test_an_unknown_code_with_an_unknown_name_is_not_detected() -> None:
    assert detect("ABC-123", hint="Eigen bezorging") is None


@pytest.mark.parametrize(
    ("name", "carrier"),
    [
        ("PostNL", "postnl"),
        ("PostNL Pakket", "postnl"),
        ("TNT", "postnl"),
        ("DHL", "dhl_parcel"),
        ("DHL Parcel NL", "dhl_parcel"),
        ("DHL-Express", "dhl_express"),
        ("DHLForYou", "dhl_for_you"),
        ("DPD Predict", "dpd"),
        ("dpdnl", "dpd"),
        ("UPS Standard", "ups"),
        ("USPS", "usps"),
        ("GLS NL", "gls"),
        ("bpost", "bpost"),
        ("FedEx", "fedex"),
        ("TNT Express", "tnt_express"),
        ("Groups", None),
        ("Anders", None),
        ("", None),
    ],
)
def test_carrier_names(name: str, carrier: str | None) -> None:
    assert carrier_from_name(name) == carrier


def test_detection_needs_no_aws_or_http_libraries() -> None:
    probe = (
        "import sys, koppel.carriers as c; c.detect('3SBOL0987654321');"
        "print(sorted({'boto3', 'httpx'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
