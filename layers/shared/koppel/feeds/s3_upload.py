"""Stream a feed to S3 with a multipart upload: memory bounded by one part, the object published whole or not at all.

Published straight to the final key, not to a temporary key copied over afterwards. S3 makes a
multipart object visible only when CompleteMultipartUpload succeeds, and that call replaces the
key's previous object in one step; until then every GET of the key returns the old feed whole.
A temporary key would add nothing to that atomicity (CopyObject is itself one such replacement),
while writing every byte twice, adding a temporary object to clean up when a later step fails,
capping the feed at CopyObject's 5 GB, and needing GetObject/DeleteObject on the temporary prefix.

A failure anywhere (the renderer, the source behind it, or S3) aborts the upload, so no object
and no billed orphan parts remain. A process killed outright (a Lambda timeout) cannot abort;
the bucket's AbortIncompleteMultipartUpload lifecycle rule is what cleans up after that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from koppel.errors import ServiceUnavailable
from koppel.observability import logger

MiB = 1 << 20
MIN_PART_SIZE = 5 * MiB  # S3's floor for every part but the last
MAX_PARTS = 10_000  # S3's ceiling: 80 GB at the default 8 MiB, far over Merchant's 4 GB fetch limit
# As s3transfer does: a CRC32 per part, checked by S3, and echoed in the completion so S3 accepts it.
CHECKSUM = "CRC32"


class FeedUploadFailed(ServiceUnavailable):
    """S3 failed a feed upload; nothing was published and the previous feed stands."""


class FeedTooLarge(FeedUploadFailed):
    retryable = False


def upload_stream(
    client: Any,
    bucket: str,
    key: str,
    chunks: Iterable[bytes],
    *,
    content_type: str,
    content_encoding: str | None = None,
    part_size: int = 8 * MiB,
) -> int:
    """Upload `chunks` to s3://bucket/key, replacing what is there only once all of it is stored.

    Returns the object's size in bytes. Takes a boto3 S3 client; never builds one.
    """
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum part)")
    headers = {"ContentType": content_type}
    if content_encoding:
        headers["ContentEncoding"] = content_encoding
    parts = _parts(chunks, part_size)
    body, last = next(parts)
    if last:
        # Fits in one part: a single PutObject is just as atomic, at a third of the requests.
        _s3(client.put_object, Bucket=bucket, Key=key, Body=body, **headers)
        return len(body)

    created = _s3(client.create_multipart_upload, Bucket=bucket, Key=key, ChecksumAlgorithm=CHECKSUM, **headers)
    upload_id = created["UploadId"]
    try:
        done: list[dict[str, Any]] = []
        size = 0
        while True:
            number = len(done) + 1
            answer = _s3(
                client.upload_part,
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm=CHECKSUM,
            )
            done.append({"PartNumber": number, "ETag": answer["ETag"]})
            if checksum := answer.get(f"Checksum{CHECKSUM}"):
                done[-1][f"Checksum{CHECKSUM}"] = checksum
            size += len(body)
            if last:
                break
            body, last = next(parts)
        _s3(
            client.complete_multipart_upload,
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
        )
    except BaseException as failure:  # an interrupt or a closed generator must not leave parts behind either
        _abort(client, bucket, key, upload_id, failure)
        raise
    return size


def _parts(chunks: Iterable[bytes], part_size: int) -> Iterator[tuple[bytearray, bool]]:
    """(part, is_last): every part but the last exactly part_size bytes; the last 0..part_size.

    One buffer, filled in place and handed out again for every part: nothing is allocated per part,
    so the process's memory neither grows nor fragments with the feed's size. A part is valid only
    until the next is asked for. A full buffer is handed out only once more bytes are known to
    follow, so the last part is always marked.
    """
    buffer = bytearray(part_size)
    view = memoryview(buffer)
    filled = cut = 0
    for chunk in chunks:
        data, offset = memoryview(chunk), 0
        while offset < len(data):
            if filled == part_size:
                cut += 1
                if cut == MAX_PARTS:  # and more follows: S3 would refuse part 10,001 at the very end
                    raise FeedTooLarge("the feed needs more than S3's 10,000 parts", part_size=part_size)
                yield buffer, False
                filled = 0
            taken = min(part_size - filled, len(data) - offset)
            view[filled : filled + taken] = data[offset : offset + taken]
            filled += taken
            offset += taken
    view.release()
    del buffer[filled:]  # shrinks in place: the last part needs no copy either
    yield buffer, True


def _s3(call: Callable[..., Any], **params: Any) -> Any:
    try:
        return call(**params)
    except (ClientError, BotoCoreError) as exc:
        raise FeedUploadFailed("S3 refused the feed upload", key=params.get("Key")) from exc


def _abort(client: Any, bucket: str, key: str, upload_id: str, failure: BaseException) -> None:
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (ClientError, BotoCoreError) as exc:
        # The original failure is what the caller must see; the orphan is left to the lifecycle rule.
        failure.add_note(f"aborting multipart upload {upload_id} also failed: {exc!r}")
        logger.warning("multipart upload not aborted", bucket=bucket, key=key, upload_id=upload_id)
