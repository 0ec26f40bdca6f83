"""The console's Bedrock view in headless Chromium: model metrics after a Converse, the
streaming try-it box, the guardrail test box, and a phone-sized screen."""

from __future__ import annotations

import time
from typing import Any

from .test_bedrock_api import HAIKU, ask
from .test_browser import OVERFLOW, PHONE, open_view, page  # noqa: F401  (the page fixture)

MODEL = "meta.llama3-2-1b-instruct-v1:0"  # a model the other console tests leave alone


def _row_invocations(tab: Any, model_id: str) -> int:
    """The invocation count the models table shows, reloading until it is non-zero."""
    deadline = time.monotonic() + 20
    while True:
        open_view(tab, "bedrock")
        tab.locator("[data-testid=bedrock-models]").wait_for()
        row = tab.locator("[data-testid=bedrock-models] tr", has=tab.locator(
            f"[data-model-id='{model_id}']"))  # fmt: skip
        if row.count():
            count = float(row.locator("[data-stat=invocations]").inner_text())
            if count > 0:
                return int(count)
        assert time.monotonic() < deadline, f"{model_id} never showed an invocation"
        tab.wait_for_timeout(300)


def test_models_try_it_and_guardrail_test(page, aws, guardrail):  # noqa: F811  (page)
    runtime = aws("bedrock-runtime")
    runtime.converse(modelId=MODEL, messages=ask("Hello from boto3"))
    assert _row_invocations(page, MODEL) >= 1
    notice = page.locator("#backend-notice")
    assert "built-in offline model" in notice.inner_text()
    row = page.locator("[data-testid=bedrock-models] tr", has=page.locator(
        f"[data-model-id='{MODEL}']"))  # fmt: skip
    assert row.locator("[data-backend=builtin]").count() == 1
    assert row.locator("svg.spark polyline").count() == 2  # invocations and tokens

    # The try-it box streams the same answer boto3's Converse gets.
    prompt = "What is 6 * 7?"
    expected = runtime.converse(modelId=MODEL, messages=ask(prompt))
    page.select_option("#try-model", MODEL)
    assert "built-in" in page.locator("#try-backend").inner_text()
    page.fill("#try-prompt", prompt)
    page.click("#try-button")
    page.locator("#try-stop").wait_for()
    answer = page.locator("#try-answer").inner_text()
    assert answer.strip() == expected["output"]["message"]["content"][0]["text"].strip()
    tokens = page.locator("#try-tokens").inner_text()
    assert f"{expected['usage']['outputTokens']} out" in tokens
    assert "first token" in page.locator("#try-latency").inner_text()
    # The table refreshes itself after a run: three invocations of this model by now.
    page.wait_for_function(
        "([id, n]) => { const c = document.querySelector(`[data-model-id='${id}']`);"
        " const v = c && c.closest('tr').querySelector('[data-stat=invocations]');"
        " return v && Number(v.textContent) >= n; }",
        arg=[MODEL, 3],
    )

    # The guardrail test box masks an e-mail address and names the policy that fired.
    page.select_option("#guard-id", guardrail["guardrailId"])
    page.select_option("#guard-version", "DRAFT")
    page.fill("#guard-text", "Please write to an.tran@example.com today.")
    page.click("#guard-button")
    page.locator("#guard-action").wait_for()
    assert page.locator("#guard-action").inner_text() == "GUARDRAIL_INTERVENED"
    assert page.locator("#guard-output").inner_text() == "Please write to {EMAIL} today."
    fired = page.locator("[data-testid=guardrail-fired]").inner_text()
    assert "EMAIL" in fired and "an.tran@example.com" in fired and "ANONYMIZED" in fired

    # A model's own page: its charts and a try-it box preset to it.
    page.click(f"[data-model-id='{MODEL}'] a")
    page.locator("svg[aria-label='Invocations chart'] circle.point").first.wait_for()
    assert page.locator("svg[aria-label='Tokens chart'] circle.point").count() >= 1
    assert page.locator("#try-model").input_value() == MODEL


def test_bedrock_view_fits_a_phone(browser, nimbus, aws, guardrail):
    aws("bedrock-runtime").converse(modelId=HAIKU, messages=ask("hello"))
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()  # noqa: F811
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{nimbus.endpoint}/#/bedrock")
        page.locator("#try-form").wait_for()
        page.locator("#guard-form").wait_for()
        page.click("#models-all")
        assert page.evaluate(OVERFLOW) <= 0, "the Bedrock view overflows the phone screen"
        page.goto(f"{nimbus.endpoint}/#/bedrock/models/{HAIKU}")
        page.locator("#charts svg").first.wait_for()
        assert page.evaluate(OVERFLOW) <= 0, "a model's page overflows the phone screen"
    finally:
        context.close()
