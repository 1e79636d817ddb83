"""Quartile's application factory.

`flask --app app run` and `gunicorn "app:create_app()"` both start here. Configuration comes from
`config.Config` (defaults + QUARTILE_* environment variables); a test passes overrides.
"""

from __future__ import annotations

import logging
from pathlib import Path

from apiflask import APIFlask
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect

from config import Config
from web.version import VERSION

csrf = CSRFProtect()
bootstrap = Bootstrap5()


def create_app(config: Config | dict | None = None) -> APIFlask:
    """Build the app. `config` is a Config, or a dict of overrides applied to the defaults."""
    settings = config if isinstance(config, Config) else Config(**(config or {}))
    app = APIFlask(
        __name__,
        title="Quartile API",
        version=VERSION,
        spec_path="/api/v1/openapi.json",
        docs_path=None,  # our own offline page at /api/v1/docs
        json_errors=False,  # pages get HTML errors; web/errors.py decides
    )
    app.config.update(settings.as_dict())
    _configure_openapi(app)
    _configure_logging(app)
    Path(app.config["FILES_DIR"]).mkdir(parents=True, exist_ok=True)

    from store import db as store_db
    from web import errors, http

    store_db.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    http.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    import warmup

    warmup.init_app(app)  # pool sizes; with WARM_START, warming up in the background
    return app


def _register_blueprints(app: APIFlask) -> None:
    from web import api, auth, datasets_api, main
    from web import datasets as datasets_views
    from web.cli import quartile

    auth.init_app(app)
    app.register_blueprint(main.bp)
    register_api(app, api.bp)
    app.register_blueprint(datasets_views.bp)
    register_api(app, datasets_api.bp)

    from web import equations

    app.register_blueprint(equations.bp)
    register_api(app, equations.api)

    from web import analyses, analysis_page

    app.register_blueprint(analysis_page.bp)
    register_api(app, analyses.api)

    from web import fit

    app.register_blueprint(fit.bp)
    register_api(app, fit.api)

    from web import charts

    app.register_blueprint(charts.bp)
    register_api(app, charts.api)

    from web import reports

    app.register_blueprint(reports.bp)
    from web import report_drafts

    app.register_blueprint(report_drafts.bp)
    register_api(app, report_drafts.api)
    register_api(app, reports.api)
    reports.init_cli(quartile)

    from web import families, family_pages, recipes

    register_api(app, families.api)
    app.register_blueprint(family_pages.bp)
    app.register_blueprint(recipes.bp)
    register_api(app, recipes.api)

    import jobs
    from web import jobs as jobs_views
    from web import live

    jobs.init_app(app)  # the engine; fails jobs a dead embedded engine left running
    app.register_blueprint(jobs_views.bp)
    register_api(app, jobs_views.api)
    app.register_blueprint(live.bp)

    from web import admin, audit, trash

    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    register_api(app, audit.api)
    trash.init_app(app, register_api)  # after jobs: purging a report may cancel its build
    app.cli.add_command(quartile)


def register_api(app: APIFlask, blueprint) -> None:
    """An API blueprint: described in the OpenAPI document; CSRF is checked by web.auth."""
    app.register_blueprint(blueprint)
    csrf.exempt(blueprint)


def _configure_openapi(app: APIFlask) -> None:
    from web.api import ErrorEnvelope

    app.config["HTTP_ERROR_SCHEMA"] = ErrorEnvelope
    app.config["VALIDATION_ERROR_SCHEMA"] = ErrorEnvelope
    app.config["VALIDATION_ERROR_DESCRIPTION"] = "The request does not match the schema"
    app.config["INFO"] = {
        "description": (
            "Quartile's JSON API: upload spreadsheets once, then analyse, chart and report on "
            'them. Every error answers {"error": {"status", "code", "message"}}.'
        )
    }
    app.config["SPEC_FORMAT"] = "json"

    @app.spec_processor
    def declare_security(spec: dict) -> dict:
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["BearerToken"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from the account page or "
            "`flask --app app quartile create-token NAME`.",
        }
        schemes["SessionCookie"] = {"type": "apiKey", "in": "cookie", "name": "session"}
        spec["security"] = [{"BearerToken": []}, {"SessionCookie": []}]
        return spec


def _configure_logging(app: APIFlask) -> None:
    level = app.config.get("LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("quartile").setLevel(level)
