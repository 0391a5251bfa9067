"""koppel on a laptop: embedded AWS (moto server), the resources of template.yaml, the same handlers.

`LocalCloud` starts a moto server on 127.0.0.1, creates every table, queue, bucket and secret the
template declares (from the template itself), and invokes the template's handlers with real
API Gateway v2, SQS and EventBridge event shapes: HTTP routes served on 127.0.0.1, SQS event
source mappings drained into the worker, schedules fired on their rate or on demand.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from koppel_local.provision import Provisioner
from koppel_local.reference import REPO_ROOT
from koppel_local.template import ACCOUNT, REGION, Function, Template

STATE_FILE = REPO_ROOT / ".koppel-local" / "state.json"

# Outputs the CLI needs, by the template's own logical ids.
CLI_OUTPUTS = {
    "KoppelTableName": "KoppelTable",
    "IdempotencyTableName": "IdempotencyTable",
    "EventQueueUrl": "EventQueue",
    "EventDeadLetterQueueUrl": "EventDeadLetterQueue",
    "FeedBucketName": "FeedBucket",
    "FeedSigningSecretArn": "FeedSigningSecret",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LambdaContext:
    function_name: str
    timeout: int
    aws_request_id: str = ""
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalCloud:
    def __init__(self, *, log_level: str = "INFO", parameters: dict[str, str] | None = None) -> None:
        self.template = Template(parameters=parameters)
        self.functions: dict[str, Function] = {}
        self.log_level = log_level
        self.moto: ThreadedMotoServer | None = None
        self.endpoint = ""
        self.http_url = ""
        self._http_server: Any = None
        self._locks: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._clients: dict[tuple[str, str], Any] = {}  # boto3 clients are thread-safe: one per service
        self._clients_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalCloud:
        port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": self.log_level,
            }
        )
        self.provision()
        self.functions = {fn.logical_id: fn for fn in self.template.functions()}
        for fn in self.functions.values():
            # Globals give every function the same names; Powertools settings stay local.
            os.environ.update({k: v for k, v in fn.environment.items() if not k.startswith("POWERTOOLS_")})
            self._locks[fn.logical_id] = threading.Lock()
        from koppel import wiring
        from koppel.observability import logger

        logger.setLevel(self.log_level)  # the logger exists already if koppel was imported before start
        wiring.reset()
        self.write_state()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._http_server is not None:
            self._http_server.shutdown()
        if self.moto is not None:
            self.moto.stop()

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """The embedded AWS's client for `service`, built once per endpoint: building a boto3 client costs
        tens of milliseconds, and the queue loop asks for SQS's on every round."""
        key = (service, self.endpoint)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)
            return self._clients[key]

    def write_state(self) -> None:
        outputs = {name: self.template.physical[logical]["Ref"] for name, logical in CLI_OUTPUTS.items()}
        STATE_FILE.parent.mkdir(exist_ok=True)
        STATE_FILE.write_text(
            json.dumps(
                {
                    "endpoint": self.endpoint,
                    "region": REGION,
                    "outputs": outputs,
                    "http_url": self.http_url,
                    # Physical names by logical id, so the CLI finds any resource (a dead-letter queue) here.
                    "resources": {logical: found["Ref"] for logical, found in self.template.physical.items()},
                },
                indent=2,
            )
        )

    # --- resources from the template ------------------------------------------------------------
    def provision(self) -> list[str]:
        return Provisioner(self.template, self.client).provision()

    def physical(self, logical_id: str) -> str:
        return self.template.physical[logical_id]["Ref"]

    # --- invoking handlers ----------------------------------------------------------------------
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = self.functions[logical_id]
        if str(fn.code_dir) not in sys.path:
            sys.path.append(str(fn.code_dir))  # what Lambda does with a function's code root
        handler = getattr(importlib.import_module(fn.module), fn.attribute)
        with self._locks[logical_id]:  # one container per function: handlers are not re-entrant
            return handler(event, LambdaContext(function_name=logical_id, timeout=fn.timeout))

    def http_event(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        route_path: str,
        params: dict[str, str],
    ) -> dict[str, Any]:
        text_ok = True
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text_ok, text = False, base64.b64encode(body).decode()
        now = datetime.now(UTC)
        return {
            "version": "2.0",
            "routeKey": f"{method} {route_path}",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {k.lower(): v for k, v in headers.items()},
            "queryStringParameters": dict(
                pair.split("=", 1) if "=" in pair else (pair, "") for pair in query.split("&") if pair
            )
            or None,
            "pathParameters": params,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": "local",
                "domainName": "127.0.0.1",
                "stage": "$default",
                "requestId": str(uuid.uuid4()),
                "routeKey": f"{method} {route_path}",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
            },
            "body": text,
            "isBase64Encoded": not text_ok,
        }

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        for fn in self.functions.values():
            for route in fn.routes:
                params = route.match(request.method, request.path)
                if params is None:
                    continue
                event = self.http_event(
                    request.method,
                    request.path,
                    request.query_string.decode(),
                    dict(request.headers),
                    request.get_data(),
                    route.path,
                    params,
                )
                result = self.invoke(fn.logical_id, event)
                body = base64.b64decode(result["body"]) if result.get("isBase64Encoded") else (result.get("body") or "")
                response = Response(body, status=result["statusCode"], headers=result.get("headers") or {})
                return response(environ, start_response)
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")(
            environ, start_response
        )

    def serve_http(self, port: int = 0) -> str:
        self._http_server = make_server("127.0.0.1", port or free_port(), self.wsgi, threaded=True)
        threading.Thread(target=self._http_server.serve_forever, daemon=True).start()
        self.http_url = f"http://127.0.0.1:{self._http_server.server_port}"
        self.write_state()
        return self.http_url

    # --- SQS event source mappings --------------------------------------------------------------
    def drain_queues(self, rounds: int = 10) -> int:
        """Feed every message waiting in a mapped queue to its function; returns how many were handled."""
        handled = 0
        for _ in range(rounds):
            batch_seen = 0
            for fn in self.functions.values():
                for queue_id, batch_size in fn.queues:
                    batch_seen += self._deliver(fn, queue_id, batch_size)
            handled += batch_seen
            if batch_seen == 0:
                break
        return handled

    def _deliver(self, fn: Function, queue_id: str, batch_size: int) -> int:
        sqs = self.client("sqs")
        url = self.physical(queue_id)
        arn = self.template.physical[queue_id]["Arn"]
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(batch_size, 10), AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return 0
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    k: {
                        "stringValue": v.get("StringValue"),
                        "dataType": v["DataType"],
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                    for k, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
        result = self.invoke(fn.logical_id, {"Records": records}) or {}
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = []
        for record in records:
            if record["messageId"] in failed:
                # Back on the queue at once (Lambda would wait for the visibility timeout).
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
            else:
                done.append({"Id": str(len(done)), "ReceiptHandle": record["receiptHandle"]})
        if done:  # at most 10, as received: one call, as Lambda's event source mapping deletes a batch
            refused = sqs.delete_message_batch(QueueUrl=url, Entries=done).get("Failed", [])
            if refused:
                raise RuntimeError(f"{len(refused)} handled messages not deleted from {queue_id}: {refused[0]}")
        return len(records)

    # --- schedules ------------------------------------------------------------------------------
    def scheduled_event(self, logical_id: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/koppel-local-{logical_id}"],
            "detail": detail or {},
        }

    def fire(self, logical_id: str, detail: dict[str, Any] | None = None) -> Any:
        return self.invoke(logical_id, self.scheduled_event(logical_id, detail))

    def run_forever(self, poll_seconds: float = 1.0, *, schedules: bool = True) -> None:
        """Drain the queues, as Lambda's event source mappings do, until stopped; with `schedules`,
        also fire each enabled schedule at its rate (cron ones by hand: `koppel-local fire`)."""
        due: dict[str, float] = {}
        while not self._stop.is_set():
            if schedules:
                self._fire_due(due, time.time())
            self._safe(self.drain_queues)
            self._stop.wait(poll_seconds)

    def _fire_due(self, due: dict[str, float], now: float) -> None:
        for fn in self.functions.values():
            for expression, state in fn.schedules:
                every = _rate_seconds(expression)
                if state != "ENABLED" or every is None:
                    continue
                key = f"{fn.logical_id}:{expression}"
                if now >= due.setdefault(key, now):
                    due[key] = now + every
                    self._safe(lambda fn=fn: self.fire(fn.logical_id))

    @staticmethod
    def _safe(action: Any) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the local loop reports and keeps running, as Lambda would
            print(f"[koppel-local] {type(exc).__name__}: {exc}", file=sys.stderr)


def _rate_seconds(expression: str) -> float | None:
    found = re.match(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not found:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
    return int(found.group(1)) * unit
