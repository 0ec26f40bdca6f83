"""Routes, integrations, stages, authorizers and deployments of an HTTP API."""

from __future__ import annotations

import time
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.apigatewayv2 import ws_rules
from nimbus.services.apigatewayv2.routing import parse_route_key
from nimbus.services.apigatewayv2.store import ApiStore, new_id

_ROUTE_FIELDS = (
    "ApiKeyRequired",
    "AuthorizationScopes",
    "AuthorizationType",
    "AuthorizerId",
    "ModelSelectionExpression",
    "OperationName",
    "RequestModels",
    "RequestParameters",
    "RouteKey",
    "RouteResponseSelectionExpression",
    "Target",
)
_INTEGRATION_FIELDS = (
    "ConnectionType",
    "ContentHandlingStrategy",
    "CredentialsArn",
    "Description",
    "IntegrationMethod",
    "IntegrationSubtype",
    "IntegrationType",
    "IntegrationUri",
    "PassthroughBehavior",
    "PayloadFormatVersion",
    "RequestParameters",
    "RequestTemplates",
    "ResponseParameters",
    "TemplateSelectionExpression",
    "TimeoutInMillis",
)
_STAGE_FIELDS = (
    "AccessLogSettings",
    "AutoDeploy",
    "DefaultRouteSettings",
    "DeploymentId",
    "Description",
    "RouteSettings",
    "StageVariables",
)
_AUTHORIZER_FIELDS = (
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
)


def bad_request(text: str) -> AwsError:
    return AwsError("BadRequestException", text, 400)


def not_found(text: str) -> AwsError:
    return AwsError("NotFoundException", text, 404)


def conflict(text: str) -> AwsError:
    return AwsError("ConflictException", text, 409)


def _status(ctx: RequestContext | None, status: int) -> None:
    if ctx is not None:
        ctx.status = status


