"""The chat UI in headless Chromium against a local stand-in for the two APIs.

The stand-in serves web/ and answers POST /api/generate with the app's own REST handler, and
speaks WebSocket with the app's own dispatcher and worker behind it (the worker runs in a thread,
as an asynchronous invoke would); the prompt layer runs with fake Bedrock clients that stream at
a visible pace. The same UI against the real deployment on Nimbus is
test_genai_on_nimbus_browser.py. The Markdown renderer is tested on its own page too.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from genai_support import (
    APP,
    FakeClientError,
    FakeRuntime,
    ask,
    choose_mode,
    make_layer,
    open_page,
    rest_generate,
    wait_done,
    ws_api,
    ws_dispatch,
    ws_worker,
)

WEB = APP / "web"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
ANSWER = (
    "## Kết quả\n\nĐây là **câu trả lời** có `code` và danh sách:\n\n- một\n- hai\n  - hai a\n"
    "\n```python\nprint('xin chào')\n```\n\nHết."
)


class StandIn:
    """HTTP on one port, WebSocket on another; both run the app's handlers."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.layer, self.runtime, self.dynamo, _ = make_layer(
            FakeRuntime(answer=ANSWER, stream_delay=0.04)
        )
        self.sockets: dict[str, Any] = {}
        api = ws_api.ConnectionApi(lambda url: self)
        worker = ws_worker.Worker(self.layer, api)

        class AsyncLambda:
            def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:
                assert InvocationType == "Event"
                job = json.loads(Payload)
                threading.Thread(target=worker.handle, args=(job,), daemon=True).start()
                return {"StatusCode": 202}

        self.dispatcher = ws_dispatch.Dispatcher(AsyncLambda(), "worker", api)
        self.ws_server = serve(self.on_socket, "127.0.0.1", 0)
        self.ws_port = self.ws_server.socket.getsockname()[1]
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self.http_handler())
        self.port = self.http.server_port
        self.url = f"http://127.0.0.1:{self.port}/"
        for target in (self.http.serve_forever, self.ws_server.serve_forever):
            threading.Thread(target=target, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.ws_server.shutdown()

    # -- the @connections client the app's ws_api gets ---------------------------------------
    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict:
        socket = self.sockets.get(ConnectionId)
        if socket is None:
            raise FakeClientError("GoneException")
        socket.send(Data.decode("utf-8"))
        return {}

    def on_socket(self, socket) -> None:
        connection_id = uuid.uuid4().hex
        self.sockets[connection_id] = socket
        try:
            for message in socket:
                try:
                    action = json.loads(message).get("action")
                except (ValueError, AttributeError):
                    action = None
                route = action if action in ("ask", "stream") else "$default"
                self.dispatcher.handle({
                    "requestContext": {"routeKey": route, "eventType": "MESSAGE",
                                       "connectionId": connection_id, "stage": "prod",
                                       "domainName": "standin.execute-api.us-east-1.amazonaws.com"},
                    "body": message, "isBase64Encoded": False,
                })  # fmt: skip
        finally:
            self.sockets.pop(connection_id, None)

    def http_handler(self):
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

            def do_GET(self) -> None:
                name = self.path.split("?")[0].strip("/") or "index.html"
                if name == "config.json":
                    config = {
                        "apiUrl": f"http://127.0.0.1:{stand_in.port}/api",
                        "webSocketUrl": f"ws://127.0.0.1:{stand_in.ws_port}/prod",
                    }
                    return self.reply(200, json.dumps(config).encode(), "application/json")
                path = WEB / name
                if "/" in name or not path.is_file():
                    return self.reply(404, b"not found", "text/plain")
                self.reply(200, path.read_bytes(), TYPES.get(path.suffix, "text/plain"))

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                event = {
                    "version": "2.0",
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": data.decode("utf-8"),
                    "isBase64Encoded": False,
                    "requestContext": {"http": {"method": "POST", "sourceIp": "127.0.0.1"}},
                }
                result = rest_generate.handle(stand_in.layer, event)
                self.reply(result["statusCode"], result["body"].encode(), "application/json")

        return Handler


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def page(browser, stand_in) -> Iterator[Any]:
    page = open_page(browser, stand_in.url)
    yield page
    errors = page.errors
    page.context.close()
    assert not errors, errors


# ---- the Markdown renderer ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def md(browser) -> Iterator[Any]:
    page = browser.new_page()
    page.set_content("<!doctype html><div id=out></div>")
    page.add_script_tag(path=str(WEB / "markdown.js"))
    yield lambda text: page.evaluate("(t) => window.Markdown.render(t)", text)
    page.close()


def test_markdown_renders_the_common_blocks(md) -> None:
    html = md(ANSWER)
    assert "<h2>Kết quả</h2>" in html
    assert "<strong>câu trả lời</strong>" in html and "<code>code</code>" in html
    assert "<ul><li>một</li><li>hai<ul><li>hai a</li></ul></li></ul>" in html
    assert '<pre><code class="language-python">print(&#39;xin chào&#39;)</code></pre>' in html
    table = md("| a | b |\n|---|---|\n| 1 | **2** |")
    assert "<th>a</th>" in table and "<td><strong>2</strong></td>" in table
    assert md("1. one\n2. two").startswith("<ol><li>one</li>")
    assert "<blockquote>" in md("> quoted") and "<hr>" in md("---")
    assert "<em>x</em>" in md("*x* and snake_case_name") and "snake_case_name" in md(
        "snake_case_name"
    )
    assert md("```js\nlet a = 1;") == '<pre><code class="language-js">let a = 1;</code></pre>'


@pytest.mark.parametrize(
    "attack",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '[x](https://ok.example/"onmouseover="alert(1))',
        "`<b>` and ```\n<svg onload=alert(1)>\n```",
        "**<i onclick=alert(1)>x</i>**",
    ],
)
def test_markdown_never_lets_html_or_scripts_through(md, browser, attack) -> None:
    html = md(attack)
    page = browser.new_page()
    page.set_content("<!doctype html><div id=out></div>")
    page.evaluate("(h) => { document.getElementById('out').innerHTML = h; }", html)
    elements = page.evaluate(
        "() => [...document.querySelectorAll('#out *')].map(e => e.tagName.toLowerCase())"
    )
    handlers = page.evaluate(
        "() => [...document.querySelectorAll('#out *')].flatMap(e => [...e.attributes]"
        ".map(a => a.name)).filter(n => n.startsWith('on'))"
    )
    hrefs = page.evaluate("() => [...document.querySelectorAll('#out a')].map(a => a.href)")
    page.close()
    assert not {"img", "script", "svg", "i"} & set(elements), html
    assert handlers == [], html
    assert all(h.startswith("https://") for h in hrefs), hrefs


