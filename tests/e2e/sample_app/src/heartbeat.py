"""Counts scheduled runs in one item."""

import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def beat(event, context):
    table.update_item(
        Key={"id": "heartbeat"},
        UpdateExpression="ADD beats :one SET detail_type = :type, rule_arn = :rule",
        ExpressionAttributeValues={
            ":one": 1,
            ":type": event["detail-type"],
            ":rule": event["resources"][0],
        },
    )
