"""The shape of Shoprenter's API as its published docs show it: `fixtures/api/<resource>/` holds each
resource's documented properties (`data.json`: name, required, readonly, the list's query parameters)
and example bodies (`request/*.json`, `response/json/get_id.json`, `get_page.json`).

`FixtureContract` checks an exchange against them:
- a request: `Accept: application/json` (the API answers XML otherwise); a list's query parameters
  among the documented ones (`page` from 0, `limit` 1..200, `full` 0|1, times as
  `1990-01-01T00:00:00`); a write's body `{"data": {...}}` naming only documented, writable properties,
  each a text/number, an object or a list as the example body has it;
- an answer: every field the docs' example body has, and no field the docs do not name, each of the
  example's kind; a list's envelope as the example list has it. A list asked without `full=1` may list
  links only (`{"href": ...}` per item), as the docs' example lists do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from koppel_local.reference import reference_dir
from koppel_local.simulators.kit import Answer, Call, ContractViolation, ReferenceMissing, Violation

ROOT = ("shoprenter", "sr-api-docs", "fixtures", "api")
SOURCE = "shoprenter/sr-api-docs/fixtures/api"
# The API's resource names in a path, by the fixture folder that documents them.
RESOURCES = {
    "orderExtend": "order_extend",
    "productExtend": "product_extend",
    "products": "product",
    "productDescriptions": "product_description",
    "productSpecials": "product_special",
}
STANDARD_PARAMETERS = ("page", "limit", "full")
TIME_PARAMETERS = re.compile(r"^(updatedAt|createdAt)(Min|Max)$|^(updated|created)(After|Before)$")
SHOP_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MAX_LIMIT = 200


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return "scalar"


@dataclass
class Resource:
    name: str
    properties: set[str] = field(default_factory=set)
    readonly: set[str] = field(default_factory=set)
    parameters: set[str] = field(default_factory=set)
    examples: list[dict[str, Any]] = field(default_factory=list)  # bodies of one item
    page: dict[str, Any] = field(default_factory=dict)  # a list's envelope, items left out
    writes: dict[str, Any] = field(default_factory=dict)  # example request bodies, merged

    @property
    def required_fields(self) -> set[str]:
        keys = [set(example) for example in self.examples]
        return set.intersection(*keys) if keys else set()

    @property
    def allowed_fields(self) -> set[str]:
        return self.properties.union(*(set(example) for example in self.examples), {"href"})

    def kind_of(self, name: str) -> str | None:
        for example in self.examples:
            if name in example and example[name] is not None:
                return kind(example[name])
        return None

    def template(self) -> dict[str, Any]:
        """An example item to build records from (the list's, where there is one)."""
        return json.loads(json.dumps(self.examples[0]))


def _load(folder: Path) -> Resource:
    data = json.loads((folder / "data.json").read_text())
    resource = Resource(folder.name)
    for entry in data.get("properties") or ():
        name = str(entry["name"]).replace("*", "").strip()
        resource.properties.add(name)
        if entry.get("readonly"):
            resource.readonly.add(name)
    collection = (data.get("endpoints") or {}).get("getCollection") or {}
    resource.parameters = {str(p["name"]) for p in collection.get("parameters") or ()} | set(STANDARD_PARAMETERS)
    page_file = folder / "response" / "json" / "get_page.json"
    if page_file.is_file():
        page = json.loads(page_file.read_text())
        resource.examples.extend(item for item in page.get("items") or () if isinstance(item, dict) and len(item) > 1)
        resource.page = {key: value for key, value in page.items() if key != "items"}
    one = folder / "response" / "json" / "get_id.json"
    if one.is_file():
        resource.examples.append(json.loads(one.read_text()))
    for name in ("post.json", "put.json"):
        written = folder / "request" / name
        if written.is_file():
            resource.writes |= json.loads(written.read_text())
    return resource


@cache
def _parsed(path: Path) -> FixtureContract:
    return FixtureContract({path_name: _load(path / folder) for path_name, folder in RESOURCES.items()})


def load_contract() -> FixtureContract:
    """The Shoprenter docs' fixtures as a contract; raises `ReferenceMissing` when they are absent."""
    path = reference_dir().joinpath(*ROOT)
    if not all((path / folder / "data.json").is_file() for folder in RESOURCES.values()):
        raise ReferenceMissing(*ROOT)
    return _parsed(path)


class FixtureContract:
    source = SOURCE

    def __init__(self, resources: dict[str, Resource]) -> None:
        self.resources = resources

    def resource(self, path: str) -> tuple[Resource | None, bool]:
        """The resource a path names, and whether the path names one item (`/products/{id}`)."""
        parts = [part for part in path.split("/") if part]
        if not parts:
            return None, False
        return self.resources.get(parts[0]), len(parts) > 1

    # --- requests -------------------------------------------------------------------------------
    def request_violations(self, call: Call) -> list[Violation]:
        found: list[Violation] = []
        if "application/json" not in call.headers.get("Accept", ""):
            found.append(Violation("header Accept", "must ask application/json (the API answers XML otherwise)"))
        resource, one = self.resource(call.path)
        if resource is None:
            return found
        where = f"{resource.name}/data.json"
        if call.method == "GET" and not one:
            for name, value in call.query.items(multi=True):
                found.extend(self._parameter(resource, name, value, where))
        if call.method in ("POST", "PUT"):
            found.extend(self.body_violations(resource, call.body, call.headers.get("Content-Type", "")))
        return found

    def _parameter(self, resource: Resource, name: str, value: str, where: str) -> list[Violation]:
        if name not in resource.parameters:
            return [Violation(f"query {name}", "not a documented parameter of the list", f"{where}#getCollection")]
        if name == "page" and not value.isdigit():
            return [Violation("query page", "must be a whole number from 0", where)]
        if name == "limit" and not (value.isdigit() and 1 <= int(value) <= MAX_LIMIT):
            return [Violation("query limit", f"must be 1..{MAX_LIMIT}", where)]
        if name == "full" and value not in ("0", "1"):
            return [Violation("query full", "must be 0 or 1", where)]
        if TIME_PARAMETERS.match(name) and not SHOP_TIME.match(value):
            return [Violation(f"query {name}", "must be a time like 1990-01-01T00:00:00", where)]
        return []

    def body_violations(self, resource: Resource, body: bytes, content_type: str) -> list[Violation]:
        where = f"{resource.name}/data.json"
        if "application/json" not in content_type:
            return [Violation("header Content-Type", "a write must be sent as application/json", where)]
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            return [Violation("body", "is not JSON", where)]
        data = parsed.get("data") if isinstance(parsed, dict) else None
        if not isinstance(data, dict):
            return [Violation("body", 'must be {"data": {...}} (40001 "Data parameter not found")', where)]
        return self.data_violations(resource, data)

    def data_violations(self, resource: Resource, data: dict[str, Any]) -> list[Violation]:
        where = f"{resource.name}/data.json"
        found: list[Violation] = []
        for name, value in data.items():
            if name not in resource.properties:
                found.append(Violation(f"body.data.{name}", "not a documented property", where))
            elif name in resource.readonly:
                found.append(Violation(f"body.data.{name}", "is read-only (40002)", where))
            else:
                expected = kind(resource.writes.get(name)) if name in resource.writes else resource.kind_of(name)
                if expected not in (None, "null") and kind(value) not in (expected, "null"):
                    found.append(Violation(f"body.data.{name}", f"must be {expected}, is {kind(value)}", where))
        return found

    # --- answers --------------------------------------------------------------------------------
    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        resource, one = self.resource(call.path)
        if resource is None or not answer.body:
            return []
        try:
            body = json.loads(answer.body)
        except ValueError:
            return [Violation("answer", "is not JSON")]
        if call.method == "GET" and not one:
            return self.page_violations(resource, body, links_only=call.query.get("full") != "1")
        return self.item_violations(resource, body, "answer")

    def page_violations(self, resource: Resource, body: Any, *, links_only: bool = False) -> list[Violation]:
        """A list's envelope and items; `links_only` (not asked `full=1`): an item may be its `href` alone."""
        where = f"{resource.name}/response/json/get_page.json"
        if not isinstance(body, dict):
            return [Violation("answer", "a list is an object", where)]
        found = [
            Violation(f"answer.{key}", "missing from the list's envelope", where)
            for key in resource.page
            if key not in body
        ]
        found += [
            Violation(f"answer.{key}", "not in the docs' list envelope", where)
            for key in body
            if key not in resource.page and key != "items"
        ]
        for index, item in enumerate(body.get("items") or ()):
            if links_only and isinstance(item, dict) and set(item) == {"href"} and isinstance(item["href"], str):
                continue
            found.extend(self.item_violations(resource, item, f"answer.items[{index}]"))
        return found

    def item_violations(self, resource: Resource, item: Any, name: str) -> list[Violation]:
        where = f"{resource.name}/response/json/get_id.json"
        if not isinstance(item, dict):
            return [Violation(name, "an item is an object", where)]
        found = [
            Violation(f"{name}.{key}", "in the docs' example, missing", where)
            for key in resource.required_fields - set(item)
        ]
        found += [
            Violation(f"{name}.{key}", "not a documented field", where) for key in set(item) - resource.allowed_fields
        ]
        for key, value in item.items():
            expected = resource.kind_of(key)
            if expected not in (None, "null") and kind(value) not in (expected, "null"):
                found.append(Violation(f"{name}.{key}", f"must be {expected} as in the docs, is {kind(value)}", where))
        return found

    def check_request(self, call: Call) -> None:
        found = self.request_violations(call)
        if found:
            raise ContractViolation(self.source, found)

    def check_response(self, call: Call, answer: Answer) -> None:
        found = self.response_violations(call, answer)
        if found:
            raise ContractViolation(self.source, found)
