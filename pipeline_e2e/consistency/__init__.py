"""Counts, checksums and idempotency across S3, SQL and the API."""
