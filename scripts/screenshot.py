"""Take a full-page screenshot of a URL with Debian's Chromium: look at pages as a user does.

    .venv/bin/python scripts/screenshot.py http://127.0.0.1:5000/ /tmp/home.png [--width 1280]
"""

import argparse

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--wait", type=int, default=500, help="milliseconds after load")
    options = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": options.width, "height": 800})
        page.on("console", lambda m: print(f"console.{m.type}: {m.text}"))
        page.goto(options.url)
        page.wait_for_timeout(options.wait)
        page.screenshot(path=options.out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
