"""What every protocol implementation offers the dispatcher."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse


class WireProtocol(Protocol):
    name: str

    async def operation(
        self, service: ServiceModel, request: HttpRequest
    ) -> tuple[OperationModel, Any]:
        """The addressed operation plus whatever the parser needs again (e.g. URI labels)."""

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        """Request parameters shaped like the operation's input shape."""

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """The successful response."""

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        """The error response in this protocol's shape."""


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def json_bytes(value: Any) -> bytes:
    """JSON for json/rest-json bodies: blobs base64, timestamps epoch seconds, no shape walk."""
    return json.dumps(value, default=_json_default, separators=(",", ":")).encode()


def query_compatible(service: ServiceModel) -> bool:
    return "awsQueryCompatible" in service.metadata
