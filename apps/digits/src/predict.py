"""POST /predict: an image of one handwritten digit -> the digit, its probabilities, the latency.

The body is the image itself (image/png, image/jpeg, image/webp; API Gateway's payload 2.0 gives
binary bodies base64-encoded) or JSON ``{"image": "<base64 or data URL>"}``. Over 5 MB is a 413,
an empty body or anything that is not a PNG/JPEG/WebP image is a 400, and an image in which the
model finds no digit is a 400 too; messages follow Accept-Language (Vietnamese or English).
Only a successful prediction is written to the PredictionHistory table.

Uses boto3 only. ``Predictor`` takes its clients as arguments so tests can pass their own.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from datetime import UTC, datetime

MAX_IMAGE_BYTES = 5 * 1024 * 1024
HISTORY_PARTITION = "predictions"  # one partition, sorted by time: newest-first paging
TTL_DAYS = 90

MESSAGES = {
    "vi": {
        "too_large": "Ảnh quá lớn: tối đa 5 MB.",
        "empty": "Chưa có ảnh: hãy tải lên hoặc vẽ một chữ số.",
        "not_image": "Tệp này không phải ảnh PNG, JPEG hoặc WebP.",
        "bad_json": 'JSON không hợp lệ: hãy gửi {"image": "<base64>"}.',
        "no_digit": "Không tìm thấy chữ số nào trong ảnh.",
        "unavailable": "Mô hình tạm thời không phản hồi; vui lòng thử lại.",
    },
    "en": {
        "too_large": "The image is too large: 5 MB at most.",
        "empty": "No image: upload or draw a digit.",
        "not_image": "This file is not a PNG, JPEG or WebP image.",
        "bad_json": 'Invalid JSON: send {"image": "<base64>"}.',
        "no_digit": "No digit found in the image.",
        "unavailable": "The model is not answering right now; please try again.",
    },
}


def language(headers: dict[str, str]) -> str:
    """'vi' or 'en' from Accept-Language (by q-value); DEFAULT_LANGUAGE (vi) otherwise."""
    ranked = []
    for position, part in enumerate((headers.get("accept-language") or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in MESSAGES and quality > 0:
            ranked.append((-quality, position, primary))
    if ranked:
        return min(ranked)[2]
    default = os.environ.get("DEFAULT_LANGUAGE", "vi")
    return default if default in MESSAGES else "vi"


def sniff_image_type(data: bytes) -> str | None:
    """The image type from its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class BadInput(Exception):
    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


def read_image(event: dict) -> tuple[bytes, str]:
    """(image bytes, content type) from an HTTP API event, or BadInput."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    if len(body) > MAX_IMAGE_BYTES * 4 // 3 + 4:  # cheap check before decoding
        raise BadInput(413, "too_large")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body)
        except (binascii.Error, ValueError):
            raise BadInput(400, "not_image") from None
    else:
        raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else bytes(body)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or raw[:1] == b"{":
        raw = _image_from_json(raw)
    if len(raw) > MAX_IMAGE_BYTES:
        raise BadInput(413, "too_large")
    if not raw:
        raise BadInput(400, "empty")
    kind = sniff_image_type(raw)
    if kind is None:
        raise BadInput(400, "not_image")
    return raw, kind


def _image_from_json(raw: bytes) -> bytes:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise BadInput(400, "bad_json") from None
    image = doc.get("image") if isinstance(doc, dict) else None
    if not isinstance(image, str):
        raise BadInput(400, "bad_json")
    if image.startswith("data:"):
        image = image.partition(",")[2]
    if len(image) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise BadInput(413, "too_large")
    try:
        return base64.b64decode(image)
    except (binascii.Error, ValueError):
        raise BadInput(400, "not_image") from None


def response(status: int, body: dict) -> dict:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json; charset=utf-8", "cache-control": "no-store"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def error(status: int, key: str, lang: str, detail: str | None = None) -> dict:
    body = {"error": key, "message": MESSAGES[lang][key]}
    if detail:
        body["detail"] = detail
    return response(status, body)


class Predictor:
    """The handler's work, with its collaborators passed in."""

    def __init__(self, runtime, dynamodb, endpoint_name: str, table_name: str,
                 clock=time.time, new_id=lambda: uuid.uuid4().hex) -> None:  # fmt: skip
        self.runtime, self.dynamodb = runtime, dynamodb
        self.endpoint_name, self.table_name = endpoint_name, table_name
        self.clock, self.new_id = clock, new_id

    def handle(self, event: dict) -> dict:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        lang = language(headers)
        try:
            image, content_type = read_image(event)
        except BadInput as bad:
            return error(bad.status, bad.key, lang)
        started = time.perf_counter()
        try:
            answer = self.runtime.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType=content_type,
                Accept="application/json",
                Body=image,
            )
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code == "ModelError":  # the model refused the image: blank, undecodable
                return error(400, "no_digit", lang, _model_message(exc))
            print(f"invoke_endpoint failed: {exc!r}")
            return error(503, "unavailable", lang)
        result = json.loads(answer["Body"].read())
        latency_ms = round((time.perf_counter() - started) * 1000.0, 2)
        probabilities = [float(p) for p in result["probabilities"]]
        prediction = int(result["prediction"])
        now = self.clock()
        record = {
            "id": self.new_id(),
            "prediction": prediction,
            "confidence": round(probabilities[prediction], 6),
            "probabilities": [round(p, 6) for p in probabilities],
            "latency_ms": latency_ms,
            "created_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")[:-6]
            + "Z",
        }
        self.dynamodb.put_item(TableName=self.table_name, Item=to_item(record, now))
        return response(200, record)


def _model_message(exc: Exception) -> str:
    data = getattr(exc, "response", {})
    return str(data.get("OriginalMessage") or data.get("Error", {}).get("Message", ""))[:300]


def to_item(record: dict, now: float) -> dict:
    """The DynamoDB item (low-level attribute values) of a prediction."""
    return {
        "pk": {"S": HISTORY_PARTITION},
        "sk": {"S": f"{record['created_at']}#{record['id']}"},
        "id": {"S": record["id"]},
        "prediction": {"N": str(record["prediction"])},
        "confidence": {"N": repr(record["confidence"])},
        "probabilities": {"L": [{"N": repr(p)} for p in record["probabilities"]]},
        "latency_ms": {"N": repr(record["latency_ms"])},
        "created_at": {"S": record["created_at"]},
        "expires_at": {"N": str(int(now) + TTL_DAYS * 86400)},
    }


_predictor: Predictor | None = None


def lambda_handler(event, context):
    global _predictor
    if _predictor is None:
        import boto3

        _predictor = Predictor(
            boto3.client("sagemaker-runtime"),
            boto3.client("dynamodb"),
            os.environ["ENDPOINT_NAME"],
            os.environ.get("TABLE_NAME", "PredictionHistory"),
        )
    return _predictor.handle(event)
