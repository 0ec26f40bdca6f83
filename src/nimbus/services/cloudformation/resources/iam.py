"""AWS::IAM::Role, AWS::IAM::Policy, AWS::IAM::ManagedPolicy through the IAM provider."""

from __future__ import annotations

import json
from typing import Any

from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    changed,
    tags_list,
)


def _doc(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Role(Handler):
    type = "AWS::IAM::Role"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("RoleName") or d.generated_name(logical_id)
        out = await d.call(
            "iam",
            "create_role",
            {
                "RoleName": name,
                "Path": props.get("Path"),
                "AssumeRolePolicyDocument": _doc(props.get("AssumeRolePolicyDocument") or {}),
                "Description": props.get("Description"),
                "MaxSessionDuration": props.get("MaxSessionDuration"),
                "Tags": tags_list(props) or None,
            },
        )
        await self._attach(d, name, props, {})
        role = out["Role"]
        return Applied(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    async def _attach(self, d: Deployment, name: str, props: dict, old: dict) -> None:
        """Make inline and managed policies match ``props`` (``old`` is what is there now)."""
        new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or []}
        old_inline = {p["PolicyName"]: p["PolicyDocument"] for p in old.get("Policies") or []}
        for policy_name, document in new_inline.items():
            if old_inline.get(policy_name) != document:
                await d.call(
                    "iam",
                    "put_role_policy",
                    {
                        "RoleName": name,
                        "PolicyName": policy_name,
                        "PolicyDocument": _doc(document),
                    },
                )
        for policy_name in old_inline.keys() - new_inline.keys():
            await d.call("iam", "delete_role_policy", {"RoleName": name, "PolicyName": policy_name})
        new_managed = set(props.get("ManagedPolicyArns") or [])
        old_managed = set(old.get("ManagedPolicyArns") or [])
        for arn in sorted(new_managed - old_managed):
            await d.call("iam", "attach_role_policy", {"RoleName": name, "PolicyArn": arn})
        for arn in sorted(old_managed - new_managed):
            await d.call("iam", "detach_role_policy", {"RoleName": name, "PolicyArn": arn})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "RoleName", "Path"):
            raise Replace()
        if changed(props, old, "AssumeRolePolicyDocument"):
            await d.call(
                "iam",
                "update_assume_role_policy",
                {
                    "RoleName": physical_id,
                    "PolicyDocument": _doc(props.get("AssumeRolePolicyDocument") or {}),
                },
            )
        if changed(props, old, "Description", "MaxSessionDuration"):
            await d.call(
                "iam",
                "update_role",
                {
                    "RoleName": physical_id,
                    "Description": props.get("Description"),
                    "MaxSessionDuration": props.get("MaxSessionDuration"),
                },
            )
        await self._attach(d, physical_id, props, old)
        role = (await d.call("iam", "get_role", {"RoleName": physical_id}))["Role"]
        return Applied(physical_id, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await self._attach(d, physical_id, {}, props)
        await d.call("iam", "delete_role", {"RoleName": physical_id})


class Policy(Handler):
    """An inline policy put on roles (users and groups too) under one name."""

    type = "AWS::IAM::Policy"
    _targets = (
        ("Roles", "RoleName", "role"),
        ("Users", "UserName", "user"),
        ("Groups", "GroupName", "group"),
    )

    async def _put(self, d: Deployment, props: dict[str, Any]) -> None:
        for key, arg, kind in self._targets:
            for name in props.get(key) or []:
                await d.call(
                    "iam",
                    f"put_{kind}_policy",
                    {
                        arg: name,
                        "PolicyName": props["PolicyName"],
                        "PolicyDocument": _doc(props["PolicyDocument"]),
                    },
                )

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        await self._put(d, props)
        return Applied(d.generated_name(logical_id)[:128], {})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        await self.delete(d, physical_id, old)
        await self._put(d, props)
        return Applied(physical_id, {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        for key, arg, kind in self._targets:
            for name in props.get(key) or []:
                await d.call(
                    "iam", f"delete_{kind}_policy", {arg: name, "PolicyName": props["PolicyName"]}
                )


class ManagedPolicy(Handler):
    """A customer managed policy; Ref is its ARN."""

    type = "AWS::IAM::ManagedPolicy"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("ManagedPolicyName") or d.generated_name(logical_id, 128)
        out = await d.call(
            "iam",
            "create_policy",
            {
                "PolicyName": name,
                "Path": props.get("Path"),
                "PolicyDocument": _doc(props["PolicyDocument"]),
                "Description": props.get("Description"),
            },
        )
        arn = out["Policy"]["Arn"]
        for key, kind in (("Roles", "role"), ("Users", "user"), ("Groups", "group")):
            for target in props.get(key) or []:
                arg = {"role": "RoleName", "user": "UserName", "group": "GroupName"}[kind]
                await d.call("iam", f"attach_{kind}_policy", {arg: target, "PolicyArn": arn})
        return Applied(arn, {"PolicyArn": arn})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        for key, kind in (("Roles", "role"), ("Users", "user"), ("Groups", "group")):
            for target in props.get(key) or []:
                arg = {"role": "RoleName", "user": "UserName", "group": "GroupName"}[kind]
                await d.call(
                    "iam", f"detach_{kind}_policy", {arg: target, "PolicyArn": physical_id}
                )
        await d.call("iam", "delete_policy", {"PolicyArn": physical_id})


HANDLERS: list[Handler] = [Role(), Policy(), ManagedPolicy()]
