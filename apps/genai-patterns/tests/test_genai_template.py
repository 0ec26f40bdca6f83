"""template.yaml passes cfn-lint and translates with aws-sam-translator (packaged), and the
translated stack wires the three patterns with least-privilege roles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from genai_support import APP

TEMPLATE = APP / "template.yaml"


def test_the_template_passes_cfn_lint() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    from cfnlint.decode.cfn_yaml import load as load_cfn_yaml
    from samtranslator.translator.transform import transform

    class Policies:
        def load(self) -> dict[str, str]:
            base = "arn:aws:iam::aws:policy/service-role/"
            return {"AWSLambdaBasicExecutionRole": base + "AWSLambdaBasicExecutionRole"}

    template = json.loads(json.dumps(load_cfn_yaml(str(TEMPLATE))))
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/genai/src.zip"  # sam package
    parameters: dict[str, str] = {}
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(template, parameters, Policies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


def statements(resources: dict, role: str) -> list[dict]:
    """Every statement a function role holds: inline policies and the managed ones by Ref."""
    props = resources[role]["Properties"]
    out = [s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in resources:
            out += resources[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return out


def actions(resources: dict, role: str) -> set[str]:
    acts: set[str] = set()
    for statement in statements(resources, role):
        value = statement["Action"]
        acts.update([value] if isinstance(value, str) else value)
    return acts


def test_the_three_patterns_are_wired(translated: dict) -> None:
    resources = translated["Resources"]
    api = resources["ServerlessHttpApi"]["Properties"]["Body"]
    assert set(api["paths"]) == {"/generate"} and "post" in api["paths"]["/generate"]
    ws = resources["WebSocketApi"]["Properties"]
    assert ws["ProtocolType"] == "WEBSOCKET"
    assert ws["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["Properties"]["RouteKey"]: r["Properties"]["Target"] for r in resources.values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"}  # fmt: skip
    assert set(routes) == {"$connect", "$disconnect", "$default", "ask", "stream"}
    assert routes["ask"] == routes["stream"] == routes["$default"]
    assert routes["$connect"] == routes["$disconnect"] != routes["ask"]
    stage = resources["WebSocketStage"]["Properties"]
    assert stage["AutoDeploy"] is True
    worker = resources["WorkerFunction"]["Properties"]
    assert worker["Timeout"] > 29  # not bound by API Gateway's integration timeout
    config = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig")
    assert config["Properties"]["MaximumRetryAttempts"] == 0
    assert set(translated["Outputs"]) >= {"ApiUrl", "WebSocketUrl", "WebsiteUrl",
                                          "AuditTableName", "CacheTableName"}  # fmt: skip
    assert translated["Outputs"]["WebSocketUrl"]["Value"]["Fn::Sub"].startswith("wss://")
    for name in ("ResponseCache", "RequestAudit", "Connections"):
        ttl = resources[name]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_the_roles_hold_only_what_each_function_needs(translated: dict) -> None:
    resources = translated["Resources"]
    model = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream",
             "bedrock:ApplyGuardrail", "bedrock:GetPrompt"}  # fmt: skip
    assert model <= actions(resources, "GenerateFunctionRole")
    assert model <= actions(resources, "WorkerFunctionRole")
    assert "execute-api:ManageConnections" in actions(resources, "WorkerFunctionRole")
    dispatch = actions(resources, "DispatchFunctionRole")
    assert "lambda:InvokeFunction" in dispatch and "execute-api:ManageConnections" in dispatch
    assert not any(a.startswith("bedrock:") for a in dispatch)
    connections = actions(resources, "ConnectionsFunctionRole")
    assert {"dynamodb:PutItem", "dynamodb:DeleteItem"} <= connections
    assert not any(a.startswith(("bedrock:", "lambda:", "execute-api:")) for a in connections)
    generate = actions(resources, "GenerateFunctionRole")
    assert "dynamodb:DeleteItem" not in generate and "dynamodb:Scan" not in generate
    assert "execute-api:ManageConnections" not in generate


def test_the_guardrail_and_the_prompt_versions_are_part_of_the_stack(translated: dict) -> None:
    resources = translated["Resources"]
    guardrail = resources["Guardrail"]["Properties"]
    pii = {e["Type"]: e["Action"] for e in
           guardrail["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}  # fmt: skip
    assert pii["EMAIL"] == pii["PHONE"] == "ANONYMIZE"
    assert pii["CREDIT_DEBIT_CARD_NUMBER"] == "BLOCK"
    assert guardrail["TopicPolicyConfig"]["TopicsConfig"][0]["Type"] == "DENY"
    assert guardrail["BlockedInputMessaging"] and guardrail["BlockedOutputsMessaging"]
    version = resources["GuardrailVersion"]["Properties"]
    assert version["GuardrailIdentifier"] == {"Fn::GetAtt": ["Guardrail", "GuardrailId"]}
    for name in ("Chat", "Summarize", "Advert"):
        variant = resources[f"{name}Prompt"]["Properties"]["Variants"][0]
        chat = variant["TemplateConfiguration"]["Chat"]
        assert variant["TemplateType"] == "CHAT"
        assert "{{language}}" in chat["System"][0]["Text"]
        assert chat["Messages"] == [{"Role": "user", "Content": [{"Text": "{{input}}"}]}]
        assert {v["Name"] for v in chat["InputVariables"]} == {"input", "language"}
        meta = {m["Key"]: m["Value"] for m in variant["Metadata"]}
        assert meta["template"] == name.lower() and meta["tier"] in ("auto", "small", "large")
        pinned = resources[f"{name}PromptVersion"]["Properties"]
        assert pinned["PromptArn"] == {"Fn::GetAtt": [f"{name}Prompt", "Arn"]}
    guard = next(s for s in statements(resources, "WorkerFunctionRole")
                 if s["Action"] == "bedrock:ApplyGuardrail")  # fmt: skip
    assert guard["Resource"] == {"Fn::GetAtt": ["Guardrail", "GuardrailArn"]}


def test_the_functions_get_the_prompt_layer_configuration(translated: dict) -> None:
    env = translated["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["GUARDRAIL_ID"] == {"Fn::GetAtt": ["Guardrail", "GuardrailId"]}
    assert env["GUARDRAIL_VERSION"] == {"Fn::GetAtt": ["GuardrailVersion", "Version"]}
    versions = env["PROMPT_VERSION_ARNS"]["Fn::Join"][1]
    assert versions == [{"Fn::GetAtt": [f"{name}PromptVersion", "Arn"]}
                        for name in ("Chat", "Summarize", "Advert")]  # fmt: skip
    assert {"SMALL_MODEL_ID", "LARGE_MODEL_ID", "FALLBACK_MODEL_ID", "CACHE_TABLE",
            "AUDIT_TABLE", "STREAM_COALESCE_MS"} <= set(env)  # fmt: skip
    dispatch = translated["Resources"]["DispatchFunction"]["Properties"]["Environment"]
    assert dispatch["Variables"]["WORKER_FUNCTION"] == {"Ref": "WorkerFunction"}
