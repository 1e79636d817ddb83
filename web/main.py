"""Home page, health check and the API's documentation page."""

from __future__ import annotations

import shutil

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

import warmup
from analysis.labels import term_label
from errors import StorageUnavailable
from store.db import database_reachable
from web.version import VERSION

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """What Quartile does, and where to start."""
    return render_template("home.html")


@bp.get("/healthz")
def healthz():
    """Liveness and readiness in one: 200 when the database answers, 503 otherwise. `ready`
    turns true once the warm start is done (pools started, first-use costs paid); it is true
    at once when warm start is off."""
    engine = current_app.config["JOB_ENGINE"]
    warm = warmup.state_of(current_app)
    body = {
        "status": "ok",
        "ready": warm.ready,
        "warm_start": warm.to_dict(),
        "version": VERSION,
        "database": database_reachable(),
        "pdflatex": shutil.which("pdflatex") is not None,
        "job_engine": engine,
        "redis": redis_reachable(current_app.config.get("REDIS_URL")),
        "storage": storage_reachable(),
    }
    if not body["database"]:
        body["status"] = "error"
    return jsonify(body), 200 if body["database"] else 503


def storage_reachable() -> bool:
    """Whether the object store answers now (always, for local files). The app stays up
    without it: what needs a file answers 503, the rest works."""
    try:
        current_app.extensions["quartile_objects"].ping()
    except StorageUnavailable:
        return False
    return True


def redis_reachable(url: str | None) -> bool | None:
    """None when no Redis is configured; otherwise whether it answers a PING quickly."""
    if not url:
        return None
    import redis

    try:
        return bool(
            redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        )
    except (redis.RedisError, OSError):
        return False


@bp.get("/api/v1/docs")
def api_docs():
    """A readable, offline page of the OpenAPI document (no CDN-hosted Swagger UI)."""
    spec = current_app.spec
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                operations.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                        "tag": (op.get("tags") or ["API"])[0],
                        "responses": sorted(op.get("responses", {})),
                    }
                )
    return render_template("api_docs.html", operations=operations, spec=spec)


# Navigation: features appear once their blueprint is registered.
_NAV = [
    ("datasets.library", "Datasets"),
    ("datasets.upload_page", "Upload"),
    ("families.library", "Releases"),
    ("analysis.page", "Analyse"),
    ("charts.builder", "Charts"),
    ("equations.page", "Equations"),
    ("reports.library", "Reports"),
    ("jobs.library", "Jobs"),
]

_CARDS = [
    {
        "endpoint": "datasets.upload_page",
        "title": "Upload spreadsheets",
        "text": "XLSX, XLS, ODS or CSV, several at once. Messy headers, notes and quarter labels "
        "are cleaned, and every step is logged.",
        "action": "Upload",
    },
    {
        "endpoint": "datasets.library",
        "title": "Analyse your datasets",
        "text": "Describe every sheet, regressions, correlation, hypothesis tests, growth rates "
        "and price indices on the stored copy: upload once, analyse many times.",
        "action": "Open the library",
    },
    {
        "endpoint": "charts.builder",
        "title": "Build charts",
        "text": "Line, bar, pie, scatter with fit, histograms and sheet comparisons as PNG, SVG, "
        "Bokeh or Plotly.",
        "action": "Build a chart",
    },
    {
        "endpoint": "equations.page",
        "title": "Solve equations",
        "text": "Evaluate, simplify, differentiate, solve single equations and systems, and plot "
        "them — safely parsed, never eval'd.",
        "action": "Solve",
    },
    {
        "endpoint": "reports.library",
        "title": "PDF reports",
        "text": "Typeset by LaTeX: summaries, describe tables, regressions and charts, "
        "ready to send.",
        "action": "Make a report",
    },
    {
        "endpoint": "main.api_docs",
        "title": "JSON API",
        "text": "Every page is also an API call, described by an OpenAPI document.",
        "action": "Read the API docs",
    },
]


# A regression term in words ("FurnishingStatus: unfurnished"), as in the PDF and exports.
bp.add_app_template_filter(term_label, "term_label")


@bp.app_context_processor
def navigation():
    views = current_app.view_functions
    return {
        # A visitor who is not logged in sees no links that would only bounce to log-in.
        "nav_links": lambda: [(e, label) for e, label in _NAV if e in views]
        if current_user.is_authenticated else [],
        "home_cards": lambda: [c for c in _CARDS if c["endpoint"] in views],
        "quartile_version": VERSION,
    }
