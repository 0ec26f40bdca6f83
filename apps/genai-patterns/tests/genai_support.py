"""Helpers for the genai-patterns tests: the app's code on the path, and fakes passed to it.

(A module of its own, not conftest.py: ``from conftest import`` could find another conftest.)
The fakes follow the boto3 clients' method names and shapes; only what the app uses."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

APP = Path(__file__).resolve().parents[1]
REPO = APP.parents[1]
SRC = APP / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

import prompt_layer  # noqa: E402
import rest_generate  # noqa: E402
import ws_api  # noqa: E402
import ws_connections  # noqa: E402
import ws_dispatch  # noqa: E402
import ws_worker  # noqa: E402
from prompt_layer import templates  # noqa: E402

__all__ = ["prompt_layer", "rest_generate", "templates", "ws_api", "ws_connections",
           "ws_dispatch", "ws_worker"]  # fmt: skip


def load(name: str, path: Path) -> ModuleType:
    """A script loaded by path under a name of its own."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class FakeClientError(Exception):
    """What botocore raises: ``response["Error"]["Code"]``."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.response = {"Error": {"Code": code, "Message": message or code}}


# ---- bedrock-runtime --------------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    """A deterministic answer split into stream deltas: each word with its trailing space."""
    parts = text.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


class FakeStream:
    """ConverseStream's ``stream``: iterating yields events; may raise mid-way."""

    def __init__(self, events: list, fail_after: int | None = None, error: str = "",
                 delay: float = 0.0) -> None:  # fmt: skip
        self.events, self.fail_after, self.error = events, fail_after, error
        self.delay = delay
        self.closed = False
        self.read = 0

    def __iter__(self):
        for index, event in enumerate(self.events):
            if self.fail_after is not None and index == self.fail_after:
                raise FakeClientError(self.error or "modelStreamErrorException")
            if self.closed:
                return
            self.read += 1
            if self.delay and "contentBlockDelta" in event:
                time.sleep(self.delay)  # a model writing at a human-visible pace
            yield event

    def close(self) -> None:
        self.closed = True


class FakeRuntime:
    """bedrock-runtime: Converse/ConverseStream answer ``answer`` (or ``answer_for(prompt)``),
    errors queued per model id are raised first, in order; ApplyGuardrail masks e-mail addresses
    (ANONYMIZE) and blocks card numbers and the topic word ``stocks``."""

    def __init__(self, answer: str = "Xin chào! **Hello** from the fake model.",
                 errors: dict[str, list[str]] | None = None, stream_error_after: int | None = None,
                 guard_output: bool = True, stream_delay: float = 0.0) -> None:  # fmt: skip
        self.answer = answer
        self.errors = {k: list(v) for k, v in (errors or {}).items()}
        self.stream_error_after = stream_error_after
        self.guard_output = guard_output
        self.stream_delay = stream_delay
        self.calls: list[tuple[str, dict]] = []
        self.streams: list[FakeStream] = []

    def _maybe_fail(self, model: str) -> None:
        queue = self.errors.get(model)
        if queue:
            raise FakeClientError(queue.pop(0))

    def _text(self, kwargs: dict) -> str:
        return kwargs["messages"][-1]["content"][0]["text"]

    def converse(self, **kwargs) -> dict:
        self.calls.append(("converse", kwargs))
        self._maybe_fail(kwargs["modelId"])
        tokens_in, tokens_out = len(self._text(kwargs).split()), len(self.answer.split())
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": self.answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": tokens_in, "outputTokens": tokens_out,
                      "totalTokens": tokens_in + tokens_out},
            "metrics": {"latencyMs": 7},
        }  # fmt: skip

    def converse_stream(self, **kwargs) -> dict:
        self.calls.append(("converse_stream", kwargs))
        self._maybe_fail(kwargs["modelId"])
        tokens_in, tokens_out = len(self._text(kwargs).split()), len(self.answer.split())
        events: list[dict] = [{"messageStart": {"role": "assistant"}}]
        events += [{"contentBlockDelta": {"delta": {"text": w}, "contentBlockIndex": 0}}
                   for w in words_of(self.answer)]  # fmt: skip
        events += [
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": {"inputTokens": tokens_in, "outputTokens": tokens_out,
                                    "totalTokens": tokens_in + tokens_out},
                          "metrics": {"latencyMs": 9}}},
        ]  # fmt: skip
        stream = FakeStream(events, self.stream_error_after, delay=self.stream_delay)
        self.streams.append(stream)
        return {"stream": stream}

    def apply_guardrail(self, **kwargs) -> dict:
        self.calls.append(("apply_guardrail", kwargs))
        text = kwargs["content"][0]["text"]["text"]
        if kwargs["source"] == "OUTPUT" and not self.guard_output:
            return {"action": "NONE", "outputs": [], "assessments": [], "usage": {}}
        assessment: dict = {}
        if "4111 1111 1111 1111" in text:
            assessment["sensitiveInformationPolicy"] = {"piiEntities": [
                {"match": "4111 1111 1111 1111", "type": "CREDIT_DEBIT_CARD_NUMBER",
                 "action": "BLOCKED"}]}  # fmt: skip
        if "stocks" in text:
            assessment["topicPolicy"] = {
                "topics": [{"name": "Investment advice", "type": "DENY", "action": "BLOCKED"}]
            }
        if "@" in text and not assessment:
            assessment["sensitiveInformationPolicy"] = {
                "piiEntities": [{"match": "x", "type": "EMAIL", "action": "ANONYMIZED"}]
            }
            masked = " ".join("{EMAIL}" if "@" in w else w for w in text.split(" "))
            return {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": masked}],
                    "assessments": [assessment], "usage": {}}  # fmt: skip
        if assessment:
            message = "Blocked input." if kwargs["source"] == "INPUT" else "Blocked output."
            return {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": message}],
                    "assessments": [assessment], "usage": {}}  # fmt: skip
        return {"action": "NONE", "outputs": [], "assessments": [], "usage": {}}


