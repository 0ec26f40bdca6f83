"""A CreateGuardrail/UpdateGuardrail request checked and turned into the stored guardrail document.

The document uses GetGuardrail's member names (``topicPolicy.topics`` for the request's
``topicPolicyConfig.topicsConfig``) with AWS's defaults filled in, so GetGuardrail returns it as
it is and the engine reads one shape.
"""

from __future__ import annotations

import re
from typing import Any

import regex

from nimbus.aws.errors import validation

Req = dict[str, Any]
_NAME = re.compile(r"[0-9a-zA-Z_-]+")
_TOPIC_NAME = re.compile(r"[0-9a-zA-Z_ !?.-]+")
_JAVA_GROUP = re.compile(r"\(\?<(?=[A-Za-z])")


def compile_regex(pattern: str) -> regex.Pattern[str]:
    """A guardrail regex (Java syntax on AWS) as a pattern of the ``regex`` module, whose
    matching takes a time limit (a user's ``(a+)+$`` must not stall the server); a bad
    pattern is a ValidationException."""
    try:
        return regex.compile(_JAVA_GROUP.sub("(?P<", pattern))
    except regex.error as err:
        raise validation(f"The regex pattern '{pattern}' is not valid: {err}.") from None


def _pattern(value: str, regex: re.Pattern[str], where: str) -> None:
    if not regex.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {regex.pattern}"
        )


def _unique(items: list[Req], key: str, what: str) -> None:
    seen: set[str] = set()
    for item in items:
        value = str(item[key]).casefold()
        if value in seen:
            raise validation(f"The {what} '{item[key]}' appears more than once; list it once.")
        seen.add(value)


def _toggles(cfg: Req, default_action: str) -> Req:
    """The per-direction action and enabled flags, defaulted as AWS reports them."""
    return {
        "inputAction": cfg.get("inputAction") or default_action,
        "outputAction": cfg.get("outputAction") or default_action,
        "inputEnabled": cfg.get("inputEnabled", True),
        "outputEnabled": cfg.get("outputEnabled", True),
    }


def _topics(cfg: Req) -> Req:
    topics = []
    for topic in cfg["topicsConfig"]:
        _pattern(topic["name"], _TOPIC_NAME, "topicPolicyConfig.topicsConfig.member.name")
        entry = {"name": topic["name"], "definition": topic["definition"],
                 "examples": list(topic.get("examples") or []), "type": topic.get("type", "DENY"),
                 **_toggles(topic, "BLOCK")}  # fmt: skip
        topics.append(entry)
    _unique(topics, "name", "topic name")
    policy: Req = {"topics": topics}
    if cfg.get("tierConfig"):
        policy["tier"] = {"tierName": cfg["tierConfig"]["tierName"]}
    return policy


def _content(cfg: Req) -> Req:
    filters = []
    for item in cfg["filtersConfig"]:
        if item["type"] == "PROMPT_ATTACK" and item["outputStrength"] != "NONE":
            raise validation(
                "The PROMPT_ATTACK content filter applies to input only: set its "
                "outputStrength to NONE."
            )
        entry = {"type": item["type"], "inputStrength": item["inputStrength"],
                 "outputStrength": item["outputStrength"],
                 "inputModalities": list(item.get("inputModalities") or ["TEXT"]),
                 "outputModalities": list(item.get("outputModalities") or ["TEXT"]),
                 **_toggles(item, "BLOCK")}  # fmt: skip
        filters.append(entry)
    _unique(filters, "type", "content filter type")
    policy: Req = {"filters": filters}
    if cfg.get("tierConfig"):
        policy["tier"] = {"tierName": cfg["tierConfig"]["tierName"]}
    return policy


