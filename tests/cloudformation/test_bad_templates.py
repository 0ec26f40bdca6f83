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
