"""Every main page at a phone's width (390 px): nothing makes the page scroll sideways (wide
tables scroll inside themselves) and axe stays clean."""

import pytest
import requests

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser

PAGES = ("/", "/datasets", "/datasets/{id}", "/upload", "/charts", "/equations", "/jobs",
         "/trash", "/account")  # Analyse, the chart builder, Reports: in their own tests


def test_the_pages_fit_a_phone(live_server, page, tmp_path):
    with open(DATA / "HousingPreferences.csv", "rb") as handle:
        dataset = requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                                files={"file": ("HousingPreferences.csv", handle)}).json()
    p = page.page
    p.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES:
        p.goto(live_server.url + path.format(id=dataset["id"]))
        assert p.evaluate("document.documentElement.scrollWidth") <= 390, path
        page.check_accessibility()
        name = path.strip("/").replace("/", "-").replace("{id}", "dataset") or "home"
        p.screenshot(path=str(tmp_path / f"{name}-phone.png"), full_page=True)  # --basetemp
