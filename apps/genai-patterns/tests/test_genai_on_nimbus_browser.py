"""The chat UI in headless Chromium against the real deployment on Nimbus: the page comes from
the S3 website bucket, config.json points it at the HTTP API and the WebSocket API, answers come
from Lambda and the built-in Bedrock model (writing at a visible pace, see genai_live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from genai_support import ask, choose_mode, open_page, wait_done


@pytest.fixture
def page(browser, on_nimbus) -> Iterator[Any]:
    website = on_nimbus.outputs["WebsiteUrl"]
    assert website.startswith(on_nimbus.server.endpoint), website
    page = open_page(browser, website)
    yield page
    errors = page.errors
    page.context.close()
    assert not errors, errors


def test_streaming_mode_shows_tokens_arriving(page) -> None:
    choose_mode(page, "stream")
    page.evaluate(
        "() => { window.seen = []; new MutationObserver(() => {"
        "  const row = document.querySelector('.msg.bot:last-child');"
        "  if (row && row.dataset.state === 'streaming')"
        "    window.seen.push([Number(row.dataset.chunks),"
        "                      row.querySelector('.bubble').textContent.length]);"
        "}).observe(document.getElementById('chat'), {subtree: true, childList: true,"
        " characterData: true, attributes: true}); }"
    )
    answer = ask(page, "Write a 150 word text about streaming answers from a model")
    wait_done(answer, timeout=60000)
    assert answer.get_attribute("data-state") == "done"
    assert int(answer.get_attribute("data-chunks")) >= 5
    seen = page.evaluate("window.seen")  # [chunks so far, rendered length] while streaming
    chunks = [c for c, _ in seen]
    assert chunks == sorted(chunks) and len(set(chunks)) >= 5, seen
    assert len({n for _, n in seen}) >= 5, seen  # the page changed while the model still wrote
    assert answer.locator(".m-mode").inner_text() == "Streaming"
    assert answer.locator(".m-tokens").inner_text().endswith("tokens")
    assert "claude" in answer.locator(".m-model").inner_text()


def test_rest_and_websocket_answers_show_their_usage(page) -> None:
    rest = ask(page, "Hello, what can you do?")
    wait_done(rest, timeout=60000)
    assert rest.get_attribute("data-state") == "done"
    assert rest.locator(".m-cost").inner_text().startswith("$")
    assert rest.locator(".m-template").inner_text() == "chat@1"
    choose_mode(page, "ask")
    asked = ask(page, "And over the WebSocket?")
    wait_done(asked, timeout=60000)
    assert asked.get_attribute("data-state") == "done"
    assert asked.locator(".m-mode").inner_text() == "WebSocket"
    assert asked.locator(".bubble").inner_text().strip()


def test_the_guardrail_is_visible(page) -> None:
    masked = ask(page, "Repeat after me: mail lan.nguyen@example.com today")
    wait_done(masked, timeout=60000)
    assert "EMAIL" in masked.locator(".m-guard.masked").inner_text()
    assert "lan.nguyen@example.com" not in masked.locator(".bubble").inner_text()
    blocked = ask(page, "My card is 4111 1111 1111 1111")
    wait_done(blocked, timeout=60000)
    assert blocked.locator(".m-guard.blocked").count() == 1
    assert "Sorry" in blocked.locator(".bubble").inner_text()
