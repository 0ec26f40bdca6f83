"""Amazon Bedrock Guardrails on the way in and on the way out, through ApplyGuardrail.

The user's text is checked (source INPUT) before it reaches a template or a model: a blocked
input never reaches the model and the guardrail's blocked message is the answer; masked
(anonymized) input is what the model sees. The model's answer is checked (source OUTPUT) before
it is returned or cached. Findings keep only the kinds of what was found (``EMAIL``,
``topic:Investment advice``), never the matched text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NONE, ANONYMIZED, BLOCKED = "NONE", "ANONYMIZED", "BLOCKED"


@dataclass(frozen=True)
class Verdict:
    action: str  # NONE | ANONYMIZED | BLOCKED
    text: str  # what to use instead of the checked text
    findings: tuple[str, ...] = field(default=())

    @property
    def intervened(self) -> bool:
        return self.action != NONE


def findings_of(assessments: list[dict]) -> tuple[list[str], bool]:
    """(kinds found, whether any policy BLOCKED) from ApplyGuardrail's assessments."""
    kinds: list[str] = []
    blocked = False

    def note(entry: dict, kind: str) -> None:
        nonlocal blocked
        action = entry.get("action", "NONE")
        if action == "NONE" and not entry.get("detected"):
            return
        blocked = blocked or action == "BLOCKED"
        if kind not in kinds:
            kinds.append(kind)

    for assessment in assessments or []:
        for topic in (assessment.get("topicPolicy") or {}).get("topics", []):
            note(topic, f"topic:{topic.get('name', '')}")
        for item in (assessment.get("contentPolicy") or {}).get("filters", []):
            note(item, f"content:{item.get('type', '')}")
        words = assessment.get("wordPolicy") or {}
        for item in words.get("customWords", []):
            note(item, "word")
        for item in words.get("managedWordLists", []):
            note(item, str(item.get("type", "PROFANITY")).lower())
        sensitive = assessment.get("sensitiveInformationPolicy") or {}
        for item in sensitive.get("piiEntities", []):
            note(item, str(item.get("type", "PII")))
        for item in sensitive.get("regexes", []):
            note(item, f"regex:{item.get('name', '')}")
    return kinds, blocked


class Guard:
    """ApplyGuardrail with one guardrail version; a guard without an identifier lets all pass."""

    def __init__(self, runtime, identifier: str, version: str = "DRAFT") -> None:
        self.runtime = runtime
        self.identifier = identifier.strip()
        self.version = version.strip() or "DRAFT"

    @property
    def enabled(self) -> bool:
        return bool(self.identifier)

    @property
    def label(self) -> str:
        return f"{self.identifier}@{self.version}" if self.enabled else ""

    def check(self, text: str, source: str) -> Verdict:
        if not self.enabled or not text:
            return Verdict(NONE, text)
        result = self.runtime.apply_guardrail(
            guardrailIdentifier=self.identifier,
            guardrailVersion=self.version,
            source=source,
            content=[{"text": {"text": text}}],
        )
        if result.get("action") != "GUARDRAIL_INTERVENED":
            return Verdict(NONE, text)
        kinds, blocked = findings_of(result.get("assessments") or [])
        outputs = result.get("outputs") or []
        replaced = "".join(o.get("text", "") for o in outputs) if outputs else text
        return Verdict(BLOCKED if blocked else ANONYMIZED, replaced, tuple(kinds))
