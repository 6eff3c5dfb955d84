"""Logging to stdout, one line per event: the stack driver redirects it to a file."""

from __future__ import annotations

import logging
import sys


def setup(name: str) -> logging.Logger:
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    # boto and psycopg chatter is not ours to report; failures reach us as exceptions.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger(name)
