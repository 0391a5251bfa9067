"""Carrier detection against the reference test numbers: accuracy, false positives, speed.

Baseline: the reference data itself (jkeen/tracking_number_data test numbers, and the EU formats
collected in ../shared/reference/carriers_eu). Every valid number is detected without a carrier
name and counted as detected (its courier), wrong carrier, or missed. Invalid numbers count as a
false positive when taken for their own courier (unless the reference lists the same number as
valid in another of that courier's formats). Done: accuracy >= 99 % and no wrong carrier among the
numbers whose format carries a check digit.

When the PyPI package `tracking-numbers` is importable, its `get_tracking_number` is measured on
the same numbers for comparison (koppel does not use it; see the README).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from koppel_local.reference import MISSING_REASON, reference_dir, reference_file

SAME_COURIER = {  # a reference courier koppel names more precisely
    "dhl": {"dhl_express", "dhl_parcel", "dhl_ecommerce"},
    "s10": {"s10_postal", "postnl", "bpost"},
}
TARGET_ACCURACY = 0.99
SPEED_SECONDS = 1.0
SHOWN = 8  # misses and mistakes listed per detector

# detector(number) -> the courier it names (in the reference's terms), or None
Detector = Callable[[str], str | None]


@dataclass(frozen=True)
class Case:
    courier: str
    product: str
    number: str
    checked: bool  # the format carries a check digit


@dataclass
class Tally:
    detected: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    wrong_checked: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    other_carrier: int = 0

    @property
    def total(self) -> int:
        return self.detected + len(self.wrong) + len(self.missed)

    @property
    def accuracy(self) -> float:
        return self.detected / self.total if self.total else 0.0


def load_cases() -> tuple[list[Case], list[Case]]:
    valid: list[Case] = []
    invalid: list[Case] = []
    for path in sorted((reference_dir() / "tracking_number_data").glob("*.json")):
        data = json.loads(path.read_text())
        for product in data.get("tracking_numbers", []):
            checked = bool(product.get("validation", {}).get("checksum"))
            numbers = product["test_numbers"]
            valid += [Case(data["courier_code"], product["name"], n, checked) for n in numbers.get("valid", [])]
            invalid += [Case(data["courier_code"], product["name"], n, checked) for n in numbers.get("invalid", [])]
    return valid, invalid


def eu_cases() -> list[tuple[str, str]]:
    """(code, koppel carrier) from the EU formats file."""
    path = reference_file("carriers_eu", "formats.json")
    if path is None:
        return []
    eu = json.loads(path.read_text())
    dhl = eu["DHL_Parcel_NL"]["format"]
    dpd = eu["DPD"]["jkeen_tests"]
    cases = [(c, "postnl") for text in eu["PostNL"]["examples"] for c in re.findall(r"\b3S[0-9A-Z]{8,}\b", text)]
    cases += [(c, "dhl_parcel") for c in re.findall(r"\b(?:3S|JVGL)[0-9A-Z]{8,}\b", dhl)]
    cases += [(c, "dpd") for c in dpd["dpd_14_valid"] + dpd["dpd_28_valid"]]
    cases += [(c, "s10_postal") for c in re.findall(r"valid ([A-Z0-9]{13});", eu["UPU_S10"])]
    return cases


def compact(number: str) -> str:
    return re.sub(r"\s", "", number).upper()


def tally(detector: Detector, valid: list[Case], invalid: list[Case]) -> Tally:
    result = Tally()
    valid_numbers = {(case.courier, compact(case.number)) for case in valid}
    for case in valid:
        courier = detector(case.number)
        label = f"{case.courier}/{case.product}: {case.number.strip()} -> {courier}"
        if courier is None:
            result.missed.append(label)
        elif courier != case.courier:
            result.wrong.append(label)
            if case.checked:
                result.wrong_checked.append(label)
        else:
            result.detected += 1
    for case in invalid:
        courier = detector(case.number)
        if courier is None:
            continue
        if courier == case.courier and (courier, compact(case.number)) not in valid_numbers:
            result.false_positives.append(f"{case.courier}/{case.product}: {case.number.strip()}")
        elif courier != case.courier:
            result.other_carrier += 1
    return result


def per_second(detect: Callable[[str], Any], numbers: list[str]) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SPEED_SECONDS:
        for number in numbers:
            detect(number)
        count += len(numbers)
    return count / elapsed


def report(name: str, result: Tally, valid: list[Case], rate: float, cold_ms: float) -> None:
    checked = sum(case.checked for case in valid)
    print(f"{name}")
    print(
        f"  valid numbers {result.total}: detected {result.detected}, wrong carrier {len(result.wrong)}, "
        f"missed {len(result.missed)}  -> accuracy {result.accuracy:.1%}"
    )
    print(f"  wrong carrier among the {checked} numbers with a check digit: {len(result.wrong_checked)}")
    print(
        f"  invalid numbers taken for their own courier (false positives): {len(result.false_positives)}; "
        f"taken for another carrier's format: {result.other_carrier}"
    )
    print(f"  {rate:,.0f} detections/s; import + first call {cold_ms:.1f} ms")
    labels = result.wrong + result.missed + result.false_positives
    for label in labels[:SHOWN]:
        print(f"    {label}")
    if len(labels) > SHOWN:
        print(f"    ... and {len(labels) - SHOWN} more")


def koppel_detector() -> tuple[Detector, Callable[[str], Any], float]:
    start = time.perf_counter()
    from koppel.carriers import detect

    detect("3SBOL0987654321")  # the format table is compiled on first use
    cold_ms = (time.perf_counter() - start) * 1000
    reverse = {carrier: courier for courier, carriers in SAME_COURIER.items() for carrier in carriers}

    def courier(number: str) -> str | None:
        found = detect(number)
        return reverse.get(found.carrier, found.carrier) if found else None

    return courier, detect, cold_ms


def package_detector() -> tuple[Detector, Callable[[str], Any], float] | None:
    start = time.perf_counter()
    try:
        from tracking_numbers import get_tracking_number  # type: ignore[import-not-found]
    except ImportError:
        return None
    get_tracking_number("3SBOL0987654321")
    cold_ms = (time.perf_counter() - start) * 1000

    def courier(number: str) -> str | None:
        found = get_tracking_number(number)
        return found.courier.code if found else None

    return courier, get_tracking_number, cold_ms


def main() -> int:
    if not (reference_dir() / "tracking_number_data").is_dir():
        print(f"skipped: {MISSING_REASON}")
        return 0
    valid, invalid = load_cases()
    numbers = [case.number for case in valid + invalid]
    print(f"baseline: {len(valid)} valid and {len(invalid)} invalid reference test numbers (jkeen, MIT)\n")

    detector, detect, cold_ms = koppel_detector()
    ours = tally(detector, valid, invalid)
    report("koppel.carriers.detect", ours, valid, per_second(detect, numbers), cold_ms)

    from koppel.carriers import detect as koppel_detect

    eu = eu_cases()
    eu_ok = sum(1 for code, carrier in eu if (found := koppel_detect(code)) and found.carrier == carrier)
    print(f"  EU format examples (carriers_eu/formats.json): {eu_ok}/{len(eu)} named as expected")
    hinted = per_second(lambda number: koppel_detect(number, "PostNL"), numbers)
    print(f'  {hinted:,.0f} detections/s with a backoffice carrier name ("PostNL")')

    package = package_detector()
    if package is None:
        print("\ntracking-numbers (PyPI): not installed; `pip install tracking-numbers==0.1.8` to compare")
    else:
        pkg_detector, pkg_detect, pkg_cold_ms = package
        print()
        report(
            "tracking-numbers 0.1.8 (PyPI), raw",
            tally(pkg_detector, valid, invalid),
            valid,
            per_second(pkg_detect, numbers),
            pkg_cold_ms,
        )

    done = ours.accuracy >= TARGET_ACCURACY and not ours.wrong_checked
    print(
        f"\n{'DONE' if done else 'NOT DONE'}: accuracy {ours.accuracy:.1%} (target >= {TARGET_ACCURACY:.0%}), "
        f"{len(ours.wrong_checked)} wrong among check-digit formats (target 0)"
    )
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
