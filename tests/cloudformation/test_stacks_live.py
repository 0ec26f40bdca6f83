"""boto3 CloudFormation against a live Nimbus: stacks create, update, roll back and delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

WAIT = {"Delay": 0.2, "MaxAttempts": 300}  # generous for a loaded 2-core machine
IAM = ["CAPABILITY_IAM"]

BASIC = """
AWSTemplateFormatVersion: "2010-09-09"
Description: basic resources
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: table
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: dynamodb:GetItem
                Resource: !GetAtt Table.Arn
  Site:
    Type: AWS::S3::Bucket
    Properties:
      WebsiteConfiguration: {IndexDocument: index.html}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/nimbus/${AWS::StackName}-${Env}"
      RetentionInDays: !If [IsProd, 30, 7]
Outputs:
  TableName:
    Value: !Ref Table
    Export: {Name: !Sub "${AWS::StackName}-table"}
  RoleArn:
    Value: !GetAtt Role.Arn
  SiteUrl:
    Value: !GetAtt Site.WebsiteURL
"""


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_create_update_delete(aws: Any, nimbus: Any) -> None:
    cfn = aws("cloudformation")
    # The template makes an IAM role: CloudFormation wants that acknowledged.
    with pytest.raises(ClientError) as info:
        cfn.create_stack(StackName="basic", TemplateBody=BASIC)
    assert info.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert info.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_IAM]"
    stack_id = cfn.create_stack(StackName="basic", TemplateBody=BASIC, Capabilities=IAM)["StackId"]
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:")
    cfn.get_waiter("stack_create_complete").wait(StackName="basic", WaiterConfig=WAIT)
    out = _outputs(cfn, "basic")
    assert aws("dynamodb").describe_table(TableName=out["TableName"])["Table"]["TableStatus"]
    role = aws("iam").get_role(RoleName=out["RoleArn"].rsplit("/", 1)[1])["Role"]
    assert role["Arn"] == out["RoleArn"]
    policy = aws("iam").get_role_policy(RoleName=role["RoleName"], PolicyName="table")
    assert policy["PolicyDocument"]["Statement"][0]["Resource"].endswith(out["TableName"])
    assert out["SiteUrl"].startswith(f"{nimbus.endpoint}/_website/basic-site-")
    group = aws("logs").describe_log_groups(logGroupNamePrefix="/nimbus/basic-dev")["logGroups"]
    assert group[0]["retentionInDays"] == 7
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports["basic-table"] == out["TableName"]
    kinds = {r["ResourceType"] for r in cfn.list_stack_resources(StackName="basic")[
        "StackResourceSummaries"]}  # fmt: skip
    assert kinds == {"AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::S3::Bucket",
                     "AWS::Logs::LogGroup"}  # fmt: skip

    # Same template, same parameters: nothing to do, as AWS says.
    with pytest.raises(ClientError) as info:
        cfn.update_stack(StackName="basic", TemplateBody=BASIC, Capabilities=IAM)
    assert info.value.response["Error"]["Message"] == "No updates are to be performed."

    # A parameter change touches only the log group (new name, new retention).
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cfn.list_stack_resources(
        StackName="basic")["StackResourceSummaries"]}  # fmt: skip
    cfn.update_stack(StackName="basic", TemplateBody=BASIC, Capabilities=IAM,
                     Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])  # fmt: skip
    cfn.get_waiter("stack_update_complete").wait(StackName="basic", WaiterConfig=WAIT)
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cfn.list_stack_resources(
        StackName="basic")["StackResourceSummaries"]}  # fmt: skip
    assert after["Table"] == before["Table"] and after["Role"] == before["Role"]
    assert after["Logs"] == "/nimbus/basic-prod"
    names = [g["logGroupName"] for g in aws("logs").describe_log_groups(
        logGroupNamePrefix="/nimbus/basic")["logGroups"]]  # fmt: skip
    assert names == ["/nimbus/basic-prod"]

    events = cfn.describe_stack_events(StackName="basic")["StackEvents"]
    assert events[0]["ResourceStatus"] == "UPDATE_COMPLETE"
    template = cfn.get_template(StackName="basic")["TemplateBody"]
    assert "basic resources" in (template if isinstance(template, str) else json.dumps(template))

    cfn.delete_stack(StackName="basic")
    cfn.get_waiter("stack_delete_complete").wait(StackName="basic", WaiterConfig=WAIT)
    with pytest.raises(ClientError):
        aws("dynamodb").describe_table(TableName=out["TableName"])
    with pytest.raises(ClientError):
        aws("iam").get_role(RoleName=role["RoleName"])


FAILING = """
Resources:
  Keep:
    Type: AWS::S3::Bucket
  Broken:
    Type: AWS::DynamoDB::Table
    DependsOn: Keep
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: nope, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
"""


def test_failed_create_rolls_back(aws: Any) -> None:
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="failing", TemplateBody=FAILING)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="failing", WaiterConfig=WAIT)
    stack = cfn.describe_stacks(StackName="failing")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="failing")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Broken"
    buckets = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("failing-keep-")]
    assert cfn.list_stack_resources(StackName="failing")["StackResourceSummaries"] == []


def test_unsupported_type_names_it(aws: Any) -> None:
    cfn = aws("cloudformation")
    body = "Resources:\n  Q:\n    Type: AWS::Glacier::Vault\n"
    cfn.create_stack(StackName="unsupported", TemplateBody=body)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="unsupported", WaiterConfig=WAIT)
    stack = cfn.describe_stacks(StackName="unsupported")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Q" in stack["StackStatusReason"] and "AWS::Glacier::Vault" in stack["StackStatusReason"]


def test_circular_dependency_refused(aws: Any) -> None:
    body = """
Resources:
  A:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref B}
  B:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref A}
"""
    with pytest.raises(ClientError) as info:
        aws("cloudformation").create_stack(StackName="circular", TemplateBody=body)
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert "Circular dependency between resources: [A, B]" in str(info.value)
