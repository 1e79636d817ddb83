"""The vintage charts render valid PNG and SVG of the asked size, refuse what they cannot draw,
and draw the same bytes for the same input."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from analysis.vintages import match_series, revisions, vintages
from errors import BadInput
from rendition.charts.vintage_charts import (
    period_times,
    render_revision_heatmap,
    render_revisions_by_horizon,
    render_vintage_fan,
)
from tests.vintages_fixtures import made_releases, real_releases


@pytest.fixture(scope="module")
def made():
    releases, _ = made_releases(10)
    found = match_series(releases)
    return vintages(releases, found, "US"), revisions(releases, found, horizons=6)


@pytest.fixture(scope="module")
def real():
    releases = real_releases("HPI")
    found = match_series(releases)
    return vintages(releases, found, "Spain"), revisions(releases, found, "Spain")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def svg_root(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def charts(vintage, revision, series, fmt):
    return [render_vintage_fan(vintage, fmt, width=700, height=420),
            render_revision_heatmap(revision, series, fmt, width=700, height=420),
            render_revision_heatmap(revision, series, fmt, against="latest", percent=False,
                                    width=700, height=420),
            render_revisions_by_horizon(revision, series, fmt, width=700, height=420)]


@pytest.mark.parametrize("case", ["made", "real"])
def test_every_chart_is_a_png_of_the_asked_size(case, request):
    vintage, revision = request.getfixturevalue(case)
    for data in charts(vintage, revision, vintage.series, "png"):
        assert png_size(data) == (700, 420)
        assert 5_000 < len(data) < 400_000


def test_every_chart_is_an_svg_of_the_asked_size_and_drawn_the_same_each_time(made):
    vintage, revision = made
    first = charts(vintage, revision, "U.S.", "svg")
    for data in first:
        root = svg_root(data)
        assert (root.get("width"), root.get("height")) == ("504pt", "302.4pt")  # 700×420 px
    assert render_vintage_fan(vintage, "svg", width=700, height=420) == first[0]


def test_the_fan_can_show_only_the_newest_periods(made):
    vintage, _ = made
    whole = render_vintage_fan(vintage, "svg")
    close = render_vintage_fan(vintage, "svg", last_periods=8)
    assert whole != close and png_size(render_vintage_fan(vintage, last_periods=8)) == (900, 500)


@pytest.mark.parametrize(("call", "message"), [
    (lambda v, r: render_vintage_fan(v, "gif"), "Charts come as png or svg, not 'gif'."),
    (lambda v, r: render_vintage_fan(v, width=50), "A chart must be 200 to 4000 pixels wide"),
    (lambda v, r: render_revision_heatmap(r, "U.S.", against="first"),
     "Revisions are against 'previous' or 'latest', not 'first'."),
    (lambda v, r: render_revisions_by_horizon(r, "Peru"), "The revisions hold no series 'Peru'"),
])
def test_charts_refuse_what_they_cannot_draw(made, call, message):
    with pytest.raises(BadInput) as caught:
        call(*made)
    assert caught.value.message.startswith(message)


def test_period_labels_become_the_start_of_their_period():
    times = period_times(["1975Q1", "2020-03", "2020-03-31"])
    assert [str(t)[:10] for t in times] == ["1975-01-01", "2020-03-01", "2020-03-31"]
