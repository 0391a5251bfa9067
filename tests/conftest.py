"""Shared fixtures: an in-process embedded AWS (moto) holding exactly what template.yaml declares."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from moto.core.botocore_stubber import BotocoreStubber

from koppel import wiring
from koppel.config import Account
from koppel_local.provision import embedded_aws, function_environment, offline_environment
from koppel_local.runtime import LambdaContext
from koppel_local.template import REGION, Template

# The shared scenario fixtures (shop, pos_link, feed_link, world, served), and strict simulators: a
# request or answer off a published contract fails the test that caused it, naming the spec location.
pytest_plugins = ["scenarios", "koppel_local.simulators.kit.pytest_plugin"]


@pytest.fixture(autouse=True)
def _quiet_local_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in offline_environment("WARNING").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@dataclass
class Stack:
    """The template's resources in moto, plus helpers to configure accounts the way the CLI does."""

    template: Template

    def ref(self, logical_id: str) -> str:
        return self.template.physical[logical_id]["Ref"]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def add_account(self, account_id: str, system: str, credentials: dict[str, str], **extra: Any) -> None:
        secret_ref = f"koppel/{account_id}"
        self.client("secretsmanager").create_secret(Name=secret_ref, SecretString=json.dumps(credentials))
        account = {"account_id": account_id, "system": system, "secret_ref": secret_ref, **extra}
        wiring.config_store().put_account(Account.model_validate(account))

    def queued(self, logical_id: str = "EventQueue") -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        messages = []
        while batch := sqs.receive_message(QueueUrl=self.ref(logical_id), MaxNumberOfMessages=10).get("Messages"):
            messages.extend(batch)
        return messages

    def worked_off(self, context: Any, account_id: str) -> int:
        """Hands everything the receiver queued to the queue worker, as the stack would, and returns how
        many deliveries from the account it acted on: a re-sent delivery is queued again and acted on
        once (the worker de-duplicates on what the sender signed)."""
        import queue_worker
        from scenarios import sqs_event

        bodies = [message["Body"] for message in self.queued()]
        for start in range(0, len(bodies), 10):
            answer = queue_worker.lambda_handler(sqs_event(*bodies[start : start + 10]), context)
            assert answer["batchItemFailures"] == [], answer
        return sum(entry.kind == "webhook.received" for entry in wiring.activity_log().recent(account_id, limit=1000))


_ONE_REQUEST_AT_A_TIME = threading.Lock()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    # DynamoDB applies each (conditional) write atomically; moto in-process does not serialise
    # requests from concurrent threads. Tests of overlapping runs need that one property of the
    # real service, so each request is handled whole before the next.
    handle = BotocoreStubber.process_request

    def atomic(self: BotocoreStubber, request: Any) -> Any:
        with _ONE_REQUEST_AT_A_TIME:
            return handle(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)
    with embedded_aws() as template:
        for name, value in function_environment(template).items():
            monkeypatch.setenv(name, value)
        wiring.reset()
        yield Stack(template)
        wiring.reset()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext(function_name="test", timeout=30)


# --- least privilege, checked against what the code really calls -------------------------------
# IAM names a few actions differently from the API operation that needs them.
IAM_ACTION = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call made while the test runs, as IAM actions ("dynamodb:PutItem")."""
    calls: list[str] = []
    make_call = BaseClient._make_api_call

    def record(self: BaseClient, operation: str, params: dict) -> Any:
        service = self.meta.service_model.signing_name
        calls.append(IAM_ACTION.get((service, operation), f"{service}:{operation}"))
        return make_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return calls


@pytest.fixture
def local_state(stack, tmp_path, monkeypatch):
    """The CLI's --local target, pointed at the in-process moto stack."""
    outputs = {
        "KoppelTableName": stack.ref("KoppelTable"),
        "FeedSigningSecretArn": stack.ref("FeedSigningSecret"),
        "FeedBucketName": stack.ref("FeedBucket"),
    }
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"endpoint": "", "region": "eu-west-1", "outputs": outputs, "http_url": "http://127.0.0.1:9"})
    )
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(state))
    return stack
