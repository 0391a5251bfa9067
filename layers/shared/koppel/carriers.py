"""Which carrier a track & trace code belongs to.

`detect(code, hint)` reads the carrier from the code's format: a fixed prefix, a length, and where
the format has one, a check digit. The backoffice's carrier name (`hint`) wins when koppel knows
the carrier and the code fits it (or the carrier has no recognisable format); a code whose check
digit verifies for another carrier beats a name that does not fit.

The rules are koppel's own table, written from public format facts: the couriers and test numbers
of jkeen/tracking_number_data (MIT), PostNL's and DHL's published barcode rules, DPD's label
specification (ISO 7064 MOD 37,36) and GLS's Uni-Box documentation. Pure Python, no I/O: the
Lambda never reads the reference data, only this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

__all__ = ["Detection", "carrier_from_name", "detect", "normalise"]


@dataclass(frozen=True)
class Detection:
    carrier: str  # koppel's carrier id: "postnl", "dhl_parcel", "dpd", "ups", ...
    tracking_code: str  # upper case, no whitespace
    checked: bool  # a check digit in the code was verified
    format: str = ""  # the format that matched; "" when the carrier came from the backoffice's name alone
    # More than one carrier prints codes like this one and nothing (a check digit, the backoffice's
    # name) tells them apart: `carrier` is "" and these are the carriers it could be.
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)


# --- check digits -------------------------------------------------------------------------------------
# Each check takes the regex match: group "s" is the part the check digit covers, group "c" the digit.
Check = Callable[[re.Match[str]], bool]

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _value(ch: str) -> int:
    # Letters count as (code point - 3) mod 10 in the mod-10 schemes (UPS's long-standing convention).
    return ord(ch) - 48 if ch <= "9" else (ord(ch) - 3) % 10


def _mod10(even: int = 1, odd: int = 1, *, reverse: bool = False, lead: str = "") -> Check:
    """Weighted sum mod 10: `even`/`odd` weigh positions 0, 2, 4... and 1, 3, 5... of the serial.

    `reverse` counts the positions from the right; `lead` is put in front of a serial that does not
    already start with it (some formats leave a fixed prefix out of the printed number).
    """

    def check(m: re.Match[str]) -> bool:
        serial = m["s"]
        if lead and not serial.startswith(lead):
            serial = lead + serial
        if reverse:
            serial = serial[::-1]
        total = sum(_value(ch) * (even if i % 2 == 0 else odd) for i, ch in enumerate(serial))
        return (-total) % 10 == int(m["c"])

    return check


def _weighted(weights: tuple[int, ...], first: int, second: int) -> Check:
    """Sum of digit x weight, reduced mod `first` then mod `second` (FedEx Express)."""

    def check(m: re.Match[str]) -> bool:
        total = sum(int(d) * w for d, w in zip(m["s"], weights, strict=False))
        return total % first % second == int(m["c"])

    return check


def _mod7(m: re.Match[str]) -> bool:
    return int(m["s"]) % 7 == int(m["c"])


def _luhn(m: re.Match[str]) -> bool:
    total = 0
    for i, ch in enumerate(reversed(m["s"] + m["c"])):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iso7064_mod37_36(m: re.Match[str]) -> bool:
    """ISO 7064 hybrid MOD 37,36 over 0-9A-Z (DPD's parcel number check character)."""
    p = 36
    for ch in m["s"]:
        p = (p + _ALNUM.index(ch)) % 36 or 36
        p = p * 2 % 37
    return _ALNUM[(1 - p) % 36] == m["c"]


def _gls(m: re.Match[str]) -> bool:
    """GLS parcel number: weights 3, 1, 3... from the left over 11 digits, plus one, mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(m["s"])) + 1
    return (-total) % 10 == int(m["c"])


# ISO codes of the postal operators that issue UPU S10 numbers; the last two letters must be one.
_UPU_MEMBERS = """AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CL
    CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FR GA GB GD GE GH GM GN GQ GR GT GW GY
    HK HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU
    LV LY MA MC MD ME MG MK ML MM MN MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL
    PT PY QA RO RS RU RW SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT
    TV TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW"""
_UPU_COUNTRIES = frozenset(_UPU_MEMBERS.split())
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def _s10(m: re.Match[str]) -> bool:
    if m["k"] not in _UPU_COUNTRIES:
        return False
    r = sum(int(d) * w for d, w in zip(m["s"], _S10_WEIGHTS, strict=True)) % 11
    return {0: 5, 1: 0}.get(r, 11 - r) == int(m["c"])


# --- the formats ------------------------------------------------------------------------------------
class _Format(NamedTuple):
    name: str
    carrier: str
    pattern: re.Pattern[str]
    check: Check | None
    rank: int  # breaks ties between formats that both fit: higher wins
    hint_only: bool  # too loose to name a carrier alone; only confirms a backoffice's carrier name


def _f(
    name: str, carrier: str, regex: str, check: Check | None = None, rank: int = 50, *, hint_only: bool = False
) -> _Format:
    return _Format(name, carrier, re.compile(regex), check, rank, hint_only)


_FEDEX_12 = (3, 1, 7) * 4
_FEDEX_13 = (1, 7, 3) * 5
_USPS_ROUTING = r"(?:420\d{5}(?=\d{22}$|\d{26}$)|420\d{9}(?=\d{22}$))?"


@cache
def _formats() -> tuple[_Format, ...]:
    """The table, compiled on first use rather than at import (cold start is measured).

    Rank: a fixed prefix outranks a bare digit run; a generic catch-all for a carrier ranks lowest.
    Where two formats with a check digit both fit, the carrier common for a Dutch or Belgian merchant
    wins (GLS and DPD over FedEx and Purolator).
    """
    return (
        # Netherlands and Belgium
        _f("postnl_3s", "postnl", r"3S[A-Z0-9]{4}\d{7}(?:\d{2})?", rank=70),  # 13 or 15 characters
        _f("dhl_parcel_3s", "dhl_parcel", r"3S[A-Z0-9]{8,16}", rank=40),  # 3S is DHL Parcel's prefix too
        _f("dhl_parcel_jvgl", "dhl_parcel", r"JVGL\d{6,22}", rank=70),
        _f("dhl_parcel_jjd", "dhl_parcel", r"JJD\d{9,21}", rank=30),
        _f("dhl_paket_20", "dhl_parcel", r"(?P<s>00340434\d{11})(?P<c>\d)", _mod10(3, 1), rank=70),  # DHL Paket (DE)
        _f("bpost_24", "bpost", r"3232\d{20}", rank=60),
        _f("dpd_14", "dpd", r"(?P<s>\d{14})(?P<c>[0-9A-Z])", _iso7064_mod37_36, rank=60),
        _f("dpd_28", "dpd", r"(?P<s>\d{27})(?P<c>[0-9A-Z])", _iso7064_mod37_36, rank=60),
        _f("dpd_14_bare", "dpd", r"\d{14}", hint_only=True),
        _f("gls_12", "gls", r"(?P<s>\d{11})(?P<c>\d)", _gls, rank=50),
        _f("gls_numeric", "gls", r"\d{11}|\d{14}|\d{20}", hint_only=True),
        _f("gls_track_id", "gls", r"[A-Z0-9]{8}", hint_only=True),
        # UPU S10: NL and BE numbers come from PostNL and bpost; other countries stay generic
        _f("s10", "s10_postal", r"(?P<t>[A-Z]{2})(?P<s>\d{8})(?P<c>\d)(?P<k>[A-Z]{2})", _s10, rank=80),
        # DHL
        _f("dhl_express", "dhl_express", r"(?P<s>\d{9,10})(?P<c>\d)", _mod7, rank=40),
        _f("dhl_express_piece", "dhl_express", r"JJD\d{9,10}", rank=60),
        _f(
            "dhl_ecommerce",
            "dhl_ecommerce",
            r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[0-9A-Z]*\d)[0-9A-Z]{10,39}",
            rank=40,
        ),
        _f("dhl_ecommerce_14", "dhl_ecommerce", r"\d{14}", rank=10),
        # UPS
        _f("ups_1z", "ups", r"1Z(?P<s>[0-9A-Z]{15})(?P<c>\d)", _mod10(1, 2), rank=90),
        _f("ups_waybill", "ups", r"[AHJKTV](?P<s>\d{9})(?P<c>\d)", _mod10(1, 2), rank=60),
        # FedEx
        _f("fedex_12", "fedex", r"(?P<s>\d{11})(?P<c>\d)", _weighted(_FEDEX_12, 11, 10), rank=40),
        _f("fedex_15_ground", "fedex", r"(?P<s>\d{14})(?P<c>\d)", _mod10(1, 3), rank=40),
        _f("fedex_18_sscc", "fedex", r"\d{2}(?P<s>\d{15})(?P<c>\d)", _mod10(3, 1), rank=40),
        _f("fedex_22_ground96", "fedex", r"96\d{5}(?P<s>\d{14})(?P<c>\d)", _mod10(1, 3), rank=60),
        _f("fedex_32_astra", "fedex", r"3\d{15}(?P<s>\d{11})(?P<c>\d)\d{4}", _weighted(_FEDEX_12, 11, 10), rank=40),
        _f("fedex_34", "fedex", r"[0-8]\d{19}(?P<s>\d{13})(?P<c>\d)", _weighted(_FEDEX_13, 11, 10), rank=40),
        _f("fedex_34_gsn", "fedex", r"96\d{18}(?P<s>\d{13})(?P<c>\d)", _weighted(_FEDEX_13, 11, 10), rank=60),
        # USPS
        _f("usps_20", "usps", r"(?P<s>\d{19})(?P<c>\d)", _mod10(3, 1), rank=40),
        _f(
            "usps_impb_n",
            "usps",
            _USPS_ROUTING + r"(?P<s>94\d{3}(?:9\d{8}(?:\d{15}|\d{11}|\d{7})|[0-8]\d{5}(?:\d{14}|\d{10})))(?P<c>\d)",
            _mod10(3, 1, reverse=True),
            rank=60,
        ),
        _f(
            "usps_impb_c",
            "usps",
            r"(?:420\d{5}(?:\d{4}(?=\d{22}$))?)?"
            r"(?P<s>(?:92(?=\d{3}9)|93(?=\d{3}[0-8])|95)\d{3}(?:9\d{8}(?:\d{11}|\d{7})|[0-8]\d{5}(?:\d{14}|\d{10})))"
            r"(?P<c>\d)",
            _mod10(3, 1),
            rank=60,
        ),
        _f(
            "usps_legacy",
            "usps",
            r"(?:420\d{5}(?:\d{4})?)?(?P<s>(?:91)?\d{19})(?P<c>\d)",
            _mod10(3, 1, lead="91"),
            rank=50,
        ),
        # Amazon
        _f("amazon_logistics", "amazon", r"TB[ACM]\d{12}", rank=70),
        _f("amazon_international", "amazon", r"[AFC]\d{10}", rank=20),
        # the rest of North America and the UK
        _f("canada_post_16", "canada_post", r"(?P<s>\d{15})(?P<c>\d)", _mod10(3, 1), rank=40),
        _f("canpar_22", "canpar", r"[CDKLSUXZ]\d{21}", rank=50),
        _f("gofo", "gofo", r"GFUS\d{14}", rank=70),
        _f("landmark_ltn", "landmark", r"LTN\d{8}N1", rank=70),
        _f("lasership_l", "lasership", r"L[AIEHNX][1-3]\d{7}", rank=60),
        _f("lasership_1ls7", "lasership", r"1LS7[12]\d{10}", rank=70),
        _f("lasership_1ls7_18", "lasership", r"1LS7[12]\d{2}01[1-4]\d{6}-1", rank=70),
        _f("lasership_1lscx", "lasership", r"1LSCX[0-9A-Z]{10}", rank=70),
        _f("old_dominion", "old_dominion", r"(?P<s>(?:77[78]|072|780)\d{7})(?P<c>\d)", _luhn, rank=60),
        _f("old_dominion_guaranteed", "old_dominion", r"(?P<s>80\d{8})(?P<c>\d)", _luhn, rank=60),
        _f("ontrac_c", "ontrac", r"C(?P<s>\d{13})(?P<c>\d)", _mod10(1, 2, lead="4"), rank=60),
        _f("ontrac_d", "ontrac", r"D(?P<s>\d{13})(?P<c>\d)", _mod10(1, 2, lead="5"), rank=60),
        _f("purolator_12", "purolator", r"(?P<s>[0-5]\d{10})(?P<c>\d)", _luhn, rank=45),
        _f("purolator_alpha", "purolator", r"[A-Z]{3}\d{9}", rank=20),
        _f("speedee", "speedee", r"SP\d{18}", rank=70),
        _f("yodel", "yodel", r"J?JD\d{16}", rank=60),
        _f("yunexpress", "yunexpress", r"YT\d{16}", rank=70),
    )


_S10_ISSUERS = {"NL": "postnl", "BE": "bpost"}
LOOSE_RANK = 20  # formats ranked this low are too plain to tell one carrier's codes from another's


class _Fit(NamedTuple):
    format: _Format
    carrier: str
    checked: bool


def _strength(fit: _Fit) -> tuple[bool, int]:
    return fit.checked, fit.format.rank  # a verified check digit first, then the format's rank


def _fits(code: str, *, hints: bool) -> list[_Fit]:
    fits = []
    for fmt in _formats():
        if fmt.hint_only and not hints:
            continue
        m = fmt.pattern.fullmatch(code)
        if m is None:
            continue
        if fmt.check is not None and not fmt.check(m):
            continue
        carrier = _S10_ISSUERS.get(m["k"], fmt.carrier) if fmt.name == "s10" else fmt.carrier
        fits.append(_Fit(fmt, carrier, fmt.check is not None))
    return fits


# --- the backoffice's carrier name ---------------------------------------------------------------------
class _Named(NamedTuple):
    default: str  # the carrier when the code says nothing about it
    fits: dict[str, str]  # a fitting format's carrier -> the carrier reported


def _only(carrier: str) -> _Named:
    return _Named(carrier, {carrier: carrier})


_DHL = _Named("dhl_parcel", {c: c for c in ("dhl_parcel", "dhl_express", "dhl_ecommerce")})
# Names without spaces or punctuation, in lower case; found anywhere in the name given.
_NAMES: dict[str, _Named] = {
    "postnl": _only("postnl"),
    "tntpost": _only("postnl"),
    "dhlforyou": _Named("dhl_for_you", {"dhl_parcel": "dhl_for_you"}),
    "dhlparcel": _only("dhl_parcel"),
    "dhlpaket": _only("dhl_parcel"),
    "dhlecommerce": _DHL,  # DHL Parcel Benelux's name since 2023, and DHL's global mail arm
    "dhlexpress": _only("dhl_express"),
    "tntexpress": _only("tnt_express"),
    "bpost": _only("bpost"),
    "bpack": _only("bpost"),
    "fedex": _only("fedex"),
    "amazon": _only("amazon"),
    "budbee": _only("budbee"),
    "redjepakketje": _only("rjp"),
    "dynalogic": _only("dynalogic"),
    "trunkrs": _only("trunkrs"),
    "transmission": _only("transmission"),
    "fiege": _only("fiege"),
    "parcelnl": _only("parcel_nl"),
    "logoix": _only("logoix"),
    "canadapost": _only("canada_post"),
    "purolator": _only("purolator"),
    "ontrac": _only("ontrac"),
    "lasership": _only("lasership"),
    "yodel": _only("yodel"),
    "yunexpress": _only("yunexpress"),
}
# Short names: a word of their own, or the start of the name ("UPS Standard", "DPDPredict"; not "Groups").
_SHORT_NAMES: dict[str, _Named] = {
    "dhl": _DHL,
    "dpd": _only("dpd"),
    "gls": _only("gls"),
    "usps": _only("usps"),
    "ups": _only("ups"),
    "tnt": _only("postnl"),  # PostNL's former name, and still bol's code for it
    "rjp": _only("rjp"),
    "packs": _only("packs"),
}
_LONG_NAMES = sorted(_NAMES, key=len, reverse=True)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _named(hint: str) -> _Named | None:
    words = _NON_ALNUM.split(hint.lower())
    compact = "".join(words)
    if not compact:
        return None
    for name in _LONG_NAMES:
        if name in compact:
            return _NAMES[name]
    for word in words:
        if word in _SHORT_NAMES:
            return _SHORT_NAMES[word]
    for name, named in _SHORT_NAMES.items():
        if compact.startswith(name):
            return named
    return None


def carrier_from_name(name: str) -> str | None:
    """koppel's carrier id for a carrier name as a backoffice writes it ("PostNL", "DHL Express"), or None."""
    named = _named(name)
    return named.default if named else None


@cache
def _with_formats() -> frozenset[str]:
    return frozenset(fmt.carrier for fmt in _formats()) | frozenset(_S10_ISSUERS.values())


# --- detection ------------------------------------------------------------------------------------
_WHITESPACE = re.compile(r"\s+")


def normalise(code: str) -> str:
    """A code as koppel stores and sends it: upper case, without spaces."""
    return _WHITESPACE.sub("", code).upper()


def detect(code: str, hint: str = "") -> Detection | None:
    """The carrier of a track & trace code; `hint` is the carrier name the backoffice gave, if any.

    A known name wins when the code fits one of that carrier's formats, or when koppel knows no
    format for the carrier. A name that does not fit still wins over a code without a verified
    check digit (the backoffice booked the parcel), but loses to one with. None when the code is
    empty, or fits no format and the name is unknown.
    """
    tracking_code = normalise(code)
    if not tracking_code:
        return None
    named = _named(hint) if hint else None
    fits = _fits(tracking_code, hints=named is not None)
    if named is not None:
        agreeing = [fit for fit in fits if fit.carrier in named.fits]
        if agreeing:
            best = max(agreeing, key=_strength)
            return Detection(named.fits[best.carrier], tracking_code, best.checked, best.format.name)
        formatless = _with_formats().isdisjoint(named.fits)
        if formatless or not any(fit.checked for fit in fits):
            return Detection(named.default, tracking_code, checked=False)
        fits = [fit for fit in fits if not fit.format.hint_only]
    if not fits:
        return None
    best = max(fits, key=_strength)
    if named is None and not best.checked and best.format.rank <= LOOSE_RANK:
        # The best fit is a loose format (bare digits, no prefix, no check digit): when another
        # carrier's loose format fits as well, the code alone cannot say which carrier it is.
        rivals = {
            fit.carrier
            for fit in _fits(tracking_code, hints=True)
            if not fit.checked and (fit.format.hint_only or fit.format.rank <= LOOSE_RANK)
        } - {best.carrier}
        if rivals:
            candidates = tuple(sorted({best.carrier, *rivals}))
            return Detection("", tracking_code, False, best.format.name, candidates=candidates)
    return Detection(best.carrier, tracking_code, best.checked, best.format.name)
