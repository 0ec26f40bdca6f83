"""The web UI in headless Chromium against the real deployment on Nimbus: the page comes from the
S3 website bucket, config.json points it at the HTTP API, predictions go through Lambda and the
SageMaker endpoint, and the history comes from the table."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from digits_support import dark_on_light, digit_ink, draw, encode, rows

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run must apt-get install it")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, on_nimbus) -> Iterator[Any]:
    website = on_nimbus.outputs["WebsiteUrl"]
    assert website.startswith(on_nimbus.server.endpoint), website
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(website)
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()
    assert not errors, errors


def first_row_digit(page) -> str:
    return page.locator("#history tbody tr").first.locator("td").nth(1).inner_text()


def test_draw_a_digit_and_see_the_prediction_and_a_new_history_row(page) -> None:
    before = rows(page)
    draw(page, [[(70, 60), (210, 60), (120, 230)]])  # a 7
    page.click("#predict-drawing")
    page.wait_for_function("document.getElementById('digit').textContent === '7'", timeout=20000)
    assert page.locator("#bars li").count() == 10
    assert page.locator("#bars li.best").get_attribute("data-digit") == "7"
    assert page.locator("#latency").inner_text().endswith("ms")
    page.wait_for_function(f"document.querySelectorAll('#history tbody tr').length > {before}")
    assert first_row_digit(page) == "7"


def test_upload_an_image_and_see_the_prediction_and_a_new_history_row(page, on_nimbus) -> None:
    page.click("#tab-upload")
    png = encode(dark_on_light(digit_ink(3)))
    page.set_input_files("#file", {"name": "three.png", "mimeType": "image/png", "buffer": png})
    page.wait_for_function("document.getElementById('digit').textContent === '3'", timeout=20000)
    assert page.locator("#bars li").count() == 10
    page.wait_for_function(
        "document.querySelector('#history tbody tr td:nth-child(2)')?.textContent === '3'"
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("document.querySelectorAll('#history tbody tr').length > 0")
    assert first_row_digit(page) == "3"  # from GET /history on a fresh page
