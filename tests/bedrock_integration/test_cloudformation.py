"""A SAM template with a guardrail, a prompt, their versions and a function that calls Converse
with them: deployed by boto3 CloudFormation, the function's role decides what it may do."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import error_of

from .conftest import BLOCKED_VI

WAIT = {"Delay": 0.2, "MaxAttempts": 300}

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  GrantGuardrail:
    Type: String
    Default: "yes"
    AllowedValues: ["yes", "no"]
Conditions:
  Grant: !Equals [!Ref GrantGuardrail, "yes"]
Resources:
  Guard:
    Type: AWS::Bedrock::Guardrail
    Properties:
      Name: !Sub "${AWS::StackName}-guard"
      BlockedInputMessaging: "Xin lỗi, tôi không thể trả lời yêu cầu này."
      BlockedOutputsMessaging: "The answer was withheld."
      TopicPolicyConfig:
        TopicsConfig:
          - Name: Investment Advice
            Type: DENY
            Definition: Personalized recommendations about investing money in stocks or crypto.
            Examples: ["Should I buy Tesla stock?", "Tôi nên đầu tư vào cổ phiếu nào?"]
      SensitiveInformationPolicyConfig:
        PiiEntitiesConfig:
          - {Type: EMAIL, Action: ANONYMIZE, InputEnabled: false}
          - {Type: PHONE, Action: ANONYMIZE, InputEnabled: false}
  GuardV1:
    Type: AWS::Bedrock::GuardrailVersion
    Properties:
      GuardrailIdentifier: !GetAtt Guard.GuardrailId
  Echo:
    Type: AWS::Bedrock::Prompt
    Properties:
      Name: !Sub "${AWS::StackName}-echo"
      DefaultVariant: main
      Variants:
        - Name: main
          TemplateType: TEXT
          ModelId: anthropic.claude-3-haiku-20240307-v1:0
          TemplateConfiguration:
            Text:
              Text: "Repeat after me: {{text}}"
              InputVariables: [{Name: text}]
  EchoV1:
    Type: AWS::Bedrock::PromptVersion
    Properties:
      PromptArn: !GetAtt Echo.Arn
  Ask:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Timeout: 30
      Environment:
        Variables:
          GUARDRAIL_ID: !GetAtt Guard.GuardrailId
          GUARDRAIL_VERSION: !GetAtt GuardV1.Version
          PROMPT_ARN: !Ref EchoV1
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: bedrock:InvokeModel
              Resource: !Sub "arn:aws:bedrock:${AWS::Region}::foundation-model/*"
            - Effect: Allow
              Action: bedrock:RenderPrompt
              Resource: !Ref EchoV1
            - Effect: Allow
              Action: bedrock:ApplyGuardrail
              Resource: !If
                - Grant
                - !Ref Guard
                - !Sub "arn:aws:bedrock:${AWS::Region}:${AWS::AccountId}:guardrail/another"
      InlineCode: |
        import os
        import boto3
        from botocore.exceptions import ClientError

        client = boto3.client("bedrock-runtime")


        def handler(event, context):
            guard = {
                "guardrailIdentifier": os.environ["GUARDRAIL_ID"],
                "guardrailVersion": os.environ["GUARDRAIL_VERSION"],
                "trace": "enabled",
            }
            try:
                if "text" in event:
                    reply = client.converse(
                        modelId=os.environ["PROMPT_ARN"],
                        promptVariables={"text": {"text": event["text"]}},
                        guardrailConfig=guard,
                    )
                else:
                    reply = client.converse(
                        modelId="anthropic.claude-3-haiku-20240307-v1:0",
                        messages=[{"role": "user", "content": [{"text": event["question"]}]}],
                        guardrailConfig=guard,
                    )
            except ClientError as err:
                return {"error": err.response["Error"]["Code"]}
            trace = reply.get("trace", {}).get("guardrail", {})
            return {
                "stopReason": reply["stopReason"],
                "text": reply["output"]["message"]["content"][0]["text"],
                "assessed": sorted(trace.get("inputAssessment", {})),
            }
Outputs:
  FunctionName: {Value: !Ref Ask}
  GuardrailId: {Value: !GetAtt Guard.GuardrailId}
  GuardrailVersion: {Value: !GetAtt GuardV1.Version}
  PromptVersionArn: {Value: !Ref EchoV1}
"""

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


@pytest.fixture
def deploy(aws: Callable[..., Any]) -> Iterator[Callable[[str], dict[str, str]]]:
    """``deploy(grant)`` -> the stack's outputs; the stacks are deleted afterwards."""
    cfn = aws("cloudformation")
    stacks: list[str] = []

    def run(grant: str) -> dict[str, str]:
        name = f"genai-guard-{uuid.uuid4().hex[:6]}"
        params = [{"ParameterKey": "GrantGuardrail", "ParameterValue": grant}]
        cfn.create_stack(
            StackName=name, TemplateBody=TEMPLATE, Parameters=params, Capabilities=CAPABILITIES
        )
        stacks.append(name)
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    yield run
    for name in stacks:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)


def _call(aws: Callable[..., Any], name: str, event: dict[str, str]) -> dict[str, Any]:
    reply = aws("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, payload
    return payload


def test_template_needs_its_capabilities(aws: Callable[..., Any]) -> None:
    cfn = aws("cloudformation")
    for given in ([], ["CAPABILITY_IAM"], ["CAPABILITY_AUTO_EXPAND"]):
        code, status, message = error_of(
            cfn.create_stack,
            StackName=f"genai-guard-{uuid.uuid4().hex[:6]}",
            TemplateBody=TEMPLATE,
            Capabilities=given,
        )
        assert (code, status) == ("InsufficientCapabilitiesException", 400)
        assert "CAPABILITY" in message


def test_function_converses_through_the_stacks_guardrail_and_prompt(
    aws: Callable[..., Any], deploy: Callable[[str], dict[str, str]]
) -> None:
    outputs = deploy("yes")
    name, gid = outputs["FunctionName"], outputs["GuardrailId"]
    assert outputs["GuardrailVersion"] == "1" and outputs["PromptVersionArn"].endswith(":1")

    blocked = _call(aws, name, {"question": "Tôi nên đầu tư vào cổ phiếu nào?"})
    assert blocked == {"stopReason": "guardrail_intervened", "text": BLOCKED_VI, "assessed": [gid]}
    fine = _call(aws, name, {"question": "What is 6 * 7?"})
    assert fine["stopReason"] == "end_turn" and "42" in fine["text"]
    masked = _call(aws, name, {"text": "mail an.nguyen@example.com, call 0912 345 678"})
    assert "mail {EMAIL}, call {PHONE}" in masked["text"]
    assert "example.com" not in masked["text"]
    assert masked["stopReason"] == "guardrail_intervened"


def test_role_without_apply_guardrail_on_the_guardrail_is_denied(
    aws: Callable[..., Any], deploy: Callable[[str], dict[str, str]]
) -> None:
    name = deploy("no")["FunctionName"]
    assert _call(aws, name, {"question": "What is 6 * 7?"}) == {"error": "AccessDeniedException"}
    assert _call(aws, name, {"text": "hello"}) == {"error": "AccessDeniedException"}
