"""boto3 against a live Nimbus: guardrail create, read, list, update, versions, delete, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from support import NimbusServer, error_of, unique

from .conftest import BLOCKED_INPUT, BLOCKED_OUTPUT, INVESTMENT_TOPIC, pii_config


def test_create_get_and_list(bedrock: Any, guardrail: Any) -> None:
    name = unique("support-bot")
    created = guardrail(
        name=name,
        description="Guards the support chatbot",
        topicPolicyConfig={"topicsConfig": [INVESTMENT_TOPIC]},
        wordPolicyConfig={
            "wordsConfig": [{"text": "CompetitorX"}],
            "managedWordListsConfig": [{"type": "PROFANITY"}],
        },
        **pii_config(("EMAIL", "ANONYMIZE"), ("CREDIT_DEBIT_CARD_NUMBER", "BLOCK")),
        tags=[{"key": "team", "value": "ai"}],
    )
    gid = created["guardrailId"]
    assert created["version"] == "DRAFT"
    assert created["guardrailArn"] == f"arn:aws:bedrock:us-east-1:000000000000:guardrail/{gid}"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202

    for identifier in (gid, created["guardrailArn"]):
        got = bedrock.get_guardrail(guardrailIdentifier=identifier)
        assert (got["guardrailId"], got["name"], got["version"]) == (gid, name, "DRAFT")
    assert got["status"] == "READY"
    assert got["description"] == "Guards the support chatbot"
    assert (got["blockedInputMessaging"], got["blockedOutputsMessaging"]) == (
        BLOCKED_INPUT,
        BLOCKED_OUTPUT,
    )
    topic = got["topicPolicy"]["topics"][0]
    assert (
        topic["name"] == "Investment Advice" and topic["examples"] == INVESTMENT_TOPIC["examples"]
    )
    assert topic["inputAction"] == topic["outputAction"] == "BLOCK"
    assert got["wordPolicy"]["words"][0]["text"] == "CompetitorX"
    assert got["wordPolicy"]["managedWordLists"][0]["type"] == "PROFANITY"
    entities = {e["type"]: e["action"] for e in got["sensitiveInformationPolicy"]["piiEntities"]}
    assert entities == {"EMAIL": "ANONYMIZE", "CREDIT_DEBIT_CARD_NUMBER": "BLOCK"}
    assert got["createdAt"] == created["createdAt"]

    listed = bedrock.get_paginator("list_guardrails").paginate().build_full_result()["guardrails"]
    mine = [g for g in listed if g["id"] == gid]
    assert len(mine) == 1
    assert (mine[0]["name"], mine[0]["version"], mine[0]["status"]) == (name, "DRAFT", "READY")
    assert mine[0]["arn"] == created["guardrailArn"]


def test_versions_are_immutable_snapshots(bedrock: Any, guardrail: Any) -> None:
    created = guardrail(**pii_config(("EMAIL", "ANONYMIZE")))
    gid = created["guardrailId"]
    first = bedrock.create_guardrail_version(guardrailIdentifier=gid, description="first")
    assert (first["guardrailId"], first["version"]) == (gid, "1")

    name = bedrock.get_guardrail(guardrailIdentifier=gid)["name"]
    updated = bedrock.update_guardrail(
        guardrailIdentifier=gid,
        name=name,
        blockedInputMessaging="Changed input message",
        blockedOutputsMessaging="Changed output message",
        **pii_config(("PHONE", "BLOCK")),
    )
    assert (updated["version"], updated["guardrailId"]) == ("DRAFT", gid)
    second = bedrock.create_guardrail_version(guardrailIdentifier=gid)
    assert second["version"] == "2"

    v1 = bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="1")
    assert v1["version"] == "1" and v1["description"] == "first"
    assert v1["blockedInputMessaging"] == BLOCKED_INPUT
    assert [e["type"] for e in v1["sensitiveInformationPolicy"]["piiEntities"]] == ["EMAIL"]
    draft = bedrock.get_guardrail(guardrailIdentifier=gid)
    assert draft["blockedInputMessaging"] == "Changed input message"
    assert [e["type"] for e in draft["sensitiveInformationPolicy"]["piiEntities"]] == ["PHONE"]
    assert draft["updatedAt"] >= v1["updatedAt"]

    versions = bedrock.list_guardrails(guardrailIdentifier=gid)["guardrails"]
    assert [v["version"] for v in versions] == ["DRAFT", "1", "2"]

    bedrock.delete_guardrail(guardrailIdentifier=gid, guardrailVersion="1")
    code, status, _ = error_of(bedrock.get_guardrail, guardrailIdentifier=gid, guardrailVersion="1")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="2")["version"] == "2"
    # Version numbers are never reused.
    assert bedrock.create_guardrail_version(guardrailIdentifier=gid)["version"] == "3"


def test_update_replaces_every_policy(bedrock: Any, guardrail: Any) -> None:
    created = guardrail(
        topicPolicyConfig={"topicsConfig": [INVESTMENT_TOPIC]},
        **pii_config(("EMAIL", "ANONYMIZE")),
    )
    gid = created["guardrailId"]
    name = unique("renamed")
    bedrock.update_guardrail(
        guardrailIdentifier=created["guardrailArn"],
        name=name,
        blockedInputMessaging="in",
        blockedOutputsMessaging="out",
        wordPolicyConfig={"wordsConfig": [{"text": "secret project"}]},
    )
    got = bedrock.get_guardrail(guardrailIdentifier=gid)
    assert got["name"] == name
    assert "topicPolicy" not in got and "sensitiveInformationPolicy" not in got
    assert got["wordPolicy"]["words"][0]["text"] == "secret project"


def test_delete_removes_the_guardrail_and_its_versions(bedrock: Any, guardrail: Any) -> None:
    gid = guardrail(**pii_config(("EMAIL", "BLOCK")))["guardrailId"]
    bedrock.create_guardrail_version(guardrailIdentifier=gid)
    assert (
        bedrock.delete_guardrail(guardrailIdentifier=gid)["ResponseMetadata"]["HTTPStatusCode"]
        == 202
    )
    for version in ("DRAFT", "1"):
        code, status, _ = error_of(
            bedrock.get_guardrail, guardrailIdentifier=gid, guardrailVersion=version
        )
        assert (code, status) == ("ResourceNotFoundException", 404)
    assert gid not in [g["id"] for g in bedrock.list_guardrails(maxResults=1000)["guardrails"]]
    code, status, _ = error_of(bedrock.delete_guardrail, guardrailIdentifier=gid)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_list_pages(bedrock: Any, guardrail: Any) -> None:
    ids = {guardrail(**pii_config(("EMAIL", "BLOCK")))["guardrailId"] for _ in range(3)}
    seen: list[str] = []
    token = None
    while True:
        kwargs = {"maxResults": 2, **({"nextToken": token} if token else {})}
        page = bedrock.list_guardrails(**kwargs)
        assert len(page["guardrails"]) <= 2
        seen += [g["id"] for g in page["guardrails"]]
        token = page.get("nextToken")
        if not token:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen))


def test_duplicate_name_is_a_conflict(bedrock: Any, guardrail: Any) -> None:
    name = unique("dup")
    first = guardrail(name=name, **pii_config(("EMAIL", "BLOCK")))
    code, status, message = error_of(
        bedrock.create_guardrail,
        name=name,
        blockedInputMessaging="x",
        blockedOutputsMessaging="y",
    )
    assert (code, status) == ("ConflictException", 400) and name in message  # botocore: 400
    other = guardrail(**pii_config(("EMAIL", "BLOCK")))
    code, status, _ = error_of(
        bedrock.update_guardrail,
        guardrailIdentifier=other["guardrailId"],
        name=name,
        blockedInputMessaging="x",
        blockedOutputsMessaging="y",
    )
    assert (code, status) == ("ConflictException", 400)
    assert bedrock.get_guardrail(guardrailIdentifier=first["guardrailId"])["name"] == name


def test_client_request_token_makes_create_idempotent(bedrock: Any, guardrail: Any) -> None:
    token = unique("token")
    first = guardrail(clientRequestToken=token, **pii_config(("EMAIL", "BLOCK")))
    again = bedrock.create_guardrail(
        name=unique("other"),
        blockedInputMessaging="x",
        blockedOutputsMessaging="y",
        clientRequestToken=token,
    )
    assert again["guardrailId"] == first["guardrailId"]


def test_bad_requests_are_validation_errors(bedrock: Any, guardrail: Any) -> None:
    base = {"blockedInputMessaging": "x", "blockedOutputsMessaging": "y"}
    bad_regex = {"name": "bad", "pattern": "([a-z", "action": "BLOCK"}
    cases: list[dict[str, Any]] = [
        {"name": "has spaces"},
        {"name": unique("g"), **pii_config(regexes=[bad_regex])},
        {"name": unique("g"), **pii_config(("EMAIL", "BLOCK"), ("EMAIL", "ANONYMIZE"))},
        {"name": unique("g"), "contentPolicyConfig": {"filtersConfig": [
            {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "HIGH"}]}},
        {"name": unique("g"), "topicPolicyConfig": {"topicsConfig": [
            INVESTMENT_TOPIC, INVESTMENT_TOPIC]}},
        {"name": unique("g"), "contextualGroundingPolicyConfig": {"filtersConfig": [
            {"type": "GROUNDING", "threshold": 1.5}]}},
    ]  # fmt: skip
    for case in cases:
        code, status, message = error_of(bedrock.create_guardrail, **base, **case)
        assert (code, status) == ("ValidationException", 400), (case, message)
    code, status, _ = error_of(bedrock.get_guardrail, guardrailIdentifier="Not-An-Id!")
    assert (code, status) == ("ValidationException", 400)
    code, status, _ = error_of(bedrock.get_guardrail, guardrailIdentifier="abc123def456")
    assert (code, status) == ("ResourceNotFoundException", 404)
    gid = guardrail(**pii_config(("EMAIL", "BLOCK")))["guardrailId"]
    code, status, _ = error_of(bedrock.get_guardrail, guardrailIdentifier=gid, guardrailVersion="7")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(bedrock.list_guardrails, nextToken="garbage")
    assert (code, status) == ("ValidationException", 400)
    for forged in ("guardrails:-5", "prompts:2"):  # a negative offset, another list's token
        token = base64.urlsafe_b64encode(forged.encode()).decode()
        code, status, _ = error_of(bedrock.list_guardrails, nextToken=token)
        assert (code, status) == ("ValidationException", 400)


def test_missing_required_member_is_rejected(raw: Any) -> None:
    """botocore checks required members before sending; a hand-made request reaches the server."""
    reply = raw(
        "POST",
        "/guardrails",
        service="bedrock",
        body=json.dumps({"name": unique("g"), "blockedInputMessaging": "x"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 400
    assert reply.headers["x-amzn-errortype"].startswith("ValidationException")
    assert b"blockedOutputsMessaging" in reply.body


def test_guardrails_survive_kill_9(fresh_nimbus: NimbusServer, tmp_path: Path) -> None:
    bedrock = fresh_nimbus.client("bedrock")
    created = bedrock.create_guardrail(
        name="durable",
        blockedInputMessaging="x",
        blockedOutputsMessaging="y",
        **pii_config(("EMAIL", "ANONYMIZE")),
    )
    gid = created["guardrailId"]
    bedrock.create_guardrail_version(guardrailIdentifier=gid)
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    bedrock = fresh_nimbus.client("bedrock")
    assert bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="1")["name"] == "durable"
    answer = fresh_nimbus.client("bedrock-runtime").apply_guardrail(
        guardrailIdentifier=gid,
        guardrailVersion="1",
        source="INPUT",
        content=[{"text": {"text": "write to lan@example.com"}}],
    )
    assert answer["outputs"] == [{"text": "write to {EMAIL}"}]
