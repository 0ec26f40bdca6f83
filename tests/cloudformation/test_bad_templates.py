"""Templates with errors are refused up front, with a message that names the resource."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

BAD_REF = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref Nowhere}
"""

BAD_GETATT = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  Arn:
    Value: !GetAtt Missing.Arn
"""

INVALID_SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Api:
          Type: HttpApi
          Properties:
            Path: 42
            Method: [not, a, string]
"""

NOT_A_TEMPLATE = "Resources: [this, is, a, list]\n"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (BAD_REF, ["Nowhere"]),
        (BAD_GETATT, ["Missing"]),
        (INVALID_SAM, ["Fn"]),
        (NOT_A_TEMPLATE, ["Resources"]),
    ],
    ids=["ref", "getatt", "sam", "shape"],
)
def test_bad_template_is_refused_naming_the_problem(aws: Any, body: str, words: list[str]) -> None:
    cfn = aws("cloudformation")
    name = f"bad-template-{len(body)}"
    with pytest.raises(ClientError) as info:
        cfn.create_stack(StackName=name, TemplateBody=body)
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationError"
    for word in words:
        assert word in error["Message"]
    with pytest.raises(ClientError) as info:
        cfn.describe_stacks(StackName=name)
    assert info.value.response["Error"]["Code"] == "ValidationError"  # nothing was created


def test_validate_template_reports_the_same_error(aws: Any) -> None:
    with pytest.raises(ClientError) as info:
        aws("cloudformation").validate_template(TemplateBody=BAD_REF)
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert "Nowhere" in info.value.response["Error"]["Message"]


NAMED_ROLE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: named-by-the-template
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com},
                     Action: sts:AssumeRole}]
"""

SAM_TABLE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Items:
    Type: AWS::Serverless::SimpleTable
"""


@pytest.mark.parametrize(
    ("body", "given", "missing"),
    [
        (NAMED_ROLE, ["CAPABILITY_IAM"], "CAPABILITY_NAMED_IAM"),
        (SAM_TABLE, [], "CAPABILITY_AUTO_EXPAND"),
    ],
    ids=["named-iam", "auto-expand"],
)
def test_capabilities_must_be_acknowledged(
    aws: Any, body: str, given: list[str], missing: str
) -> None:
    cfn = aws("cloudformation")
    name = f"caps-{missing.lower().replace('_', '-')}"
    with pytest.raises(ClientError) as info:
        cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=given)
    assert info.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert info.value.response["Error"]["Message"] == f"Requires capabilities : [{missing}]"
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=[*given, missing])
    waiter = cfn.get_waiter("stack_create_complete")
    waiter.wait(StackName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    cfn.delete_stack(StackName=name)
