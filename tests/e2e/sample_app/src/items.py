"""GET/POST/DELETE /items/{id} (HTTP API, payload format 2.0)."""

import json
import os
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def _number(value):
    """DynamoDB numbers come back as Decimal, which json cannot write."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _reply(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, default=_number),
    }


def write(event, context):
    """POST stores the JSON body under the id; DELETE tries to delete (the policy forbids it)."""
    item_id = event["pathParameters"]["id"]
    if event["requestContext"]["http"]["method"] == "DELETE":
        try:
            table.delete_item(Key={"id": item_id})
        except ClientError as err:
            return _reply(403, {"error": err.response["Error"]["Code"]})
        return _reply(200, {"deleted": item_id})
    body = json.loads(event.get("body") or "{}")
    table.put_item(Item={**body, "id": item_id})
    return _reply(201, {"id": item_id})


def read(event, context):
    item_id = event["pathParameters"]["id"]
    item = table.get_item(Key={"id": item_id}).get("Item")
    if item is None:
        return _reply(404, {"error": f"no item {item_id}"})
    return _reply(200, item)
