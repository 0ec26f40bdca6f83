"""Route responses and integration responses (WebSocket APIs).

A route with ``RouteResponseSelectionExpression`` and a route response is two-way: the
integration's answer goes back to the client. Integration responses are kept as configuration
(Lambda proxy integrations pass the function's answer through unchanged).
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.apigatewayv2.children import bad_request, conflict, not_found, page
from nimbus.services.apigatewayv2.store import ApiStore, new_id

_ROUTE_RESPONSE_FIELDS = (
    "ModelSelectionExpression",
    "ResponseModels",
    "ResponseParameters",
    "RouteResponseKey",
)
_INTEGRATION_RESPONSE_FIELDS = (
    "ContentHandlingStrategy",
    "IntegrationResponseKey",
    "ResponseParameters",
    "ResponseTemplates",
    "TemplateSelectionExpression",
)
# kind -> (parent kind, parent id member, own id member, label, fields)
_KINDS = {
    "routeresponse": (
        "route",
        "RouteId",
        "RouteResponseId",
        "Route response",
        _ROUTE_RESPONSE_FIELDS,
    ),
    "integrationresponse": (
        "integration",
        "IntegrationId",
        "IntegrationResponseId",
        "Integration response",
        _INTEGRATION_RESPONSE_FIELDS,
    ),
}


def _out(doc: dict[str, Any], parent_member: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != parent_member}


class ResponseOperations:
    store: ApiStore

    def websocket(self, api_id: str) -> bool:
        raise NotImplementedError

    def _child(self, api_id: str, kind: str, child_id: str, label: str) -> dict[str, Any]:
        raise NotImplementedError

    def _key_member(self, kind: str) -> str:
        return "RouteResponseKey" if kind == "routeresponse" else "IntegrationResponseKey"

    def _responses(self, api_id: str, kind: str, parent_id: str) -> list[dict[str, Any]]:
        parent_member = _KINDS[kind][1]
        docs = self.store.list_children(api_id, kind)
        return [d for d in docs if d.get(parent_member) == parent_id]

    def _response(self, req: dict[str, Any], kind: str) -> dict[str, Any]:
        parent_kind, parent_member, own_member, label, _ = _KINDS[kind]
        self._child(req["ApiId"], parent_kind, req[parent_member], parent_kind.capitalize())
        doc = self.store.get_child(req["ApiId"], kind, req[own_member])
        if doc is None or doc.get(parent_member) != req[parent_member]:
            raise not_found(f"Invalid {label} identifier specified {req[own_member]}")
        return doc

    def _check_response(self, req: dict[str, Any], kind: str, doc: dict[str, Any]) -> None:
        parent_member, own_member = _KINDS[kind][1], _KINDS[kind][2]
        key_member = self._key_member(kind)
        if not self.websocket(req["ApiId"]):
            raise bad_request(f"{_KINDS[kind][3]}s are supported for WebSocket APIs only.")
        if not doc.get(key_member):
            raise bad_request(f"{key_member} is required, e.g. $default.")
        for other in self._responses(req["ApiId"], kind, req[parent_member]):
            if other[key_member] == doc[key_member] and other[own_member] != doc[own_member]:
                raise conflict(f"{_KINDS[kind][3]} with key {doc[key_member]} already exists")

    def _create_response(self, req: dict[str, Any], ctx: RequestContext, kind: str) -> dict:
        parent_kind, parent_member, own_member, _, fields = _KINDS[kind]
        self._child(req["ApiId"], parent_kind, req[parent_member], parent_kind.capitalize())
        doc: dict[str, Any] = {own_member: new_id(), parent_member: req[parent_member]}
        doc.update({name: req[name] for name in fields if req.get(name) is not None})
        self._check_response(req, kind, doc)
        self.store.put_child(req["ApiId"], kind, doc[own_member], doc)
        ctx.status = 201
        return _out(doc, parent_member)

    def _update_response(self, req: dict[str, Any], kind: str) -> dict[str, Any]:
        doc = self._response(req, kind)
        doc.update({name: req[name] for name in _KINDS[kind][4] if req.get(name) is not None})
        self._check_response(req, kind, doc)
        self.store.put_child(req["ApiId"], kind, doc[_KINDS[kind][2]], doc)
        return _out(doc, _KINDS[kind][1])

    def _delete_response(self, req: dict[str, Any], ctx: RequestContext, kind: str) -> dict:
        doc = self._response(req, kind)
        self.store.delete_child(req["ApiId"], kind, doc[_KINDS[kind][2]])
        ctx.status = 204
        return {}

    def _list_responses(self, req: dict[str, Any], kind: str) -> dict[str, Any]:
        parent_kind, parent_member = _KINDS[kind][0], _KINDS[kind][1]
        self._child(req["ApiId"], parent_kind, req[parent_member], parent_kind.capitalize())
        docs = self._responses(req["ApiId"], kind, req[parent_member])
        return page([_out(d, parent_member) for d in docs], req)

    # -- route responses ---------------------------------------------------------------------
    def create_route_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._create_response(req, ctx, "routeresponse")

    def get_route_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return _out(self._response(req, "routeresponse"), "RouteId")

    def get_route_responses(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._list_responses(req, "routeresponse")

    def update_route_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._update_response(req, "routeresponse")

    def delete_route_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._delete_response(req, ctx, "routeresponse")

    # -- integration responses -----------------------------------------------------------------
    def create_integration_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._create_response(req, ctx, "integrationresponse")

    def get_integration_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return _out(self._response(req, "integrationresponse"), "IntegrationId")

    def get_integration_responses(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._list_responses(req, "integrationresponse")

    def update_integration_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._update_response(req, "integrationresponse")

    def delete_integration_response(self, req: dict[str, Any], ctx: RequestContext) -> dict:
        return self._delete_response(req, ctx, "integrationresponse")
