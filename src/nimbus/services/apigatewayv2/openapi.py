"""ImportApi / ReimportApi: an OpenAPI 3 document with API Gateway extensions, as
aws-sam-translator emits them, turned into routes, integrations and authorizers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nimbus.services.apigatewayv2.children import bad_request
from nimbus.services.apigatewayv2.routing import parse_route_key
from nimbus.services.apigatewayv2.store import new_id

_METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
_ANY = "x-amazon-apigateway-any-method"
_INTEGRATION = "x-amazon-apigateway-integration"
_CORS_KEYS = {
    "allowOrigins": "AllowOrigins",
    "allowMethods": "AllowMethods",
    "allowHeaders": "AllowHeaders",
    "exposeHeaders": "ExposeHeaders",
    "maxAge": "MaxAge",
    "allowCredentials": "AllowCredentials",
}


@dataclass(slots=True)
class ImportPlan:
    name: str
    api_fields: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    children: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def child_id(kind: str, doc: dict[str, Any]) -> str:
    return doc["StageName"] if kind == "stage" else doc[f"{kind.capitalize()}Id"]


def load(body: Any) -> dict[str, Any]:
    """The document from JSON or YAML text (or an already parsed dict from CloudFormation)."""
    if isinstance(body, dict):
        return body
    text = body.decode() if isinstance(body, bytes) else str(body)
    try:
        spec = json.loads(text)
    except ValueError:
        try:
            import yaml  # optional: YAML bodies need PyYAML
        except ImportError:
            raise bad_request("The OpenAPI body is not JSON (YAML needs PyYAML).") from None
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise bad_request(f"The OpenAPI body is neither JSON nor YAML: {err}") from None
    if not isinstance(spec, dict) or "paths" not in spec:
        raise bad_request("The OpenAPI body needs an object with 'paths'.")
    return spec


def plan(spec: dict[str, Any], *, fail_on_warnings: bool = False) -> ImportPlan:
    info = spec.get("info") or {}
    result = ImportPlan(name=str(info.get("title") or "imported-api"))
    if info.get("description"):
        result.api_fields["Description"] = str(info["description"])
    if info.get("version"):
        result.api_fields["Version"] = str(info["version"])
    cors = spec.get("x-amazon-apigateway-cors")
    if isinstance(cors, dict):
        result.api_fields["CorsConfiguration"] = {
            _CORS_KEYS[k]: v for k, v in cors.items() if k in _CORS_KEYS
        }
    authorizers = _authorizers(spec, result)
    integrations: dict[tuple[Any, ...], str] = {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for key, operation in item.items():
            method = "ANY" if key == _ANY else key.upper() if key in _METHODS else None
            if method is None or not isinstance(operation, dict):
                continue
            route_key = "$default" if path == "$default" else f"{method} {path}"
            if parse_route_key(route_key) is None:
                result.warnings.append(f"Skipped invalid route {route_key}.")
                continue
            route: dict[str, Any] = {
                "ApiKeyRequired": False,
                "AuthorizationType": "NONE",
                "RouteId": new_id(),
                "RouteKey": route_key,
            }
            if operation.get("operationId"):
                route["OperationName"] = str(operation["operationId"])
            integration = operation.get(_INTEGRATION)
            if isinstance(integration, dict):
                integration_id = _integration(integration, integrations, result)
                if integration_id:
                    route["Target"] = f"integrations/{integration_id}"
            else:
                result.warnings.append(f"Route {route_key} has no {_INTEGRATION}.")
            _security(operation.get("security", spec.get("security")), authorizers, route)
            result.children.append(("route", route["RouteId"], route))
    if fail_on_warnings and result.warnings:
        raise bad_request("Warnings found during import: " + " ".join(result.warnings))
    return result


def _integration(
    spec: dict[str, Any], seen: dict[tuple[Any, ...], str], result: ImportPlan
) -> str | None:
    kind = str(spec.get("type", "aws_proxy")).upper()
    if kind not in ("AWS_PROXY", "HTTP_PROXY"):
        result.warnings.append(f"Integration type {kind} is not supported for HTTP APIs.")
        return None
    lambda_ = kind == "AWS_PROXY"
    doc: dict[str, Any] = {
        "ConnectionType": "INTERNET",
        "IntegrationMethod": str(spec.get("httpMethod") or ("POST" if lambda_ else "ANY")),
        "IntegrationType": kind,
        "IntegrationUri": str(spec.get("uri") or ""),
        "PayloadFormatVersion": str(spec.get("payloadFormatVersion") or "1.0"),
        "TimeoutInMillis": int(spec.get("timeoutInMillis") or 30000),
    }
    key = tuple(sorted(doc.items()))
    if key not in seen:
        doc["IntegrationId"] = seen[key] = new_id()
        result.children.append(("integration", doc["IntegrationId"], doc))
    return seen[key]


def _authorizers(spec: dict[str, Any], result: ImportPlan) -> dict[str, tuple[str, str]]:
    """securityScheme name -> (authorizer id, authorization type)."""
    found: dict[str, tuple[str, str]] = {}
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    for name, scheme in schemes.items():
        ext = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
        if not isinstance(ext, dict):
            continue
        kind = str(ext.get("type", "")).lower()
        source = ext.get("identitySource") or "$request.header.Authorization"
        sources = source if isinstance(source, list) else [s.strip() for s in source.split(",")]
        doc: dict[str, Any] = {"AuthorizerId": new_id(), "Name": name, "IdentitySource": sources}
        if kind == "jwt":
            config = ext.get("jwtConfiguration") or {}
            doc["AuthorizerType"] = "JWT"
            doc["JwtConfiguration"] = {
                "Issuer": config.get("issuer"),
                "Audience": list(config.get("audience") or []),
            }
            found[name] = (doc["AuthorizerId"], "JWT")
        elif kind == "request":
            doc["AuthorizerType"] = "REQUEST"
            doc["AuthorizerUri"] = str(ext.get("authorizerUri") or "")
            doc["AuthorizerPayloadFormatVersion"] = str(
                ext.get("authorizerPayloadFormatVersion") or "2.0"
            )
            doc["EnableSimpleResponses"] = bool(ext.get("enableSimpleResponses", False))
            if ext.get("authorizerResultTtlInSeconds") is not None:
                doc["AuthorizerResultTtlInSeconds"] = int(ext["authorizerResultTtlInSeconds"])
            found[name] = (doc["AuthorizerId"], "CUSTOM")
        else:
            result.warnings.append(f"Authorizer {name} of type {kind} is not supported.")
            continue
        result.children.append(("authorizer", doc["AuthorizerId"], doc))
    return found


def _security(
    security: Any, authorizers: dict[str, tuple[str, str]], route: dict[str, Any]
) -> None:
    if not isinstance(security, list):
        return
    for requirement in security:
        if not isinstance(requirement, dict):
            continue
        for name, scopes in requirement.items():
            if name in authorizers:
                route["AuthorizerId"], route["AuthorizationType"] = authorizers[name]
                if scopes:
                    route["AuthorizationScopes"] = list(scopes)
                return
