"""The JSON API's root and its shared schemas; feature APIs register their own APIBlueprints."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Integer, String
from apiflask.fields import Nested as NestedField

from web.version import VERSION

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Meta")


class ErrorDetail(Schema):
    status = Integer(required=True)
    code = String(required=True)
    message = String(required=True)


class ErrorEnvelope(Schema):
    """Every API error: {"error": {"status", "code", "message"}}."""

    error = NestedField(ErrorDetail, required=True)


class ApiIndex(Schema):
    name = String(required=True)
    version = String(required=True)
    openapi = String(required=True)
    links = Dict(keys=String(), values=String())


@bp.get("/")
@bp.output(ApiIndex)
def index():
    """Entry point of the API: version and where to find the OpenAPI document."""
    return {
        "name": "Quartile",
        "version": VERSION,
        "openapi": "/api/v1/openapi.json",
        "links": {"docs": "/api/v1/docs"},
    }
