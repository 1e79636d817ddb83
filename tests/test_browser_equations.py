"""The equations page in Chromium: an example, a solve, typeset answers, a plot."""

import pytest

pytestmark = pytest.mark.browser


def test_example_to_typeset_answer(live_server, page):
    p = page.page
    p.goto(live_server.url + "/equations")
    page.check_accessibility()
    p.get_by_role("link", name="Nonlinear system (book)").click()
    assert "x**2-10*y+10" in p.input_value("#equations")
    p.get_by_role("button", name="Go").click()
    p.wait_for_selector(".solution")
    assert p.locator(".solution").count() == 2
    assert p.locator("#answer math").count() >= 4
    assert "103" in p.inner_text("#answer")
    page.check_accessibility()
    history = p.locator("aside").inner_text()
    assert "solve: x**2-10*y+10" in history


def test_plot_and_error(live_server, page):
    p = page.page
    p.goto(live_server.url + "/equations?action=plot&equations=sin(x)&x_min=-6&x_max=6")
    p.get_by_role("button", name="Go").click()
    image = p.locator("#answer img")
    image.wait_for()
    assert p.evaluate("img => img.naturalWidth", image.element_handle()) == 800
    p.fill("#equations", "__import__('os')")
    p.get_by_role("button", name="Go").click()
    assert "may not start with '_'" in p.inner_text("[data-error]")
    page.console_errors[:] = [e for e in page.console_errors if "400" not in e]
