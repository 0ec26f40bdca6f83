"""AWS Lambda operations (botocore model ``lambda`` 2015-03-31) over the engine and runtime."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.lambda_.async_invoke import AsyncInvoker
from nimbus.services.lambda_.code import invalid
from nimbus.services.lambda_.engine import LambdaEngine
from nimbus.services.lambda_.permissions import PermissionsMixin
from nimbus.services.lambda_.provider_versions import VersionsMixin
from nimbus.services.lambda_.runtime import InvokeResult

__all__ = ["InvokeResult", "LambdaProvider"]

Req = dict[str, Any]
Out = dict[str, Any]
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction",
            "GetFunctionConfiguration": "GetFunctionConfiguration"}  # fmt: skip


def too_large(size: int, limit: int) -> AwsError:
    return AwsError(
        "RequestTooLargeException",
        f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        413,
        extra={"Type": "User"},
    )


class LambdaProvider(PermissionsMixin, VersionsMixin, Provider):
    service = "lambda"
    iam_prefix = "lambda"
    access_denied_status = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = LambdaEngine(
            env.data_dir, env.region, env.account_id, env.registry, env.base_url
        )
        self.invoker = AsyncInvoker(self.engine)
        self._started = False
        self._ensure_started()

    def _ensure_started(self) -> None:
        """Background delivery starts with the first request (providers are built lazily)."""
        if self._started:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._started = True
        self.invoker.start()

    def close(self) -> None:
        self.invoker.stop()
        self.engine.close()

    def iam_action(self, operation: str, req: Req) -> str:
        return f"lambda:{_ACTIONS.get(operation, operation)}"

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        name = req.get("FunctionName")
        if not name:
            return ["*"]
        base, qualifier = self.engine.split_name(name)
        qualifier = req.get("Qualifier") or qualifier
        # A qualified call is authorized against the qualified ARN, as on AWS: a policy on
        # function:NAME does not reach function:NAME:alias (function:NAME* does).
        return [self.engine.arn(base) + (f":{qualifier}" if qualifier else "")]

    # -- functions ----------------------------------------------------------------------------
    async def _requirements(self, name: str, code_dir: str | Path) -> str | None:
        """Install the code's requirements.txt (in a thread: pip is slow) -> its folder."""
        if not self.engine.has_requirements(code_dir):
            return None
        return await asyncio.to_thread(self.engine.install_requirements, name, code_dir)

    async def create_function(self, req: Req, ctx: RequestContext) -> Out:
        self._ensure_started()
        name, _ = self.engine.check_create(req)
        staged = self.engine.stage(name, req.get("Code") or {})
        installed = await self._requirements(name, staged[2])
        rec = self.engine.create(req, staged, installed)
        if req.get("Publish"):
            rec = self.engine.versions.publish({"FunctionName": rec.name})
        ctx.status = 201
        return self.engine.configuration(rec)

    async def create_function_from_folder(self, name: str, folder: str | Path, *, handler: str,
                                          role: str, runtime: str = "python3.11",
                                          timeout: int = 3, memory_size: int = 128,
                                          environment: dict[str, str] | None = None,
                                          description: str = "",
                                          layers: list[str] | None = None) -> Out:  # fmt: skip
        """For the SAM deployer: a function (created or updated) running a local folder in place."""
        self._ensure_started()
        cfg: dict[str, Any] = {"Handler": handler, "Role": role, "Runtime": runtime,
                               "Timeout": timeout, "MemorySize": memory_size,
                               "Description": description, "Layers": layers}  # fmt: skip
        if environment is not None:
            cfg["Environment"] = {"Variables": environment}
        installed = await self._requirements(name, Path(folder).resolve())
        rec = self.engine.create_from_folder(name, folder, cfg, installed)
        return self.engine.configuration(rec)

    def get_function(self, req: Req, ctx: RequestContext) -> Out:
        self._ensure_started()
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        out: Out = {
            "Configuration": self.engine.configuration(rec),
            "Code": {"RepositoryType": "S3", "Location": f"file://{rec.code_path}"},
            "Tags": rec.tags,
        }
        if rec.concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": rec.concurrency}
        return out

    def get_function_configuration(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        return self.engine.configuration(rec)

    def list_functions(self, req: Req, ctx: RequestContext) -> Out:
        self._ensure_started()
        limit = req.get("MaxItems") or 50
        if not 1 <= limit <= 10000:
            raise invalid("MaxItems must be between 1 and 10000.")
        marker = req.get("Marker") or ""
        after = base64.urlsafe_b64decode(marker.encode()).decode() if marker else ""
        recs = self.engine.store.list(after, limit + 1)
        page = recs[:limit]
        if req.get("FunctionVersion") == "ALL":  # each function's published versions too
            page = [v for r in page for v in (r, *self.engine.versions.all(r))]
        out: Out = {"Functions": [self.engine.configuration(r) for r in page]}
        if len(recs) > limit:
            out["NextMarker"] = base64.urlsafe_b64encode(recs[limit - 1].name.encode()).decode()
        return out

    async def update_function_code(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.unqualified(req["FunctionName"])
        staged = self.engine.stage(rec.name, req)
        installed = await self._requirements(rec.name, staged[2])
        rec = self.engine.update_code(req, staged, installed)
        if req.get("Publish"):
            rec = self.engine.versions.publish({"FunctionName": rec.name})
        return self.engine.configuration(rec)

    def update_function_configuration(self, req: Req, ctx: RequestContext) -> Out:
        return self.engine.configuration(self.engine.update_config(req))

    def delete_function(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete(req["FunctionName"], req.get("Qualifier"))
        ctx.status = 204
        return {}

    # -- concurrency --------------------------------------------------------------------------
    def put_function_concurrency(self, req: Req, ctx: RequestContext) -> Out:
        value = req["ReservedConcurrentExecutions"]
        rec = self.engine.set_concurrency(req["FunctionName"], value)
        return {"ReservedConcurrentExecutions": rec.concurrency}

    def delete_function_concurrency(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.set_concurrency(req["FunctionName"], None)
        ctx.status = 204
        return {}

    def get_function_concurrency(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.function(req["FunctionName"])
        if rec.concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": rec.concurrency}

    # -- asynchronous invocation configuration ------------------------------------------------
    def put_function_event_invoke_config(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        config = {k: req[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                      "DestinationConfig") if req.get(k) is not None}  # fmt: skip
        for kind in ("OnSuccess", "OnFailure"):
            target = ((config.get("DestinationConfig") or {}).get(kind) or {}).get("Destination")
            if target and ":lambda:" in target:
                self.engine.function(target)  # a missing destination function is an error
        from nimbus.services.lambda_.engine import timestamp

        config["LastModified"] = timestamp()
        rec.event_config = config
        self.engine.save(rec)
        return self._event_config(rec)

    update_function_event_invoke_config = put_function_event_invoke_config

    def get_function_event_invoke_config(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        if rec.event_config is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"The function {self.engine.arn(rec.name)} doesn't have an EventInvokeConfig",
                404,
            )
        return self._event_config(rec)

    def delete_function_event_invoke_config(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        rec.event_config = None
        self.engine.save(rec)
        ctx.status = 204
        return {}

    def _event_config(self, rec: Any) -> Out:
        cfg = dict(rec.event_config or {})
        from datetime import datetime

        modified = cfg.pop("LastModified", None)
        out: Out = {"FunctionArn": f"{self.engine.arn(rec.name)}:$LATEST", **cfg}
        if modified:
            out["LastModified"] = datetime.strptime(modified, "%Y-%m-%dT%H:%M:%S.%f%z")
        out.setdefault("DestinationConfig", {})
        return out

    # -- invoke -------------------------------------------------------------------------------
    async def invoke(self, req: Req, ctx: RequestContext) -> Out:
        kind = req.get("InvocationType") or "RequestResponse"
        payload = req.get("Payload") or b""
        client_context = None
        if req.get("ClientContext"):
            try:
                client_context = json.loads(base64.b64decode(req["ClientContext"]))
            except ValueError:
                raise invalid(
                    "Client context must be a valid Base64-encoded JSON object."
                ) from None
        result = await self.invoke_function(
            req["FunctionName"], payload, invocation_type=kind, qualifier=req.get("Qualifier"),
            want_tail=req.get("LogType") == "Tail", client_context=client_context,
            request_id=ctx.request_id,
        )  # fmt: skip
        ctx.status = result.status_code
        out: Out = {"StatusCode": result.status_code, "Payload": result.payload}
        if kind == "RequestResponse":
            out["ExecutedVersion"] = result.executed_version
        if result.function_error:
            out["FunctionError"] = result.function_error
        if result.log_tail is not None:
            out["LogResult"] = result.log_tail
        return out

    async def invoke_async(self, req: Req, ctx: RequestContext) -> Out:
        body = req.get("InvokeArgs")
        data = body if isinstance(body, bytes) else await _read_all(body)
        await self.invoke_function(req["FunctionName"], data, invocation_type="Event")
        ctx.status = 202
        return {"Status": 202}

    async def invoke_function(self, name_or_arn: str, payload: bytes, *,
                              invocation_type: str = "RequestResponse",
                              qualifier: str | None = None, want_tail: bool = False,
                              client_context: Any = None,
                              request_id: str | None = None) -> InvokeResult:  # fmt: skip
        """The in-process entry point (API Gateway, S3 triggers, the wire front)."""
        self._ensure_started()
        rec = self.engine.function(name_or_arn, qualifier, route=True)
        if invocation_type == "DryRun":
            return InvokeResult(204, b"")
        request_id = request_id or str(uuid.uuid4())
        if invocation_type == "Event":
            if len(payload) > ASYNC_PAYLOAD_LIMIT:
                raise too_large(len(payload), ASYNC_PAYLOAD_LIMIT)
            _check_json(payload)
            self.invoker.enqueue(rec.pool_key, payload, request_id)  # name[:version]
            return InvokeResult(202, b"")
        if invocation_type != "RequestResponse":
            raise invalid(f"Unsupported InvocationType {invocation_type}.")
        if len(payload) > SYNC_PAYLOAD_LIMIT:
            raise too_large(len(payload), SYNC_PAYLOAD_LIMIT)
        _check_json(payload)
        qual = qualifier or self.engine.split_name(name_or_arn)[1]
        arn = self.engine.arn(rec.name) + (f":{qual}" if qual else "")
        result = await self.engine.runtime.invoke(
            rec, arn, payload, request_id=request_id,
            want_tail=want_tail, client_context=client_context,
        )  # fmt: skip
        result.executed_version = rec.version
        return result

    def failed_events(self, function: str | None = None) -> list[dict[str, Any]]:
        """Recorded OnFailure destination records and dead letters (Nimbus extension)."""
        return self.engine.store.failures(function)


def _check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        json.loads(payload)
    except ValueError:
        raise AwsError(
            "InvalidRequestContentException",
            "Could not parse request body into json: Could not parse payload into json",
            400,
            extra={"Type": "User"},
        ) from None


async def _read_all(body: Any) -> bytes:
    if body is None:
        return b""
    chunks = [chunk async for chunk in body]
    return b"".join(chunks)
