"""The deploy scripts with fake clients passed in: publishing the guardrail and the prompt
templates once per change (prepare.py), and uploading the UI with its config.json."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from genai_support import APP, FakeClientError, load, templates

assets = load("genai_bedrock_assets", APP / "scripts" / "bedrock_assets.py")
prepare = load("genai_prepare", APP / "scripts" / "prepare.py")
upload_web = load("genai_upload_web", APP / "scripts" / "upload_web.py")
NOW = datetime(2025, 6, 15, tzinfo=UTC)


def paged(items: list[dict], token: str | None, key: str) -> dict:
    """One item per page, so the scripts' paging is exercised."""
    start = int(token or 0)
    page = {key: items[start : start + 1]}
    if start + 1 < len(items):
        page["nextToken"] = str(start + 1)
    return page


class FakeBedrock:
    """The guardrail half of the bedrock control plane."""

    def __init__(self) -> None:
        self.guardrails: dict[str, dict] = {}
        self.calls: list[str] = []

    def list_guardrails(self, guardrailIdentifier: str | None = None, nextToken=None) -> dict:
        if guardrailIdentifier:
            g = self.guardrails[guardrailIdentifier]
            rows = [{"id": guardrailIdentifier, "name": g["name"], "version": "DRAFT"}]
            rows += [
                {
                    "id": guardrailIdentifier,
                    "name": g["name"],
                    "version": n,
                    "description": v["description"],
                }
                for n, v in g["versions"].items()
            ]
        else:
            rows = [
                {"id": i, "name": g["name"], "version": "DRAFT"} for i, g in self.guardrails.items()
            ]
        return paged(rows, nextToken, "guardrails")

    def create_guardrail(self, **kwargs) -> dict:
        self.calls.append("create_guardrail")
        gid = f"gr{len(self.guardrails) + 1:010d}"
        self.guardrails[gid] = {"name": kwargs["name"], "draft": kwargs, "versions": {}}
        arn = f"arn:aws:bedrock:us-east-1:123456789012:guardrail/{gid}"
        return {"guardrailId": gid, "version": "DRAFT", "createdAt": NOW, "guardrailArn": arn}

    def update_guardrail(self, guardrailIdentifier: str, **kwargs) -> dict:
        self.calls.append("update_guardrail")
        self.guardrails[guardrailIdentifier]["draft"] = kwargs
        return {"guardrailId": guardrailIdentifier, "version": "DRAFT"}

    def create_guardrail_version(self, guardrailIdentifier: str, description: str = "") -> dict:
        self.calls.append("create_guardrail_version")
        versions = self.guardrails[guardrailIdentifier]["versions"]
        number = str(len(versions) + 1)
        versions[number] = {"description": description}
        return {"guardrailId": guardrailIdentifier, "version": number}

    def get_guardrail(self, guardrailIdentifier: str, guardrailVersion: str = "DRAFT") -> dict:
        return {"status": "READY"}


class FakePrompts:
    """The prompt-management half of bedrock-agent."""

    def __init__(self) -> None:
        self.prompts: dict[str, dict] = {}
        self.calls: list[str] = []

    def _arn(self, pid: str, version: str | None = None) -> str:
        base = f"arn:aws:bedrock:us-east-1:123456789012:prompt/{pid}"
        return f"{base}:{version}" if version else base

    def list_prompts(self, promptIdentifier: str | None = None, nextToken=None) -> dict:
        if promptIdentifier:
            p = self.prompts[promptIdentifier]
            rows = [{"id": promptIdentifier, "name": p["name"], "version": "DRAFT",
                     "arn": self._arn(promptIdentifier)}]  # fmt: skip
            rows += [{"id": promptIdentifier, "name": p["name"], "version": n,
                      "arn": self._arn(promptIdentifier, n), "description": v["description"]}
                     for n, v in p["versions"].items()]  # fmt: skip
        else:
            rows = [{"id": i, "name": p["name"], "version": "DRAFT", "arn": self._arn(i)}
                    for i, p in self.prompts.items()]  # fmt: skip
        return paged(rows, nextToken, "promptSummaries")

    def create_prompt(self, **kwargs) -> dict:
        self.calls.append("create_prompt")
        pid = f"P{len(self.prompts) + 1:09d}"
        self.prompts[pid] = {"name": kwargs["name"], "draft": kwargs, "versions": {}}
        return {"id": pid, "arn": self._arn(pid), "version": "DRAFT", "name": kwargs["name"]}

    def update_prompt(self, promptIdentifier: str, **kwargs) -> dict:
        self.calls.append("update_prompt")
        self.prompts[promptIdentifier]["draft"] = kwargs
        return {"id": promptIdentifier}

    def create_prompt_version(self, promptIdentifier: str, description: str = "") -> dict:
        self.calls.append("create_prompt_version")
        prompt = self.prompts[promptIdentifier]
        number = str(len(prompt["versions"]) + 1)
        variants = copy.deepcopy(prompt["draft"]["variants"])
        prompt["versions"][number] = {"description": description, "variants": variants}
        return {
            "id": promptIdentifier,
            "version": number,
            "arn": self._arn(promptIdentifier, number),
        }


