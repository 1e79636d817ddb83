"""The exact request and response shapes of `/api/v1/charts` (they make the OpenAPI document).

The contract of `POST /api/v1/charts` is the chart spec of rendition.charts.spec; these schemas
mirror it (tests/test_charts_api.py checks the option names stay in step) and the spec's own
checks run after them.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from rendition.charts import KINDS
from rendition.charts.spec import AGGREGATES

MAX_WIDTH, MAX_HEIGHT = 3000, 2000  # ?width=&height= for PNG and SVG
FORMAT_NAMES = ("png", "svg", "bokeh", "plotly")


class ChartOptionsIn(Schema):
    """The options of rendition.charts.spec; null means the default."""

    title = String(allow_none=True, validate=Length(max=200))
    log_y = Boolean(allow_none=True, metadata={"description": "Logarithmic y axis"})
    start = String(allow_none=True, validate=Length(min=1, max=40),
                   metadata={"description": 'First period, e.g. "2000Q1"'})
    end = String(allow_none=True, validate=Length(min=1, max=40),
                 metadata={"description": 'Last period, e.g. "2019Q4"'})
    width = Integer(allow_none=True, validate=Range(min=200, max=4000))
    height = Integer(allow_none=True, validate=Range(min=150, max=4000))
    bins = Integer(allow_none=True, validate=Range(min=1, max=500))
    agg = String(allow_none=True, validate=OneOf(AGGREGATES))
    cols = Integer(allow_none=True, validate=Range(min=1, max=12))
    fit = Boolean(allow_none=True, metadata={"description": "Scatter: draw the OLS line"})


_NAME = Length(min=1, max=500)


class ChartIn(Schema):
    dataset = String(required=True, validate=Length(min=1, max=64))
    sheet = String(required=True, validate=_NAME)
    kind = String(required=True, validate=OneOf(
        KINDS, error="Unknown chart kind {input!r}; choose one of {choices}."))
    x = String(allow_none=True, load_default=None, validate=_NAME)
    y = List(String(validate=_NAME), load_default=list, validate=Length(max=200))
    group = String(allow_none=True, load_default=None, validate=_NAME)
    sheets = List(String(validate=_NAME), allow_none=True, load_default=None,
                  validate=Length(max=200))
    options = Nested(ChartOptionsIn, load_default=dict)


class SpecOut(Schema):
    dataset = String(required=True)
    kind = String(required=True)
    sheet = String(required=True)
    x = String(allow_none=True, required=True)
    y = List(String(), required=True)
    group = String(allow_none=True, required=True)
    sheets = List(String(), allow_none=True, required=True)
    options = Dict(required=True)


class ChartOut(Schema):
    id = String(required=True)
    spec = Nested(SpecOut, required=True)
    spec_hash = String(required=True)
    title = String(required=True)
    dataset_name = String(required=True)
    created = String(required=True)
    links = Dict(keys=String(), values=String(), required=True)


class ChartCreated(Schema):
    id = String(required=True)
    created = Boolean(required=True, metadata={
        "description": "false when you had saved the same spec before (its id is returned)"})
    url = String(required=True, metadata={"description": "The chart's page"})


class ChartListItem(ChartOut):
    """A chart in a list: the fields of GET /api/v1/charts/{chart_id}.

    Its own class because APIFlask documents the shorter path (the list) first, and a schema
    nested there before it is used on its own is registered twice.
    """


class ChartListOut(Schema):
    charts = List(Nested(ChartListItem), required=True)
    total = Integer(required=True)


class ListQuery(Schema):
    dataset = String(load_default=None, validate=Length(max=64))
    limit = Integer(load_default=100, validate=Range(min=1, max=500))
    offset = Integer(load_default=0, validate=Range(min=0, max=10**9))


class SizeQuery(Schema):
    width = Integer(load_default=None, validate=Range(min=200, max=MAX_WIDTH))
    height = Integer(load_default=None, validate=Range(min=150, max=MAX_HEIGHT))


class PreviewQuery(SizeQuery):
    format = String(load_default="png", validate=OneOf(FORMAT_NAMES))


class HtmlQuery(Schema):
    renderer = String(load_default="plotly", validate=OneOf(["bokeh", "plotly"]))


class DefaultsQuery(Schema):
    dataset = String(required=True, validate=Length(min=1, max=64))


class DefaultChartOut(Schema):
    index = Integer(required=True)
    title = String(required=True)
    spec = Nested(SpecOut, required=True)
    builder_url = String(required=True)
    png_url = String(required=True)


class DefaultChartsOut(Schema):
    charts = List(Nested(DefaultChartOut), required=True)


