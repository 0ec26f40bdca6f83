"""``nimbus deploy``: a thin boto3 client of Nimbus's CloudFormation service.

The template's folder travels as the stack tag ``nimbus:template-dir`` so that relative
``CodeUri`` folders resolve on the server (a tag, not a parameter: CloudFormation refuses
parameters a template does not declare, and tags need no change to the user's template).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

TEMPLATE_DIR_TAG = "nimbus:template-dir"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_DONE = ("_COMPLETE", "_FAILED")


def _client(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cloudformation", endpoint_url=endpoint, region_name=region,
        aws_access_key_id="nimbus", aws_secret_access_key="nimbus",
        config=Config(retries={"max_attempts": 2}),
    )  # fmt: skip


def _parameters(pairs: list[str]) -> list[dict[str, str]]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--parameter-overrides takes Key=Value, not {pair!r}")
        out.append({"ParameterKey": key, "ParameterValue": value})
    return out


def deploy(template: Path, stack_name: str, endpoint: str, region: str,
           overrides: list[str], as_json: bool) -> int:  # fmt: skip
    from botocore.exceptions import ClientError

    cfn = _client(endpoint, region)
    args = {
        "StackName": stack_name, "TemplateBody": template.read_text(),
        "Parameters": _parameters(overrides), "Capabilities": CAPABILITIES,
        "Tags": [{"Key": TEMPLATE_DIR_TAG, "Value": str(template.resolve().parent)}],
    }  # fmt: skip
    say = (lambda *a: None) if as_json else print
    try:
        existing = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError:
        existing = None
    try:
        if existing is None or existing["StackStatus"] == "ROLLBACK_COMPLETE":
            if existing is not None:  # a failed first create can only be deleted, as on AWS
                cfn.delete_stack(StackName=stack_name)
                _wait_gone(cfn, stack_name)
            stack_id = cfn.create_stack(**args)["StackId"]
            say(f"Creating stack {stack_name}")
        else:
            stack_id = cfn.update_stack(**args)["StackId"]
            say(f"Updating stack {stack_name}")
    except ClientError as exc:
        message = exc.response["Error"]["Message"]
        if message == "No updates are to be performed.":
            say(f"Stack {stack_name} is up to date; nothing to deploy.")
            return _print_outputs(cfn, stack_name, as_json)
        print(f"Deploy failed: {message}", file=sys.stderr)
        return 1
    status = _follow(cfn, stack_id, say)
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        print(f"Deploy failed: {status}: {stack.get('StackStatusReason', '')}", file=sys.stderr)
        return 1
    return _print_outputs(cfn, stack_name, as_json)


def _follow(cfn: Any, stack_id: str, say: Any) -> str:
    """Print each new stack event until the stack settles; return its final status."""
    seen: set[str] = set()
    while True:
        events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
        for event in reversed(events):
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            reason = event.get("ResourceStatusReason", "")
            say(
                f"  {event['ResourceStatus']:<28} {event['ResourceType']:<32} "
                f"{event['LogicalResourceId']}" + (f"  {reason}" if reason else "")
            )
        status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if status.endswith(_DONE):
            return status
        time.sleep(0.2)


def _wait_gone(cfn: Any, stack_name: str) -> None:
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
    )


def _print_outputs(cfn: Any, stack_name: str, as_json: bool) -> int:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    if as_json:
        print(json.dumps(outputs, indent=2))
        return 0
    if outputs:
        print("Outputs:")
        for key, value in outputs.items():
            print(f"  {key} = {value}")
    return 0