# ---- bedrock-agent ------------------------------------------------------------------------------


def template_doc() -> dict:
    """template.yaml as plain data (intrinsics as {"Fn::...": ...} dicts)."""
    import json

    from cfnlint.decode.cfn_yaml import load as load_cfn_yaml

    return json.loads(json.dumps(load_cfn_yaml(str(APP / "template.yaml"))))


def camel(value: object) -> object:
    """CloudFormation's PascalCase properties as the API's camelCase members."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def template_prompts() -> dict[str, dict]:
    """template name -> the AWS::Bedrock::Prompt properties template.yaml declares."""
    out = {}
    for resource in template_doc()["Resources"].values():
        if resource["Type"] == "AWS::Bedrock::Prompt":
            variant = resource["Properties"]["Variants"][0]
            meta = {m["Key"]: m["Value"] for m in variant.get("Metadata", [])}
            out[meta["template"]] = resource["Properties"]
    return out


class FakeAgent:
    """bedrock-agent GetPrompt over the prompts template.yaml declares, each at ``version``."""

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.calls: list[dict] = []
        self.prompts = template_prompts()
        self.ids = {name: f"PROMPT{i:04d}" for i, name in enumerate(self.prompts)}

    def arn(self, name: str, version: str | None = None) -> str:
        base = f"arn:aws:bedrock:us-east-1:123456789012:prompt/{self.ids[name]}"
        return f"{base}:{version}" if version else base

    def get_prompt(self, promptIdentifier: str, promptVersion: str = "DRAFT") -> dict:
        self.calls.append({"promptIdentifier": promptIdentifier, "promptVersion": promptVersion})
        name = next(n for n, i in self.ids.items() if promptIdentifier.endswith(i))
        props = self.prompts[name]
        return {
            "name": f"genai-patterns-{name}",
            "id": self.ids[name],
            "arn": self.arn(name, promptVersion),
            "version": promptVersion,
            "defaultVariant": props["DefaultVariant"],
            "variants": camel(props["Variants"]),
        }


# ---- DynamoDB, Lambda, API Gateway management ---------------------------------------------------


class MemoryDynamo:
    """GetItem/PutItem/DeleteItem/Query over tables held in memory (low-level item shapes)."""

    def __init__(self, keys: dict[str, tuple[str, ...]] | None = None) -> None:
        self.keys = keys or {}
        self.tables: dict[str, dict[tuple, dict]] = {}
        self.fail: Exception | None = None

    def _key(self, table: str, item: dict) -> tuple:
        known = ("pk", "sk", "key", "connectionId")
        names = self.keys.get(table) or tuple(sorted(k for k in known if k in item))
        return tuple(item[n]["S"] for n in names)

    def put_item(self, TableName: str, Item: dict) -> dict:
        if self.fail:
            raise self.fail
        self.tables.setdefault(TableName, {})[self._key(TableName, Item)] = Item
        return {}

    def get_item(self, TableName: str, Key: dict) -> dict:
        item = self.tables.get(TableName, {}).get(self._key(TableName, Key))
        return {"Item": item} if item else {}

    def delete_item(self, TableName: str, Key: dict) -> dict:
        self.tables.get(TableName, {}).pop(self._key(TableName, Key), None)
        return {}

    def items(self, table: str) -> list[dict]:
        return list(self.tables.get(table, {}).values())


class FakeLambda:
    def __init__(self, error: Exception | None = None) -> None:
        self.invocations: list[dict] = []
        self.error = error

    def invoke(self, **kwargs) -> dict:
        if self.error:
            raise self.error
        self.invocations.append(kwargs)
        return {"StatusCode": 202}


class FakeManagement:
    """apigatewaymanagementapi: records posts; connections in ``gone`` answer GoneException,
    optionally only after ``gone_after`` posts."""

    def __init__(self, url: str, gone: set[str] | None = None, gone_after: int = 0) -> None:
        self.url, self.gone, self.gone_after = url, gone or set(), gone_after
        self.posts: list[tuple[str, bytes]] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict:
        if ConnectionId in self.gone and len(self.posts) >= self.gone_after:
            raise FakeClientError("GoneException")
        self.posts.append((ConnectionId, Data))
        return {}


def management_api(**kwargs) -> tuple[object, dict[str, FakeManagement]]:
    """A ConnectionApi whose clients are FakeManagement, and the clients by URL."""
    made: dict[str, FakeManagement] = {}

    def make(url: str) -> FakeManagement:
        made[url] = FakeManagement(url, **kwargs)
        return made[url]

    return ws_api.ConnectionApi(make), made


# ---- a layer wired to fakes ---------------------------------------------------------------------

MODELS = prompt_layer.Models(
    small="anthropic.claude-3-haiku-20240307-v1:0",
    large="anthropic.claude-3-5-sonnet-20240620-v1:0",
    fallback="meta.llama3-8b-instruct-v1:0",
    threshold_tokens=60,
)


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_layer(runtime: FakeRuntime | None = None, dynamo: MemoryDynamo | None = None,
               agent: FakeAgent | None = None, guardrail: str = "gr1",
               clock: Clock | None = None, ttl: int = 3600) -> tuple:  # fmt: skip
    """(layer, runtime, dynamo, emitted lines) with fakes and no real sleeping."""
    from prompt_layer.audit import AuditLog
    from prompt_layer.cache import ResponseCache
    from prompt_layer.guard import Guard
    from prompt_layer.routing import Retrier
    from prompt_layer.templates import Catalog

    runtime = runtime or FakeRuntime()
    dynamo = dynamo or MemoryDynamo()
    clock = clock or Clock()
    agent = agent or FakeAgent()
    arns = [agent.arn(name, agent.version) for name in agent.ids]
    emitted: list[str] = []
    ids = iter(f"req{i:04d}" for i in range(10_000))
    layer = prompt_layer.Layer(
        runtime, Catalog(agent, arns), Guard(runtime, guardrail, "1"),
        ResponseCache(dynamo, "Cache", ttl, clock), AuditLog(dynamo, "Audit"), MODELS,
        Retrier(sleep=lambda s: None, jitter=lambda: 0.5),
        clock=clock, emit=emitted.append, new_id=lambda: next(ids),
    )  # fmt: skip
    return layer, runtime, dynamo, emitted


# ---- the chat page, driven by Playwright ------------------------------------------------------


def open_page(browser, url: str, locale: str = "en-US", width: int = 390) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page


def ask(page, text: str) -> Any:
    """Type and send; returns the new answer's locator."""
    before = page.locator(".msg.bot").count()
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}")
    return page.locator(".msg.bot").nth(before)


def wait_done(answer, timeout: float = 20000) -> None:
    answer.locator("xpath=.").evaluate(
        "(el, timeout) => new Promise((resolve, reject) => {"
        "  const check = () => ['done', 'error'].includes(el.dataset.state);"
        "  if (check()) return resolve();"
        "  const obs = new MutationObserver(() => {"
        "    if (check()) { obs.disconnect(); resolve(); }"
        "  });"
        "  obs.observe(el, {attributes: true});"
        "  setTimeout(() => reject(new Error('no answer: ' + el.dataset.state)), timeout);"
        "})",
        timeout,
    )


def choose_mode(page, mode: str) -> None:
    page.click(f"#mode-{mode}")
    if mode != "rest":
        page.wait_for_selector("#ws-status[data-state=open]")
