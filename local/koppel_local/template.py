"""Reads template.yaml — the one list of koppel's resources — for the local runtime.

Resolves the intrinsic functions the template uses (Ref, GetAtt, Sub, If, Not, Equals) against
physical names given by the local runtime, and describes each function: handler, environment,
HTTP routes, SQS sources and schedules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from koppel_local.reference import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


@dataclass
class Route:
    method: str
    path: str  # "/webhooks/{account_id}"
    function: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method.upper():
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass
class Function:
    logical_id: str
    code_dir: Path
    module: str
    attribute: str
    timeout: int
    environment: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    queues: list[tuple[str, int]] = field(default_factory=list)  # (queue logical id, batch size)
    schedules: list[tuple[str, str]] = field(default_factory=list)  # (expression, state)


class Template:
    def __init__(self, path: Path = TEMPLATE, parameters: dict[str, str] | None = None) -> None:
        self.body: dict[str, Any] = cfn_yaml.load(str(path))
        self.resources: dict[str, dict[str, Any]] = dict(self.body["Resources"])
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in self.body.get("Parameters", {}).items()
        } | (parameters or {})
        self.physical: dict[str, dict[str, str]] = {}  # logical id → {"Ref": ..., "Arn": ..., ...}

    def of_type(self, kind: str) -> list[str]:
        return [name for name, res in self.resources.items() if res["Type"] == kind]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolve(self.resources[logical_id].get("Properties", {}))

    def depends_on(self, logical_id: str) -> set[str]:
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if "Ref" in node and node["Ref"] in self.resources:
                    found.add(node["Ref"])
                if "Fn::GetAtt" in node:
                    found.add(node["Fn::GetAtt"][0])
                if "Fn::Sub" in node:
                    text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
                    found.update(
                        n.split(".")[0] for n in re.findall(r"\$\{([^}]+)\}", text) if n.split(".")[0] in self.resources
                    )
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.resources[logical_id].get("Properties", {}))
        return found

    # --- intrinsic functions --------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.body["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self.physical[arg[0]][arg[1]]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Condition":
                return self.condition(arg)
        return {key: self.resolve(value) for key, value in node.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": "koppel-local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical[name]["Ref"]

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(found: re.Match) -> str:
            name = found.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.physical[logical][attribute]
            return self._ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # --- functions ------------------------------------------------------------------------------
    def functions(self) -> list[Function]:
        glob = self.body.get("Globals", {}).get("Function", {})
        env_globals = self.resolve(glob.get("Environment", {}).get("Variables", {}))
        functions = []
        for name in self.of_type("AWS::Serverless::Function"):
            props = self.resources[name]["Properties"]
            module, attribute = props["Handler"].rsplit(".", 1)
            fn = Function(
                logical_id=name,
                code_dir=REPO_ROOT / props["CodeUri"],
                module=module,
                attribute=attribute,
                timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
                environment={
                    k: str(v)
                    for k, v in (env_globals | self.resolve(props.get("Environment", {}).get("Variables", {}))).items()
                },
            )
            for event in props.get("Events", {}).values():
                event_props = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    fn.routes.append(Route(event_props["Method"], event_props["Path"], name))
                elif event["Type"] == "SQS":
                    fn.queues.append((event_props["Queue"]["Fn::GetAtt"][0], int(event_props.get("BatchSize", 10))))
                elif event["Type"] == "Schedule":
                    fn.schedules.append(
                        (
                            str(self.resolve(event_props["Schedule"])),
                            str(self.resolve(event_props.get("State", "ENABLED"))),
                        )
                    )
            functions.append(fn)
        return functions
