"""The feed engine: streaming renderers (CSV, Google Merchant RSS 2.0, gzip) and a multipart S3 upload."""

from koppel.feeds.render import CSV_HEADER, GOOGLE_NS, FeedStats, csv_rows, google_xml, gzipped
from koppel.feeds.s3_upload import FeedTooLarge, FeedUploadFailed, upload_stream

__all__ = [
    "CSV_HEADER",
    "GOOGLE_NS",
    "FeedStats",
    "FeedTooLarge",
    "FeedUploadFailed",
    "csv_rows",
    "google_xml",
    "gzipped",
    "upload_stream",
]
