"""The object store checked directly (boto3), not through the API."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

EXPORTS_BUCKET = "exports"  # the contract's default (TB_BUCKET_EXPORTS)
LANDING_BUCKET = "landing"


def exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether ``key`` is in ``bucket``; any answer but "no such key" fails the test."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def snapshot(s3: Any) -> dict[tuple[str, str], bytes]:
    """Every object of every bucket (the stack's store is small: seed files and test data)."""
    out = {}
    for bucket in (b["Name"] for b in s3.list_buckets().get("Buckets", [])):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                out[(bucket, item["Key"])] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def put_back(s3: Any, saved: dict[tuple[str, str], bytes]) -> None:
    """Put back what ``snapshot`` saw and the store no longer holds (an in-memory store restarted)."""
    for (bucket, key), body in saved.items():
        if not exists(s3, bucket, key):
            s3.put_object(Bucket=bucket, Key=key, Body=body)
