"""Creates the resources template.yaml declares, in whatever AWS a client factory reaches.

The local runtime points it at the moto server; unit tests at moto in-process. There is no second
list of tables and queues: what the template declares is what gets created.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from graphlib import TopologicalSorter
from typing import Any

import boto3
from moto import mock_aws

from koppel_local.template import ACCOUNT, REGION, Template


class Provisioner:
    """Creates the template's tables, queues, bucket, secrets and topics in whatever AWS `client` reaches."""

    def __init__(self, template: Template, client: Any, prefix: str = "koppel-local") -> None:
        self.template = template
        self.client = client
        self.prefix = prefix

    def provision(self) -> list[str]:
        creators = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SNS::Topic": self._topic,
        }
        wanted = [name for name, res in self.template.resources.items() if res["Type"] in creators]
        graph = {name: self.template.depends_on(name) & set(wanted) for name in wanted}
        created = []
        for name in TopologicalSorter(graph).static_order():
            creators[self.template.resources[name]["Type"]](name, self.template.properties(name))
            created.append(name)
        return created

    def _name(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self._name(logical_id)
        kwargs = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes") if k in props}
        ddb = self.client("dynamodb")
        ddb.create_table(TableName=name, BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"), **kwargs)
        if "TimeToLiveSpecification" in props:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        self.template.physical[logical_id] = {"Ref": name, "Arn": arn}

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self._name(logical_id)
        attributes = {
            k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in props.items()
            if k != "QueueName"
        }
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        self.template.physical[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name}

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self._name(logical_id).lower()
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if "BucketEncryption" in props:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        self.template.physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        # The embedded AWS is reached over plain http on 127.0.0.1, so a TLS-only deny would refuse
        # every local call; all other statements apply as written.
        document = dict(props["PolicyDocument"])
        document["Statement"] = [
            statement
            for statement in document["Statement"]
            if "aws:SecureTransport" not in json.dumps(statement.get("Condition", {}))
        ]
        if document["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
        self.template.physical[logical_id] = {"Ref": props["Bucket"]}

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        value = secrets.token_urlsafe(int(props.get("GenerateSecretString", {}).get("PasswordLength", 32)))
        arn = self.client("secretsmanager").create_secret(Name=self._name(logical_id), SecretString=value)["ARN"]
        self.template.physical[logical_id] = {"Ref": arn}

    def _topic(self, logical_id: str, _props: dict[str, Any]) -> None:
        arn = self.client("sns").create_topic(Name=self._name(logical_id))["TopicArn"]
        self.template.physical[logical_id] = {"Ref": arn, "TopicName": self._name(logical_id)}


def offline_environment(log_level: str = "ERROR") -> dict[str, str]:
    """Dummy credentials, the region and quiet Powertools: what a handler needs against embedded AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": log_level,
    }


def function_environment(template: Template) -> dict[str, str]:
    """The variables the template gives its functions (Powertools settings left to the caller)."""
    merged: dict[str, str] = {}
    for fn in template.functions():
        merged.update({k: v for k, v in fn.environment.items() if not k.startswith("POWERTOOLS_")})
    return merged


@contextmanager
def embedded_aws(prefix: str = "test") -> Iterator[Template]:
    """moto in-process holding the template's resources, for tests and benchmarks."""
    with mock_aws():
        template = Template()
        Provisioner(template, lambda service: boto3.client(service, region_name=REGION), prefix=prefix).provision()
        yield template
