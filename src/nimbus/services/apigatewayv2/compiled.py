"""One API's configuration, compiled for the data plane and cached until the next write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nimbus.services.apigatewayv2.jwt import SECRET_TAG
from nimbus.services.apigatewayv2.routing import RouteTable
from nimbus.services.apigatewayv2.store import ApiStore
from nimbus.services.apigatewayv2.throttle import TokenBucket, limits


@dataclass(slots=True)
class CompiledApi:
    api: dict[str, Any]
    routes: RouteTable
    integrations: dict[str, dict[str, Any]]
    stages: dict[str, dict[str, Any]]
    authorizers: dict[str, dict[str, Any]]
    cors: dict[str, Any] | None
    jwt_secret: str | None
    # (stage, route key) -> bucket, or None when the route is not throttled.
    buckets: dict[tuple[str, str], TokenBucket | None] = field(default_factory=dict)
    # WebSocket APIs: route key -> route, and the ids of routes with a route response.
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    two_way: frozenset[str] = frozenset()

    @property
    def websocket(self) -> bool:
        return self.api.get("ProtocolType") == "WEBSOCKET"

    def bucket(self, stage: dict[str, Any], route_key: str) -> TokenBucket | None:
        key = (stage["StageName"], route_key)
        if key not in self.buckets:
            found = limits(stage, route_key)
            self.buckets[key] = TokenBucket.full(*found) if found else None
        return self.buckets[key]

    def stage_for(self, path: str) -> tuple[dict[str, Any], str, str] | None:
        """(stage, path below the stage, stage prefix) for a request path; a named stage wins
        when the first segment names it, otherwise ``$default`` serves from the root."""
        first, _, _rest = path[1:].partition("/")
        stage = self.stages.get(first) if first and first != "$default" else None
        if stage is not None:
            below = path[len(first) + 1 :] or "/"
            return stage, below, "/" + first
        default = self.stages.get("$default")
        if default is None:
            return None
        return default, path or "/", ""


def compile_api(store: ApiStore, api_id: str) -> CompiledApi | None:
    api = store.get_api(api_id)
    if api is None:
        return None
    routes = store.list_children(api_id, "route")
    websocket = api.get("ProtocolType") == "WEBSOCKET"
    responses = store.list_children(api_id, "routeresponse") if websocket else []
    return CompiledApi(
        api=api,
        routes=RouteTable([] if websocket else routes),
        integrations={i["IntegrationId"]: i for i in store.list_children(api_id, "integration")},
        stages={s["StageName"]: s for s in store.list_children(api_id, "stage")},
        authorizers={a["AuthorizerId"]: a for a in store.list_children(api_id, "authorizer")},
        cors=api.get("CorsConfiguration") or None,
        jwt_secret=(api.get("Tags") or {}).get(SECRET_TAG),
        by_key={r["RouteKey"]: r for r in routes} if websocket else {},
        two_way=frozenset(r["RouteId"] for r in responses),
    )
