"""AWS::ApiGatewayV2::Api/Route/Integration/Stage/Authorizer/Deployment/RouteResponse/
IntegrationResponse via the API Gateway v2 provider (HTTP and WebSocket APIs)."""

from __future__ import annotations

import json
from typing import Any

from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    changed,
)

_API_FIELDS = (
    "Name",
    "ProtocolType",
    "Description",
    "CorsConfiguration",
    "Version",
    "RouteSelectionExpression",
    "ApiKeySelectionExpression",
    "DisableExecuteApiEndpoint",
    "Target",
    "RouteKey",
    "CredentialsArn",
)


class Api(Handler):
    """An HTTP API, from an OpenAPI ``Body`` (what SAM's HttpApi emits) or from fields."""

    type = "AWS::ApiGatewayV2::Api"

    def _attributes(self, d: Deployment, api_id: str) -> dict[str, Any]:
        provider = d.provider("apigatewayv2")
        endpoint = provider.get_api({"ApiId": api_id}, None)["ApiEndpoint"]
        return {"ApiId": api_id, "ApiEndpoint": endpoint}

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        if props.get("Body") is not None:
            out = await d.call("apigatewayv2", "import_api", {"Body": self._body(props)})
            api_id = out["ApiId"]
            if props.get("CorsConfiguration") or props.get("Description"):
                await d.call(
                    "apigatewayv2",
                    "update_api",
                    {
                        "ApiId": api_id,
                        "CorsConfiguration": props.get("CorsConfiguration"),
                        "Description": props.get("Description"),
                    },
                )
        else:
            req = {k: props.get(k) for k in _API_FIELDS}
            req["Name"] = req["Name"] or d.generated_name(logical_id, 128)
            req["Tags"] = props.get("Tags")
            api_id = (await d.call("apigatewayv2", "create_api", req))["ApiId"]
        return Applied(api_id, self._attributes(d, api_id))

    def _body(self, props: dict[str, Any]) -> str:
        body = props["Body"]
        return body if isinstance(body, str) else json.dumps(body)

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if (props.get("Body") is None) != (old.get("Body") is None):
            raise Replace()
        if props.get("Body") is not None:
            if changed(props, old, "Body"):
                await d.call(
                    "apigatewayv2",
                    "reimport_api",
                    {"ApiId": physical_id, "Body": self._body(props)},
                )
            if props.get("CorsConfiguration") or props.get("Description"):
                await d.call(
                    "apigatewayv2",
                    "update_api",
                    {
                        "ApiId": physical_id,
                        "CorsConfiguration": props.get("CorsConfiguration"),
                        "Description": props.get("Description"),
                    },
                )
        else:
            fields = {k: props.get(k) for k in _API_FIELDS if k not in ("Target", "RouteKey")}
            await d.call("apigatewayv2", "update_api", {"ApiId": physical_id, **fields})
        return Applied(physical_id, self._attributes(d, physical_id))

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("apigatewayv2", "delete_api", {"ApiId": physical_id})


class _Child(Handler):
    """Routes, integrations, stages, authorizers: ``create_x``/``update_x``/``delete_x``."""

    kind: str  # route | integration | stage | authorizer
    id_field: str  # RouteId | IntegrationId | StageName | AuthorizerId
    fixed: tuple[str, ...] = ("ApiId",)

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        out = await d.call("apigatewayv2", f"create_{self.kind}", self._request(props))
        return Applied(str(out[self.id_field]), {})

    def _request(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k not in ("ApiMappings",)}

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, *self.fixed):
            raise Replace()
        req = {k: v for k, v in self._request(props).items() if k not in self.fixed}
        await d.call(
            "apigatewayv2", f"update_{self.kind}", {**req, **self._ids(props, physical_id)}
        )
        return Applied(physical_id, {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("apigatewayv2", f"delete_{self.kind}", self._ids(props, physical_id))

    def _ids(self, props: dict[str, Any], physical_id: str) -> dict[str, Any]:
        return {"ApiId": props["ApiId"], self.id_field: physical_id}


class Route(_Child):
    type, kind, id_field = "AWS::ApiGatewayV2::Route", "route", "RouteId"


class Integration(_Child):
    type, kind, id_field = "AWS::ApiGatewayV2::Integration", "integration", "IntegrationId"


class Stage(_Child):
    type, kind, id_field = "AWS::ApiGatewayV2::Stage", "stage", "StageName"
    fixed = ("ApiId", "StageName")

    def _request(self, props: dict[str, Any]) -> dict[str, Any]:
        # Why: the boto3 shape has no DeploymentId requirement for auto-deployed stages, and
        # AccessLogSettings/Tags are accepted as-is; drop what the API has no member for.
        return {k: v for k, v in props.items() if k not in ("AccessPolicyId",)}


class Authorizer(_Child):
    type, kind, id_field = "AWS::ApiGatewayV2::Authorizer", "authorizer", "AuthorizerId"


class _Response(_Child):
    """Route and integration responses live under a parent route or integration."""

    parent: str  # RouteId | IntegrationId

    def _ids(self, props: dict[str, Any], physical_id: str) -> dict[str, Any]:
        return {
            "ApiId": props["ApiId"],
            self.parent: props[self.parent],
            self.id_field: physical_id,
        }


class RouteResponse(_Response):
    type, kind, id_field = "AWS::ApiGatewayV2::RouteResponse", "route_response", "RouteResponseId"
    parent, fixed = "RouteId", ("ApiId", "RouteId")


class IntegrationResponse(_Response):
    type = "AWS::ApiGatewayV2::IntegrationResponse"
    kind, id_field = "integration_response", "IntegrationResponseId"
    parent, fixed = "IntegrationId", ("ApiId", "IntegrationId")


class ApiDeployment(Handler):
    """A deployment record; routes are live without one, but stages may name it."""

    type = "AWS::ApiGatewayV2::Deployment"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        out = await d.call("apigatewayv2", "create_deployment", dict(props))
        return Applied(out["DeploymentId"], {"DeploymentId": out["DeploymentId"]})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call(
            "apigatewayv2",
            "delete_deployment",
            {"ApiId": props["ApiId"], "DeploymentId": physical_id},
        )


HANDLERS: list[Handler] = [
    Api(),
    Route(),
    Integration(),
    Stage(),
    Authorizer(),
    RouteResponse(),
    IntegrationResponse(),
    ApiDeployment(),
]
