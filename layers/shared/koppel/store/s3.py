"""The feed bucket."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from koppel.feeds.s3_upload import upload_stream


class S3FeedWriter:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def upload(self, key: str, chunks: Iterable[bytes], content_type: str) -> int:
        """Streamed in parts; the key shows the previous object until the last part is stored."""
        return upload_stream(self.client, self.bucket, key, chunks, content_type=content_type)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def presign(self, key: str, expires_in: int) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        )
