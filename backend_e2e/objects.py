"""The object store checked directly (boto3), not through the API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

EXPORTS_BUCKET = "exports"  # the contract's default (TB_BUCKET_EXPORTS)


def exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether ``key`` is in ``bucket``; any answer but "no such key" fails the test."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def delete(s3: Any, bucket: str, key: str) -> None:
    s3.delete_object(Bucket=bucket, Key=key)  # no such key is not an error (S3 semantics)


def _keys(s3: Any) -> set[tuple[str, str]]:
    return {(bucket, item["Key"])
            for bucket in (b["Name"] for b in s3.list_buckets().get("Buckets", []))
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])}


def snapshot(s3: Any) -> dict[tuple[str, str], bytes]:
    """Every object of every bucket (the stack's store is small: seed files and test data)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = sorted(_keys(s3))
        bodies = pool.map(lambda k: s3.get_object(Bucket=k[0], Key=k[1])["Body"].read(), keys)
        return dict(zip(keys, bodies, strict=True))


def put_back(s3: Any, saved: dict[tuple[str, str], bytes]) -> None:
    """Put back what ``snapshot`` saw and the store no longer holds (an in-memory store restarted)."""
    present = _keys(s3)
    missing = [k for k in saved if k not in present]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=k[0], Key=k[1], Body=saved[k]), missing))
