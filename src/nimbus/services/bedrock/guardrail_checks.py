"""A guardrail applied around one model call (Converse's ``guardrailConfig``, InvokeModel's
guardrail headers). The policies themselves live in the ``bedrock`` provider's
``evaluate_guardrail``; this maps its ApplyGuardrail-shaped verdicts onto the call: a BLOCKED
input never reaches the model, an ANONYMIZED input reaches it masked, an intervened output is
replaced, and the assessments form the trace (Converse's ``trace.guardrail``, InvokeModel's
``amazon-bedrock-trace``).
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError

Block = dict[str, Any]
_UNGUARDED = frozenset({"grounding_source", "query"})  # context for grounding checks only


# Where an assessment (botocore GuardrailAssessment) lists what each policy found.
_FINDINGS = (
    ("topicPolicy", "topics"),
    ("contentPolicy", "filters"),
    ("wordPolicy", "customWords"),
    ("wordPolicy", "managedWordLists"),
    ("sensitiveInformationPolicy", "piiEntities"),
    ("sensitiveInformationPolicy", "regexes"),
    ("contextualGroundingPolicy", "filters"),
)


def _blocked(assessments: list[dict[str, Any]]) -> bool:
    """Whether any policy finding says BLOCKED (the rest only ANONYMIZED)."""
    return any(
        finding.get("action") == "BLOCKED"
        for assessment in assessments
        for policy, member in _FINDINGS
        for finding in (assessment.get(policy) or {}).get(member) or ()
    )


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def guarded_texts(contents: list[Block]) -> list[str]:
    """The texts of ``contents`` whose masked versions ApplyGuardrail's outputs list, in order."""
    texts = []
    for block in contents:
        text = block.get("text")
        if text is None:
            continue
        qualifiers = set(text.get("qualifiers") or ())
        if not qualifiers & _UNGUARDED or "guard_content" in qualifiers:
            texts.append(text.get("text") or "")
    return texts


class GuardrailCheck:
    def __init__(self, bedrock: Any, config: dict[str, Any]) -> None:
        identifier = config.get("guardrailIdentifier")
        version = config.get("guardrailVersion")
        if not identifier or not version:
            raise _invalid(
                "A guardrail needs both its identifier and its version: pass "
                "guardrailIdentifier and guardrailVersion (DRAFT or a version number)."
            )
        self.bedrock = bedrock
        self.identifier: str = identifier
        self.version: str = version
        trace = str(config.get("trace", "disabled")).lower()
        self.trace = trace in ("enabled", "enabled_full")
        self.scope = "FULL" if trace == "enabled_full" else "INTERVENTIONS"
        self.key = identifier.rsplit("/", 1)[-1]  # trace maps are keyed by guardrail id
        self.input_assessment: dict[str, Any] | None = None
        self.output_assessments: list[dict[str, Any]] | None = None
        self.model_output: list[str] | None = None
        self.action_reason: str | None = None
        self.intervened = False

    def _evaluate(self, source: str, contents: list[Block]) -> dict[str, Any]:
        try:
            return self.bedrock.evaluate_guardrail(
                self.identifier, self.version, source, contents, self.scope
            )
        except AwsError as err:
            if err.code != "ResourceNotFoundException":
                raise
            # Model calls answer 400 for a guardrail that is not there (ApplyGuardrail: 404).
            raise _invalid(
                "The guardrail identifier or version provided in the request does not exist: "
                f"{err.message} ListGuardrails shows the guardrails and versions there are."
            ) from None

    def _verdict(self, verdict: dict[str, Any]) -> bool:
        """Note an intervention; whether there was one."""
        if verdict.get("action") != "GUARDRAIL_INTERVENED":
            return False
        self.intervened = True
        self.action_reason = verdict.get("actionReason") or self.action_reason
        return True

    def check_input(self, contents: list[Block]) -> tuple[str | None, dict[str, str]]:
        """(the blocked message, or None) and input replacements {original: masked} for
        ``contents`` (ApplyGuardrail content blocks)."""
        if not contents:
            return None, {}
        verdict = self._evaluate("INPUT", contents)
        assessments = verdict.get("assessments") or []
        self.input_assessment = assessments[0] if assessments else {}
        if not self._verdict(verdict):
            return None, {}
        outputs = [o.get("text", "") for o in verdict.get("outputs") or []]
        if _blocked(assessments):
            return (outputs[0] if outputs else ""), {}
        texts = guarded_texts(contents)
        if len(outputs) != len(texts):
            return None, {}
        return None, {t: m for t, m in zip(texts, outputs, strict=True) if t and t != m}

    def check_output(self, text: str) -> str | None:
        """The text to send instead of the model's output, or None to keep it."""
        verdict = self._evaluate("OUTPUT", [{"text": {"text": text}}])
        self.output_assessments = list(verdict.get("assessments") or [])
        if not self._verdict(verdict):
            return None
        self.model_output = [text]
        outputs = verdict.get("outputs") or []
        return outputs[0].get("text", "") if outputs else ""

    def _common(self) -> dict[str, Any]:
        common: dict[str, Any] = {}
        if self.model_output is not None:
            common["modelOutput"] = self.model_output
        if self.action_reason:
            common["actionReason"] = self.action_reason
        return common

    def trace_dict(self) -> dict[str, Any] | None:
        """Converse's ``trace`` (GuardrailTraceAssessment), when the trace is on."""
        if not self.trace:
            return None
        guardrail = self._common()
        if self.input_assessment is not None:
            guardrail["inputAssessment"] = {self.key: self.input_assessment}
        if self.output_assessments is not None:
            guardrail["outputAssessments"] = {self.key: self.output_assessments}
        return {"guardrail": guardrail}

    def invoke_trace(self) -> dict[str, Any] | None:
        """InvokeModel's ``amazon-bedrock-trace``: ``input`` keyed by guardrail id, ``outputs``
        a list of such maps, as the InvokeModel guardrail docs show."""
        if not self.trace:
            return None
        guardrail = self._common()
        if self.input_assessment is not None:
            guardrail["input"] = {self.key: self.input_assessment}
        if self.output_assessments is not None:
            guardrail["outputs"] = [{self.key: a} for a in self.output_assessments]
        return {"guardrail": guardrail}

    def invoke_fields(self) -> dict[str, Any]:
        """The members a guarded InvokeModel body gains: the action, and the trace when on."""
        fields: dict[str, Any] = {
            "amazon-bedrock-guardrailAction": "INTERVENED" if self.intervened else "NONE"
        }
        trace = self.invoke_trace()
        if trace:
            fields["amazon-bedrock-trace"] = trace
        return fields


def apply_masks(
    messages: list[dict[str, Any]], system: list[str], replacements: dict[str, str]
) -> None:
    """Swap masked texts in for what the guardrail anonymized (whole blocks or tagged parts)."""
    if not replacements:
        return

    def masked(text: str) -> str:
        for original, replacement in replacements.items():
            if original in text:
                text = text.replace(original, replacement)
        return text

    for message in messages:
        for block in message["content"]:
            if "text" in block:
                block["text"] = masked(block["text"])
    system[:] = [masked(text) for text in system]
