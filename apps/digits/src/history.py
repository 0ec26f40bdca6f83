"""GET /history?limit=20&next=<token>: predictions, newest first, a page at a time.

All predictions share the partition ``pk = "predictions"`` and sort by ``sk = <ISO time>#<id>``,
so one Query with ScanIndexForward=false reads them newest first. ``next`` is the opaque
(base64 JSON) LastEvaluatedKey of the previous page; it is absent on the last page.

Uses boto3 only. ``History`` takes its client as an argument so tests can pass their own.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

HISTORY_PARTITION = "predictions"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def response(status: int, body: dict) -> dict:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json; charset=utf-8", "cache-control": "no-store"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def encode_token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("bad token") from None
    valid = isinstance(key, dict) and set(key) == {"pk", "sk"}
    if not valid or key["pk"] != {"S": HISTORY_PARTITION} or "S" not in key["sk"]:
        raise ValueError("bad token")
    return key


def from_item(item: dict) -> dict:
    return {
        "id": item["id"]["S"],
        "prediction": int(item["prediction"]["N"]),
        "confidence": float(item["confidence"]["N"]),
        "probabilities": [float(p["N"]) for p in item.get("probabilities", {}).get("L", [])],
        "latency_ms": float(item["latency_ms"]["N"]) if "latency_ms" in item else None,
        "created_at": item["created_at"]["S"],
    }


class History:
    def __init__(self, dynamodb, table_name: str) -> None:
        self.dynamodb, self.table_name = dynamodb, table_name

    def handle(self, event: dict) -> dict:
        params = event.get("queryStringParameters") or {}
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return response(400, {"error": "bad_limit", "message": "limit must be a number"})
        if not 1 <= limit <= MAX_LIMIT:
            return response(400, {"error": "bad_limit", "message": f"limit is 1..{MAX_LIMIT}"})
        query = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": HISTORY_PARTITION}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if params.get("next"):
            try:
                query["ExclusiveStartKey"] = decode_token(params["next"])
            except ValueError:
                return response(400, {"error": "bad_token", "message": "next is not a valid token"})
        page = self.dynamodb.query(**query)
        body = {"items": [from_item(item) for item in page.get("Items", [])]}
        if page.get("LastEvaluatedKey"):
            body["next"] = encode_token(page["LastEvaluatedKey"])
        return response(200, body)


_history: History | None = None


def lambda_handler(event, context):
    global _history
    if _history is None:
        import boto3

        _history = History(
            boto3.client("dynamodb"), os.environ.get("TABLE_NAME", "PredictionHistory")
        )
    return _history.handle(event)
