"""From an HTTP request to a provider method and back: service, operation, principal, IAM."""

from __future__ import annotations

import inspect
import itertools
import logging
import uuid
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel

from nimbus.aws.auth import Signature, read_signature
from nimbus.aws.context import Principal, RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import PROTOCOLS, WireProtocol
from nimbus.services.registry import PROVIDERS, ServiceRegistry

log = logging.getLogger("nimbus.dispatch")


class UnknownService(AwsError):
    """The request is signed for a service Nimbus has no provider for."""


class Dispatcher:
    def __init__(self, registry: ServiceRegistry) -> None:
        self.registry = registry
        session = botocore.session.get_session()
        self.models: dict[str, ServiceModel] = {
            name: session.get_service_model(name) for name in PROVIDERS
        }
        self._by_signing: dict[str, list[str]] = {}
        self._by_target: dict[str, str] = {}
        for name, model in self.models.items():
            self._by_signing.setdefault(model.signing_name, []).append(name)
            prefix = model.metadata.get("targetPrefix")
            if prefix:
                self._by_target[prefix] = name
        self._by_segment = _first_segments(self.models, self._by_signing)
        self._methods: dict[tuple[str, str], str] = {}
        # Request ids shaped like AWS's UUIDs: a random per-process prefix and a counter,
        # because uuid4() per request is a measurable share of a warm PutItem.
        self._id_prefix = str(uuid.uuid4())[:24]
        self._ids = itertools.count(1)
        self._admin = Principal(
            arn=f"arn:aws:iam::{registry.account_id}:root", account_id=registry.account_id
        )

    # -- service and protocol -------------------------------------------------------------
    def _service(self, request: HttpRequest, signature: Signature | None) -> str:
        target = request.headers.get("x-amz-target")
        if target:
            service = self._by_target.get(target.partition(".")[0])
            if service:
                return service
        if request.path.startswith("/service/") and "/operation/" in request.path:
            service = self._by_target.get(request.path.split("/")[2])
            if service:
                return service
        if signature is not None:
            candidates = self._by_signing.get(signature.service)
            if candidates and len(candidates) > 1:
                # bedrock, bedrock-runtime and bedrock-agent: REST APIs told apart by path.
                segment = request.path.split("/", 2)[1] if request.path.count("/") else ""
                by_path = self._by_segment.get((signature.service, segment))
                if by_path:
                    return by_path
                # One signing name, several APIs (sagemaker and sagemaker-runtime): a request
                # without X-Amz-Target belongs to the one whose protocol has no target header.
                rest = [c for c in candidates if not self.models[c].metadata.get("targetPrefix")]
                return rest[0] if rest else candidates[0]
            if candidates:
                return candidates[0]
            raise UnknownService(
                "UnrecognizedClientException",
                f"Nimbus does not offer the service '{signature.service}' yet.",
                400,
            )
        return "s3"  # unsigned requests: browsers using S3 (presigned URLs, public reads)

    def _fallback(self, request: HttpRequest) -> tuple[str, WireProtocol]:
        """An error's wire shape for a service Nimbus lacks: the client's protocol, guessed
        from the request (query forms, else JSON, which rest-json clients read too)."""
        if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            return "iam", PROTOCOLS["query"]
        return "dynamodb", PROTOCOLS["json"]

    def _protocol(self, model: ServiceModel, request: HttpRequest) -> WireProtocol:
        offered = model.metadata.get("protocols") or [model.protocol]
        if len(offered) > 1:
            if "smithy-protocol" in request.headers and "smithy-rpc-v2-cbor" in offered:
                return PROTOCOLS["smithy-rpc-v2-cbor"]
            if "x-amz-target" in request.headers and "json" in offered:
                return PROTOCOLS["json"]
            if "query" in offered:
                return PROTOCOLS["query"]
        return PROTOCOLS[offered[0]]

    # -- the request ----------------------------------------------------------------------
    async def handle(self, request: HttpRequest, base_url: str) -> HttpResponse:
        request_id = f"{self._id_prefix}{next(self._ids):012x}"
        service = "s3"
        protocol: WireProtocol = PROTOCOLS["rest-xml"]
        try:
            signature = read_signature(request)
            service = self._service(request, signature)
            model = self.models[service]
            protocol = self._protocol(model, request)
            op, found = await protocol.operation(model, request)
            try:
                params = await protocol.parse(op, request, found)
            except RecursionError:
                # json/cbor decoders and the shape walk recurse once per nesting level.
                raise AwsError(
                    "SerializationException", "The request body is nested too deeply.", 400
                ) from None
            principal = self._principal(signature)
            ctx = RequestContext(
                service=service,
                operation=op.name,
                region=(
                    signature.region if signature and signature.region else self.registry.region
                ),
                account_id=principal.account_id,
                request_id=request_id,
                principal=principal,
                base_url=base_url,
                headers=request.headers,
                source_ip=request.client_ip,
            )
            output = await self._call(service, op, params, ctx)
            return protocol.serialize(op, output or {}, ctx)
        except UnknownService as err:
            service, protocol = self._fallback(request)
            return protocol.error(self.models[service], err, request_id)
        except AwsError as err:
            return protocol.error(self.models[service], err, request_id)
        except Exception:
            log.exception("internal error in %s %s", request.method, request.path)
            err = AwsError(
                "InternalError",
                "Nimbus hit an internal error; see its log.",
                500,
                sender_fault=False,
            )
            return protocol.error(self.models[service], err, request_id)

    def _principal(self, signature: Signature | None) -> Principal:
        if signature is None or not signature.access_key:
            return self._admin
        principal = self.registry.get("iam").resolve_principal(signature.access_key)
        return principal or self._admin

    async def _call(
        self, service: str, op: OperationModel, params: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        provider = self.registry.get(service)
        key = (service, op.name)
        method_name = self._methods.get(key)
        if method_name is None:
            method_name = self._methods[key] = xform_name(op.name)
        method = getattr(provider, method_name, None)
        if method is None:
            raise AwsError(
                "UnsupportedOperation",
                f"Nimbus does not implement {service}:{op.name} yet.",
                400,
            )
        if not ctx.principal.admin and op.name not in provider.public_operations:
            self._authorize(provider, op, params, ctx)
        result = method(params, ctx)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _authorize(
        self, provider: Any, op: OperationModel, params: dict, ctx: RequestContext
    ) -> None:
        iam = self.registry.get("iam")
        # Global condition keys a policy may test (others come from the principal itself).
        conditions = {"aws:RequestedRegion": ctx.region, "aws:SourceIp": ctx.source_ip}
        for action, resources in provider.iam_checks(op.name, params, ctx):
            denial = iam.authorize(ctx.principal, action, resources, conditions)
            if denial:
                raise AwsError(provider.access_denied_code, denial, provider.access_denied_status)


def _first_segments(
    models: dict[str, ServiceModel], by_signing: dict[str, list[str]]
) -> dict[tuple[str, str], str]:
    """(signing name, first path segment) -> service, for REST APIs sharing a signing name."""
    found: dict[tuple[str, str], str] = {}
    for signing, names in by_signing.items():
        rest = [n for n in names if not models[n].metadata.get("targetPrefix")]
        if len(rest) < 2:
            continue
        for name in rest:
            model = models[name]
            for op in model.operation_names:
                uri = model.operation_model(op).http.get("requestUri", "/")
                segment = uri.split("?", 1)[0].split("/", 2)[1] if uri.count("/") else ""
                if segment and not segment.startswith("{"):
                    found.setdefault((signing, segment), name)
    return found
