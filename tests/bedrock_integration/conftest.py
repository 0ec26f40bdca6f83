"""Real guardrails and prompts (made through boto3, cleaned up after) used by real model calls."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support import unique

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
BLOCKED_INPUT = "Sorry, I can't help with that request."
BLOCKED_OUTPUT = "Sorry, the answer was withheld."
BLOCKED_VI = "Xin lỗi, tôi không thể trả lời yêu cầu này."

INVESTMENT = {
    "name": "Investment Advice",
    "definition": "Personalized recommendations about investing money in stocks, bonds, "
    "funds or crypto.",
    "examples": [
        "Should I buy Tesla stock?",
        "What is the best crypto to invest in?",
        "Tôi nên đầu tư vào cổ phiếu nào?",
    ],
    "type": "DENY",
}

# Every policy the tests exercise: a denied topic, profanity, a custom phrase, PII that blocks.
STRICT = {
    "topicPolicyConfig": {"topicsConfig": [INVESTMENT]},
    "wordPolicyConfig": {
        "wordsConfig": [{"text": "Project Falcon"}],
        "managedWordListsConfig": [{"type": "PROFANITY"}],
    },
    "sensitiveInformationPolicyConfig": {
        "piiEntitiesConfig": [
            {"type": "EMAIL", "action": "BLOCK"},
            {"type": "PHONE", "action": "BLOCK"},
        ]
    },
}

# Masks e-mail addresses and phone numbers in answers only, so the model sees them and can
# repeat them (the built-in model echoes "Repeat after me: ...").
MASK_OUTPUT = {
    "sensitiveInformationPolicyConfig": {
        "piiEntitiesConfig": [
            {"type": t, "action": "ANONYMIZE", "inputEnabled": False} for t in ("EMAIL", "PHONE")
        ]
    }
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def answer_text(reply: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in reply["output"]["message"]["content"])


@pytest.fixture
def guardrail(bedrock: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """``guardrail(**CreateGuardrail members)`` -> {"id", "arn", "version"}: a guardrail with
    a published version 1 (``version``); deleted afterwards."""
    made: list[str] = []

    def make(**config: Any) -> dict[str, Any]:
        config.setdefault("name", unique("gr"))
        config.setdefault("blockedInputMessaging", BLOCKED_INPUT)
        config.setdefault("blockedOutputsMessaging", BLOCKED_OUTPUT)
        created = bedrock.create_guardrail(**config)
        gid = created["guardrailId"]
        made.append(gid)
        version = bedrock.create_guardrail_version(guardrailIdentifier=gid)["version"]
        return {"id": gid, "arn": created["guardrailArn"], "version": version}

    yield make
    for gid in made:
        with contextlib.suppress(ClientError):
            bedrock.delete_guardrail(guardrailIdentifier=gid)


@pytest.fixture
def strict(guardrail: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return guardrail(**STRICT)


@pytest.fixture
def masking(guardrail: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return guardrail(**MASK_OUTPUT)


def config(guard: dict[str, Any], trace: str = "enabled", **extra: Any) -> dict[str, Any]:
    """Converse's guardrailConfig for a guardrail made by the ``guardrail`` fixture."""
    return {
        "guardrailIdentifier": guard["id"],
        "guardrailVersion": guard["version"],
        "trace": trace,
        **extra,
    }


@pytest.fixture
def prompt(agent: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """``prompt(variants, default)`` -> CreatePrompt's answer; deleted afterwards."""
    made: list[str] = []

    def make(variants: list[dict[str, Any]], default: str | None = None) -> dict[str, Any]:
        extra = {"defaultVariant": default} if default else {}
        created = agent.create_prompt(name=unique("prompt"), variants=variants, **extra)
        made.append(created["id"])
        return created

    yield make
    for pid in made:
        with contextlib.suppress(ClientError):
            agent.delete_prompt(promptIdentifier=pid)


def allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def client_for_user(nimbus: Any, *statements: dict[str, Any]) -> Any:
    """A bedrock-runtime client signed by a new IAM user whose policy is ``statements``."""
    iam = nimbus.client("iam")
    name = unique("bedrock-user")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=nimbus.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
