"""The @connections API (botocore ``apigatewaymanagementapi``, rest-json, signing name
``execute-api``): PostToConnection, GetConnection, DeleteConnection.

A stage's endpoint is ``http://{host}:{port}/_api/{apiId}/{stage}``: the server strips that
prefix and names the API and stage in a header (see ``ApiGatewayV2Provider.is_connections_call``).
A call at the bare Nimbus endpoint (``/@connections/{id}``) acts on whichever API holds the
connection. Function roles need ``execute-api:ManageConnections`` on
``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/@connections/{id}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.apigatewayv2.connections import Connection, Gone
from nimbus.services.apigatewayv2.provider import CONNECTIONS_HEADER
from nimbus.services.apigatewayv2.ws_protocol import MESSAGE_LIMIT
from nimbus.services.base import Provider

Req = dict[str, Any]
_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


def _gone(connection_id: str) -> AwsError:
    return AwsError(
        "GoneException",
        f"The connection {connection_id} is gone: it closed or never existed.",
        410,
    )


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class ApiGatewayManagementApiProvider(Provider):
    service = "apigatewaymanagementapi"
    iam_prefix = "execute-api"
    access_denied_code = "ForbiddenException"
    access_denied_status = 403

    def iam_action(self, operation: str, req: Req) -> str:
        return "execute-api:ManageConnections"

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        connection_id = req.get("ConnectionId") or "*"
        api_stage = self._api_stage(ctx)
        if api_stage is None:
            conn = self._apis().connections.get(connection_id)
            api_stage = (conn.api_id, conn.stage) if conn is not None else ("*", "*")
        api_id, stage = api_stage
        method = _METHODS.get(operation, "*")
        return [
            f"arn:aws:execute-api:{ctx.region}:{ctx.account_id}:"
            f"{api_id}/{stage}/{method}/@connections/{connection_id}"
        ]

    def _apis(self) -> Any:
        return self.env.registry.get("apigatewayv2")

    def _api_stage(self, ctx: RequestContext) -> tuple[str, str] | None:
        named = ctx.headers.get(CONNECTIONS_HEADER)
        if not named:
            return None
        api_id, _, stage = named.partition("/")
        return api_id, stage

    def _connection(self, req: Req, ctx: RequestContext) -> Connection:
        connection_id = req["ConnectionId"]
        conn = self._apis().connections.get(connection_id)
        if conn is None:
            raise _gone(connection_id)
        api_stage = self._api_stage(ctx)
        if api_stage is not None and api_stage != (conn.api_id, conn.stage):
            raise _gone(connection_id)  # not a connection of this API stage
        return conn

    async def post_to_connection(self, req: Req, ctx: RequestContext) -> dict[str, Any]:
        data = req.get("Data") or b""
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MESSAGE_LIMIT:
            raise AwsError(
                "PayloadTooLargeException",
                f"The message is {len(data)} bytes; a WebSocket message is at most "
                f"{MESSAGE_LIMIT} bytes (128 KB). Split it into several posts.",
                413,
            )
        conn = self._connection(req, ctx)
        try:
            await conn.post(data)
        except Gone:
            raise _gone(conn.connection_id) from None
        return {}

    def get_connection(self, req: Req, ctx: RequestContext) -> dict[str, Any]:
        conn = self._connection(req, ctx)
        return {
            "ConnectedAt": _at(conn.connected_at),
            "Identity": {"SourceIp": conn.source_ip, "UserAgent": conn.user_agent},
            "LastActiveAt": _at(conn.last_active),
        }

    async def delete_connection(self, req: Req, ctx: RequestContext) -> dict[str, Any]:
        conn = self._connection(req, ctx)
        await conn.close(1000, "")
        ctx.status = 204
        return {}
