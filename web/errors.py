"""The one error path: every failure becomes the same envelope, JSON or HTML.

`{"error": {"status", "code", "message"}}` for the API (paths under /api/, /healthz, or a client
that prefers JSON); the same message on an HTML page otherwise; always the right status code.
Tracebacks go to the log with the request id, never to the user.
"""

from __future__ import annotations

import logging

from apiflask.exceptions import HTTPError
from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from errors import QuartileError

log = logging.getLogger("quartile.errors")

# Werkzeug's errors, in our words.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """API paths always get JSON; elsewhere, a client that prefers JSON over HTML does."""
    if request.path.startswith(("/api/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and (
        request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    body = {"error": {"status": status, "code": code, "message": message}}
    if wants_json():
        response = jsonify(body)
    else:
        response = render_template("error.html", error=body["error"])
    return response, status, headers or {}


def _werkzeug_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"Nothing is found at {request.path}."
    if exc.code == 405:
        allowed = (
            ", ".join(sorted(exc.valid_methods or [])) if hasattr(exc, "valid_methods") else ""
        )
        suffix = f" Use {allowed}." if allowed else ""
        return f"{request.method} is not allowed on {request.path}.{suffix}"
    if exc.code == 413:
        limit = request.max_content_length or 0
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        return (
            f"The upload is larger than the {size} limit. "
            "Split the file or ask an administrator to raise QUARTILE_UPLOAD_LIMIT_MB."
        )
    return exc.description or exc.name


def _validation_message(detail: dict) -> str:
    """Flatten marshmallow's nested {location: {field: [messages]}} into one sentence."""
    parts = []
    for location, fields in (detail or {}).items():
        if isinstance(fields, dict):
            for field, messages in fields.items():
                text = (
                    "; ".join(str(m) for m in messages) if isinstance(messages, list) else messages
                )
                parts.append(f"{field}: {text}")
        else:
            parts.append(f"{location}: {fields}")
    return "Invalid request. " + " ".join(parts) if parts else "Invalid request."


def init_app(app: Flask) -> None:
    @app.errorhandler(QuartileError)
    def handle_quartile_error(exc: QuartileError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        return error_response(
            400,
            "csrf_failed",
            "The form was sent without a valid security token (CSRF). "
            "Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(
            status, _CODES.get(status, "http_error"), _werkzeug_message(exc), headers
        )

    def handle_api_error(exc: HTTPError):
        # APIFlask's own errors: request validation (422) and abort() in API views.
        if exc.status_code in (400, 422) and exc.detail:
            message, code = _validation_message(exc.detail), "validation_error"
        else:
            message = exc.message or _CODES.get(exc.status_code, "error")
            code = _CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    # APIFlask routes its HTTPError (validation, abort) here. Assigned, not registered with
    # `error_processor`, which would also take over Werkzeug's errors and always answer JSON.
    app.error_callback = handle_api_error

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - routed above
            return handle_http_exception(exc)
        log.exception("unhandled error (request %s)", g.get("request_id", "-"))
        return error_response(
            500,
            "internal_error",
            f"Something went wrong on our side. The error was logged with request id "
            f"{g.get('request_id', '-')}.",
        )
