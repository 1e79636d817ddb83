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
    # each value reads "x = −10 − 4√6", with true minus signs, left-aligned in its solution box
    first = p.locator(".solution .answer math").first
    assert first.text_content().replace("\n", "").replace(" ", "").startswith("x=\u221210\u2212")
    box, card = first.bounding_box(), p.locator(".solution").first.bounding_box()
    assert box["x"] - card["x"] < 40
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


def wait_plotted(p, renderer: str) -> None:
    """Until the library has drawn: Plotly's SVG, or Bokeh's canvas."""
    p.wait_for_selector("#plot-holder[data-state=ready]", timeout=20_000)
    if renderer == "plotly":
        assert p.locator("#plot-holder .js-plotly-plot svg.main-svg").count() >= 1
    else:
        assert p.locator("#plot-holder canvas").count() >= 1


@pytest.mark.parametrize(
    ("renderer", "label"),
    [("plotly", "Interactive (Plotly)"), ("bokeh", "Interactive (Bokeh)")],
)
def test_interactive_plot_of_the_books_system(live_server, page, renderer, label):
    p = page.page
    p.goto(live_server.url + "/equations")
    p.get_by_role("link", name="Plot that system").click()
    assert p.is_checked("#renderer-png")  # PNG unless asked
    p.get_by_label(label).check()
    p.get_by_role("button", name="Go").click()
    wait_plotted(p, renderer)
    assert p.locator("#answer img").count() == 0
    assert p.is_checked(f"#renderer-{renderer}")  # the choice stays with the form
    if renderer == "plotly":
        legend = p.locator("#plot-holder .legendtext").all_text_contents()
        assert legend == ["x^2-10y+10", "10x+5y-3"]
        labels = p.locator("#plot-holder .textpoint").all_text_contents()
        assert labels == ["(-19.8, 40.2)", "(-0.202, 1.004)"]
        # the plot fits its column
        holder = p.locator("#plot-holder").bounding_box()
        plot = p.locator("#plot-holder .js-plotly-plot").bounding_box()
        assert plot["width"] <= holder["width"]
    else:
        holder = p.locator("#plot-holder").bounding_box()
        canvas = p.locator("#plot-holder .bk-Figure, #plot-holder canvas").first.bounding_box()
        assert canvas["width"] <= holder["width"]
    page.check_accessibility()
    # hover, box-zoom and wheel: the libraries' interactive paths run under the CSP too (after
    # axe: Plotly's passing "Double-click to zoom back out" note has too little contrast)
    box = p.locator("#plot-holder").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    p.mouse.move(x, y)
    p.mouse.down()
    p.mouse.move(x + 60, y + 30, steps=5)
    p.mouse.up()
    p.mouse.wheel(0, -200)
    p.wait_for_timeout(300)
    # remembered in the history too: the link draws the same way again
    p.get_by_role("link", name="plot: x^2-10y+10").click()
    assert p.is_checked(f"#renderer-{renderer}")
