"""Bedrock prompt management through boto3, and render_prompt as Converse uses it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import Call, error_of

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.registry import ServiceRegistry

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _text_variant(text: str, name: str = "main", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "templateType": "TEXT",
        "modelId": MODEL,
        "templateConfiguration": {"text": {"text": text, "inputVariables": [{"name": "product"}]}},
        "inferenceConfiguration": {"text": {"temperature": 0.2, "maxTokens": 300}},
        **extra,
    }


CHAT_VARIANT = {
    "name": "chat",
    "templateType": "CHAT",
    "modelId": MODEL,
    "templateConfiguration": {
        "chat": {
            "system": [{"text": "You write {{tone}} car adverts in {{language}}."}],
            "messages": [
                {"role": "user", "content": [{"text": "Write an advert for the {{model}}."}]},
                {"role": "assistant", "content": [{"text": "Sure, here is a draft:"}]},
            ],
            "inputVariables": [{"name": "tone"}, {"name": "language"}, {"name": "model"}],
        }
    },
    "inferenceConfiguration": {
        "text": {"temperature": 0.7, "topP": 0.9, "maxTokens": 500, "stopSequences": ["END"]}
    },
}


@pytest.fixture
def prompt(agent: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    made: list[str] = []

    def make(**config: Any) -> dict[str, Any]:
        config.setdefault("name", f"prompt-{uuid.uuid4().hex[:8]}")
        created = agent.create_prompt(**config)
        made.append(created["id"])
        return created

    yield make
    for pid in made:
        with contextlib.suppress(ClientError):  # the test may have deleted it itself
            agent.delete_prompt(promptIdentifier=pid)


def test_create_get_list_text_prompt(agent: Any, prompt: Any) -> None:
    created = prompt(
        description="Car advert",
        defaultVariant="main",
        variants=[_text_variant("Create a 500 word car advert for {{product}}.")],
    )
    pid = created["id"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(pid) == 10 and created["version"] == "DRAFT"
    assert created["arn"] == f"arn:aws:bedrock:us-east-1:000000000000:prompt/{pid}"
    got = agent.get_prompt(promptIdentifier=created["arn"])
    assert got["name"] == created["name"] and got["description"] == "Car advert"
    variant = got["variants"][0]
    assert variant["templateConfiguration"]["text"]["text"].endswith("{{product}}.")
    assert variant["inferenceConfiguration"]["text"]["maxTokens"] == 300
    summaries = agent.list_prompts(maxResults=1000)["promptSummaries"]
    mine = [s for s in summaries if s["id"] == pid]
    assert [(s["version"], s["arn"]) for s in mine] == [("DRAFT", created["arn"])]


def test_versions_are_immutable(agent: Any, prompt: Any) -> None:
    created = prompt(variants=[_text_variant("v1 text for {{product}}")])
    pid = created["id"]
    v1 = agent.create_prompt_version(promptIdentifier=pid, description="first cut")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (v1["version"], v1["arn"]) == ("1", f"{created['arn']}:1")
    assert v1["description"] == "first cut"
    agent.update_prompt(
        promptIdentifier=pid,
        name=created["name"],
        variants=[_text_variant("v2 text for {{product}}")],
    )
    assert agent.create_prompt_version(promptIdentifier=pid)["version"] == "2"

    def text_of(**kwargs: Any) -> str:
        got = agent.get_prompt(promptIdentifier=pid, **kwargs)
        return got["variants"][0]["templateConfiguration"]["text"]["text"]

    assert text_of(promptVersion="1") == "v1 text for {{product}}"
    assert text_of(promptVersion="2") == text_of() == "v2 text for {{product}}"
    assert agent.get_prompt(promptIdentifier=f"{created['arn']}:1")["version"] == "1"
    listed = agent.list_prompts(promptIdentifier=pid)["promptSummaries"]
    assert [s["version"] for s in listed] == ["DRAFT", "1", "2"]

    deleted = agent.delete_prompt(promptIdentifier=pid, promptVersion="1")
    assert (deleted["id"], deleted["version"]) == (pid, "1")
    code, status, _ = error_of(agent.get_prompt, promptIdentifier=pid, promptVersion="1")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert agent.delete_prompt(promptIdentifier=pid)["id"] == pid
    code, status, _ = error_of(agent.get_prompt, promptIdentifier=pid, promptVersion="2")
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_prompt_errors(agent: Any, prompt: Any) -> None:
    created = prompt(variants=[_text_variant("x {{product}}")])
    code, status, _ = error_of(agent.create_prompt, name=created["name"])
    assert (code, status) == ("ConflictException", 409)
    code, status, _ = error_of(agent.create_prompt, name="bad name!")
    assert (code, status) == ("ValidationException", 400)
    code, status, message = error_of(
        agent.create_prompt, name=f"p-{uuid.uuid4().hex[:6]}", defaultVariant="missing",
        variants=[_text_variant("x")],
    )  # fmt: skip
    assert (code, status) == ("ValidationException", 400) and "missing" in message
    wrong = {**_text_variant("x"), "templateType": "CHAT"}
    code, status, _ = error_of(
        agent.create_prompt, name=f"p-{uuid.uuid4().hex[:6]}", variants=[wrong]
    )
    assert (code, status) == ("ValidationException", 400)
    code, status, _ = error_of(agent.get_prompt, promptIdentifier="ABCDE12345")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(agent.create_prompt_version, promptIdentifier="ABCDE12345")
    assert (code, status) == ("ResourceNotFoundException", 404)


# -- render_prompt: what Converse with a prompt ARN as modelId receives ---------------------------
@pytest.fixture
def local(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    """The bedrock-agent provider called in-process, as bedrock-runtime calls render_prompt."""
    return Call(registry.get("bedrock-agent"), ctx)


def test_render_text_prompt(local: Call) -> None:
    created = local("create_prompt", name="advert",
                    variants=[_text_variant("Create a car advert for {{product}}.")])  # fmt: skip
    rendered = local.provider.render_prompt(created["arn"], {"product": {"text": "the new SUV"}})
    assert rendered == {
        "modelId": MODEL,
        "messages": [
            {"role": "user", "content": [{"text": "Create a car advert for the new SUV."}]}
        ],
        "inferenceConfig": {"temperature": 0.2, "maxTokens": 300},
    }


def test_render_chat_prompt_version(local: Call) -> None:
    created = local("create_prompt", name="chat", variants=[CHAT_VARIANT])
    local("create_prompt_version", promptIdentifier=created["id"])
    local("update_prompt", promptIdentifier=created["id"], name="chat",
          variants=[_text_variant("changed {{product}}")])  # fmt: skip
    values = {"tone": {"text": "cheerful"}, "language": {"text": "Vietnamese"},
              "model": {"text": "VF 8"}}  # fmt: skip
    rendered = local.provider.render_prompt(f"{created['arn']}:1", values)
    assert rendered["modelId"] == MODEL
    assert rendered["system"] == [{"text": "You write cheerful car adverts in Vietnamese."}]
    assert rendered["messages"] == [
        {"role": "user", "content": [{"text": "Write an advert for the VF 8."}]},
        {"role": "assistant", "content": [{"text": "Sure, here is a draft:"}]},
    ]
    assert rendered["inferenceConfig"] == {"maxTokens": 500, "temperature": 0.7, "topP": 0.9,
                                           "stopSequences": ["END"]}  # fmt: skip
    # The draft moved on; the ARN without a version renders the draft.
    draft = local.provider.render_prompt(created["arn"], {"product": {"text": "x"}})
    assert draft["messages"][0]["content"] == [{"text": "changed x"}]


def test_render_names_missing_variables(local: Call) -> None:
    created = local("create_prompt", name="chat", variants=[CHAT_VARIANT])
    with pytest.raises(AwsError) as info:
        local.provider.render_prompt(created["arn"], {"tone": {"text": "calm"}})
    assert (info.value.code, info.value.status) == ("ValidationException", 400)
    assert "'language'" in info.value.message and "'model'" in info.value.message
    with pytest.raises(AwsError) as info:
        local.provider.render_prompt(created["arn"].replace(created["id"], "ZZZZZ99999"), {})
    assert (info.value.code, info.value.status) == ("ResourceNotFoundException", 404)
    no_model = {**CHAT_VARIANT}
    del no_model["modelId"]
    bare = local("create_prompt", name="bare", variants=[no_model])
    with pytest.raises(AwsError) as info:
        local.provider.render_prompt(bare["arn"], {})
    assert info.value.code == "ValidationException" and "modelId" in info.value.message
