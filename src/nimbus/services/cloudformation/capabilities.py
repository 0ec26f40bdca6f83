"""The acknowledgements CreateStack/UpdateStack require, as CloudFormation asks for them."""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError

# IAM resource types and the property that gives one a custom name (CAPABILITY_NAMED_IAM).
_IAM_NAMES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}


def required(declared_transforms: list[str], resources: dict[str, Any]) -> list[str]:
    """What this template needs acknowledged, strongest IAM capability only."""
    needed = ["CAPABILITY_AUTO_EXPAND"] if declared_transforms else []
    iam = [r for r in resources.values() if r.get("Type") in _IAM_NAMES]
    named = any(
        (r.get("Properties") or {}).get(_IAM_NAMES[r["Type"]] or "") is not None for r in iam
    )
    if named:
        needed.append("CAPABILITY_NAMED_IAM")
    elif iam:
        needed.append("CAPABILITY_IAM")
    return needed


def check(needed: list[str], given: list[str] | None) -> None:
    acknowledged = set(given or [])
    if "CAPABILITY_NAMED_IAM" in acknowledged:
        acknowledged.add("CAPABILITY_IAM")  # the named capability covers unnamed resources
    missing = [c for c in needed if c not in acknowledged]
    if missing:
        raise AwsError(
            "InsufficientCapabilitiesException",
            f"Requires capabilities : [{', '.join(missing)}]",
            400,
        )
