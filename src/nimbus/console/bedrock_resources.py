"""Console API for Bedrock guardrails (list, policy summaries, ApplyGuardrail test) and
prompt management (prompts with their versions and variables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nimbus.aws.http import HttpRequest
from nimbus.services.bedrock_agent.prompt_render import placeholders

from .api import Params, bad_request, json_object

if TYPE_CHECKING:
    from .api import ConsoleApi

_PAGES = 20
_BODY_LIMIT = 256 * 1024
Doc = dict[str, Any]


async def _all(api: ConsoleApi, service: str, operation: str, member: str, **req: Any) -> list:
    items: list[Any] = []
    token = None
    for _ in range(_PAGES):
        out = await api.call(service, operation, maxResults=1000, nextToken=token, **req)
        items += out.get(member, [])
        token = out.get("nextToken")
        if not token:
            break
    return items


# -- guardrails ---------------------------------------------------------------------------------
def _strengths(f: Doc) -> str:
    given, sent = f.get("inputStrength", "NONE"), f.get("outputStrength", "NONE")
    return f"{f.get('type')} (in {given}, out {sent})"


_POLICIES: tuple[tuple[str, str, Callable[[Doc], list[str]]], ...] = (
    ("topicPolicy", "Denied topics", lambda p: [t["name"] for t in p.get("topics", [])]),
    ("contentPolicy", "Content filters", lambda p: [_strengths(f) for f in p.get("filters", [])]),
    ("wordPolicy", "Word filters", lambda p: [w["text"] for w in p.get("words", [])]
     + [f"{m['type']} list" for m in p.get("managedWordLists", [])]),
    ("sensitiveInformationPolicy", "Sensitive information",
     lambda p: [f"{e['type']}: {e['action']}" for e in p.get("piiEntities", [])]
     + [f"{r['name']} (regex): {r['action']}" for r in p.get("regexes", [])]),
    ("contextualGroundingPolicy", "Contextual grounding",
     lambda p: [f"{f['type']} ≥ {f['threshold']}" for f in p.get("filters", [])]),
)  # fmt: skip


def policies(guardrail: Doc) -> list[dict[str, Any]]:
    """What a guardrail checks, one entry per configured policy."""
    out = []
    for member, label, items in _POLICIES:
        policy = guardrail.get(member)
        if policy:
            out.append({"policy": label, "items": items(policy)})
    return out


async def list_guardrails(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    found = []
    for summary in await _all(api, "bedrock", "ListGuardrails", "guardrails"):
        gid = summary["id"]
        draft = await api.call("bedrock", "GetGuardrail", guardrailIdentifier=gid)
        versions = await _all(api, "bedrock", "ListGuardrails", "guardrails",
                              guardrailIdentifier=gid)  # fmt: skip
        numbered = sorted((v["version"] for v in versions if v["version"] != "DRAFT"), key=int)
        found.append({
            "id": gid,
            "arn": summary["arn"],
            "name": summary["name"],
            "description": summary.get("description"),
            "status": summary.get("status"),
            "updatedAt": summary.get("updatedAt"),
            "versions": ["DRAFT", *numbered],
            "policies": policies(draft),
            "blockedInputMessaging": draft.get("blockedInputMessaging"),
            "blockedOutputsMessaging": draft.get("blockedOutputsMessaging"),
        })  # fmt: skip
    return {"guardrails": found}


def fired(assessments: list[Doc]) -> list[dict[str, Any]]:
    """The policy entries of ApplyGuardrail's assessments that took an action."""
    rows: list[dict[str, Any]] = []

    def add(policy: str, entries: list[Doc], what: Callable[[Doc], str]) -> None:
        for e in entries:
            if e.get("action", "NONE") != "NONE":
                rows.append({"policy": policy, "item": what(e), "action": e["action"],
                             "match": e.get("match")})  # fmt: skip

    for a in assessments:
        add("Denied topic", (a.get("topicPolicy") or {}).get("topics", []), lambda e: e["name"])
        add("Content filter", (a.get("contentPolicy") or {}).get("filters", []),
            lambda e: f"{e['type']} ({e.get('confidence', '')})")  # fmt: skip
        words = a.get("wordPolicy") or {}
        add("Word filter", words.get("customWords", []), lambda e: "custom word")
        add("Word filter", words.get("managedWordLists", []), lambda e: f"{e['type']} list")
        info = a.get("sensitiveInformationPolicy") or {}
        add("Sensitive information", info.get("piiEntities", []), lambda e: e["type"])
        add("Sensitive information", info.get("regexes", []), lambda e: f"{e['name']} (regex)")
        add("Contextual grounding", (a.get("contextualGroundingPolicy") or {}).get("filters", []),
            lambda e: f"{e['type']} score {e.get('score')} < {e.get('threshold')}")  # fmt: skip
    return rows


