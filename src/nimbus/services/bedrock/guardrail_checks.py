"""A guardrail applied around one model call (Converse's ``guardrailConfig``, InvokeModel's
guardrail headers). The policies themselves live in the ``bedrock`` provider's
``evaluate_guardrail``; this maps its ApplyGuardrail-shaped verdicts onto the call: a BLOCKED
input never reaches the model, an ANONYMIZED input reaches it masked, an intervened output is
replaced, and the assessments form ``trace.guardrail``.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError


def _blocked(value: Any) -> bool:
    """Whether any policy in an assessment tree says BLOCKED (the rest only ANONYMIZED)."""
    if isinstance(value, dict):
        return value.get("action") == "BLOCKED" or any(_blocked(v) for v in value.values())
    if isinstance(value, list):
        return any(_blocked(v) for v in value)
    return False


class GuardrailCheck:
    def __init__(self, bedrock: Any, config: dict[str, Any]) -> None:
        identifier = config.get("guardrailIdentifier")
        version = config.get("guardrailVersion")
        if not identifier or not version:
            raise AwsError(
                "ValidationException",
                "guardrailConfig needs both guardrailIdentifier and guardrailVersion.",
                400,
            )
        self.bedrock = bedrock
        self.identifier: str = identifier
        self.version: str = version
        self.trace = str(config.get("trace", "disabled")).lower() == "enabled"
        self.key = identifier.rsplit("/", 1)[-1]  # trace maps are keyed by guardrail id
        self.input_assessment: dict[str, Any] | None = None
        self.output_assessments: list[dict[str, Any]] | None = None
        self.model_output: list[str] | None = None
        self.intervened = False

    def _evaluate(self, source: str, texts: list[str]) -> dict[str, Any]:
        contents = [{"text": {"text": text}} for text in texts]
        return self.bedrock.evaluate_guardrail(self.identifier, self.version, source, contents)

    def check_input(self, texts: list[str]) -> tuple[str | None, dict[str, str]]:
        """(the blocked message, or None) and input replacements {original: masked}."""
        if not texts:
            return None, {}
        verdict = self._evaluate("INPUT", texts)
        assessments = verdict.get("assessments") or []
        self.input_assessment = assessments[0] if assessments else {}
        if verdict.get("action") != "GUARDRAIL_INTERVENED":
            return None, {}
        self.intervened = True
        outputs = [o.get("text", "") for o in verdict.get("outputs") or []]
        if _blocked(assessments):
            return (outputs[0] if outputs else ""), {}
        if len(outputs) == len(texts):
            return None, dict(zip(texts, outputs, strict=True))
        return None, {}

    def check_output(self, text: str) -> str | None:
        """The text to send instead of the model's output, or None to keep it."""
        verdict = self._evaluate("OUTPUT", [text])
        self.output_assessments = list(verdict.get("assessments") or [])
        if verdict.get("action") != "GUARDRAIL_INTERVENED":
            return None
        self.intervened = True
        self.model_output = [text]
        outputs = verdict.get("outputs") or []
        return outputs[0].get("text", "") if outputs else ""

    def trace_dict(self) -> dict[str, Any] | None:
        if not self.trace:
            return None
        guardrail: dict[str, Any] = {}
        if self.input_assessment is not None:
            guardrail["inputAssessment"] = {self.key: self.input_assessment}
        if self.output_assessments is not None:
            guardrail["outputAssessments"] = {self.key: self.output_assessments}
        if self.model_output is not None:
            guardrail["modelOutput"] = self.model_output
        return {"guardrail": guardrail}


def mask_messages(messages: list[dict[str, Any]], replacements: dict[str, str]) -> None:
    """Swap masked texts into the last user message (what the guardrail checked)."""
    if not replacements:
        return
    for message in reversed(messages):
        if message["role"] == "user":
            for block in message["content"]:
                if block.get("text") in replacements:
                    block["text"] = replacements[block["text"]]
            return