def _words(cfg: Req) -> Req:
    words: list[Req] = []
    seen: set[str] = set()
    for word in cfg.get("wordsConfig") or []:
        key = " ".join(word["text"].casefold().split())
        if not key:
            raise validation("A word filter's text must contain a word, not only spaces.")
        if key not in seen:
            seen.add(key)
            words.append({"text": word["text"], **_toggles(word, "BLOCK")})
    managed = [{"type": m["type"], **_toggles(m, "BLOCK")}
               for m in cfg.get("managedWordListsConfig") or []]  # fmt: skip
    _unique(managed, "type", "managed word list")
    if not words and not managed:
        raise validation("wordPolicyConfig needs wordsConfig or managedWordListsConfig.")
    policy: Req = {}
    if words:
        policy["words"] = words
    if managed:
        policy["managedWordLists"] = managed
    return policy


def _sensitive(cfg: Req) -> Req:
    pii = [{"type": e["type"], "action": e["action"], **_toggles(e, e["action"])}
           for e in cfg.get("piiEntitiesConfig") or []]  # fmt: skip
    _unique(pii, "type", "PII entity type")
    regexes = []
    for item in cfg.get("regexesConfig") or []:
        compile_regex(item["pattern"])
        entry = {"name": item["name"], "pattern": item["pattern"], "action": item["action"],
                 **_toggles(item, item["action"])}  # fmt: skip
        if item.get("description"):
            entry["description"] = item["description"]
        regexes.append(entry)
    _unique(regexes, "name", "regex name")
    if not pii and not regexes:
        raise validation(
            "sensitiveInformationPolicyConfig needs piiEntitiesConfig or regexesConfig."
        )
    policy: Req = {}
    if pii:
        policy["piiEntities"] = pii
    if regexes:
        policy["regexes"] = regexes
    return policy


def _grounding(cfg: Req) -> Req:
    filters = []
    for item in cfg["filtersConfig"]:
        if item["threshold"] > 0.99:
            raise validation(
                f"The {item['type']} threshold {item['threshold']} is too high: use 0 to 0.99."
            )
        filters.append({"type": item["type"], "threshold": item["threshold"],
                        "action": item.get("action") or "BLOCK",
                        "enabled": item.get("enabled", True)})  # fmt: skip
    _unique(filters, "type", "contextual grounding filter type")
    policy: Req = {"filters": filters}
    if cfg.get("tierConfig"):
        policy["tier"] = {"tierName": cfg["tierConfig"]["tierName"]}
    return policy


def build_document(req: Req, region: str, account: str) -> Req:
    """The stored guardrail (draft) from a Create/UpdateGuardrail request."""
    _pattern(req["name"], _NAME, "name")
    doc: Req = {
        "name": req["name"],
        "blockedInputMessaging": req["blockedInputMessaging"],
        "blockedOutputsMessaging": req["blockedOutputsMessaging"],
    }
    if req.get("description"):
        doc["description"] = req["description"]
    builders = (
        ("topicPolicyConfig", "topicPolicy", _topics),
        ("contentPolicyConfig", "contentPolicy", _content),
        ("wordPolicyConfig", "wordPolicy", _words),
        ("sensitiveInformationPolicyConfig", "sensitiveInformationPolicy", _sensitive),
        ("contextualGroundingPolicyConfig", "contextualGroundingPolicy", _grounding),
    )
    for member, stored, build in builders:
        if req.get(member):
            doc[stored] = build(req[member])
    reasoning = req.get("automatedReasoningPolicyConfig")
    if reasoning:
        doc["automatedReasoningPolicy"] = dict(reasoning)  # recorded, not evaluated
    cross = req.get("crossRegionConfig")
    if cross:
        profile = cross["guardrailProfileIdentifier"]
        profile_id = profile.rsplit("/", 1)[-1]
        doc["crossRegionDetails"] = {
            "guardrailProfileId": profile_id,
            "guardrailProfileArn": profile
            if profile.startswith("arn:")
            else f"arn:aws:bedrock:{region}:{account}:guardrail-profile/{profile_id}",
        }
    key = req.get("kmsKeyId")
    if key and not key.startswith("alias/") and ":alias/" not in key:
        doc["kmsKeyArn"] = key if key.startswith("arn:") else (
            f"arn:aws:kms:{region}:{account}:key/{key}"
        )  # fmt: skip
    return doc
