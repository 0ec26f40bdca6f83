"""The predict and history handlers with their collaborators passed in (no patching)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from digits_support import (
    CannedEndpoint,
    FakeClientError,
    LocalEndpoint,
    MemoryTable,
    dark_on_light,
    digit_ink,
    encode,
    history,
    predict,
)

PNG = encode(dark_on_light(digit_ink(8)))


def event(body: bytes | str, content_type: str = "image/png", lang: str | None = None,
          b64: bool = True) -> dict:  # fmt: skip
    headers = {"content-type": content_type}
    if lang:
        headers["accept-language"] = lang
    if isinstance(body, bytes) and b64:
        body = base64.b64encode(body).decode()
    return {"version": "2.0", "headers": headers, "body": body, "isBase64Encoded": b64}


def make(endpoint=None, table=None, ticks=None):
    ticks = iter(ticks or range(1_750_000_000, 1_750_001_000))
    ids = iter(f"id{i:03d}" for i in range(1000))
    return predict.Predictor(
        endpoint or CannedEndpoint(), table or MemoryTable(), "digits-endpoint",
        "PredictionHistory", clock=lambda: float(next(ticks)), new_id=lambda: next(ids),
    )  # fmt: skip


def body(reply: dict) -> dict:
    return json.loads(reply["body"])


def test_a_png_is_predicted_and_recorded() -> None:
    endpoint, table = CannedEndpoint(digit=3), MemoryTable()
    reply = make(endpoint, table).handle(event(PNG))
    assert reply["statusCode"] == 200
    got = body(reply)
    assert got["prediction"] == 3 and got["confidence"] == pytest.approx(0.91)
    assert len(got["probabilities"]) == 10 and got["latency_ms"] >= 0
    assert got["created_at"].endswith("Z") and got["id"] == "id000"
    call = endpoint.calls[0]
    assert call["EndpointName"] == "digits-endpoint" and call["Body"] == PNG
    assert call["ContentType"] == "image/png" and call["Accept"] == "application/json"
    [item] = table.items
    assert item["pk"] == {"S": "predictions"}
    assert item["sk"]["S"] == f"{got['created_at']}#id000"
    assert item["prediction"] == {"N": "3"} and len(item["probabilities"]["L"]) == 10


def test_the_real_inference_code_behind_the_handler(model) -> None:
    table = MemoryTable()
    reply = make(LocalEndpoint(model), table).handle(event(PNG))
    assert body(reply)["prediction"] == 8
    jpeg = encode(dark_on_light(digit_ink(8)), "JPEG")
    as_json = json.dumps({"image": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()})
    endpoint = LocalEndpoint(model)
    later = range(1_760_000_000, 1_760_000_010)
    reply = make(endpoint, table, later).handle(event(as_json, "application/json", b64=False))
    assert body(reply)["prediction"] == 8
    assert endpoint.calls[0]["ContentType"] == "image/jpeg"  # the image's type, not JSON's
    assert len(table.items) == 2


def test_a_blank_image_is_a_400_and_nothing_is_written(model) -> None:
    table = MemoryTable()
    blank = encode(np.full((120, 90), 255.0))
    reply = make(LocalEndpoint(model), table).handle(event(blank))
    assert reply["statusCode"] == 400
    assert body(reply)["error"] == "no_digit" and "chữ số" in body(reply)["message"]
    assert table.items == []


@pytest.mark.parametrize(
    ("request_event", "status", "key"),
    [
        (event(b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1)), 413, "too_large"),
        (event(b""), 400, "empty"),
        (event(b"", b64=False), 400, "empty"),
        (event(b"%PDF-1.7 not an image"), 400, "not_image"),
        (event("not base64 at all!!", b64=True), 400, "not_image"),
        (event('{"image": 5}', "application/json", b64=False), 400, "bad_json"),
        (event("{broken", "application/json", b64=False), 400, "bad_json"),
        (event(json.dumps({"image": "aGVsbG8="}), "application/json", b64=False), 400, "not_image"),
        (event(json.dumps({"image": "A" * (7 * 1024 * 1024)}), "application/json", b64=False),
         413, "too_large"),
    ],
    ids=["over-5MB", "empty-b64", "empty", "pdf", "bad-base64", "json-no-image", "bad-json",
         "json-not-image", "json-over-5MB"],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_written(request_event, status, key) -> None:
    endpoint, table = CannedEndpoint(), MemoryTable()
    reply = make(endpoint, table).handle(request_event)
    assert reply["statusCode"] == status
    assert body(reply)["error"] == key
    assert endpoint.calls == [] and table.items == []


@pytest.mark.parametrize(
    ("header", "lang"),
    [(None, "vi"), ("vi", "vi"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"), ("en-US,en;q=0.9", "en"),
     ("fr-FR,en;q=0.5,vi;q=0.4", "en"), ("en;q=0.3,vi;q=0.8", "vi"), ("de", "vi")],
)  # fmt: skip
def test_messages_follow_accept_language(header, lang) -> None:
    reply = make().handle(event(b"not an image", lang=header))
    assert body(reply)["message"] == predict.MESSAGES[lang]["not_image"]


def test_an_endpoint_outage_is_a_503_in_the_users_language() -> None:
    down = CannedEndpoint(error=FakeClientError("ValidationError", "Endpoint not found"))
    reply = make(down).handle(event(PNG, lang="en"))
    assert reply["statusCode"] == 503
    assert body(reply)["message"] == predict.MESSAGES["en"]["unavailable"]


def test_history_is_newest_first_and_pages_with_a_token() -> None:
    table = MemoryTable()
    predictor = make(CannedEndpoint(digit=7), table)
    for _ in range(5):
        assert predictor.handle(event(PNG))["statusCode"] == 200
    reader = history.History(table, "PredictionHistory")
    first = body(reader.handle({"queryStringParameters": {"limit": "2"}}))
    assert [i["id"] for i in first["items"]] == ["id004", "id003"]
    assert first["items"][0]["prediction"] == 7 and "next" in first
    second = body(reader.handle({"queryStringParameters": {"limit": "2", "next": first["next"]}}))
    assert [i["id"] for i in second["items"]] == ["id002", "id001"]
    third = body(reader.handle({"queryStringParameters": {"limit": "2", "next": second["next"]}}))
    assert [i["id"] for i in third["items"]] == ["id000"] and "next" not in third
    default = body(reader.handle({}))
    assert len(default["items"]) == 5


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"limit": "101"},
                                    {"next": "garbage"}, {"next": "eyJhIjoxfQ"}])  # fmt: skip
def test_history_refuses_bad_parameters(params) -> None:
    reply = history.History(MemoryTable(), "PredictionHistory").handle(
        {"queryStringParameters": params}
    )
    assert reply["statusCode"] == 400
