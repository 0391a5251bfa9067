"""GraphQL documents checked against a published SDL schema (graphql-core): syntax, validation
against the schema, and the variables coerced to their declared types."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, build_schema, parse
from graphql import validate as validate_document
from graphql.execution.values import get_variable_values
from graphql.language import DocumentNode

from koppel_local.reference import reference_file
from koppel_local.simulators.kit.contract import Answer, Call, ContractViolation, ReferenceMissing, Violation

_schemas: dict[Path, GraphQLSchema] = {}
_schema_lock = threading.Lock()


def load_sdl(path: Path) -> GraphQLSchema:
    """A schema built once per process (Shopify's Admin SDL is about 3 MB)."""
    with _schema_lock:
        if path not in _schemas:
            _schemas[path] = build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)
        return _schemas[path]


@dataclass(frozen=True)
class Prepared:
    """A document that passed: its AST and the chosen operation."""

    document: DocumentNode
    operation: OperationDefinitionNode


class GraphQLContract:
    """One GraphQL endpoint's schema; `check_request` raises `ContractViolation` with the GraphQL
    errors the server would answer with (`details`)."""

    def __init__(self, schema: GraphQLSchema | None, source: str) -> None:
        self.schema = schema  # None: syntax and operation choice only (a simulator run unchecked)
        self.source = source

    def prepare(self, query: str, operation_name: str | None, variables: dict[str, Any]) -> Prepared:
        """The parsed document and its operation, or `ContractViolation`."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            raise self._violation([exc]) from exc
        if self.schema is not None:
            errors = validate_document(self.schema, document)
            if errors:
                raise self._violation(errors)
        operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
        chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]
        if len(chosen) != 1:
            message = "Exactly one operation must be chosen (check operationName)"
            raise ContractViolation(
                self.source, [Violation("operationName", message, "")], details=[{"message": message}]
            )
        operation = chosen[0]
        if self.schema is not None:
            coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
            if isinstance(coerced, list):
                raise self._violation(coerced, name="variables")
        return Prepared(document, operation)

    # --- the common contract interface --------------------------------------------------------
    def request_violations(self, call: Call) -> list[Violation]:
        try:
            self.check_request(call)
        except ContractViolation as exc:
            return list(exc.violations)
        return []

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        try:
            body = json.loads(answer.body)
        except ValueError:
            return [Violation("body", "not valid JSON", "")]
        if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
            return [Violation("body", "a GraphQL answer holds `data` or `errors`", "")]
        return []

    def check_request(self, call: Call) -> None:
        try:
            payload = json.loads(call.body)
        except ValueError as exc:
            raise ContractViolation(self.source, [Violation("body", "not valid JSON", "")]) from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise ContractViolation(self.source, [Violation("query", "the body holds no query", "")])
        self.prepare(payload["query"], payload.get("operationName"), payload.get("variables") or {})

    def check_response(self, call: Call, answer: Answer) -> None:
        found = self.response_violations(call, answer)
        if found:
            raise ContractViolation(self.source, found)

    def _violation(self, errors: list[GraphQLError], name: str = "document") -> ContractViolation:
        violations = [Violation(name, error.message, _where(error)) for error in errors]
        return ContractViolation(self.source, violations, details=[error.formatted for error in errors])


def _where(error: GraphQLError) -> str:
    """Where in the document the schema refuses it (the message names the schema type and field)."""
    position = ",".join(f"{loc.line}:{loc.column}" for loc in error.locations or ())
    return f"document@{position}" if position else "document"


def load_graphql(*parts: str) -> GraphQLContract:
    """The contract of a reference SDL file; `ReferenceMissing` when it is not there."""
    path = reference_file(*parts)
    if path is None:
        raise ReferenceMissing(*parts)
    return GraphQLContract(load_sdl(path), "/".join(parts))
