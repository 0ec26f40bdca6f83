"""Amazon Bedrock Runtime (botocore ``bedrock-runtime``, rest-json): Converse, ConverseStream,
InvokeModel, InvokeModelWithResponseStream, CountTokens, ApplyGuardrail.

Model ids go through the router (backends/router.py) to the backend the bedrock-models config
names, the built-in offline model by default. Every invocation is metered: AWS/Bedrock
metrics and, when configured, model invocation logs (telemetry.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.base import json_bytes
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.bedrock import converse, runtime_streams, tokens
from nimbus.services.bedrock.backends import config as backend_config
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.backends.router import ModelRouter
from nimbus.services.bedrock.bodies import TEXT_CODECS, titan
from nimbus.services.bedrock.bodies.common import TextCodec, load_json
from nimbus.services.bedrock.guardrail_checks import GuardrailCheck, apply_masks
from nimbus.services.bedrock.guardrail_inputs import (
    BodyConfig,
    converse_contents,
    invoke_contents,
    pop_body_config,
)
from nimbus.services.bedrock.metering import Meter
from nimbus.services.bedrock.resolve import Target, guardrail_arn, is_prompt, model_arns, resolve
from nimbus.services.bedrock.telemetry import Telemetry

log = logging.getLogger("nimbus.bedrock")

Req = dict[str, Any]
Out = dict[str, Any]

_ACTIONS = {
    "Converse": "bedrock:InvokeModel",
    "InvokeModel": "bedrock:InvokeModel",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
}
# Converse members a prompt resource defines itself (AWS rejects them beside a prompt ARN).
_PROMPT_OWNED = ("additionalModelRequestFields", "inferenceConfig", "system", "toolConfig")
_NOT_CHAT = (
    "This action doesn't support the model that you provided. Try again with a "
    "supported text or chat model."
)


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


class BedrockRuntimeProvider(Provider):
    service = "bedrock-runtime"
    iam_prefix = "bedrock"
    access_denied_status = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.config_error: str | None = None
        try:
            routes = backend_config.load(env.registry.data_dir)
            default = backend_config.default_route()
        except backend_config.ConfigError as err:
            routes, self.config_error = [], str(err)
            default = backend_config.ModelRoute(explicit=False)
            log.error("%s", err)
        self.router = ModelRouter(routes, default=default)
        self.telemetry = Telemetry(env.registry, self._logging_config)

    def _logging_config(self) -> dict[str, Any] | None:
        return self.env.registry.get("bedrock").logging_config

    # -- IAM ----------------------------------------------------------------------------------
    def iam_checks(
        self, operation: str, req: Req, ctx: RequestContext
    ) -> list[tuple[str, list[str]]]:
        region, account = ctx.region, self.env.account_id
        if operation == "ApplyGuardrail":
            arn = guardrail_arn(req.get("guardrailIdentifier", "*"), region, account)
            return [("bedrock:ApplyGuardrail", [arn])]
        model_id = req.get("modelId") or "*"
        if is_prompt(model_id):
            checks = [("bedrock:RenderPrompt", [model_id])]  # the model: once rendered
        else:
            action = _ACTIONS.get(operation, f"bedrock:{operation}")
            checks = [(action, model_arns(model_id, region, account))]
        guard = (req.get("guardrailConfig") or {}).get("guardrailIdentifier") or req.get(
            "guardrailIdentifier"
        )
        if guard:
            checks.append(("bedrock:ApplyGuardrail", [guardrail_arn(guard, region, account)]))
        return checks

    def _authorize(self, ctx: RequestContext, action: str, resources: list[str]) -> None:
        if ctx.principal.admin:
            return
        conditions = {"aws:RequestedRegion": ctx.region, "aws:SourceIp": ctx.source_ip}
        denial = self.env.registry.get("iam").authorize(
            ctx.principal, action, resources, conditions
        )
        if denial:
            raise AwsError("AccessDeniedException", denial, 403)

    # -- shared steps ---------------------------------------------------------------------------
    async def _metered(
        self, ctx: RequestContext, operation: str, req: Req, run: Callable[[Meter], Awaitable[Out]]
    ) -> Out:
        meter = Meter(self.telemetry, ctx, operation, str(req.get("modelId", "")))
        try:
            return await run(meter)
        except AwsError as err:
            meter.failed(err)
            raise

    def _target(self, model_id: str) -> Target:
        if self.config_error:
            raise AwsError(
                "ServiceUnavailableException",
                f"Nimbus's bedrock-models config is invalid: {self.config_error}",
                503,
            )
        return resolve(model_id, self.router)

    def _render_prompt(self, req: Req, ctx: RequestContext, action: str) -> Req:
        """A prompt resource's members in place of its ARN; the request's messages follow the
        prompt's. (promptVariables without a prompt ARN are ignored, as AWS documents.)"""
        model_id = req["modelId"]
        if not is_prompt(model_id):
            return req
        given = [name for name in _PROMPT_OWNED if req.get(name)]
        if given:
            raise _invalid(
                f"With a prompt from Prompt management as modelId, leave out {', '.join(given)}: "
                "the prompt defines additionalModelRequestFields, inferenceConfig, system and "
                "toolConfig itself (change them with UpdatePrompt and CreatePromptVersion)."
            )
        rendered = self.env.registry.get("bedrock-agent").render_prompt(
            model_id, req.get("promptVariables") or {}
        )
        merged = {**req, **{k: rendered[k] for k in _PROMPT_OWNED if rendered.get(k)}}
        merged["modelId"] = rendered["modelId"]
        merged["messages"] = list(rendered.get("messages") or []) + list(req.get("messages") or [])
        self._authorize(ctx, action, model_arns(merged["modelId"], ctx.region, self.env.account_id))
        return merged

    def _guard(self, config: dict[str, Any] | None) -> GuardrailCheck | None:
        return GuardrailCheck(self.env.registry.get("bedrock"), config) if config else None

    def _chat_setup(
        self, req: Req, ctx: RequestContext, meter: Meter, action: str
    ) -> tuple[Target, ChatRequest, GuardrailCheck | None, ChatResult | None]:
        """Prompt rendering, the model, the checked request and the input guardrail's verdict
        (a finished answer when it blocked the input)."""
        req = self._render_prompt(req, ctx, action)
        target = self._target(req["modelId"])
        meter.model_id = target.requested
        if target.model.is_embedding:
            raise _invalid(_NOT_CHAT)
        logged = {
            k: req[k]
            for k in (
                "messages",
                "system",
                "inferenceConfig",
                "guardrailConfig",
                "additionalModelRequestFields",
            )
            if req.get(k)
        }
        meter.input_body = lambda: logged
        request = converse.chat_request(target.model_id, target.model, req)
        guard = self._guard(req.get("guardrailConfig"))
        canned = None
        if guard is not None:
            contents = converse_contents(req.get("messages") or [], req.get("system"))
            canned = self._check_input(guard, request, contents)
        return target, request, guard, canned

    @staticmethod
    def _check_input(
        guard: GuardrailCheck, request: ChatRequest, contents: list[dict[str, Any]]
    ) -> ChatResult | None:
        blocked, masked = guard.check_input(contents)
        if blocked is None:
            apply_masks(request.messages, request.system, masked)
            return None
        tokens_in = tokens.count_messages(request.messages, request.system)
        return ChatResult(blocked, "guardrail_intervened", tokens_in, 0)

    # -- Converse ----------------------------------------------------------------------------------
    async def converse(self, req: Req, ctx: RequestContext) -> Out:
        async def run(meter: Meter) -> Out:
            target, request, guard, result = self._chat_setup(req, ctx, meter, _ACTIONS["Converse"])
            if result is None:
                result, served = await self.router.chat(target.requested, request)
                ctx.response_headers["x-nimbus-backend-us"] = str(served.backend_us)
                if guard is not None:
                    replacement = guard.check_output(result.text)
                    if replacement is not None:
                        result = replace(
                            result, text=replacement, stop_reason="guardrail_intervened"
                        )
            out = converse.output(result, meter.elapsed_ms())
            trace = guard.trace_dict() if guard is not None else None
            if trace:
                out["trace"] = trace
            meter.done(result.input_tokens, result.output_tokens, lambda: out)
            return out

        return await self._metered(ctx, "Converse", req, run)

    async def converse_stream(self, req: Req, ctx: RequestContext) -> Out:
        async def run(meter: Meter) -> Out:
            action = _ACTIONS["ConverseStream"]
            target, request, guard, canned = self._chat_setup(req, ctx, meter, action)
            stream = None
            if canned is None:
                stream = await self.router.stream(target.requested, request)
                ctx.response_headers["x-nimbus-first-token-ns"] = str(stream.served.first_token_ns)
            mode = str((req.get("guardrailConfig") or {}).get("streamProcessingMode", "sync"))
            buffered = guard is not None and mode.lower() != "async"
            events = runtime_streams.converse_events(meter, stream, guard, canned, buffered)
            return {"stream": events}

        return await self._metered(ctx, "ConverseStream", req, run)

    # -- InvokeModel ------------------------------------------------------------------------------
    def _invoke_setup(
        self, req: Req, meter: Meter
    ) -> tuple[Target, dict[str, Any], GuardrailCheck | None, BodyConfig]:
        """The model, the body (without its guardrail config), the guardrail and its config."""
        model_id = req["modelId"]
        if is_prompt(model_id):
            raise _invalid("Nimbus renders prompt ARNs in Converse and ConverseStream; call those.")
        target = self._target(model_id)
        meter.model_id = target.requested
        content_type = (req.get("contentType") or "application/json").split(";")[0].strip()
        if content_type not in ("application/json", "*/*"):
            raise _invalid(
                f"The content type {content_type} is not supported; send application/json."
            )
        body = load_json(req.get("body") or b"")
        meter.input_body = lambda: body
        guard = self._header_guard(req)
        return target, body, guard, pop_body_config(body, guard is not None)

    def _codec(self, target: Target) -> TextCodec:
        codec = TEXT_CODECS.get(target.model.family)
        if codec is None:
            raise _invalid(
                f"Nimbus has no InvokeModel body format for {target.model_id}; use Converse."
            )
        return codec()

    def _header_guard(self, req: Req) -> GuardrailCheck | None:
        identifier = req.get("guardrailIdentifier")
        if not identifier:
            return None
        trace = str(req.get("trace") or "disabled").lower()  # ENABLED, ENABLED_FULL, DISABLED
        return self._guard(
            {
                "guardrailIdentifier": identifier,
                "guardrailVersion": req.get("guardrailVersion"),
                "trace": trace,
            }
        )

    def _usage_headers(
        self, ctx: RequestContext, meter: Meter, tokens_in: int, tokens_out: int
    ) -> None:
        ctx.response_headers["X-Amzn-Bedrock-Invocation-Latency"] = str(meter.elapsed_ms())
        ctx.response_headers["X-Amzn-Bedrock-Input-Token-Count"] = str(tokens_in)
        ctx.response_headers["X-Amzn-Bedrock-Output-Token-Count"] = str(tokens_out)

    async def invoke_model(self, req: Req, ctx: RequestContext) -> Out:
        async def run(meter: Meter) -> Out:
            target, body, guard, config = self._invoke_setup(req, meter)
            if target.model.is_embedding:
                out = await self._embed(target, body, ctx, meter)
            else:
                out = await self._invoke_text(target, body, guard, config, ctx, meter)
            return {"body": json_bytes(out), "contentType": "application/json"}

        return await self._metered(ctx, "InvokeModel", req, run)

    async def _embed(
        self, target: Target, body: dict[str, Any], ctx: RequestContext, meter: Meter
    ) -> Out:
        request = titan.parse_embed(body, target.model)
        result, served = await self.router.embed(
            target.requested, request.text, request.dimensions, request.normalize
        )
        out = titan.embed_response(request, result, v2=len(target.model.embedding_dimensions) > 1)
        ctx.response_headers["x-nimbus-backend-us"] = str(served.backend_us)
        if result.model:
            ctx.response_headers["x-nimbus-embedding-model"] = result.model
        self._usage_headers(ctx, meter, result.input_tokens, 0)
        meter.done(result.input_tokens, 0, lambda: out)
        return out

    def _invoke_input(
        self, guard: GuardrailCheck | None, config: BodyConfig, request: ChatRequest
    ) -> ChatResult | None:
        if guard is None:
            return None
        contents = invoke_contents(request.messages, request.system, config)
        return self._check_input(guard, request, contents)

    async def _invoke_text(
        self,
        target: Target,
        body: dict[str, Any],
        guard: GuardrailCheck | None,
        config: BodyConfig,
        ctx: RequestContext,
        meter: Meter,
    ) -> Out:
        codec = self._codec(target)
        request = codec.parse(body, target.model)
        blocked = self._invoke_input(guard, config, request)
        result = blocked
        if result is None:
            result, served = await self.router.chat(target.requested, request)
            ctx.response_headers["x-nimbus-backend-us"] = str(served.backend_us)
            replacement = guard.check_output(result.text) if guard is not None else None
            if replacement is not None:
                result = replace(result, text=replacement)
        # A blocked input gets the short body AWS answers with (Anthropic: no id/usage/stop).
        short = getattr(codec, "blocked_response", None) if blocked is not None else None
        out = short(result.text) if short else codec.response(result, target.model, ctx.request_id)
        if guard is not None:
            out.update(guard.invoke_fields())
        self._usage_headers(ctx, meter, result.input_tokens, result.output_tokens)
        meter.done(result.input_tokens, result.output_tokens, lambda: out)
        return out

    async def invoke_model_with_response_stream(self, req: Req, ctx: RequestContext) -> Out:
        async def run(meter: Meter) -> Out:
            target, body, guard, config = self._invoke_setup(req, meter)
            if not target.model.streaming:
                raise _invalid(f"The model {target.model_id} does not support response streaming.")
            codec = self._codec(target)
            request = codec.parse(body, target.model)
            canned = self._invoke_input(guard, config, request)
            stream = None
            if canned is None:
                stream = await self.router.stream(target.requested, request)
                ctx.response_headers["x-nimbus-first-token-ns"] = str(stream.served.first_token_ns)
            tokens_in = tokens.count_messages(request.messages, request.system)
            chunks = runtime_streams.invoke_chunks(
                meter, codec, target.model, stream, tokens_in, guard, canned, config.mode
            )
            return {"body": chunks, "contentType": "application/json"}

        return await self._metered(ctx, "InvokeModelWithResponseStream", req, run)

    # -- tokens and guardrails --------------------------------------------------------------------
    def count_tokens(self, req: Req, ctx: RequestContext) -> Out:
        target = self._target(req["modelId"])
        given = req.get("input") or {}
        if "converse" in given:
            chat = given["converse"]
            messages = converse.messages_of(chat.get("messages") or [], target.model)
            return {
                "inputTokens": tokens.count_messages(
                    messages, converse.system_of(chat.get("system"))
                )
            }
        if "invokeModel" in given and target.model.is_embedding:
            body = load_json(given["invokeModel"].get("body") or b"")
            return {"inputTokens": tokens.count(titan.parse_embed(body, target.model).text)}
        if "invokeModel" in given:
            request = self._codec(target).parse(
                load_json(given["invokeModel"].get("body") or b""), target.model
            )
            return {"inputTokens": tokens.count_messages(request.messages, request.system)}
        raise _invalid("input needs either converse or invokeModel.")

    def apply_guardrail(self, req: Req, ctx: RequestContext) -> Out:
        return self.env.registry.get("bedrock").evaluate_guardrail(
            req["guardrailIdentifier"],
            req["guardrailVersion"],
            req["source"],
            req["content"],
            req.get("outputScope") or "INTERVENTIONS",
        )
