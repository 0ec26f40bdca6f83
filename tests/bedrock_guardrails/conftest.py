"""Guardrail fixtures: boto3 clients, a guardrail factory that cleans up, and an error helper."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import unique

BLOCKED_INPUT = "Sorry, I can't help with that request."
BLOCKED_OUTPUT = "Sorry, the answer was withheld."

INVESTMENT_TOPIC = {
    "name": "Investment Advice",
    "definition": "Personalized recommendations about investing money in stocks, bonds, "
    "funds or crypto.",
    "examples": [
        "Should I buy Tesla stock?",
        "What is the best crypto to invest in?",
        "Tôi nên đầu tư vào cổ phiếu nào?",
        "Có nên mua chứng khoán lúc này không?",
    ],
    "type": "DENY",
}


@pytest.fixture
def runtime(aws: Callable[..., Any]) -> Any:
    return aws("bedrock-runtime")


@pytest.fixture
def guardrail(bedrock: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """``guardrail(topicPolicyConfig=...)`` -> CreateGuardrail's answer; deleted afterwards."""
    made: list[str] = []

    def make(**config: Any) -> dict[str, Any]:
        config.setdefault("name", unique("gr"))
        config.setdefault("blockedInputMessaging", BLOCKED_INPUT)
        config.setdefault("blockedOutputsMessaging", BLOCKED_OUTPUT)
        created = bedrock.create_guardrail(**config)
        made.append(created["guardrailId"])
        return created

    yield make
    for gid in made:
        with contextlib.suppress(ClientError):  # the test may have deleted it itself
            bedrock.delete_guardrail(guardrailIdentifier=gid)


@pytest.fixture
def apply(runtime: Any) -> Callable[..., dict[str, Any]]:
    """``apply(gid, "text", source="INPUT", version="DRAFT")`` -> ApplyGuardrail's answer."""

    def call(gid: str, *texts: str, source: str = "INPUT", version: str = "DRAFT",
             **extra: Any) -> dict[str, Any]:  # fmt: skip
        content = [{"text": {"text": t}} for t in texts]
        return runtime.apply_guardrail(
            guardrailIdentifier=gid,
            guardrailVersion=version,
            source=source,
            content=content,
            **extra,
        )

    return call


def pii_config(*entities: tuple[str, str], regexes: list[dict] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if entities:
        config["piiEntitiesConfig"] = [{"type": t, "action": a} for t, a in entities]
    if regexes:
        config["regexesConfig"] = regexes
    return {"sensitiveInformationPolicyConfig": config}
