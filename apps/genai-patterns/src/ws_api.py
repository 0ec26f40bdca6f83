"""Posting to WebSocket clients through the API Gateway management API (``@connections``).

The endpoint is built as AWS's samples build it, from the event's request context:
``https://{domainName}/{stage}``; one client per endpoint is kept for the warm environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from prompt_layer import ClientGone
from prompt_layer.routing import error_code


class ConnectionApi:
    def __init__(self, make_client: Callable[[str], object]) -> None:
        self.make_client = make_client
        self.clients: dict[str, object] = {}

    def client(self, domain: str, stage: str):
        url = f"https://{domain}/{stage}"
        if url not in self.clients:
            self.clients[url] = self.make_client(url)
        return self.clients[url]

    def post(self, domain: str, stage: str, connection_id: str, message: dict) -> None:
        """Send one JSON message; ClientGone when the connection is closed (GoneException)."""
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self.client(domain, stage).post_to_connection(ConnectionId=connection_id, Data=data)
        except Exception as exc:
            if error_code(exc) == "GoneException":
                raise ClientGone(connection_id) from None
            raise


def from_boto3() -> ConnectionApi:
    import boto3

    return ConnectionApi(lambda url: boto3.client("apigatewaymanagementapi", endpoint_url=url))
