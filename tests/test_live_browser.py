"""The live chart in real Chromium: points arrive over the WebSocket, then over SSE."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import DATA
from tests.test_live_streams import hpi_series

pytestmark = pytest.mark.browser


def test_the_live_chart_draws_every_point_over_websocket_and_sse(live_server, page):
    labels, _ = hpi_series("Australia")
    with open(DATA / "2020Q1.xlsx", "rb") as handle:
        dataset = requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                                files={"file": ("2020Q1.xlsx", handle)}).json()
    p = page.page
    p.goto(f"{live_server.url}/live?dataset={dataset['id']}")
    page.check_accessibility()
    assert p.locator("#live-sheet").input_value() == "HPI"
    assert p.locator("#live-column").input_value() == "Australia"
    p.fill("#live-interval", "2")
    figure = p.locator("#live-chart")
    for transport, label in (("#transport-ws", "WebSocket"), ("#transport-sse", "SSE")):
        p.check(transport)
        p.click("#live-start")
        p.locator("#live-chart[data-state=done]").wait_for(timeout=30_000)
        assert figure.get_attribute("data-transport") == label
        assert figure.get_attribute("data-points") == str(len(labels))
        assert p.locator("#live-status").inner_text() == (
            f"Done: {len(labels)} points of Australia over {label}.")
    page.check_accessibility()
