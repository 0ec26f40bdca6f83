"""``evaluate_guardrail`` called in-process, as bedrock-runtime's Converse calls it."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from support import Call

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.registry import ServiceRegistry

from .conftest import BLOCKED_INPUT, INVESTMENT_TOPIC, pii_config


@pytest.fixture
def local(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("bedrock"), ctx)


def _create(local: Call, **config: Any) -> str:
    config.setdefault("name", "engine")
    config.setdefault("blockedInputMessaging", BLOCKED_INPUT)
    config.setdefault("blockedOutputsMessaging", "withheld")
    return local("create_guardrail", **config)["guardrailId"]


def _text(*texts: str, qualifiers: list[str] | None = None) -> list[dict]:
    block: dict[str, Any] = {}
    if qualifiers:
        block["qualifiers"] = qualifiers
    return [{"text": {"text": t, **block}} for t in texts]


def _conforms(shape: Shape, value: Any, path: str = "") -> None:
    """``value`` uses only members ``shape`` declares, with every required member present."""
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        for name in shape.required_members:
            assert name in value, f"{path}.{name} is required"
        for name, item in value.items():
            assert name in shape.members, f"{path}.{name} is not in {shape.name}"
            _conforms(shape.members[name], item, f"{path}.{name}")
    elif shape.type_name == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            _conforms(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), path
        assert not shape.enum or value in shape.enum, f"{path}={value}"


def test_result_is_exactly_the_apply_guardrail_output_shape(local: Call) -> None:
    gid = _create(
        local,
        topicPolicyConfig={"topicsConfig": [INVESTMENT_TOPIC]},
        wordPolicyConfig={"wordsConfig": [{"text": "acme"}],
                          "managedWordListsConfig": [{"type": "PROFANITY"}]},
        contentPolicyConfig={"filtersConfig": [
            {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"},
            {"type": "INSULTS", "inputStrength": "MEDIUM", "outputStrength": "MEDIUM"}]},
        **pii_config(("EMAIL", "ANONYMIZE"), ("PHONE", "BLOCK"),
                     regexes=[{"name": "TICKET", "pattern": r"T-\d+", "action": "ANONYMIZE"}]),
    )  # fmt: skip
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    shape = model.operation_model("ApplyGuardrail").output_shape
    provider = local.provider
    texts = [
        "Should I buy Tesla stock? acme is shit, you are an idiot, call 0912 345 678",
        "mail a@b.com about T-42",
        "nothing to see",
    ]
    for text in texts:
        for scope in ("INTERVENTIONS", "FULL"):
            result = provider.evaluate_guardrail(gid, "DRAFT", "INPUT", _text(text), scope)
            _conforms(shape, result)


def test_contract_outputs(local: Call) -> None:
    gid = _create(local, **pii_config(("EMAIL", "ANONYMIZE"), ("PHONE", "BLOCK")))
    arn = f"arn:aws:bedrock:us-east-1:000000000000:guardrail/{gid}"
    evaluate = local.provider.evaluate_guardrail
    blocked = evaluate(arn, "DRAFT", "INPUT", _text("call +84 912 345 678"))
    assert (blocked["action"], blocked["outputs"]) == ("GUARDRAIL_INTERVENED",
                                                       [{"text": BLOCKED_INPUT}])  # fmt: skip
    masked = evaluate(gid, "DRAFT", "OUTPUT", _text("a@b.com", "c@d.org and e@f.net"))
    assert masked["outputs"] == [{"text": "{EMAIL}"}, {"text": "{EMAIL} and {EMAIL}"}]
    clean = evaluate(gid, "DRAFT", "INPUT", _text("hi"))
    assert (clean["action"], clean["outputs"]) == ("NONE", [])
    with pytest.raises(AwsError) as info:
        evaluate("nosuchguardrail", "DRAFT", "INPUT", _text("hi"))
    assert (info.value.code, info.value.status) == ("ResourceNotFoundException", 404)
    with pytest.raises(AwsError) as info:
        evaluate(gid, "3", "INPUT", _text("hi"))
    assert (info.value.code, info.value.status) == ("ResourceNotFoundException", 404)


def test_an_update_takes_effect_at_once(local: Call) -> None:
    gid = _create(local, **pii_config(("EMAIL", "ANONYMIZE")))
    evaluate = local.provider.evaluate_guardrail
    assert evaluate(gid, "DRAFT", "INPUT", _text("a@b.com"))["outputs"] == [{"text": "{EMAIL}"}]
    local("create_guardrail_version", guardrailIdentifier=gid)
    local("update_guardrail", guardrailIdentifier=gid, name="engine",
            blockedInputMessaging="now blocked", blockedOutputsMessaging="x",
            **pii_config(("EMAIL", "BLOCK")))  # fmt: skip
    assert evaluate(gid, "DRAFT", "INPUT", _text("a@b.com"))["outputs"] == [{"text": "now blocked"}]
    assert evaluate(gid, "1", "INPUT", _text("a@b.com"))["outputs"] == [{"text": "{EMAIL}"}]
    local("delete_guardrail", guardrailIdentifier=gid, guardrailVersion="1")
    with pytest.raises(AwsError):
        evaluate(gid, "1", "INPUT", _text("a@b.com"))


def test_more_entity_types(local: Call) -> None:
    types = ["NAME", "IP_ADDRESS", "US_SOCIAL_SECURITY_NUMBER", "AWS_ACCESS_KEY", "PASSWORD",
             "LICENSE_PLATE", "AGE", "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "URL"]  # fmt: skip
    gid = _create(local, **pii_config(*[(t, "ANONYMIZE") for t in types]))
    text = (
        "Anh Nguyễn Văn An, 35 tuổi, biển số 51F-123.45, mật khẩu là Hoa@2024. "
        "Mr. John Smith at 10.0.0.12 has SSN 123-45-6789 and key AKIAIOSFODNN7EXAMPLE; "
        "IBAN GB82 WEST 1234 5698 7654 32, see https://example.com/a."
    )
    result = local.provider.evaluate_guardrail(gid, "DRAFT", "INPUT", _text(text))
    assert result["outputs"] == [{"text": (
        "Anh {NAME}, {AGE}, biển số {LICENSE_PLATE}, mật khẩu là {PASSWORD} "
        "Mr. {NAME} at {IP_ADDRESS} has SSN {US_SOCIAL_SECURITY_NUMBER} and key {AWS_ACCESS_KEY}; "
        "IBAN {INTERNATIONAL_BANK_ACCOUNT_NUMBER}, see {URL}."
    )}]  # fmt: skip


def test_contextual_grounding_on_output(local: Call) -> None:
    gid = _create(
        local,
        contextualGroundingPolicyConfig={"filtersConfig": [
            {"type": "GROUNDING", "threshold": 0.5}, {"type": "RELEVANCE", "threshold": 0.5}]},
    )  # fmt: skip
    evaluate = local.provider.evaluate_guardrail
    source = "The store opens at 9 am and closes at 6 pm, Monday to Saturday."
    query = "When does the store open?"

    def check(answer: str) -> dict:
        contents = [
            *_text(source, qualifiers=["grounding_source"]),
            *_text(query, qualifiers=["query"]),
            *_text(answer, qualifiers=["guard_content"]),
        ]
        return evaluate(gid, "DRAFT", "OUTPUT", contents)

    grounded = check("The store opens at 9 am.")
    assert grounded["action"] == "NONE"
    scores = {
        f["type"]: f for f in grounded["assessments"][0]["contextualGroundingPolicy"]["filters"]
    }
    assert scores["GROUNDING"]["score"] >= 0.5 and not scores["GROUNDING"]["detected"]
    invented = check("Parking is free for electric cars every Sunday.")
    assert invented["outputs"] == [{"text": "withheld"}]
    # Only the guarded answer counts toward coverage; the source and query are context.
    coverage = grounded["guardrailCoverage"]["textCharacters"]
    assert coverage["guarded"] == len("The store opens at 9 am.") < coverage["total"]
