"""The walk of tests/test_browser_walk.py, like upload_actions: the browser page of a walk
with what a person looks at after each step (axe, a desktop and a phone screenshot), and the
readings of what is shown (numbers to the digits shown, typeset answers, an image's edge)."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from playwright.sync_api import expect

from tests.upload_actions import DATA

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def agrees(shown: str, value: float) -> bool:
    """Whether `shown` (e.g. "−1,234.5", "0.0123", "4.56e+03") is `value` rounded to the digits
    shown: within half a unit of its last significant digit."""
    text = shown.strip().replace("\u2212", "-").replace(",", "")
    number = float(text)
    mantissa = text.lstrip("-").split("e")[0]
    exponent = int(text.split("e")[1]) if "e" in text else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return abs(number - value) <= 0.5 * 10 ** (exponent - decimals) * (1 + 1e-9)


def numbers_in(text: str) -> list[float]:
    return [float(t.replace(",", "").replace("\u2212", "-"))
            for t in re.findall(r"[-\u2212]?\d[\d,]*\.?\d*(?:e[-+]\d+)?", text)]


class Walk:
    """The browser page of the walk, with what a person looks at after each step."""

    def __init__(self, server, page, tmp_path: Path):
        self.url, self.page, self.p = server.url, page, page.page
        self.shots = tmp_path / "walk"
        self.shots.mkdir()
        self.out = os.environ.get("QUARTILE_WALK_SCREENSHOTS")
        self.taken = 0

    def see(self, name: str) -> None:
        """axe on the page as it is; a desktop and a phone screenshot; nothing wider than a
        phone at 390 px."""
        self.page.check_accessibility()
        self.taken += 1
        stem = f"{self.taken:02d}-{name}"
        self.p.screenshot(path=str(self.shots / f"{stem}-desktop.png"), full_page=True)
        self.p.set_viewport_size(PHONE)
        width = self.p.evaluate("document.documentElement.scrollWidth")
        self.p.screenshot(path=str(self.shots / f"{stem}-phone.png"), full_page=True)
        self.p.set_viewport_size(DESKTOP)
        if self.out:
            Path(self.out).mkdir(parents=True, exist_ok=True)
            for kind in ("desktop", "phone"):
                shutil.copy(self.shots / f"{stem}-{kind}.png", self.out)
        assert width <= PHONE["width"], f"{name}: the page scrolls sideways on a phone"

    def keep(self, download, name: str) -> Path:
        """Save a download beside the screenshots, to be looked at too."""
        path = self.shots / name
        download.save_as(path)
        if self.out:
            shutil.copy(path, self.out)
        return path

    @contextmanager
    def navigation(self, **expected):
        """Like Playwright's expect_navigation, and axe checks the page arrived at."""
        with self.p.expect_navigation(**expected):
            yield
        self.page.check_accessibility()

    def nav(self, name: str) -> None:
        """Click a link of the top navigation bar, as a person moving on."""
        with self.navigation():
            self.p.locator("nav").get_by_role("link", name=name, exact=True).click()

    def upload(self, filename: str) -> str:
        self.nav("Upload")
        if not any(self.shots.glob("*-upload-desktop.png")):
            self.see("upload")
        with self.navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
            self.p.set_input_files("#file-input", str(DATA / filename))
        assert self.p.locator("h1").inner_text() == filename
        return self.p.url

    def image_loaded(self, locator) -> None:
        locator.scroll_into_view_if_needed()
        expect(locator).to_have_js_property("complete", True, timeout=30_000)
        assert locator.evaluate("img => img.naturalWidth") > 0, locator


# Pixels that are not near-white in the last 3 columns of an image: ink cut off at its edge.
RIGHT_EDGE_INK = """img => {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  const d = g.getImageData(c.width - 3, 0, 3, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 600) ink++;
  return ink;
}"""


def workbook_sheet(name: str) -> pd.DataFrame:
    frame = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name=name, engine="calamine")
    return frame.apply(pd.to_numeric, errors="coerce")


def answers(p) -> list[tuple[str, str]]:
    """The typeset answers as (name, value): MathML's italic 𝑥 and − read as x and -."""
    out = []
    for math_text in p.locator(".solution .answer math").all_text_contents():
        plain = re.sub(r"\s", "", unicodedata.normalize("NFKC", math_text)).replace("\u2212", "-")
        name, value = plain.split("=")
        out.append((name, value))
    return out
