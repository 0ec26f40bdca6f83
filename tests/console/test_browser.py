"""The console in headless Chromium: every view, invoke, charts, query, upload/download, phones."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

PHONE = {"width": 390, "height": 844}

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def page(browser: Any, nimbus: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(20_000)
    page.base = nimbus.endpoint  # type: ignore[attr-defined]
    yield page
    context.close()
    assert errors == [], errors  # no uncaught script errors on any page


def open_view(page: Any, fragment: str) -> None:
    page.goto(f"{page.base}/#/{fragment}")


def test_navigation_reaches_every_view(page, seeded, aws):
    cfn = aws("cloudformation")
    stack = f"browser-stack-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(
        StackName=stack, TemplateBody="Resources:\n  Store:\n    Type: AWS::S3::Bucket\n"
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    page.goto(page.base + "/")
    assert page.title().startswith("Stacks")
    page.click(f"text={stack}")
    resources = page.locator("[data-testid=stack-resources]")
    resources.locator("td", has_text="AWS::S3::Bucket").wait_for()
    assert "CREATE_COMPLETE" in resources.inner_text()
    events = page.locator("[data-testid=stack-events]")
    assert stack in events.inner_text()

    page.click("#nav >> text=Functions")
    page.locator("[data-testid=functions]").get_by_text(seeded.function).wait_for()
    assert page.locator("#nav a.active").inner_text() == "Functions"
    page.click("#nav >> text=Tables")
    page.locator("[data-testid=tables]").get_by_text(seeded.table).wait_for()
    page.click("#nav >> text=Buckets")
    page.locator("[data-testid=buckets]").get_by_text(seeded.bucket).wait_for()
    page.click(f"text={seeded.bucket}")
    page.locator("[data-testid=objects]").get_by_text("top.txt").wait_for()
    page.click("[data-testid=objects] >> text=docs/")
    page.locator("[data-testid=objects]").get_by_text("readme.txt").wait_for()
    assert "top.txt" not in page.locator("[data-testid=objects]").inner_text()
    page.click("#nav >> text=Logs")
    page.locator("#log-group option", has_text=seeded.log_group).wait_for(state="attached")


def test_invoke_shows_result_logs_and_charts(page, seeded):
    open_view(page, f"functions/{seeded.function}")
    page.get_by_text("app.handler").wait_for()
    page.fill("#invoke-payload", '{"name": "from-the-browser"}')
    page.click("#invoke-button")
    result = page.locator("#invoke-payload-result")
    result.wait_for()
    assert '"name": "from-the-browser"' in result.inner_text()
    assert '"ok": true' in result.inner_text()
    assert "console-test event" in page.locator("#invoke-log").inner_text()
    assert page.locator("#invoke-button").is_enabled()

    page.fill("#invoke-payload", '{"fail": true}')
    page.click("#invoke-button")
    page.locator("#function-error").wait_for()
    assert "Unhandled" in page.locator("#function-error").inner_text()
    assert "asked to fail" in page.locator("#invoke-payload-result").inner_text()

    page.fill("#invoke-payload", "{broken")
    page.click("#invoke-button")
    assert "not valid JSON" in page.locator("#invoke-result .error-box").inner_text()

    # Metrics land in a batch just after each invoke; the page refreshes charts by itself.
    deadline = time.monotonic() + 30
    while page.locator("svg[aria-label='Errors chart'] circle.point").count() == 0:
        assert time.monotonic() < deadline, "no error data points were drawn"
        page.wait_for_timeout(300)
        page.click("#charts-refresh")
    invocations = page.locator("svg[aria-label='Invocations chart']")
    assert invocations.locator("circle.point").count() >= 1
    assert invocations.locator("polyline.line").count() == 1
    assert page.locator("svg[aria-label='Duration chart'] circle.point").count() >= 1
    # A shorter range still holds the points just drawn.
    page.select_option("#chart-range", "15")
    page.locator("svg[aria-label='Invocations chart'] circle.point").first.wait_for()
    logs = page.locator("#function-logs")
    logs.get_by_text("from-the-browser").first.wait_for()


def test_table_browse_query_and_json_view(page, seeded):
    open_view(page, f"tables/{seeded.table}")
    table = page.locator("[data-testid=items-table]")
    table.wait_for()
    assert table.locator("tbody tr").count() == 10
    headers = table.locator("th").all_inner_texts()
    assert headers[:2] == ["customer", "seq"]

    page.fill("#query-pk", "bob")
    page.select_option("#query-op", ">=")
    page.fill("#query-sk", "4")
    page.click("#query-button")
    page.locator("#item-count", has_text="2 items").wait_for()
    rows = page.locator("[data-testid=items-table] tbody tr")
    assert [r.split("\t")[:2] for r in rows.all_inner_texts()] == [["bob", "4"], ["bob", "5"]]

    page.click(".toggle >> text=JSON")
    items = page.locator("pre.item")
    assert items.count() == 2
    assert '"customer": "bob"' in items.first.inner_text()
    assert '"tags": [' in items.first.inner_text()

    page.fill("#query-pk", "nobody")
    page.click("#query-button")
    page.locator("#item-count", has_text="0 items").wait_for()


def test_upload_then_download(page, seeded, tmp_path):
    open_view(page, f"buckets/{seeded.bucket}")
    page.locator("[data-testid=objects]").get_by_text("top.txt").wait_for()
    content = b"uploaded from chromium\n" * 100
    page.set_input_files(
        "#upload-file",
        files=[{"name": "report.csv", "mimeType": "text/csv", "buffer": content}],
    )
    page.click("#upload-button")
    page.locator("#upload-status", has_text="Uploaded report.csv").wait_for()
    row = page.locator("[data-testid=objects] tr", has_text="report.csv")
    row.wait_for()
    with page.expect_download() as info:
        row.locator("a.download").click()
    download = info.value
    assert download.suggested_filename == "report.csv"
    saved = tmp_path / "got.csv"
    download.save_as(saved)
    assert saved.read_bytes() == content


def test_log_search(page, seeded):
    open_view(page, "logs")
    page.locator("#log-group option", has_text=seeded.log_group).wait_for(state="attached")
    page.select_option("#log-group", seeded.log_group)
    page.fill("#log-pattern", "ERROR")
    page.click("#log-search")
    page.locator("#log-count", has_text="2 events").wait_for()
    text = page.locator("#log-results").inner_text()
    assert "ERROR disk full" in text and "ERROR timed out" in text
    assert "INFO started" not in text

    page.select_option("#log-range", "custom")
    page.fill("#log-from", "2001-01-01T00:00")
    page.fill("#log-to", "2001-01-02T00:00")
    page.click("#log-search")
    page.locator("#log-count", has_text="0 events").wait_for()


def test_phone_viewport_has_no_horizontal_overflow(browser, nimbus, seeded):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{nimbus.endpoint}/#/stacks")
        page.locator("[data-testid=stacks]").wait_for()
        assert page.evaluate(OVERFLOW) <= 0
        nav = page.locator("#nav")
        assert nav.bounding_box()["width"] <= PHONE["width"]
        views = [
            ("Functions", f"functions/{seeded.function}", "#charts svg"),
            ("Tables", f"tables/{seeded.table}", "[data-testid=items-table]"),
            ("Buckets", f"buckets/{seeded.bucket}", "[data-testid=objects]"),
            ("Logs", "logs", "#log-form"),
        ]
        for label, fragment, ready in views:
            page.locator("#nav a", has_text=label).tap()
            page.wait_for_function(f"location.hash.startsWith('#/{fragment.split('/')[0]}')")
            page.goto(f"{nimbus.endpoint}/#/{fragment}")
            page.locator(ready).first.wait_for()
            assert page.evaluate(OVERFLOW) <= 0, f"{label} overflows the phone screen"
            assert page.locator("#nav a.active").inner_text() == label
        # The items table is wider than the phone: it scrolls inside its own container.
        page.goto(f"{nimbus.endpoint}/#/tables/{seeded.table}")
        wrap = page.locator(".table-wrap", has=page.locator("[data-testid=items-table]"))
        wrap.wait_for()
        widths = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] > widths[1], "the items table should scroll inside its container"
        assert page.evaluate(OVERFLOW) <= 0
    finally:
        context.close()
