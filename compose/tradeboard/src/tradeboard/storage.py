"""The object store (S3 API via boto3): the landing, quarantine and exports buckets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import Settings


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    last_modified: datetime
    size: int


def make_client(settings: Settings, *, timeout: float = 10.0, attempts: int = 2) -> Any:
    """A boto3 S3 client with short timeouts: an unreachable store must fail fast, not hang."""
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.s3_region,
        config=Config(
            connect_timeout=min(timeout, 2.0),
            read_timeout=timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )


class Storage:
    """Thin helpers over one client, bucket names from the settings."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.landing = settings.bucket_landing
        self.quarantine = settings.bucket_quarantine
        self.exports = settings.bucket_exports

    def put(self, bucket: str, key: str, body: bytes | IO[bytes],
            content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def open(self, bucket: str, key: str) -> Any:
        """A streaming body (``.iter_chunks()``, ``.close()``)."""
        return self.client.get_object(Bucket=bucket, Key=key)["Body"]

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object's metadata, or None when there is no such object."""
        try:
            meta = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if is_missing(err):
                return None
            raise
        return ObjectInfo(key, meta["LastModified"], int(meta.get("ContentLength", 0)))

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; removing one that is not there is not an error (S3 semantics)."""
        self.client.delete_object(Bucket=bucket, Key=key)

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"], item["LastModified"], int(item.get("Size", 0)))

    def check(self) -> None:
        """Raise unless the store answers and has every bucket (one request: fast to fail)."""
        names = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        missing = sorted({self.landing, self.quarantine, self.exports} - names)
        if missing:
            raise LookupError(f"missing buckets: {', '.join(missing)}")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_missing(error: BaseException) -> bool:
    """True for "no such key" answers."""
    return isinstance(error, ClientError) and error_code(error) in ("NoSuchKey", "404", "NotFound")


def is_unavailable(error: BaseException) -> bool:
    """True when the store is away or broken, as opposed to a request it refused."""
    if isinstance(error, BotoCoreError):  # connection refused, timeouts, closed connections
        return True
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or error_code(error) == "NoSuchBucket"
    return False
