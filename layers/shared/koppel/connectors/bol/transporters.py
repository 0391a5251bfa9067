"""bol.com's transporterCode for a koppel carrier (`koppel.carriers`), from bol's transporter appendix."""

from __future__ import annotations

# bol's code for "another carrier": a carrier bol has no code for, or none known.
FALLBACK_TRANSPORTER = "OTHER"

_BOL: dict[str, str] = {
    "postnl": "TNT",
    "dhl_parcel": "DHL",
    "dhl_express": "DHL",
    "dhl_ecommerce": "DHL",
    "dhl_for_you": "DHLFORYOU",
    "gls": "GLS",
    "ups": "UPS",
    "bpost": "BPOST_BE",
    "tnt_express": "TNT-EXPRESS",
    "dynalogic": "DYL",
    "rjp": "RJP",
    "transmission": "TRANSMISSION",
    "fiege": "FIEGE",
    "parcel_nl": "PARCEL-NL",
    "logoix": "LOGOIX",
    "packs": "PACKS",
}


def bol_transporter(carrier: str | None, country: str = "NL") -> str:
    """bol.com's transporterCode for a koppel carrier; `country` is where the merchant ships from.

    DPD and FedEx have a code per country (NL, BE); DHL Parcel from Germany is DHL_DE. Carriers bol
    has no code for, and no carrier at all, are OTHER.
    """
    country = country.upper()
    if carrier == "dpd":
        return "DPD-BE" if country == "BE" else "DPD-NL"
    if carrier == "fedex":
        return "FEDEX_BE" if country == "BE" else "FEDEX_NL"
    if carrier == "dhl_parcel" and country == "DE":
        return "DHL_DE"
    return _BOL.get(carrier or "", FALLBACK_TRANSPORTER)
