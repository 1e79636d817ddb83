"""Per-request plumbing: a request id, one log line per request, and security headers."""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from errors import BadInput

log = logging.getLogger("quartile.request")
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?(\d{1,6}(?:\.\d{1,3})?)\"?", re.IGNORECASE)


def csp_nonce() -> str:
    """The nonce for this response's inline scripts (templates call it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def refuse_nul_characters() -> None:
    """No text Quartile stores or looks up may hold NUL: PostgreSQL cannot, and no name needs it.

    Checked once here for the path, the query and JSON bodies, so every view is covered.
    """
    found = "\x00" in request.path or any("\x00" in v for v in request.args.values())
    if not found and request.is_json and (request.content_length or 0) < 10 * 2**20:
        found = b"\\u0000" in request.get_data(cache=True)
    if not found and request.mimetype in ("application/x-www-form-urlencoded",
                                           "multipart/form-data"):
        found = any("\x00" in v for v in request.form.values())
    if found:
        raise BadInput("The request contains a NUL character (\\u0000), which no name, "
                       "parameter or value may hold.", code="nul_character")


def preferred_wait(limit: float) -> float:
    """Seconds the client asked us to wait for a result before answering 202 (RFC 7240's
    `Prefer: wait=10`), at most `limit`; 0 when it did not ask (answer at once, as always)."""
    found = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    return min(float(found.group(1)), limit) if found else 0.0


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def start_request():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
        g.started = time.perf_counter()
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            # Refuse before any part of the body is read or spooled to disk.
            raise RequestEntityTooLarge()
        refuse_nul_characters()

    @app.after_request
    def finish_request(response):
        script_src = f"'self' 'nonce-{csp_nonce()}'"
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {script_src}; "
            # Bokeh and Plotly insert <style> elements at run time.
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        duration_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        response.headers["Server-Timing"] = f"app;dur={duration_ms:.1f}"  # benchmarks read it
        log.info(
            "%s %s %s %.1fms id=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            g.get("request_id", "-"),
        )
        return response
