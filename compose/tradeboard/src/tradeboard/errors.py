"""The API's error shape ``{"error": {"code", "message"}}`` and the handlers that enforce it.

Whatever goes wrong, a client gets that JSON with a stable code, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import db, storage

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    422: "validation_error", 429: "too_many_attempts", 500: "internal_error",
    503: "dependency_unavailable",
}


class ApiError(Exception):
    """Raise from a route to answer with this status, code and message."""

    def __init__(self, status: int, code: str, message: str, *,
                 headers: dict[str, str] | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def validation(message: str, field: str | None = None, location: str = "body") -> ApiError:
    details = [{"loc": [location, field] if field else [location], "msg": message,
                "type": "value_error"}]
    return ApiError(422, "validation_error", message, details=details)


def error_response(status: int, code: str, message: str, *,
                   headers: dict[str, str] | None = None,
                   details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _clean_details(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors without ``input``/``ctx``: they may echo a password back."""
    return [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in errors]


async def _api_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ApiError)
    return error_response(err.status, err.code, err.message, headers=err.headers,
                          details=err.details)


async def _http_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, StarletteHTTPException)
    code = _STATUS_CODES.get(err.status_code, "error")
    message = err.detail if isinstance(err.detail, str) else code.replace("_", " ")
    if err.status_code == 404:
        message = "no such resource"
    headers = dict(err.headers) if err.headers else None
    return error_response(err.status_code, code, message, headers=headers)


async def _validation_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    details = _clean_details(err.errors())
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body")
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return error_response(422, "validation_error", message, details=details)


def _is_nul_text(err: BaseException) -> bool:
    """psycopg refuses text with a NUL byte before sending it: the client's input is invalid."""
    seen: BaseException | None = err
    while seen is not None:
        if type(seen).__name__ == "DataError" and "NUL" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def dependency_error(err: BaseException) -> JSONResponse | None:
    """503 for a database or object store that is away (422 for text the database cannot
    hold); None for anything else."""
    if _is_nul_text(err):
        return error_response(422, "validation_error", "text must not contain NUL characters")
    if db.is_unavailable(err):
        log.warning("database unavailable: %s", type(err).__name__)
        return error_response(503, "dependency_unavailable", "the database is unavailable")
    if storage.is_unavailable(err):
        log.warning("object store unavailable: %s", type(err).__name__)
        return error_response(503, "dependency_unavailable", "the object store is unavailable")
    return None


async def _dependency_error(_: Request, err: Exception) -> JSONResponse:
    response = dependency_error(err)
    if response is None:  # e.g. an IntegrityError: a bug here, not the client's fault
        log.error("unhandled error", exc_info=err)
        return error_response(500, "internal_error", "internal error")
    return response


def install(app: FastAPI) -> None:
    """Register the handlers. The catch-all 500 lives in the request middleware (api.py)
    so that it also carries CORS headers."""
    from botocore.exceptions import BotoCoreError, ClientError
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for kind in (SQLAlchemyError, DBAPIError, BotoCoreError, ClientError, *db.UNAVAILABLE):
        app.add_exception_handler(kind, _dependency_error)
