"""Street lines as webshops keep them, split into koppel's street, house number and extension."""

from __future__ import annotations

import re

STREET_NUMBER = re.compile(r"^(?P<street>.*\D)\s*(?P<number>\d+)\s*(?P<extension>[-/]?\s*[A-Za-z0-9]{0,6}.*)?$")
NUMBER = re.compile(r"^(?P<number>\d+)\s*[-/]?\s*(?P<extension>.*)$")


def split_street(lines: list[str]) -> tuple[str, str, str, str]:
    """(street, house number, extension, what is left) from a shop's street lines.

    Dutch stores often ask the number in a line of its own (`["Kerkstraat", "12", "A"]` or
    `["Kerkstraat", "12a"]`); others take it after the street name (`["Kerkstraat 12a"]`)."""
    kept = [line.strip() for line in lines if line and line.strip()]
    if not kept:
        return "", "", "", ""
    if len(kept) >= 2 and (numbered := NUMBER.match(kept[1])):
        extension = numbered.group("extension").strip()
        rest = kept[2:]
        if not extension and rest and len(rest[0]) <= 6:
            extension, rest = rest[0], rest[1:]
        return kept[0], numbered.group("number"), extension, ", ".join(rest)
    found = STREET_NUMBER.match(kept[0])
    if found is None:
        return kept[0], "", "", ", ".join(kept[1:])
    extension = (found.group("extension") or "").lstrip("-/ ").strip()
    return found.group("street").strip().rstrip(","), found.group("number"), extension, ", ".join(kept[1:])
