"""Guardrails and prompts declared in a template, deployed by boto3 CloudFormation."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from botocore.exceptions import WaiterError

WAIT = {"Delay": 0.2, "MaxAttempts": 300}

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Threshold:
    Type: String
    Default: "0.6"
  Message:
    Type: String
    Default: "Xin lỗi, tôi không thể trả lời yêu cầu này."
Resources:
  Guard:
    Type: AWS::Bedrock::Guardrail
    Properties:
      Name: !Sub "${AWS::StackName}-guard"
      BlockedInputMessaging: !Ref Message
      BlockedOutputsMessaging: !Ref Message
      TopicPolicyConfig:
        TopicsConfig:
          - Name: Investment Advice
            Type: DENY
            Definition: Personalized recommendations about investing in stocks or crypto.
            Examples: ["Should I buy Tesla stock?", "Tôi nên đầu tư vào cổ phiếu nào?"]
      WordPolicyConfig:
        ManagedWordListsConfig: [{Type: PROFANITY}]
      SensitiveInformationPolicyConfig:
        PiiEntitiesConfig:
          - {Type: EMAIL, Action: ANONYMIZE}
          - {Type: PHONE, Action: ANONYMIZE}
      ContextualGroundingPolicyConfig:
        FiltersConfig: [{Type: GROUNDING, Threshold: !Ref Threshold}]
      Tags: [{Key: app, Value: genai}]
  GuardV1:
    Type: AWS::Bedrock::GuardrailVersion
    Properties:
      GuardrailIdentifier: !GetAtt Guard.GuardrailId
      Description: first release
  Advert:
    Type: AWS::Bedrock::Prompt
    Properties:
      Name: !Sub "${AWS::StackName}-advert"
      DefaultVariant: main
      Variants:
        - Name: main
          TemplateType: TEXT
          ModelId: anthropic.claude-3-sonnet-20240229-v1:0
          TemplateConfiguration:
            Text:
              Text: "Create a 500 word car advert for {{car}}."
              InputVariables: [{Name: car}]
          InferenceConfiguration:
            Text: {Temperature: 0.5, MaxTokens: 1000}
  AdvertV1:
    Type: AWS::Bedrock::PromptVersion
    Properties:
      PromptArn: !GetAtt Advert.Arn
Outputs:
  GuardrailId: {Value: !GetAtt Guard.GuardrailId}
  GuardrailArn: {Value: !Ref Guard}
  GuardrailVersion: {Value: !GetAtt GuardV1.Version}
  GuardrailVersionRef: {Value: !Ref GuardV1}
  PromptArn: {Value: !Ref Advert}
  PromptVersionArn: {Value: !Ref AdvertV1}
"""


def test_template_deploys_guardrail_and_prompt_with_versions(aws: Any) -> None:
    cfn, bedrock, agent = aws("cloudformation"), aws("bedrock"), aws("bedrock-agent")
    stack = f"genai-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    }
    gid = outputs["GuardrailId"]
    assert outputs["GuardrailArn"].endswith(f":guardrail/{gid}")
    assert outputs["GuardrailVersionRef"] == f"{gid}|1"
    got = bedrock.get_guardrail(
        guardrailIdentifier=gid, guardrailVersion=outputs["GuardrailVersion"]
    )
    assert got["name"] == f"{stack}-guard"
    assert got["contextualGroundingPolicy"]["filters"][0]["threshold"] == 0.6
    assert got["blockedInputMessaging"] == "Xin lỗi, tôi không thể trả lời yêu cầu này."
    answer = aws("bedrock-runtime").apply_guardrail(
        guardrailIdentifier=gid, guardrailVersion="1", source="INPUT",
        content=[{"text": {"text": "Gọi 0912 345 678 nhé"}}],
    )  # fmt: skip
    assert answer["outputs"] == [{"text": "Gọi {PHONE} nhé"}]

    version = agent.get_prompt(promptIdentifier=outputs["PromptVersionArn"])
    assert outputs["PromptVersionArn"] == f"{outputs['PromptArn']}:1" and version["version"] == "1"
    variant = version["variants"][0]
    assert variant["inferenceConfiguration"]["text"] == {"temperature": 0.5, "maxTokens": 1000}
    assert variant["templateConfiguration"]["text"]["inputVariables"] == [{"name": "car"}]

    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert gid not in [g["id"] for g in bedrock.list_guardrails(maxResults=1000)["guardrails"]]
    prompt_ids = [p["arn"] for p in agent.list_prompts(maxResults=1000)["promptSummaries"]]
    assert outputs["PromptArn"] not in prompt_ids


def test_stack_update_changes_the_draft_not_the_version(aws: Any) -> None:
    cfn, bedrock = aws("cloudformation"), aws("bedrock")
    stack = f"genai-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    params = [{"ParameterKey": "Message", "ParameterValue": "Changed"}]
    cfn.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=params)
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    }
    gid = outputs["GuardrailId"]
    assert bedrock.get_guardrail(guardrailIdentifier=gid)["blockedInputMessaging"] == "Changed"
    first = bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="1")
    assert first["blockedInputMessaging"] != "Changed"
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


BAD_REGEX = """
      SensitiveInformationPolicyConfig:
        RegexesConfig: [{Name: broken, Pattern: "([a-z", Action: BLOCK}]
"""
BAD_THRESHOLD = """
      ContextualGroundingPolicyConfig:
        FiltersConfig: [{Type: GROUNDING, Threshold: "high"}]
"""


@pytest.mark.parametrize(("policy", "fragment"), [(BAD_REGEX, "regex"), (BAD_THRESHOLD, "double")])
def test_a_bad_guardrail_fails_the_stack_with_a_reason(
    aws: Any, policy: str, fragment: str
) -> None:
    cfn = aws("cloudformation")
    stack = f"genai-{uuid.uuid4().hex[:6]}"
    bad = f"""
Resources:
  Guard:
    Type: AWS::Bedrock::Guardrail
    Properties:
      Name: bad-guard-{stack}
      BlockedInputMessaging: "blocked"
      BlockedOutputsMessaging: "blocked"{policy}"""
    cfn.create_stack(StackName=stack, TemplateBody=bad)
    with contextlib.suppress(WaiterError):  # the waiter gives up on a failed create
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status in ("ROLLBACK_COMPLETE", "CREATE_FAILED")
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Guard"
    ]
    assert any(fragment in r for r in reasons), reasons
    cfn.delete_stack(StackName=stack)
