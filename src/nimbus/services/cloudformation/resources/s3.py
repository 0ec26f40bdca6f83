"""AWS::S3::Bucket (website, CORS, Lambda notifications, tags) and AWS::S3::BucketPolicy."""

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


def website_url(d: Deployment, bucket: str) -> str:
    """Where Nimbus serves the bucket's website (AWS's s3-website host does not exist here)."""
    return f"{d.env.base_url}/_website/{bucket}/"


def _website(cfg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cfg.get("IndexDocument"):
        out["IndexDocument"] = {"Suffix": cfg["IndexDocument"]}
    if cfg.get("ErrorDocument"):
        out["ErrorDocument"] = {"Key": cfg["ErrorDocument"]}
    if cfg.get("RedirectAllRequestsTo"):
        out["RedirectAllRequestsTo"] = cfg["RedirectAllRequestsTo"]
    if cfg.get("RoutingRules"):
        out["RoutingRules"] = [
            {
                "Redirect": r.get("RedirectRule", {}),
                **({"Condition": r["RoutingRuleCondition"]} if "RoutingRuleCondition" in r else {}),
            }
            for r in cfg["RoutingRules"]
        ]
    return out


def _cors(cfg: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in cfg.get("CorsRules") or []:
        out = {"AllowedMethods": rule["AllowedMethods"], "AllowedOrigins": rule["AllowedOrigins"]}
        for cfn_key, s3_key in (
            ("AllowedHeaders", "AllowedHeaders"),
            ("ExposedHeaders", "ExposeHeaders"),
            ("Id", "ID"),
            ("MaxAge", "MaxAgeSeconds"),
        ):
            if rule.get(cfn_key) is not None:
                out[s3_key] = int(rule[cfn_key]) if cfn_key == "MaxAge" else rule[cfn_key]
        rules.append(out)
    return {"CORSRules": rules}


def _notifications(cfg: dict[str, Any]) -> dict[str, Any]:
    out = []
    for item in cfg.get("LambdaConfigurations") or []:
        entry: dict[str, Any] = {"LambdaFunctionArn": item["Function"], "Events": [item["Event"]]}
        rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        out.append(entry)
    return {"LambdaFunctionConfigurations": out} if out else {}


class Bucket(Handler):
    type = "AWS::S3::Bucket"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("BucketName") or d.generated_name(logical_id, 63, lower=True)
        await d.call("s3", "create_bucket", {"Bucket": name})
        try:
            await self._configure(d, name, props, {})
        except Exception:
            await d.call("s3", "delete_bucket", {"Bucket": name})  # no half-configured bucket
            raise
        return Applied(name, self._attributes(d, name))

    def _attributes(self, d: Deployment, name: str) -> dict[str, Any]:
        return {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{d.env.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{d.env.region}.amazonaws.com",
            "WebsiteURL": website_url(d, name),
        }

    async def _configure(self, d: Deployment, name: str, props: dict, old: dict) -> None:
        if changed(props, old, "WebsiteConfiguration"):
            if props.get("WebsiteConfiguration"):
                await d.call(
                    "s3",
                    "put_bucket_website",
                    {
                        "Bucket": name,
                        "WebsiteConfiguration": _website(props["WebsiteConfiguration"]),
                    },
                )
            else:
                await d.call("s3", "delete_bucket_website", {"Bucket": name})
        if changed(props, old, "CorsConfiguration"):
            if props.get("CorsConfiguration"):
                await d.call(
                    "s3",
                    "put_bucket_cors",
                    {
                        "Bucket": name,
                        "CORSConfiguration": _cors(props["CorsConfiguration"]),
                    },
                )
            else:
                await d.call("s3", "delete_bucket_cors", {"Bucket": name})
        if changed(props, old, "NotificationConfiguration"):
            await d.call(
                "s3",
                "put_bucket_notification_configuration",
                {
                    "Bucket": name,
                    "NotificationConfiguration": _notifications(
                        props.get("NotificationConfiguration") or {}
                    ),
                },
            )
        if changed(props, old, "Tags"):
            if props.get("Tags"):
                await d.call(
                    "s3",
                    "put_bucket_tagging",
                    {"Bucket": name, "Tagging": {"TagSet": tags_list(props)}},
                )
            else:
                await d.call("s3", "delete_bucket_tagging", {"Bucket": name})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "BucketName"):
            raise Replace()
        await self._configure(d, physical_id, props, old)
        return Applied(physical_id, self._attributes(d, physical_id))

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("s3", "delete_bucket", {"Bucket": physical_id})


class BucketPolicy(Handler):
    type = "AWS::S3::BucketPolicy"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        document = props["PolicyDocument"]
        await d.call(
            "s3",
            "put_bucket_policy",
            {
                "Bucket": props["Bucket"],
                "Policy": document if isinstance(document, str) else json.dumps(document),
            },
        )
        return Applied(props["Bucket"], {})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "Bucket"):
            raise Replace()
        return await self.create(d, logical_id, props)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("s3", "delete_bucket_policy", {"Bucket": props["Bucket"]})


HANDLERS: list[Handler] = [Bucket(), BucketPolicy()]