def _copy(doc: dict[str, Any], req: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if req.get(name) is not None:
            doc[name] = req[name]


def page(items: list[dict[str, Any]], req: dict[str, Any]) -> dict[str, Any]:
    """MaxResults / NextToken over a full listing (the token is an offset)."""
    start = int(req["NextToken"]) if str(req.get("NextToken") or "").isdigit() else 0
    size = int(req["MaxResults"]) if str(req.get("MaxResults") or "").isdigit() else 0
    end = start + size if size > 0 else len(items)
    out: dict[str, Any] = {"Items": items[start:end]}
    if end < len(items):
        out["NextToken"] = str(end)
    return out


class ChildOperations:
    store: ApiStore

    def api_doc(self, api_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def websocket(self, api_id: str) -> bool:
        return self.api_doc(api_id).get("ProtocolType") == "WEBSOCKET"

    def _child(self, api_id: str, kind: str, child_id: str, label: str) -> dict[str, Any]:
        self.api_doc(api_id)
        doc = self.store.get_child(api_id, kind, child_id)
        if doc is None:
            raise not_found(f"Invalid {label} identifier specified {child_id}")
        return doc

    def _delete(self, req: dict[str, Any], ctx: RequestContext, kind: str, key: str) -> dict:
        self._child(req["ApiId"], kind, req[key], kind.capitalize())
        self.store.delete_child(req["ApiId"], kind, req[key])
        _status(ctx, 204)
        return {}

    # -- routes ------------------------------------------------------------------------------
    def _check_route(self, api_id: str, doc: dict[str, Any], route_id: str) -> None:
        if self.websocket(api_id):
            ws_rules.check_route(doc)
        elif parse_route_key(doc["RouteKey"]) is None:
            raise bad_request(
                f"Invalid RouteKey '{doc['RouteKey']}': use '$default' or 'METHOD /path' with "
                "METHOD one of GET POST PUT DELETE PATCH HEAD OPTIONS ANY and a greedy "
                "{name+} only as the last segment."
            )
        for other in self.store.list_children(api_id, "route"):
            if other["RouteKey"] == doc["RouteKey"] and other["RouteId"] != route_id:
                raise conflict(f"Route with key {doc['RouteKey']} already exists for this API")
        auth = doc.get("AuthorizationType", "NONE")
        if auth not in ("NONE", "JWT", "CUSTOM", "AWS_IAM"):
            raise bad_request(f"AuthorizationType {auth} is not valid for HTTP APIs.")
        if auth in ("JWT", "CUSTOM"):
            authorizer_id = doc.get("AuthorizerId")
            if not authorizer_id or not self.store.get_child(api_id, "authorizer", authorizer_id):
                raise bad_request(f"AuthorizationType {auth} needs a valid AuthorizerId.")
        target = doc.get("Target")
        if target is not None:
            integration_id = target.removeprefix("integrations/")
            if not target.startswith("integrations/") or not self.store.get_child(
                api_id, "integration", integration_id
            ):
                raise bad_request(f"Invalid Target '{target}': use integrations/{{id}}.")

    def create_route(self, req: dict[str, Any], ctx: RequestContext | None) -> dict[str, Any]:
        api_id = req["ApiId"]
        self.api_doc(api_id)
        doc: dict[str, Any] = {
            "ApiKeyRequired": False,
            "AuthorizationType": "NONE",
            "RouteId": new_id(),
        }
        _copy(doc, req, _ROUTE_FIELDS)
        self._check_route(api_id, doc, doc["RouteId"])
        self.store.put_child(api_id, "route", doc["RouteId"], doc)
        _status(ctx, 201)
        return doc

    def get_route(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._child(req["ApiId"], "route", req["RouteId"], "Route")

    def get_routes(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        return page(self.store.list_children(req["ApiId"], "route"), req)

    def update_route(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._child(req["ApiId"], "route", req["RouteId"], "Route")
        _copy(doc, req, _ROUTE_FIELDS)
        self._check_route(req["ApiId"], doc, doc["RouteId"])
        self.store.put_child(req["ApiId"], "route", doc["RouteId"], doc)
        return doc

    def delete_route(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._delete(req, ctx, "route", "RouteId")

    # -- integrations ---------------------------------------------------------------------------
    def _check_integration(self, api_id: str, doc: dict[str, Any]) -> None:
        if self.websocket(api_id):
            ws_rules.check_integration(doc)
            return
        kind = doc.get("IntegrationType")
        if kind not in ("AWS_PROXY", "HTTP_PROXY"):
            raise bad_request(f"IntegrationType {kind} is not supported for HTTP APIs.")
        if not doc.get("IntegrationUri"):
            raise bad_request("IntegrationUri is required for an AWS_PROXY or HTTP_PROXY.")
        if doc.get("PayloadFormatVersion") not in ("1.0", "2.0"):
            raise bad_request("PayloadFormatVersion must be 1.0 or 2.0.")
        timeout = doc.get("TimeoutInMillis", 30000)
        if not 50 <= timeout <= 30000:
            raise bad_request("TimeoutInMillis must be between 50 and 30000.")

    def create_integration(self, req: dict[str, Any], ctx: RequestContext | None) -> dict[str, Any]:
        api_id = req["ApiId"]
        self.api_doc(api_id)
        lambda_ = req.get("IntegrationType") == "AWS_PROXY"
        websocket = self.websocket(api_id)
        doc: dict[str, Any] = {
            "ConnectionType": "INTERNET",
            "IntegrationId": new_id(),
            "IntegrationMethod": "POST" if lambda_ else req.get("IntegrationMethod", "ANY"),
            "PayloadFormatVersion": "2.0" if lambda_ and not websocket else "1.0",
            "TimeoutInMillis": ws_rules.INTEGRATION_TIMEOUT_MS if websocket else 30000,
        }
        if websocket and not lambda_:
            doc.pop("IntegrationMethod")
        _copy(doc, req, _INTEGRATION_FIELDS)
        self._check_integration(api_id, doc)
        self.store.put_child(api_id, "integration", doc["IntegrationId"], doc)
        _status(ctx, 201)
        return doc

    def get_integration(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._child(req["ApiId"], "integration", req["IntegrationId"], "Integration")

    def get_integrations(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        return page(self.store.list_children(req["ApiId"], "integration"), req)

    def update_integration(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._child(req["ApiId"], "integration", req["IntegrationId"], "Integration")
        _copy(doc, req, _INTEGRATION_FIELDS)
        self._check_integration(req["ApiId"], doc)
        self.store.put_child(req["ApiId"], "integration", doc["IntegrationId"], doc)
        return doc

    def delete_integration(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._delete(req, ctx, "integration", "IntegrationId")

    # -- stages ---------------------------------------------------------------------------------
    def create_stage(self, req: dict[str, Any], ctx: RequestContext | None) -> dict[str, Any]:
        api_id = req["ApiId"]
        self.api_doc(api_id)
        name = req["StageName"]
        if self.store.get_child(api_id, "stage", name) is not None:
            raise conflict(f"Stage already exist: {name}")
        if name != "$default" and (
            not name or not name.replace("-", "").replace("_", "").isalnum()
        ):
            raise bad_request(f"Stage name '{name}' must be $default or alphanumerics, - and _.")
        now = time.time()
        doc: dict[str, Any] = {
            "AutoDeploy": False,
            "CreatedDate": now,
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            "LastUpdatedDate": now,
            "RouteSettings": {},
            "StageName": name,
            "StageVariables": {},
            "Tags": dict(req.get("Tags") or {}),
        }
        _copy(doc, req, _STAGE_FIELDS)
        self.store.put_child(api_id, "stage", name, doc)
        _status(ctx, 201)
        return doc

    def get_stage(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._child(req["ApiId"], "stage", req["StageName"], "Stage")

    def get_stages(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        return page(self.store.list_children(req["ApiId"], "stage"), req)

    def update_stage(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._child(req["ApiId"], "stage", req["StageName"], "Stage")
        _copy(doc, req, _STAGE_FIELDS)
        doc["LastUpdatedDate"] = time.time()
        self.store.put_child(req["ApiId"], "stage", doc["StageName"], doc)
        return doc

    def delete_stage(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._delete(req, ctx, "stage", "StageName")

    def delete_route_settings(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        doc = self._child(req["ApiId"], "stage", req["StageName"], "Stage")
        if req["RouteKey"] not in (doc.get("RouteSettings") or {}):
            raise not_found(f"Unable to find route settings for {req['RouteKey']}")
        del doc["RouteSettings"][req["RouteKey"]]
        self.store.put_child(req["ApiId"], "stage", doc["StageName"], doc)
        _status(ctx, 204)
        return {}

    # -- authorizers ----------------------------------------------------------------------------
    def _check_authorizer(self, api_id: str, doc: dict[str, Any]) -> None:
        if self.websocket(api_id):
            ws_rules.check_authorizer(doc)
            return
        kind = doc.get("AuthorizerType")
        if kind == "JWT":
            config = doc.get("JwtConfiguration") or {}
            if not config.get("Issuer"):
                raise bad_request("A JWT authorizer needs JwtConfiguration.Issuer.")
        elif kind == "REQUEST":
            if not doc.get("AuthorizerUri"):
                raise bad_request("A REQUEST authorizer needs AuthorizerUri.")
            version = doc.get("AuthorizerPayloadFormatVersion")
            if version not in ("1.0", "2.0"):
                raise bad_request("AuthorizerPayloadFormatVersion must be 1.0 or 2.0.")
            if doc.get("EnableSimpleResponses") and version != "2.0":
                raise bad_request("EnableSimpleResponses needs payload format version 2.0.")
        else:
            raise bad_request(f"AuthorizerType {kind} is not valid for HTTP APIs (JWT, REQUEST).")

    def create_authorizer(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        api_id = req["ApiId"]
        self.api_doc(api_id)
        doc: dict[str, Any] = {"AuthorizerId": new_id()}
        _copy(doc, req, _AUTHORIZER_FIELDS)
        self._check_authorizer(api_id, doc)
        self.store.put_child(api_id, "authorizer", doc["AuthorizerId"], doc)
        _status(ctx, 201)
        return doc

    def get_authorizer(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._child(req["ApiId"], "authorizer", req["AuthorizerId"], "Authorizer")

    def get_authorizers(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        return page(self.store.list_children(req["ApiId"], "authorizer"), req)

    def update_authorizer(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        doc = self._child(req["ApiId"], "authorizer", req["AuthorizerId"], "Authorizer")
        _copy(doc, req, _AUTHORIZER_FIELDS)
        self._check_authorizer(req["ApiId"], doc)
        self.store.put_child(req["ApiId"], "authorizer", doc["AuthorizerId"], doc)
        return doc

    def delete_authorizer(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._delete(req, ctx, "authorizer", "AuthorizerId")

    # -- deployments (routes are always live; deployments are records) ---------------------------
    def create_deployment(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        api_id = req["ApiId"]
        self.api_doc(api_id)
        doc = {
            "AutoDeployed": False,
            "CreatedDate": time.time(),
            "DeploymentId": new_id(),
            "DeploymentStatus": "DEPLOYED",
        }
        if req.get("Description"):
            doc["Description"] = req["Description"]
        stage_name = req.get("StageName")
        if stage_name:
            stage = self._child(api_id, "stage", stage_name, "Stage")
            stage["DeploymentId"] = doc["DeploymentId"]
            self.store.put_child(api_id, "stage", stage_name, stage)
        self.store.put_child(api_id, "deployment", doc["DeploymentId"], doc)
        _status(ctx, 201)
        return doc

    def get_deployment(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._child(req["ApiId"], "deployment", req["DeploymentId"], "Deployment")

    def get_deployments(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.api_doc(req["ApiId"])
        return page(self.store.list_children(req["ApiId"], "deployment"), req)

    def delete_deployment(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self._delete(req, ctx, "deployment", "DeploymentId")
