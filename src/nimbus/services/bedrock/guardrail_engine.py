"""One guardrail version compiled for evaluation, answering in ApplyGuardrail's output shape.

A :class:`CompiledGuardrail` is built once per guardrail version (patterns compiled, topic
features indexed) and then evaluates any number of texts. Each text is scanned once per
source and what it holds is remembered (bounded): a conversation's history comes back on every
turn, and AWS evaluates every message of it.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import regex

from nimbus.aws.errors import validation
from nimbus.services.bedrock import guardrail_content as content
from nimbus.services.bedrock.guardrail_config import compile_regex
from nimbus.services.bedrock.guardrail_pii import Span, find_pii, mask, non_overlapping
from nimbus.services.bedrock.guardrail_text import tokens
from nimbus.services.bedrock.guardrail_topics import TopicClassifier
from nimbus.services.bedrock.guardrail_words import WordFilter, WordRule

Out = dict[str, Any]
_PAST = {"BLOCK": "BLOCKED", "ANONYMIZE": "ANONYMIZED", "NONE": "NONE"}
_NOT_GUARDED = frozenset({"grounding_source", "query"})
_CACHED_TEXTS = 1024  # texts remembered per compiled version and source
_CACHED_TEXT_CHARS = 4096  # longer texts are scanned each time, not kept
# A custom regex that backtracks catastrophically gives up after this long (seconds).
REGEX_TIME_LIMIT_S = 0.1


@dataclass(frozen=True, slots=True)
class _Regex:
    name: str
    pattern: regex.Pattern[str]
    source: str
    action: str

    def finditer(self, text: str) -> Iterator[regex.Match[str]]:
        try:
            yield from self.pattern.finditer(text, timeout=REGEX_TIME_LIMIT_S)
        except TimeoutError:
            raise validation(
                f"The guardrail regex '{self.name}' took more than "
                f"{REGEX_TIME_LIMIT_S * 1000:.0f} ms on a {len(text)}-character text. Simplify "
                "its pattern: nested quantifiers such as (a+)+ backtrack exponentially."
            ) from None


class _Side:
    """What a guardrail applies to one source (INPUT or OUTPUT)."""

    def __init__(self, doc: dict[str, Any], source: str, topics: TopicClassifier) -> None:
        prefix = "input" if source == "INPUT" else "output"
        words = doc.get("wordPolicy") or {}
        self.words = WordFilter(
            words.get("words") or [], words.get("managedWordLists") or [], source
        )
        self.word_policy = bool(words)
        sensitive = doc.get("sensitiveInformationPolicy") or {}
        self.pii: dict[str, str] = {}
        for cfg in sensitive.get("piiEntities") or []:
            if cfg.get(f"{prefix}Enabled", True):
                self.pii[cfg["type"]] = cfg.get(f"{prefix}Action") or cfg["action"]
        self.pii_types = list(self.pii)
        self.regexes = [
            _Regex(cfg["name"], compile_regex(cfg["pattern"]), cfg["pattern"],
                   cfg.get(f"{prefix}Action") or cfg["action"])
            for cfg in sensitive.get("regexes") or []
            if cfg.get(f"{prefix}Enabled", True)
        ]  # fmt: skip
        self.content = content.content_rules(
            (doc.get("contentPolicy") or {}).get("filters") or [], source
        )
        self.content_policy = bool(doc.get("contentPolicy"))
        inbound = source == "INPUT"
        self.topic_enabled = [
            t.input_enabled if inbound else t.output_enabled for t in topics.topics
        ]
        self.topic_action = [t.input_action if inbound else t.output_action for t in topics.topics]


@dataclass(frozen=True, slots=True)
class _Scan:
    """Everything one source's policies find in one text."""

    topics: frozenset[int]  # denied topics the text is about
    content: frozenset[str]  # content filter types hit
    custom: tuple[WordRule, ...]  # custom words, each once, in text order
    profane: tuple[str, ...]  # profanity, each once, in text order
    spans: tuple[Span, ...]  # PII and regex findings kept (non-overlapping)
    masked: str  # the text with the ANONYMIZE findings masked


def _scan(side: _Side, topics: TopicClassifier, text: str) -> _Scan:
    toks = tokens(text) if topics.topics or side.words.profanity_action else []
    hits = frozenset(topics.matches(text, toks)) if topics.topics else frozenset()
    content_hits = frozenset(rule.type for rule in content.content_hits(side.content, text))
    spans: list[Span] = find_pii(text, side.pii_types) if side.pii else []
    for rx in side.regexes:
        spans.extend((m.start(), m.end(), rx.name, m.group())
                     for m in rx.finditer(text) if m.end() > m.start())  # fmt: skip
    kept = tuple(non_overlapping(spans))
    actions = {rx.name: rx.action for rx in side.regexes}
    to_mask = [span for span in kept if actions.get(span[2], side.pii.get(span[2])) == "ANONYMIZE"]
    return _Scan(
        topics=hits,
        content=content_hits,
        custom=tuple(side.words.custom_matches(text)),
        profane=tuple(side.words.profanity_matches(text, toks)),
        spans=kept,
        masked=mask(text, to_mask) if to_mask else text,
    )


