"""API Gateway v2 control plane for HTTP and WebSocket APIs: APIs, routes, integrations,
stages, authorizers, deployments and tags. Child resources live in ``children.py`` and
``ws_responses.py``; the data planes in ``dataplane.py`` (HTTP) and ``websocket.py``."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from nimbus.aws.auth import read_signature
from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.services.apigatewayv2 import openapi, ws_rules
from nimbus.services.apigatewayv2.children import ChildOperations, bad_request, not_found, page
from nimbus.services.apigatewayv2.connections import Connections
from nimbus.services.apigatewayv2.dataplane import (
    HOST_MARKER,
    PATH_PREFIX,
    DataPlane,
    LambdaInvoker,
)
from nimbus.services.apigatewayv2.store import ApiStore, new_id
from nimbus.services.apigatewayv2.websocket import WebSocketPlane
from nimbus.services.apigatewayv2.ws_responses import ResponseOperations
from nimbus.services.base import Provider, ServiceEnv

# The header that tells the @connections provider which API and stage a call came through.
CONNECTIONS_HEADER = "x-nimbus-execute-api"

_API_FIELDS = (
    "ApiKeySelectionExpression",
    "CorsConfiguration",
    "Description",
    "DisableExecuteApiEndpoint",
    "DisableSchemaValidation",
    "IpAddressType",
    "Name",
    "RouteSelectionExpression",
    "Version",
)


class ApiGatewayV2Provider(ChildOperations, ResponseOperations, Provider):
    service: ClassVar[str] = "apigatewayv2"
    iam_prefix: ClassVar[str] = "apigateway"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.store = ApiStore(env.data_dir / "apis.db")
        self.data_plane = DataPlane(self.store, env.account_id, self._lambdas)
        self.connections = Connections()
        self.websockets = WebSocketPlane(
            self.data_plane, self.connections, env.region, lambda: env.registry.get("iam")
        )

    def _lambdas(self) -> LambdaInvoker | None:
        registry = self.env.registry
        return registry.get("lambda") if "lambda" in registry else None

    async def handle_execute_api(self, request: HttpRequest) -> HttpResponse:
        return await self.data_plane.handle(request)

    async def handle_websocket(self, scope: Any, receive: Any, send: Any) -> None:
        await self.websockets.serve(scope, receive, send)

    async def drain_websockets(self, timeout: float) -> None:
        await self.websockets.drain(timeout)

    def is_connections_call(self, request: HttpRequest) -> bool:
        """``/_api/{apiId}/{stage}/@connections/{id}`` (or the ``execute-api`` host form) of a
        WebSocket API, SigV4-signed: rewritten in place to the @connections API's own path."""
        if request.path.startswith(PATH_PREFIX):
            api_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
        elif HOST_MARKER in request.host:
            api_id, rest = request.host.split(HOST_MARKER, 1)[0], request.path.lstrip("/")
        else:
            return False
        stage, _, tail = rest.partition("/")
        if not tail.startswith("@connections") or not self.data_plane.websocket(api_id):
            return False
        try:
            signed = read_signature(request) is not None
        except AwsError:
            signed = False
        if not signed:
            return False  # the data plane answers 403 Missing Authentication Token
        request.path = "/" + tail
        request.headers[CONNECTIONS_HEADER] = f"{api_id}/{stage}"
        return True

    def close(self) -> None:
        self.connections.close_all()
        self.store.close()

    # -- helpers -----------------------------------------------------------------------------
    def endpoint(self, api_id: str) -> str:
        return f"{self.env.base_url}/_api/{api_id}"

    def ws_endpoint(self, api_id: str) -> str:
        """A WebSocket API's ``wss://`` endpoint, served locally over ws://."""
        return "ws://" + self.endpoint(api_id).split("://", 1)[1]

    def _api_out(self, doc: dict[str, Any]) -> dict[str, Any]:
        websocket = doc.get("ProtocolType") == "WEBSOCKET"
        api_id = doc["ApiId"]
        return {
            **doc,
            "ApiEndpoint": self.ws_endpoint(api_id) if websocket else self.endpoint(api_id),
        }

    def api_doc(self, api_id: str) -> dict[str, Any]:
        doc = self.store.get_api(api_id)
        if doc is None:
            raise not_found(f"Invalid API identifier specified {self.env.account_id}:{api_id}")
        return doc

    def _new_api_id(self) -> str:
        while True:
            api_id = new_id(10)
            if self.store.get_api(api_id) is None:
                return api_id

    def _create_api_doc(self, req: dict[str, Any]) -> dict[str, Any]:
        protocol = req.get("ProtocolType", "HTTP")
        if protocol not in ("HTTP", "WEBSOCKET"):
            raise bad_request(f"ProtocolType {protocol} is not valid; use HTTP or WEBSOCKET.")
        if protocol == "WEBSOCKET":
            ws_rules.check_selection_expression(req.get("RouteSelectionExpression"))
            for name in ("CorsConfiguration", "Target", "RouteKey", "CredentialsArn"):
                if req.get(name) is not None:
                    raise bad_request(f"{name} is supported for HTTP APIs only.")
        doc: dict[str, Any] = {
            "ApiId": self._new_api_id(),
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "CreatedDate": time.time(),
            "DisableExecuteApiEndpoint": False,
            "ProtocolType": protocol,
            "RouteSelectionExpression": "$request.method $request.path",
            "Tags": dict(req.get("Tags") or {}),
        }
        for name in _API_FIELDS:
            if req.get(name) is not None:
                doc[name] = req[name]
        return doc

    # -- APIs ----------------------------------------------------------------------------------
    def create_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._create_api_doc(req)
        if req.get("Target") is None and req.get("RouteKey") is not None:
            raise bad_request("RouteKey is only allowed together with Target (quick create).")
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        if req.get("Target"):
            self._quick_create(doc["ApiId"], req["Target"], req.get("RouteKey") or "$default")
        ctx.status = 201
        return self._api_out(doc)

    def _quick_create(self, api_id: str, target: str, route_key: str) -> None:
        """Quick create: one AWS_PROXY integration, one route, an auto-deployed $default stage."""
        integration = self.create_integration(
            {
                "ApiId": api_id,
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": target,
                "PayloadFormatVersion": "2.0",
            },
            None,
        )
        self.create_route(
            {
                "ApiId": api_id,
                "RouteKey": route_key,
                "Target": f"integrations/{integration['IntegrationId']}",
            },
            None,
        )
        self.create_stage({"ApiId": api_id, "StageName": "$default", "AutoDeploy": True}, None)
        for kind in ("integration", "route", "stage"):
            for child in self.store.list_children(api_id, kind):
                child["ApiGatewayManaged"] = True
                self.store.put_child(api_id, kind, openapi.child_id(kind, child), child)

    def get_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._api_out(self.api_doc(req["ApiId"]))

    def get_apis(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return page([self._api_out(d) for d in self.store.list_apis()], req)

    def update_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self.api_doc(req["ApiId"])
        for name in _API_FIELDS:
            if req.get(name) is not None:
                doc[name] = req[name]
        if doc.get("ProtocolType") == "WEBSOCKET":
            ws_rules.check_selection_expression(doc.get("RouteSelectionExpression"))
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        return self._api_out(doc)

    def delete_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        self.store.delete_api(req["ApiId"])
        ctx.status = 204
        return {}

    def delete_cors_configuration(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        doc = self.api_doc(req["ApiId"])
        doc.pop("CorsConfiguration", None)
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        ctx.status = 204
        return {}

    # -- OpenAPI import --------------------------------------------------------------------------
    def import_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        spec = openapi.load(req["Body"])
        plan = openapi.plan(spec, fail_on_warnings=bool(req.get("FailOnWarnings")))
        doc = self._create_api_doc({"Name": plan.name, "ProtocolType": "HTTP"})
        doc.update(plan.api_fields)
        if plan.warnings:
            doc["Warnings"] = plan.warnings
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        self.store.replace_children(doc["ApiId"], (), plan.children)
        ctx.status = 201
        return self._api_out(doc)

    def reimport_api(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self.api_doc(req["ApiId"])
        spec = openapi.load(req["Body"])
        plan = openapi.plan(spec, fail_on_warnings=bool(req.get("FailOnWarnings")))
        doc["Name"] = plan.name
        doc.pop("CorsConfiguration", None)
        doc.update(plan.api_fields)
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        # Stages survive a reimport; routes, integrations and authorizers are replaced.
        self.store.replace_children(
            doc["ApiId"], ("route", "integration", "authorizer"), plan.children
        )
        return self._api_out(doc)

    # -- tags ------------------------------------------------------------------------------------
    def _tagged(self, arn: str) -> dict[str, Any]:
        # arn:aws:apigateway:{region}::/apis/{apiId}
        api_id = arn.rsplit("/apis/", 1)[-1].split("/", 1)[0]
        if "/apis/" not in arn or not api_id:
            raise bad_request(f"Nimbus can tag HTTP APIs only, not {arn}.")
        return self.api_doc(api_id)

    def tag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._tagged(req["ResourceArn"])
        doc["Tags"] = {**(doc.get("Tags") or {}), **(req.get("Tags") or {})}
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        ctx.status = 201
        return {}

    def untag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._tagged(req["ResourceArn"])
        for key in req.get("TagKeys") or []:
            (doc.get("Tags") or {}).pop(key, None)
        self.store.put_api(doc["ApiId"], doc, doc["CreatedDate"])
        ctx.status = 204
        return {}

    def get_tags(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"Tags": self._tagged(req["ResourceArn"]).get("Tags") or {}}
