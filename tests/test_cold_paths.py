"""What a handler imports at cold start, and that tracing still traces where it is on.

Each case runs in a fresh interpreter: what a module imports is decided once per process, and the
Powertools Tracer keeps its configuration in the class. Behaviour only, never timing (the import
bench times it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = sorted((ROOT / "functions").glob("*/*.py"))
# Imported by none of the handlers at import time: the X-Ray SDK where tracing is off, the HTTP
# client and the connectors (built on a flow's first use), Powertools' idempotency and parameters.
HEAVY = ("aws_xray_sdk", "httpx", "koppel.connectors.registry", "aws_lambda_powertools.utilities.idempotency")
TRACING_OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}


def run_python(code: str, *, cwd: Path, env: dict[str, str]) -> str:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "AWS_XRAY", "_X_"))}
    base.pop("LAMBDA_TASK_ROOT", None)
    base |= {
        "PYTHONPATH": os.pathsep.join([str(cwd), str(ROOT / "layers" / "shared")]),
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=base | env, check=True, capture_output=True, text=True, timeout=60
    )
    return out.stdout


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.stem)
def test_a_handler_imports_neither_the_x_ray_sdk_nor_what_only_a_flow_needs_when_tracing_is_off(handler: Path):
    # GIVEN a function whose tracing is off (a local run, SAM local, POWERTOOLS_TRACE_DISABLED)
    probe = f"import json, sys; import {handler.stem}; print(json.dumps(sorted(sys.modules)))"
    # WHEN its module is imported, as Lambda does at cold start
    modules = json.loads(run_python(probe, cwd=handler.parent, env=TRACING_OFF))
    # THEN none of the heavy modules came with it, and its handler is there to call
    loaded = {heavy: [name for name in modules if name == heavy or name.startswith(heavy + ".")] for heavy in HEAVY}
    assert {heavy: names for heavy, names in loaded.items() if names} == {}


def test_where_tracing_is_on_the_handler_is_traced_and_its_segment_sent_to_the_daemon():
    # GIVEN a function in Lambda with tracing on, its invocation sampled, and an X-Ray daemon listening
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(20)
        port = daemon.getsockname()[1]
        env = {
            "POWERTOOLS_TRACE_DISABLED": "false",
            "POWERTOOLS_SERVICE_NAME": "koppel",
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        }
        probe = (
            "import sys\n"
            "from koppel.observability import tracer\n"
            "@tracer.capture_lambda_handler\n"
            "def lambda_handler(event, context):\n"
            "    return {'ok': True}\n"
            "ext = [name.split('.') for name in sys.modules if name.startswith('aws_xray_sdk.ext.')]\n"
            "patched = sorted(parts[2] for parts in ext if parts[-1] == 'patch')\n"
            "print(type(tracer).__name__, ','.join(patched), lambda_handler({}, None))\n"
        )
        # WHEN a handler decorated as koppel's are is invoked
        printed = run_python(probe, cwd=ROOT, env=env)
        datagram = daemon.recv(65536).decode()
    # THEN the real Tracer traced it, AWS and connector calls patched (nothing else), and the
    # handler's subsegment went out
    assert printed.split() == ["Tracer", "botocore,httpx", "{'ok':", "True}"]
    header, document = datagram.split("\n", 1)
    assert json.loads(header)["format"] == "json"
    subsegment = json.loads(document)
    assert subsegment["name"] == "## lambda_handler"
    assert subsegment["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert subsegment["annotations"]["ColdStart"] is True
