"""DeletionPolicy: Retain keeps a resource (and its data) when the stack lets it go."""

from __future__ import annotations

from typing import Any

WAIT = {"Delay": 0.2, "MaxAttempts": 300}

TEMPLATE = """
Resources:
  Kept:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Gone:
    Type: AWS::S3::Bucket
%s
Outputs:
  Kept: {Value: !Ref Kept}
  Gone: {Value: !Ref Gone}
"""

EXTRA = """  Dropped:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
"""


def test_retained_resources_outlive_their_stack(aws: Any) -> None:
    cfn, ddb, s3 = aws("cloudformation"), aws("dynamodb"), aws("s3")
    cfn.create_stack(StackName="retain", TemplateBody=TEMPLATE % EXTRA)
    cfn.get_waiter("stack_create_complete").wait(StackName="retain", WaiterConfig=WAIT)
    summaries = cfn.list_stack_resources(StackName="retain")["StackResourceSummaries"]
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}
    ddb.put_item(TableName=resources["Kept"], Item={"pk": {"S": "precious"}})

    # An update that removes a retained resource leaves it in place.
    cfn.update_stack(StackName="retain", TemplateBody=TEMPLATE % "")
    cfn.get_waiter("stack_update_complete").wait(StackName="retain", WaiterConfig=WAIT)
    s3.head_bucket(Bucket=resources["Dropped"])

    cfn.delete_stack(StackName="retain")
    cfn.get_waiter("stack_delete_complete").wait(StackName="retain", WaiterConfig=WAIT)
    item = ddb.get_item(TableName=resources["Kept"], Key={"pk": {"S": "precious"}})
    assert item["Item"]["pk"] == {"S": "precious"}
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert resources["Gone"] not in buckets
    assert resources["Dropped"] in buckets
    events = cfn.describe_stack_events(StackName=_stack_id(cfn, "retain"))["StackEvents"]
    skipped = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_SKIPPED"}
    assert skipped == {"Kept", "Dropped"}


def _stack_id(cfn: Any, name: str) -> str:
    stacks = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    return next(s["StackId"] for s in stacks if s["StackName"] == name)
