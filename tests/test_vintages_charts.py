"""The vintage charts render valid PNG and SVG of the asked size, refuse what they cannot draw,
and draw the same bytes for the same input."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
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
from rendition.charts.vintage_plotly import (
    revision_heatmap_plotly,
    revisions_by_horizon_plotly,
    vintage_fan_plotly,
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
    close = render_vintage_fan(vintage, "svg", width=400, height=300, last_periods=8)
    whole = render_vintage_fan(vintage, "svg", width=400, height=300)
    assert whole != close and svg_root(close).get("width") == "288pt"  # 400 px


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


def test_charts_of_a_renamed_series_can_be_asked_by_its_old_name():
    releases = real_releases("HPI")
    result = revisions(releases, match_series(releases), "OECD-19")
    assert result.series == ("Aggregate - 2005 Fixed Weights",)
    assert result.for_series("OECD-19").aliases == ("OECD-19", "Aggregate - 2005 Fixed Weights")
    svg_root(render_revisions_by_horizon(result, "OECD-19", "svg", width=400, height=300))


def test_period_labels_become_the_start_of_their_period():
    times = period_times(["1975Q1", "2020-03", "2020-03-31"])
    assert [str(t)[:10] for t in times] == ["1975-01-01", "2020-03-01", "2020-03-31"]


def test_the_plotly_figures_carry_the_results_numbers_and_escape_names(made):
    vintage, revision = made
    fan = vintage_fan_plotly(vintage)
    assert len(fan["data"]) == len(vintage.releases) + 2
    last = fan["data"][len(vintage.releases) - 1]
    assert last["x"] == list(vintage.periods)
    assert last["y"] == [None if v != v else v for v in vintage.values[:, -1].tolist()]
    assert fan["data"][-2]["name"] == "First published"
    assert fan["data"][-1]["y"] == [None if v != v else v for v in vintage.latest.tolist()]
    heat = revision_heatmap_plotly(revision, "U.S.")["data"][0]
    assert heat["zmid"] == 0 and len(heat["z"]) == len(revision.for_series("U.S.").periods)
    bars = revisions_by_horizon_plotly(revision, "U.S.")["data"][0]
    rows = revision.horizons_for("U.S.")
    assert bars["y"] == [r.mean_revision for r in rows]
    assert bars["error_y"]["array"][0] == pytest.approx(2 * rows[0].sd / np.sqrt(rows[0].n))
    for figure in (fan, revision_heatmap_plotly(revision, "U.S."),
                   revisions_by_horizon_plotly(revision, "U.S.")):
        json.dumps(figure, allow_nan=False)
    hostile = replace(vintage, series="<b>US</b>", releases=("<i>r</i>",) * len(vintage.releases))
    fan = vintage_fan_plotly(hostile)
    assert fan["layout"]["title"]["text"].startswith("&lt;b&gt;US&lt;/b&gt;")
    assert "<" not in json.dumps(fan)
