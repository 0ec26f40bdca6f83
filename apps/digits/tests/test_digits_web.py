"""The web UI in headless Chromium, against a local stand-in for the API.

The stand-in serves web/ and answers /api/predict and /api/history with the app's own handlers
(predict.py, history.py) behind which the endpoint's inference.py runs in process on the trained
model, and an in-memory table. The end-to-end test through Nimbus comes with SageMaker hosting.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from digits_support import (
    APP,
    LocalEndpoint,
    MemoryTable,
    dark_on_light,
    digit_ink,
    draw,
    encode,
    history,
    rows,
)
from digits_support import predict as predict_module

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WEB = APP / "web"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


class StandIn:
    def __init__(self, model) -> None:
        self.table = MemoryTable()
        self.predictor = predict_module.Predictor(
            LocalEndpoint(model), self.table, "local", "PredictionHistory"
        )
        self.history = history.History(self.table, "PredictionHistory")
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def answer(self, result: dict) -> None:
                self.reply(result["statusCode"], result["body"].encode(), "application/json")

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/api/history":
                    query = dict(parse_qsl(url.query))
                    return self.answer(stand_in.history.handle({"queryStringParameters": query}))
                if url.path == "/config.json":
                    api = f"http://127.0.0.1:{self.server.server_port}/api"
                    return self.reply(200, json.dumps({"apiUrl": api}).encode(), "application/json")
                name = url.path.strip("/") or "index.html"
                path = WEB / name
                if "/" in name or not path.is_file():
                    return self.reply(404, b"not found", "text/plain")
                self.reply(200, path.read_bytes(), TYPES.get(path.suffix, "text/plain"))

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                event = {
                    "version": "2.0",
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": base64.b64encode(data).decode(),
                    "isBase64Encoded": True,
                }
                self.answer(stand_in.predictor.handle(event))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def site(model) -> Iterator[StandIn]:
    stand_in = StandIn(model)
    yield stand_in
    stand_in.server.shutdown()


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


def open_page(browser, site: StandIn, locale: str = "en-US", **options):
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844}, **options)
    page = context.new_page()
    page.goto(site.url)
    page.wait_for_selector("body[data-ready=true]")
    return context, page


def test_draw_a_digit_and_see_the_prediction_and_the_new_history_row(browser, site) -> None:
    context, page = open_page(browser, site)
    try:
        assert page.locator("h1").inner_text() == "Handwritten digit recognition"
        before = rows(page)
        draw(page, [[(70, 60), (210, 60), (120, 230)]])  # a 7
        page.click("#predict-drawing")
        page.wait_for_function("document.getElementById('digit').textContent === '7'")
        assert page.locator("#bars li").count() == 10
        assert page.locator("#bars li.best").get_attribute("data-digit") == "7"
        assert page.locator("#latency").inner_text().endswith("ms")
        page.wait_for_function(f"document.querySelectorAll('#history tbody tr').length > {before}")
        assert page.locator("#history tbody tr").first.locator("td").nth(1).inner_text() == "7"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"horizontal overflow at 390 px: {width}"
        page.click("#clear")
        page.click("#predict-drawing")
        assert "Draw a digit first" in page.locator("#error").inner_text()
    finally:
        context.close()


def test_upload_a_file_paste_and_drop(browser, site) -> None:
    context, page = open_page(browser, site)
    try:
        page.click("#tab-upload")
        png = encode(dark_on_light(digit_ink(3)))
        page.set_input_files("#file", {"name": "three.png", "mimeType": "image/png", "buffer": png})
        page.wait_for_function("document.getElementById('digit').textContent === '3'")
        six = base64.b64encode(encode(dark_on_light(digit_ink(6)), "JPEG")).decode()
        page.evaluate(
            """(b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const file = new File([bytes], "six.jpg", {type: "image/jpeg"});
                const data = new DataTransfer();
                data.items.add(file);
                document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data}));
            }""",
            six,
        )
        page.wait_for_function("document.getElementById('digit').textContent === '6'")
        four = base64.b64encode(encode(dark_on_light(digit_ink(4)))).decode()
        page.evaluate(
            """(b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const data = new DataTransfer();
                data.items.add(new File([bytes], "four.png", {type: "image/png"}));
                const drop = document.getElementById("drop");
                drop.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true,
                                                          cancelable: true}));
            }""",
            four,
        )
        page.wait_for_function("document.getElementById('digit').textContent === '4'")
        garbage = {"name": "x.png", "mimeType": "image/png", "buffer": b"not really a png"}
        page.set_input_files("#file", garbage)
        page.wait_for_selector("#error:not([hidden])")
        assert page.locator("#error").inner_text() == predict_module.MESSAGES["en"]["not_image"]
    finally:
        context.close()


def test_vietnamese_follows_the_browser_and_the_switch_changes_it(browser, site) -> None:
    context, page = open_page(browser, site, locale="vi-VN")
    try:
        assert page.locator("h1").inner_text() == "Nhận diện chữ số viết tay"
        assert page.evaluate("document.documentElement.lang") == "vi"
        page.click("#tab-upload")
        page.set_input_files("#file", {"name": "x.png", "mimeType": "image/png", "buffer": b"no"})
        page.wait_for_selector("#error:not([hidden])")
        assert page.locator("#error").inner_text() == predict_module.MESSAGES["vi"]["not_image"]
        page.click("#lang-en")
        assert page.locator("h1").inner_text() == "Handwritten digit recognition"
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("h1").inner_text() == "Handwritten digit recognition"  # remembered
    finally:
        context.close()


def test_history_pages_with_more(browser, site) -> None:
    predictor = site.predictor
    png = encode(dark_on_light(digit_ink(1)))
    event = {"headers": {"content-type": "image/png"}, "isBase64Encoded": True,
             "body": base64.b64encode(png).decode()}  # fmt: skip
    while len(site.table.items) < 14:
        assert predictor.handle(event)["statusCode"] == 200
    context, page = open_page(browser, site)
    try:
        assert rows(page) == 10
        assert page.locator("#more").is_visible()
        page.click("#more")
        page.wait_for_function(
            f"document.querySelectorAll('#history tbody tr').length === {len(site.table.items)}"
        )
        page.wait_for_selector("#more", state="hidden")
    finally:
        context.close()


def test_drawing_with_touch(browser, site) -> None:
    context, page = open_page(browser, site, has_touch=True, is_mobile=True)
    try:
        box = page.locator("#pad").bounding_box()
        scale = box["width"] / 280
        cdp = context.new_cdp_session(page)

        def touch(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [
                {"x": box["x"] + x * scale, "y": box["y"] + y * scale}
            ]  # fmt: skip
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 110, 90)
        for i in range(1, 11):
            touch("touchMove", 110 + 35 * i / 10, 90 - 40 * i / 10)
        for i in range(1, 21):
            touch("touchMove", 145, 50 + 185 * i / 20)
        touch("touchEnd", 0, 0)
        page.click("#predict-drawing")
        page.wait_for_function("document.getElementById('digit').textContent === '1'")
    finally:
        context.close()
