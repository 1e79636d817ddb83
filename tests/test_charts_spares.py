"""Blank figures copied ahead (mpl_figures' spares): the same pixels, and never shared."""

from __future__ import annotations

import pytest

from rendition.charts import ChartSpec, drawing, mpl_figures, render_png
from tests.charts_fixtures import KIND_CASES, case_id, frames_for


def wait_for_spares() -> None:
    """The drawing thread runs its queue in order: once this no-op is done, so are the spares
    queued before it."""
    drawing.draw(lambda: None)


@pytest.mark.parametrize("case", KIND_CASES[-12:], ids=case_id)
def test_a_chart_drawn_on_a_spare_figure_is_the_chart_drawn_on_a_fresh_copy(case, monkeypatch):
    dataset, body = case
    spec, frames = ChartSpec.from_dict(body), frames_for(dataset)
    monkeypatch.setattr(mpl_figures, "_SPARES_KEPT", 0)  # every spare dropped as it is made
    render_png(spec, frames)
    wait_for_spares()
    fresh = render_png(spec, frames)
    wait_for_spares()
    assert not mpl_figures._SPARES
    monkeypatch.setattr(mpl_figures, "_SPARES_KEPT", 4)
    render_png(spec, frames)
    wait_for_spares()
    assert mpl_figures._SPARES  # the next chart like it takes this one
    assert render_png(spec, frames) == fresh


def test_a_spare_is_handed_out_once_and_holds_nothing_of_the_chart_before():
    key = dict(width=640, height=360, dpi=100.0, grid=(1, 1), ticks=3)
    first = drawing.draw(mpl_figures.blank_figure, **key)
    first.axes[0].set_title("drawn on")
    first.axes[0].plot([1, 2], [3, 4])
    wait_for_spares()
    spare = next(figure for k, figure in mpl_figures._SPARES.items() if k[:2] == (640, 360))
    second = drawing.draw(mpl_figures.blank_figure, **key)
    assert second is spare and second is not first
    assert second.axes[0].get_title() == "" and not second.axes[0].lines
    wait_for_spares()
    third = drawing.draw(mpl_figures.blank_figure, **key)
    assert third is not second and third is not first
