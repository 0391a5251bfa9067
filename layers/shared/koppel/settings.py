"""The environment a handler runs in, parsed once into a typed model (see template.yaml Globals)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Environment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    koppel_table: str = Field(default="", alias="KOPPEL_TABLE")
    idempotency_table: str = Field(default="", alias="IDEMPOTENCY_TABLE")
    event_queue_url: str = Field(default="", alias="EVENT_QUEUE_URL")
    stock_push_queue_url: str = Field(default="", alias="STOCK_PUSH_QUEUE_URL")
    # Mutations on a SKU within this many seconds of the first become one push.
    stock_push_delay_seconds: int = Field(default=2, alias="STOCK_PUSH_DELAY_SECONDS", ge=0, le=900)
    feed_bucket: str = Field(default="", alias="FEED_BUCKET")
    # Queued as JSON text in one SQS message (1 MiB at most); escaping can grow a body by ~20 %.
    max_webhook_bytes: int = Field(default=800_000, alias="MAX_WEBHOOK_BYTES", gt=0)
    signature_tolerance_seconds: int = Field(default=300, alias="SIGNATURE_TOLERANCE_SECONDS", gt=0)
    stale_event_hours: int = Field(default=48, alias="STALE_EVENT_HOURS", gt=0)
    activity_ttl_days: int = Field(default=30, alias="ACTIVITY_TTL_DAYS", gt=0)
    feed_url_ttl_seconds: int = Field(default=3600, alias="FEED_URL_TTL_SECONDS", gt=0)
    feed_signing_secret: str = Field(default="", alias="FEED_SIGNING_SECRET")
    secret_cache_seconds: int = Field(default=300, alias="SECRET_CACHE_SECONDS", ge=0)


@cache
def environment() -> Environment:
    return Environment.model_validate(dict(os.environ))


def reset() -> None:
    environment.cache_clear()