def test_a_safe_link_opens_apart(md) -> None:
    html = md("[docs](https://docs.aws.amazon.com/bedrock/)")
    assert 'href="https://docs.aws.amazon.com/bedrock/"' in html
    assert 'rel="noopener noreferrer"' in html


# ---- the three patterns ---------------------------------------------------------------------


def test_rest_answers_with_markdown_tokens_latency_and_cost(page) -> None:
    answer = ask(page, "Explain the synchronous pattern")
    wait_done(answer)
    assert answer.get_attribute("data-mode") == "rest"
    assert answer.locator(".bubble h2").inner_text() == "Kết quả"
    assert answer.locator(".bubble strong").first.inner_text() == "câu trả lời"
    assert answer.locator(".bubble pre code").inner_text() == "print('xin chào')"
    assert "tokens" in answer.locator(".m-tokens").inner_text()
    assert answer.locator(".m-latency").inner_text().endswith("ms")
    assert answer.locator(".m-cost").inner_text().startswith("$")
    assert "claude-3-haiku" in answer.locator(".m-model").inner_text()
    assert answer.locator(".m-template").inner_text() == "chat@1"


def test_streaming_shows_tokens_as_they_arrive(page, stand_in) -> None:
    choose_mode(page, "stream")
    page.evaluate(
        "() => { window.seen = []; new MutationObserver(() => {"
        "  const el = document.querySelector('.msg.bot:last-child .bubble');"
        "  const row = el && el.closest('.msg');"
        "  if (row && row.dataset.state === 'streaming')"
        "    window.seen.push([Number(row.dataset.chunks), el.textContent.length]);"
        "}).observe(document.getElementById('chat'), {subtree: true, childList: true,"
        " characterData: true, attributes: true}); }"
    )
    answer = ask(page, "Stream the answer please")
    page.wait_for_function(
        "document.querySelector('.msg.bot:last-child').dataset.state === 'streaming'"
    )
    wait_done(answer)
    chunks = int(answer.get_attribute("data-chunks"))
    assert chunks == len(ANSWER.split(" ")) > 10
    seen = page.evaluate("window.seen")  # [chunks so far, rendered length] while streaming
    chunks = [c for c, _ in seen]
    assert chunks == sorted(chunks) and len(set(chunks)) >= 5, seen
    assert len({n for _, n in seen}) >= 5, seen  # the page changed while the model still wrote
    assert answer.locator(".bubble h2").inner_text() == "Kết quả"
    assert answer.locator(".m-mode").inner_text() == "Streaming"