def test_the_first_run_publishes_everything_and_the_second_nothing() -> None:
    bedrock, agent = FakeBedrock(), FakePrompts()
    first = prepare.overrides("genai-patterns", bedrock, agent)
    assert first["GuardrailVersion"] == "1" and first["GuardrailId"] in bedrock.guardrails
    arns = first["PromptVersionArns"].split(",")
    assert len(arns) == len(templates.load_specs())
    assert all(templates.split_version_arn(a)[1] == "1" for a in arns)
    assert {p["name"] for p in agent.prompts.values()} == {
        f"genai-patterns-{name}" for name in templates.load_specs()
    }
    draft = next(iter(bedrock.guardrails.values()))["draft"]
    assert draft["name"] == "genai-patterns-guardrail"
    assert draft["sensitiveInformationPolicyConfig"]["regexesConfig"][0]["name"] == "CCCD"
    bedrock.calls.clear(), agent.calls.clear()
    assert prepare.overrides("genai-patterns", bedrock, agent) == first
    assert bedrock.calls == [] and agent.calls == []


def test_a_changed_template_gets_a_new_version_and_only_it(monkeypatch, tmp_path: Path) -> None:
    bedrock, agent = FakeBedrock(), FakePrompts()
    first = prepare.overrides("app", bedrock, agent)["PromptVersionArns"].split(",")
    specs = templates.load_specs()
    specs["chat"] = {**specs["chat"], "text": specs["chat"]["text"] + "\nBe brief."}
    monkeypatch.setattr(templates, "load_specs", lambda folder=None: specs)
    agent.calls.clear()
    second = prepare.overrides("app", bedrock, agent)["PromptVersionArns"].split(",")
    changed = [(a, b) for a, b in zip(first, second, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].endswith(":2")
    assert agent.calls == ["update_prompt", "create_prompt_version"]
    chat_id = next(i for i, p in agent.prompts.items() if p["name"] == "app-chat")
    published = agent.prompts[chat_id]["versions"]["2"]["variants"][0]
    assert published["templateConfiguration"]["text"]["text"].endswith("Be brief.")


def test_a_changed_guardrail_gets_a_new_version() -> None:
    bedrock = FakeBedrock()
    config = json.loads(assets.GUARDRAIL_FILE.read_text())
    gid, version = assets.ensure_guardrail(bedrock, "g", config)
    config["blockedInputMessaging"] = "No."
    assert assets.ensure_guardrail(bedrock, "g", config) == (gid, "2")
    assert bedrock.calls[-2:] == ["update_guardrail", "create_guardrail_version"]
    assert version == "1"


def test_without_bedrock_the_app_still_deploys_with_its_bundled_templates(capsys) -> None:
    class Missing:
        def __getattr__(self, name: str):
            def call(**kwargs):
                raise FakeClientError("UnrecognizedClientException", "no such service")

            return call

    assert prepare.overrides("genai-patterns", Missing(), Missing()) == {}
    assert "runs without one" in capsys.readouterr().err


def test_other_errors_stop_the_deploy() -> None:
    class Denied(FakeBedrock):
        def list_guardrails(self, **kwargs):
            raise FakeClientError("AccessDeniedException")

    with pytest.raises(FakeClientError):
        prepare.overrides("genai-patterns", Denied(), FakePrompts())


def test_version_descriptions_stay_within_aws_limits() -> None:
    text = assets.described("x" * 500, assets.digest({"a": 1}))
    assert len(text) <= 200 and text.endswith("]")
    assert assets.version_arn("arn:aws:bedrock:us-east-1:1:prompt/ABCDEFGHIJ:3", "3").endswith(
        "ABCDEFGHIJ:3"
    )
    assert assets.version_arn("arn:aws:bedrock:us-east-1:1:prompt/ABCDEFGHIJ", "4").endswith(
        "ABCDEFGHIJ:4"
    )


def test_upload_writes_the_ui_and_its_endpoints() -> None:
    class FakeS3:
        def __init__(self) -> None:
            self.objects: dict[str, dict] = {}

        def put_object(self, **kwargs) -> dict:
            self.objects[kwargs["Key"]] = kwargs
            return {}

    s3 = FakeS3()
    keys = upload_web.upload("site", "http://api/", "ws://sock/prod/", s3)
    assert {"index.html", "app.js", "markdown.js", "app.css", "config.json"} <= set(keys)
    config = json.loads(s3.objects["config.json"]["Body"])
    assert config == {"apiUrl": "http://api", "webSocketUrl": "ws://sock/prod"}
    assert s3.objects["index.html"]["ContentType"].startswith("text/html")
    assert s3.objects["app.js"]["ContentType"].startswith("text/javascript")
