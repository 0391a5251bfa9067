"""Requests and answers checked against an OpenAPI 3.0 or a Swagger 2.0 document.

Schemas are validated in place inside the document (by JSON pointer), so `$ref`s resolve against
it wherever they point, and every violation names the pointer of the rule it breaks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft4Validator
from jsonschema.protocols import Validator
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import parse_accept_header

from koppel_local.reference import reference_file
from koppel_local.simulators.kit.contract import (
    Answer,
    Call,
    CheckingContract,
    ReferenceMissing,
    Violation,
    escape,
    media_type,
)
from koppel_local.simulators.kit.params import (
    by_specificity,
    coerce,
    error_location,
    plain_name,
    supplied,
    template_regex,
)

# The keywords of a Swagger 2.0 parameter that describe its value (the rest say where it goes).
_PARAMETER_SCHEMA_KEYS = frozenset(
    {"type", "format", "items", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    | {"minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf", "default"}
)
_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
_Operation = tuple[str, dict[str, str], Mapping[str, Any], str]


class OpenApiContract(CheckingContract):
    """One OpenAPI 3.0 or Swagger 2.0 document; `source` is how violations name it (`bol/retailer.json`)."""

    def __init__(self, document: Mapping[str, Any], source: str, *, base_path: str | None = None) -> None:
        self.document = document
        self.source = source
        self.swagger = str(document.get("swagger", "")).startswith("2.")
        self.base_path = (base_path if base_path is not None else _base_path(document)).rstrip("/")
        self._uri = f"urn:koppel-reference:{source}"
        resource = Resource.from_contents(document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(self._uri, resource)
        self._patterns = [(template, template_regex(template)) for template in by_specificity(document["paths"])]
        self._validators: dict[tuple[str, bool], Validator] = {}

    # --- the contract ---------------------------------------------------------------------------
    def request_violations(self, call: Call) -> list[Violation]:
        found = self._operation(call.method, call.path)
        if isinstance(found, Violation):
            return [found]
        template, path_values, operation, pointer = found
        return [
            *self._check_parameters(template, pointer, path_values, call.query, call.headers),
            *self._check_accept(operation, pointer, call.headers),
            *self._check_body(operation, pointer, call.headers, call.body),
        ]

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        found = self._operation(call.method, call.path)
        if isinstance(found, Violation):
            return [found]
        _, _, operation, pointer = found
        responses = operation.get("responses", {})
        status = str(answer.status) if str(answer.status) in responses else "default"
        if status not in responses:
            return [Violation("status", f"{answer.status} is not a documented answer", f"{pointer}/responses")]
        response, response_pointer = self._resolve(responses[status], f"{pointer}/responses/{status}")
        if self.swagger:
            if "schema" not in response or not answer.body:
                return []
            return self._body_errors(f"{response_pointer}/schema", answer.body, write=False)
        if "content" not in response:
            return []  # documented without a body schema (a file download): nothing to check
        kind = media_type(answer.content_type)
        if kind not in response["content"]:
            return [Violation("Content-Type", f"{kind} is not documented for {status}", f"{response_pointer}/content")]
        if not kind.endswith("json"):
            return []
        return self._body_errors(f"{response_pointer}/content/{escape(kind)}/schema", answer.body, write=False)

    # --- matching -------------------------------------------------------------------------------
    def _operation(self, method: str, path: str) -> _Operation | Violation:
        if self.base_path and (path == self.base_path or path.startswith(f"{self.base_path}/")):
            path = path.removeprefix(self.base_path)
        for template, pattern in self._patterns:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            operation = self.document["paths"][template].get(method.lower())
            if operation is None:
                return Violation("method", f"{method} is not allowed on {template}", f"/paths/{escape(template)}")
            return template, match.groupdict(), operation, f"/paths/{escape(template)}/{method.lower()}"
        return Violation("path", f"{path} is not a path of this API", "/paths")

    def _resolve(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self._registry.resolver(self._uri).lookup(f"{self._uri}#{pointer}").contents
        return node, pointer

    # --- parts of a request ---------------------------------------------------------------------
    def _check_parameters(
        self,
        template: str,
        pointer: str,
        path_values: Mapping[str, str],
        query: MultiDict[str, str],
        headers: Headers,
    ) -> list[Violation]:
        declared = self._declared_parameters(template, pointer)
        violations: list[Violation] = []
        for (location, name), (parameter, parameter_pointer) in declared.items():
            if location == "body":
                continue  # Swagger 2.0 keeps the body among the parameters: checked with the body
            values = supplied(location, name, path_values, query, headers)
            if not values:
                if parameter.get("required"):
                    violations.append(Violation(name, f"required {location} parameter is missing", parameter_pointer))
                continue
            if self.swagger:
                schema, schema_pointer = _parameter_schema(parameter), parameter_pointer
                separator = _SEPARATORS.get(parameter.get("collectionFormat", "csv"))
            else:
                schema, schema_pointer = self._resolve(parameter.get("schema", {}), f"{parameter_pointer}/schema")
                separator = None
            value, problem = coerce(values, schema, separator=separator)
            if problem:
                violations.append(Violation(name, problem, schema_pointer))
                continue
            if self.swagger:
                violations.extend(_direct_errors(schema, value, name, schema_pointer))
            else:
                violations.extend(self._schema_errors(schema_pointer, value, name, write=True))
        known = {plain_name(name) for location, name in declared if location == "query"}
        violations.extend(
            Violation(name, "unknown query parameter", f"{pointer}/parameters")
            for name in query
            if plain_name(name) not in known
        )
        return violations

    def _declared_parameters(self, template: str, pointer: str) -> dict[tuple[str, str], tuple[Mapping[str, Any], str]]:
        path_item_pointer = f"/paths/{escape(template)}"
        path_item = self.document["paths"][template]
        operation = path_item[pointer.rsplit("/", 1)[1]]
        declared: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        # Operation-level parameters override path-level ones with the same name and location.
        for owner, owner_pointer in ((path_item, path_item_pointer), (operation, pointer)):
            for index, raw in enumerate(owner.get("parameters", [])):
                parameter, parameter_pointer = self._resolve(raw, f"{owner_pointer}/parameters/{index}")
                declared[(parameter["in"], parameter["name"])] = (parameter, parameter_pointer)
        return declared

    def _check_accept(self, operation: Mapping[str, Any], pointer: str, headers: Headers) -> list[Violation]:
        if self.swagger:
            produced = set(operation.get("produces", self.document.get("produces", [])))
            where = f"{pointer}/produces"
        else:
            produced = {
                kind
                for response in operation.get("responses", {}).values()
                for kind in self._resolve(response, "")[0].get("content", {})
            }
            where = f"{pointer}/responses"
        if not produced:
            return []
        if self.swagger and not headers.get("Accept"):
            return []  # Swagger 2.0 APIs answer their first `produces` type to a client that names none
        accepted = {media_type(value) for value, _quality in parse_accept_header(headers.get("Accept"))}
        if accepted & produced or (self.swagger and "*/*" in accepted):
            return []
        expected = " or ".join(sorted(produced))
        return [Violation("Accept", f"expected {expected}, got '{headers.get('Accept', '')}'", where)]

    def _check_body(self, operation: Mapping[str, Any], pointer: str, headers: Headers, body: bytes) -> list[Violation]:
        if self.swagger:
            return self._check_swagger_body(operation, pointer, headers, body)
        if "requestBody" not in operation:
            return [Violation("body", "this operation takes no request body", pointer)] if body else []
        request_body, body_pointer = self._resolve(operation["requestBody"], f"{pointer}/requestBody")
        if not body:
            required = request_body.get("required")
            return [Violation("body", "a request body is required", body_pointer)] if required else []
        kind = media_type(headers.get("Content-Type", ""))
        content = request_body.get("content", {})
        if kind not in content:
            expected = " or ".join(sorted(content))
            return [Violation("Content-Type", f"expected {expected}, got '{kind}'", f"{body_pointer}/content")]
        if not kind.endswith("json"):
            return []
        return self._body_errors(f"{body_pointer}/content/{escape(kind)}/schema", body, write=True)

    def _check_swagger_body(
        self, operation: Mapping[str, Any], pointer: str, headers: Headers, body: bytes
    ) -> list[Violation]:
        parameters = [
            self._resolve(raw, f"{pointer}/parameters/{index}")
            for index, raw in enumerate(operation.get("parameters", []))
        ]
        body_parameter = next(((p, where) for p, where in parameters if p.get("in") == "body"), None)
        if body_parameter is None:
            return [Violation("body", "this operation takes no request body", pointer)] if body else []
        parameter, parameter_pointer = body_parameter
        if not body:
            required = parameter.get("required")
            return [Violation("body", "a request body is required", parameter_pointer)] if required else []
        consumed = set(operation.get("consumes", self.document.get("consumes", ["application/json"])))
        kind = media_type(headers.get("Content-Type", ""))
        if kind not in consumed:
            expected = " or ".join(sorted(consumed))
            return [Violation("Content-Type", f"expected {expected}, got '{kind}'", f"{pointer}/consumes")]
        if not kind.endswith("json"):
            return []
        return self._body_errors(f"{parameter_pointer}/schema", body, write=True)

    # --- schemas --------------------------------------------------------------------------------
    def _body_errors(self, pointer: str, body: bytes, *, write: bool) -> list[Violation]:
        try:
            instance = json.loads(body)
        except ValueError:
            return [Violation("body", "not valid JSON", pointer)]
        return self._schema_errors(pointer, instance, "body", write=write)

    def _schema_errors(self, pointer: str, instance: object, name: str, *, write: bool) -> list[Violation]:
        key = (pointer, write)
        if key not in self._validators:
            reference = {"$ref": f"{self._uri}#{pointer}"}
            if self.swagger:
                self._validators[key] = Draft4Validator(
                    reference, registry=self._registry, format_checker=Draft4Validator.FORMAT_CHECKER
                )
            else:
                kind = OAS30WriteValidator if write else OAS30ReadValidator
                self._validators[key] = kind(reference, registry=self._registry, format_checker=oas30_format_checker)
        errors = sorted(self._validators[key].iter_errors(instance), key=lambda error: list(map(str, error.path)))
        return [
            Violation(error_location(name, error.absolute_path), error.message, self._rule_pointer(pointer, error))
            for error in errors
        ]

    def _rule_pointer(self, pointer: str, error: Any) -> str:
        """Where in the document the broken keyword sits, following each `$ref` the validator followed."""
        node, pointer = self._resolve({"$ref": f"#{pointer}"}, pointer)
        for step in error.relative_schema_path:
            if step == "$ref":
                continue  # the next step resolves it, whether or not the validator recorded the `$ref`
            if isinstance(node, Mapping) and "$ref" in node:
                node, pointer = self._resolve(node, pointer)
            pointer = f"{pointer}/{escape(str(step))}"
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        return pointer


def _parameter_schema(parameter: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in parameter.items() if key in _PARAMETER_SCHEMA_KEYS}


def _direct_errors(schema: Mapping[str, Any], value: object, name: str, pointer: str) -> list[Violation]:
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [Violation(name, error.message, pointer) for error in validator.iter_errors(value)]


def _base_path(document: Mapping[str, Any]) -> str:
    if "basePath" in document:
        return str(document["basePath"])
    servers = document.get("servers") or []
    return urlsplit(servers[0]["url"]).path if servers else ""


def parse_document(path: Path) -> Mapping[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C build when PyYAML has one
    return yaml.load(text, Loader=loader)  # nosec B506  # noqa: S506 - a safe loader, under another name


def load_openapi(*parts: str, base_path: str | None = None) -> OpenApiContract:
    """The contract of a reference file (`load_openapi("bol", "retailer.json")`), parsed once per process.

    Raises `ReferenceMissing` when the file is not there: a caller decides to serve unchecked or
    to skip, never to pass as if it had checked.
    """
    path = reference_file(*parts)
    if path is None:
        raise ReferenceMissing(*parts)
    return _parsed(path, "/".join(parts), base_path)


@cache
def _parsed(path: Path, source: str, base_path: str | None) -> OpenApiContract:
    # Keyed by the file itself: a test may point KOPPEL_REFERENCE_DIR elsewhere.
    return OpenApiContract(parse_document(path), source, base_path=base_path)