def test_websocket_ask_is_acknowledged_then_answered(page) -> None:
    choose_mode(page, "ask")
    page.evaluate(
        "() => { window.states = []; new MutationObserver((records) => {"
        "  for (const r of records) if (r.attributeName === 'data-state')"
        "    window.states.push(r.target.dataset.state);"
        "}).observe(document.getElementById('chat'), {subtree: true, attributes: true,"
        " attributeFilter: ['data-state']}); }"
    )
    answer = ask(page, "Answer me asynchronously")
    wait_done(answer)
    states = page.evaluate("window.states")
    assert states.index("acked") < states.index("done"), states
    assert answer.locator(".m-mode").inner_text() == "WebSocket"
    assert answer.locator(".bubble strong").first.inner_text() == "câu trả lời"


def test_a_repeated_question_comes_from_the_cache(page) -> None:
    first = ask(page, "Cache this one")
    wait_done(first)
    assert first.locator(".m-cache").count() == 0
    second = ask(page, "Cache this one")
    wait_done(second)
    assert second.locator(".m-cache").inner_text() == "cache"
    assert second.locator(".m-cost").inner_text() == "$0.000000"


@pytest.mark.parametrize("mode", ["rest", "stream"])
def test_guardrail_interventions_are_shown(page, mode) -> None:
    choose_mode(page, mode)
    masked = ask(page, "Write to lan@example.com about it")
    wait_done(masked)
    assert masked.locator(".m-guard.masked").inner_text() == "Guardrail masked: EMAIL"
    blocked = ask(page, "My card is 4111 1111 1111 1111")
    wait_done(blocked)
    assert blocked.locator(".m-guard.blocked").count() == 1
    assert blocked.locator(".bubble").inner_text() == "Blocked input."
    assert "blocked" in blocked.get_attribute("class")


def test_errors_are_shown_in_the_callers_language(page) -> None:
    page.click("#lang-vi")
    page.select_option("#template", "summarize")
    page.evaluate("() => { document.getElementById('template').options[0].value = 'nope'; }")
    page.select_option("#template", "nope")
    answer = ask(page, "x")
    wait_done(answer)
    assert answer.get_attribute("data-state") == "error"
    assert "Không có mẫu prompt" in answer.locator(".bubble").inner_text()


# ---- languages and phones -----------------------------------------------------------------------


def test_the_page_follows_the_browser_language_and_can_switch(browser, stand_in) -> None:
    page = open_page(browser, stand_in.url, locale="vi-VN")
    assert page.locator("#send").inner_text() == "Gửi"
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.click("#lang-en")
    assert page.locator("#send").inner_text() == "Send"
    assert page.locator("#mode-hint").inner_text().startswith("Synchronous")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#send").inner_text() == "Send"  # the choice is remembered
    page.context.close()


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_layout_fits_phones_and_desktops(browser, stand_in, width) -> None:
    page = open_page(browser, stand_in.url, width=width)
    answer = ask(page, "A long answer " * 20)
    wait_done(answer)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    for selector in ("#send", "#prompt", "#mode-stream"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    page.context.close()
