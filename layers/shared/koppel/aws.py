"""Lazy, cached boto3 clients: built on first use, never at import time.

`AWS_ENDPOINT_URL` (read by boto3 itself) points every client at the local moto server when
koppel runs on a laptop; in the cloud it is unset.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


# Presigned feed URLs signed with SigV4: the only signature S3 accepts in every region, and one
# whose expiry (X-Amz-Expires) a consumer can read.
_SERVICE_CONFIG = {"s3": Config(signature_version="s3v4")}


@cache
def client(service: str) -> Any:
    config = _CONFIG.merge(_SERVICE_CONFIG[service]) if service in _SERVICE_CONFIG else _CONFIG
    return boto3.session.Session().client(service, config=config)


def reset() -> None:
    """Forget cached clients (tests start a fresh embedded AWS per test)."""
    client.cache_clear()