async def apply_guardrail(api: ConsoleApi, request: HttpRequest, params: Params, gid: str) -> Any:
    body = await json_object(request, _BODY_LIMIT)
    if not isinstance(body.get("text"), str) or not body["text"]:
        raise bad_request("Send a JSON object with the text to test in 'text'.")
    out = await api.call(
        "bedrock-runtime",
        "ApplyGuardrail",
        guardrailIdentifier=gid,
        guardrailVersion=str(body.get("version") or "DRAFT"),
        source=str(body.get("source") or "INPUT"),
        content=[{"text": {"text": body["text"]}}],
    )
    assessments = out.get("assessments", [])
    return {
        "action": out.get("action"),
        "actionReason": out.get("actionReason"),
        "outputs": [o.get("text", "") for o in out.get("outputs", [])],
        "fired": fired(assessments),
        "assessments": assessments,
        "usage": out.get("usage"),
    }


# -- prompts ------------------------------------------------------------------------------------
def _variables(variant: Doc) -> list[str]:
    """Declared input variables plus every ``{{name}}`` the template uses."""
    config = variant.get("templateConfiguration") or {}
    body = config.get("text") or config.get("chat") or {}
    names = [v["name"] for v in body.get("inputVariables") or [] if v.get("name")]
    texts = [body.get("text") or ""]
    texts += [b.get("text", "") for b in body.get("system") or []]
    for message in body.get("messages") or []:
        texts += [b.get("text", "") for b in message.get("content") or []]
    for text in texts:
        names += [n for n in placeholders(text) if n not in names]
    return list(dict.fromkeys(names))


async def list_prompts(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    found = []
    for summary in await _all(api, "bedrock-agent", "ListPrompts", "promptSummaries"):
        pid = summary["id"]
        draft = await api.call("bedrock-agent", "GetPrompt", promptIdentifier=pid)
        versions = await _all(api, "bedrock-agent", "ListPrompts", "promptSummaries",
                              promptIdentifier=pid)  # fmt: skip
        numbered = sorted((v["version"] for v in versions if v["version"] != "DRAFT"), key=int)
        variants = [
            {"name": v["name"], "templateType": v.get("templateType"),
             "modelId": v.get("modelId"), "variables": _variables(v)}
            for v in draft.get("variants") or []
        ]  # fmt: skip
        found.append({
            "id": pid,
            "arn": summary["arn"],
            "name": summary["name"],
            "description": summary.get("description"),
            "updatedAt": summary.get("updatedAt"),
            "versions": ["DRAFT", *numbered],
            "defaultVariant": draft.get("defaultVariant"),
            "variants": variants,
        })  # fmt: skip
    return {"prompts": found}


def register(api: ConsoleApi) -> None:
    api.add("GET", "bedrock/guardrails", list_guardrails)
    api.add("POST", "bedrock/guardrails/{gid}/apply", apply_guardrail)
    api.add("GET", "bedrock/prompts", list_prompts)
