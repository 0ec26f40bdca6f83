"""Records the key of each object uploaded to the bucket as an item."""

import os
import urllib.parse

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def record(event, context):
    for rec in event["Records"]:
        key = urllib.parse.unquote_plus(rec["s3"]["object"]["key"])
        table.put_item(
            Item={
                "id": f"upload:{key}",
                "bucket": rec["s3"]["bucket"]["name"],
                "size": rec["s3"]["object"].get("size", 0),
            }
        )