class CompiledGuardrail:
    def __init__(self, doc: dict[str, Any], guardrail_id: str, arn: str, version: str) -> None:
        self.doc = doc
        self.details = {
            "guardrailId": guardrail_id,
            "guardrailVersion": version,
            "guardrailArn": arn,
            "guardrailOrigin": ["REQUEST"],
            "guardrailOwnership": "SELF",
        }
        self.topics = TopicClassifier((doc.get("topicPolicy") or {}).get("topics") or [])
        self.sides = {s: _Side(doc, s, self.topics) for s in ("INPUT", "OUTPUT")}
        self.blocked_message = {
            "INPUT": doc["blockedInputMessaging"],
            "OUTPUT": doc["blockedOutputsMessaging"],
        }
        grounding = doc.get("contextualGroundingPolicy") or {}
        self.grounding = [f for f in grounding.get("filters") or [] if f.get("enabled", True)]
        self._scans: dict[str, OrderedDict[str, _Scan]] = {
            "INPUT": OrderedDict(),
            "OUTPUT": OrderedDict(),
        }

    # -- evaluation ---------------------------------------------------------------------------
    def _scan(self, source: str, side: _Side, text: str) -> _Scan:
        """What one text holds for one source, remembered: conversations send their history
        again on every turn, and a compiled version never changes."""
        cache = self._scans[source]
        found = cache.get(text)
        if found is None:
            found = _scan(side, self.topics, text)
            if len(text) <= _CACHED_TEXT_CHARS:
                if len(cache) >= _CACHED_TEXTS:
                    cache.popitem(last=False)  # the oldest
                cache[text] = found
        return found

    def evaluate(self, source: str, contents: list[dict], scope: str = "INTERVENTIONS") -> Out:
        started = time.perf_counter()
        side = self.sides[source]
        full = scope == "FULL"
        guarded: list[str] = []
        sources: list[str] = []
        queries: list[str] = []
        total = images = 0
        for block in contents:
            text_block = block.get("text")
            if text_block is None:
                images += 1 if block.get("image") is not None else 0
                continue
            text = text_block.get("text") or ""
            total += len(text)
            qualifiers = set(text_block.get("qualifiers") or ())
            if "grounding_source" in qualifiers:
                sources.append(text)
            elif "query" in qualifiers:
                queries.append(text)
            if not qualifiers & _NOT_GUARDED or "guard_content" in qualifiers:
                guarded.append(text)
        scans = [self._scan(source, side, text) for text in guarded]
        assessment: Out = {}
        blocked = masked = False

        topics = self._topic_assessment(side, scans, full)
        if topics is not None:
            assessment["topicPolicy"] = {"topics": topics}
            blocked |= any(t["action"] == "BLOCKED" for t in topics)
        filters = self._content_assessment(side, scans, full)
        if filters:
            assessment["contentPolicy"] = {"filters": filters}
            blocked |= any(f["action"] == "BLOCKED" for f in filters)
        words = self._word_assessment(side, scans)
        if words is not None:
            assessment["wordPolicy"] = words
            blocked |= any(
                w["action"] == "BLOCKED" for w in words["customWords"] + words["managedWordLists"]
            )
        sensitive = self._sensitive_assessment(side, scans)
        if sensitive is not None:
            assessment["sensitiveInformationPolicy"] = sensitive
            actions = {e["action"] for e in sensitive["piiEntities"] + sensitive["regexes"]}
            blocked |= "BLOCKED" in actions
            masked = "ANONYMIZED" in actions
        if source == "OUTPUT" and self.grounding and (sources or queries):
            grounding = self._grounding_assessment(" ".join(guarded), sources, queries)
            assessment["contextualGroundingPolicy"] = {"filters": grounding}
            blocked |= any(g["action"] == "BLOCKED" for g in grounding)

        guarded_chars = sum(len(t) for t in guarded)
        usage = self._usage(side, guarded_chars, bool(self.grounding and source == "OUTPUT"))
        coverage: Out = {"textCharacters": {"guarded": guarded_chars, "total": total}}
        if images:
            coverage["images"] = {"guarded": 0, "total": images}
        if blocked:
            action, reason = "GUARDRAIL_INTERVENED", "Guardrail blocked."
            outputs = [{"text": self.blocked_message[source]}]
        elif masked:
            action, reason = "GUARDRAIL_INTERVENED", "Guardrail masked."
            outputs = [{"text": scan.masked} for scan in scans]
        else:
            action, reason, outputs = "NONE", "No action.", []
        latency_ms = int((time.perf_counter() - started) * 1000)
        assessment["invocationMetrics"] = {
            "guardrailProcessingLatency": latency_ms,
            "usage": usage,
            "guardrailCoverage": coverage,
        }
        assessment["appliedGuardrailDetails"] = self.details
        return {
            "usage": usage,
            "action": action,
            "actionReason": reason,
            "outputs": outputs,
            "assessments": [assessment],
            "guardrailCoverage": coverage,
        }

    def _topic_assessment(self, side: _Side, scans: list[_Scan], full: bool) -> list[Out] | None:
        if not self.topics.topics:
            return None
        hits: set[int] = set()
        for scan in scans:
            hits.update(scan.topics)
        entries = []
        for i, topic in enumerate(self.topics.topics):
            if not side.topic_enabled[i]:
                continue
            if i in hits:
                action = _PAST[side.topic_action[i]]
                entries.append({"name": topic.name, "type": "DENY", "action": action,
                                "detected": True})  # fmt: skip
            elif full:
                entries.append({"name": topic.name, "type": "DENY", "action": "NONE",
                                "detected": False})  # fmt: skip
        return entries or None

    @staticmethod
    def _content_assessment(side: _Side, scans: list[_Scan], full: bool) -> list[Out]:
        hits = {kind for scan in scans for kind in scan.content}
        entries = []
        for rule in side.content:
            if rule.type in hits:
                entries.append({"type": rule.type, "confidence": "HIGH",
                                "filterStrength": rule.strength,
                                "action": _PAST[rule.action], "detected": True})  # fmt: skip
            elif full:
                entries.append({"type": rule.type, "confidence": "NONE",
                                "filterStrength": rule.strength, "action": "NONE",
                                "detected": False})  # fmt: skip
        return entries

    @staticmethod
    def _word_assessment(side: _Side, scans: list[_Scan]) -> Out | None:
        custom: dict[str, Out] = {}
        managed: dict[str, Out] = {}
        for scan in scans:
            for rule in scan.custom:
                custom.setdefault(rule.text, {"match": rule.text, "action": _PAST[rule.action],
                                              "detected": True})  # fmt: skip
            for word in scan.profane:
                managed.setdefault(word.casefold(), {
                    "match": word, "type": "PROFANITY",
                    "action": _PAST[side.words.profanity_action or "BLOCK"], "detected": True,
                })  # fmt: skip
        if not custom and not managed:
            return None
        return {"customWords": list(custom.values()), "managedWordLists": list(managed.values())}

    @staticmethod
    def _sensitive_assessment(side: _Side, scans: list[_Scan]) -> Out | None:
        if not side.pii and not side.regexes:
            return None
        labels = {rx.name: rx for rx in side.regexes}
        pii: list[Out] = []
        regexes: list[Out] = []
        for scan in scans:
            for span in scan.spans:
                rx = labels.get(span[2])
                if rx is not None:
                    regexes.append({"name": rx.name, "match": span[3], "regex": rx.source,
                                    "action": _PAST[rx.action], "detected": True})  # fmt: skip
                else:
                    pii.append({"match": span[3], "type": span[2],
                                "action": _PAST[side.pii[span[2]]], "detected": True})  # fmt: skip
        if not pii and not regexes:
            return None
        return {"piiEntities": pii, "regexes": regexes}

    def _grounding_assessment(
        self, answer: str, sources: list[str], queries: list[str]
    ) -> list[Out]:
        entries = []
        for cfg in self.grounding:
            if cfg["type"] == "GROUNDING":
                score = content.overlap(answer, " ".join(sources))
            else:
                score = content.overlap(" ".join(queries), answer)
            below = score < cfg["threshold"]
            action = cfg.get("action", "BLOCK")
            entries.append({"type": cfg["type"], "threshold": cfg["threshold"], "score": score,
                            "action": "BLOCKED" if below and action == "BLOCK" else "NONE",
                            "detected": below})  # fmt: skip
        return entries

    def _usage(self, side: _Side, chars: int, grounding: bool) -> Out:
        units = math.ceil(chars / 1000) if chars else 0
        sensitive = self.doc.get("sensitiveInformationPolicy") or {}
        return {
            "topicPolicyUnits": units if self.topics.topics else 0,
            "contentPolicyUnits": units if side.content_policy else 0,
            "wordPolicyUnits": units if side.word_policy else 0,
            "sensitiveInformationPolicyUnits": units if sensitive.get("piiEntities") else 0,
            "sensitiveInformationPolicyFreeUnits": units if sensitive.get("regexes") else 0,
            "contextualGroundingPolicyUnits": units if grounding else 0,
            "contentPolicyImageUnits": 0,
            "automatedReasoningPolicyUnits": 0,
            "automatedReasoningPolicies": 0,
        }
