"""$connect and $disconnect: keep the open WebSocket connections in DynamoDB.

An item per connection (``connectionId``) with the time it opened and ``expires_at`` (TTL) two
hours later, API Gateway's longest connection; $disconnect deletes it. The caller's address is
kept only as a hash.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

MAX_CONNECTION_SECONDS = 2 * 3600


class Connections:
    def __init__(self, dynamodb, table: str, clock: Callable[[], float] = time.time) -> None:
        self.dynamodb, self.table, self.clock = dynamodb, table, clock

    def handle(self, event: dict) -> dict:
        ctx = event.get("requestContext") or {}
        connection_id = ctx["connectionId"]
        if ctx.get("eventType") == "DISCONNECT" or ctx.get("routeKey") == "$disconnect":
            self.dynamodb.delete_item(TableName=self.table,
                                      Key={"connectionId": {"S": connection_id}})  # fmt: skip
            return {"statusCode": 200}
        now = int(self.clock())
        source = (ctx.get("identity") or {}).get("sourceIp", "")
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "connectionId": {"S": connection_id},
                "connected_at": {"N": str(now)},
                "caller": {"S": hashlib.sha256(source.encode()).hexdigest()[:16]},
                "expires_at": {"N": str(now + MAX_CONNECTION_SECONDS)},
            },
        )
        return {"statusCode": 200}


_connections: Connections | None = None


def lambda_handler(event, context):
    global _connections
    if _connections is None:
        import boto3

        _connections = Connections(boto3.client("dynamodb"), os.environ["CONNECTIONS_TABLE"])
    return _connections.handle(event)
