"""Tradeboard: a small market-data product, the reference system under test.

Three processes share this package: the API (:mod:`tradeboard.api`), the pipeline worker
(:mod:`tradeboard.worker`) and the web frontend (:mod:`tradeboard.web`).
"""

from __future__ import annotations

__version__ = "0.1.0"
