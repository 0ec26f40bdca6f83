"""The WebSocket routes ``ask``, ``stream`` and ``$default``: check, acknowledge, hand off.

A message ``{"action": "ask"|"stream", "prompt": "...", "requestId": "c1", ...}`` (the same
fields as POST /generate) is checked, acknowledged at once with ``{"type": "ack"}`` and handed to
the worker function with an asynchronous invoke (InvocationType Event), so this route answers in
milliseconds whatever the model takes; the worker posts the answer (or the stream) to the
connection. Anything else gets ``{"type": "error", "error": "unknown_action"}``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable

from prompt_layer import LayerError, language, parse_request
from ws_api import ConnectionApi

ACTIONS = ("ask", "stream")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def request_id_of(body: object, new_id: Callable[[], str]) -> str:
    """The client's requestId when it is a safe token, else a new one."""
    given = body.get("requestId") if isinstance(body, dict) else None
    return given if isinstance(given, str) and _CLIENT_ID.match(given) else new_id()


class Dispatcher:
    def __init__(self, lambda_client, worker_function: str, api: ConnectionApi,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:  # fmt: skip
        self.lambda_client, self.worker_function = lambda_client, worker_function
        self.api, self.new_id = api, new_id

    def handle(self, event: dict) -> dict:
        ctx = event["requestContext"]
        try:
            body = json.loads(event.get("body") or "")
        except ValueError:
            body = None
        lang = language(body.get("language") if isinstance(body, dict) else None)
        request_id = request_id_of(body, self.new_id)

        def post(message: dict) -> None:
            message = {"requestId": request_id, **message}
            self.api.post(ctx["domainName"], ctx["stage"], ctx["connectionId"], message)

        action = body.get("action") if isinstance(body, dict) else None
        if ctx.get("routeKey") not in ACTIONS or action not in ACTIONS:
            post({"type": "error", **LayerError(400, "unknown_action").to_json(lang)})
            return {"statusCode": 200}
        try:
            parse_request(body, lang)
        except LayerError as refused:
            post({"type": "error", **refused.to_json(lang)})
            return {"statusCode": 200}
        post({"type": "ack", "action": action})
        job = {
            "action": action,
            "requestId": request_id,
            "connectionId": ctx["connectionId"],
            "domainName": ctx["domainName"],
            "stage": ctx["stage"],
            "language": lang,
            "body": body,
        }
        try:
            self.lambda_client.invoke(FunctionName=self.worker_function, InvocationType="Event",
                                      Payload=json.dumps(job).encode("utf-8"))  # fmt: skip
        except Exception as exc:
            print(f"handing {request_id} to the worker failed: {type(exc).__name__}: {exc}")
            post({"type": "error", **LayerError(503, "unavailable").to_json(lang)})
        return {"statusCode": 200}


_dispatcher: Dispatcher | None = None


def lambda_handler(event, context):
    global _dispatcher
    if _dispatcher is None:
        import boto3
        import ws_api

        _dispatcher = Dispatcher(boto3.client("lambda"), os.environ["WORKER_FUNCTION"],
                                 ws_api.from_boto3())  # fmt: skip
    return _dispatcher.handle(event)
