"""SageMaker's control plane for models and endpoint configs, and the shared naming rules."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.sagemaker.store import CONFIG, MODEL, SageMakerStore

Req = dict[str, Any]
Out = dict[str, Any]
_KINDS = {MODEL: "model", CONFIG: "endpoint configuration", "endpoint": "endpoint"}


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without its internal (``_``-prefixed) members."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def page(docs: list[dict[str, Any]], req: Req, name_key: str, summary: tuple[str, ...]) -> Out:
    """List* filtering, sorting and paging, shared by models, configs and endpoints."""
    wanted = (req.get("NameContains") or "").lower()
    docs = [d for d in docs if wanted in d[name_key].lower()]
    for key, member, before in (
        ("CreationTimeBefore", "CreationTime", True),
        ("CreationTimeAfter", "CreationTime", False),
        ("LastModifiedTimeBefore", "LastModifiedTime", True),
        ("LastModifiedTimeAfter", "LastModifiedTime", False),
    ):
        bound = req.get(key)
        if bound is not None:
            limit = bound.timestamp() if isinstance(bound, datetime) else float(bound)
            docs = [d for d in docs if (d[member] < limit) == before and d[member] != limit]
    if req.get("StatusEquals"):
        docs = [d for d in docs if d.get("EndpointStatus") == req["StatusEquals"]]
    sort_by = req.get("SortBy") or "CreationTime"
    sort_key = {"Name": name_key, "CreationTime": "CreationTime", "Status": "EndpointStatus"}
    docs.sort(
        key=lambda d: d.get(sort_key.get(sort_by, "CreationTime")) or "",
        reverse=(req.get("SortOrder") or "Descending") == "Descending",
    )
    start = int(req.get("NextToken") or 0)
    size = int(req.get("MaxResults") or 10)
    chunk = docs[start : start + size]
    out: Out = {"items": [{k: d[k] for k in summary if k in d} for d in chunk]}
    if start + size < len(docs):
        out["NextToken"] = str(start + size)
    return out


class Control:
    def __init__(self, store: SageMakerStore, region: str, account_id: str) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/{name.lower()}"

    def require(self, kind: str, name: str) -> dict[str, Any]:
        doc = self.store.get(kind, name)
        if doc is None:
            what = name if kind == "endpoint" else self.arn(kind, name)
            raise invalid(f'Could not find {_KINDS[kind]} "{what}".')
        return doc

    def insert(self, kind: str, name: str, doc: dict[str, Any]) -> None:
        if not self.store.insert(kind, name, doc):
            raise invalid(
                f'Cannot create already existing {_KINDS[kind]} "{self.arn(kind, name)}".'
            )

    # -- models -------------------------------------------------------------------------------
    def create_model(self, req: Req) -> Out:
        name = req["ModelName"]
        primary, containers = req.get("PrimaryContainer"), req.get("Containers")
        if bool(primary) == bool(containers):
            raise invalid("Exactly one of PrimaryContainer or Containers must be specified.")
        for container in [primary] if primary else containers:
            if not (container.get("Image") or container.get("ModelPackageName")):
                raise invalid("Each container must specify an Image or a ModelPackageName.")
        doc = {
            "ModelName": name,
            "ModelArn": self.arn(MODEL, name),
            "CreationTime": time.time(),
            "EnableNetworkIsolation": bool(req.get("EnableNetworkIsolation", False)),
        }
        for key in (
            "PrimaryContainer",
            "Containers",
            "ExecutionRoleArn",
            "VpcConfig",
            "InferenceExecutionConfig",
        ):
            if req.get(key):
                doc[key] = req[key]
        doc["_Tags"] = req.get("Tags") or []
        self.insert(MODEL, name, doc)
        return {"ModelArn": doc["ModelArn"]}

    def describe_model(self, req: Req) -> Out:
        return public(self.require(MODEL, req["ModelName"]))

    def delete_model(self, req: Req) -> Out:
        if not self.store.delete(MODEL, req["ModelName"]):
            raise invalid(f'Could not find model "{self.arn(MODEL, req["ModelName"])}".')
        return {}

    def list_models(self, req: Req) -> Out:
        out = page(
            self.store.all(MODEL), req, "ModelName", ("ModelName", "ModelArn", "CreationTime")
        )
        out["Models"] = out.pop("items")
        return out

    # -- endpoint configs ---------------------------------------------------------------------
    def create_endpoint_config(self, req: Req) -> Out:
        name = req["EndpointConfigName"]
        variants = req.get("ProductionVariants") or []
        if not 1 <= len(variants) <= 10:
            raise invalid("ProductionVariants must hold between 1 and 10 variants.")
        seen: set[str] = set()
        stored = []
        for spec in variants:
            variant = spec["VariantName"]
            if variant in seen:
                raise invalid(f"Variant name {variant} appears more than once.")
            seen.add(variant)
            self.require(MODEL, spec["ModelName"])
            serverless = spec.get("ServerlessConfig")
            if not serverless and not (
                spec.get("InstanceType") and spec.get("InitialInstanceCount")
            ):
                raise invalid(
                    f"Variant {variant} needs InstanceType and InitialInstanceCount, or "
                    "a ServerlessConfig."
                )
            weight = float(spec.get("InitialVariantWeight", 1.0))
            if weight < 0:
                raise invalid(f"InitialVariantWeight of variant {variant} must not be negative.")
            stored.append({**spec, "InitialVariantWeight": weight})
        doc = {
            "EndpointConfigName": name,
            "EndpointConfigArn": self.arn(CONFIG, name),
            "ProductionVariants": stored,
            "CreationTime": time.time(),
            "EnableNetworkIsolation": bool(req.get("EnableNetworkIsolation", False)),
        }
        for key in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig", "ExecutionRoleArn"):
            if req.get(key):
                doc[key] = req[key]
        self.insert(CONFIG, name, doc)
        return {"EndpointConfigArn": doc["EndpointConfigArn"]}

    def describe_endpoint_config(self, req: Req) -> Out:
        return public(self.require(CONFIG, req["EndpointConfigName"]))

    def delete_endpoint_config(self, req: Req) -> Out:
        name = req["EndpointConfigName"]
        if not self.store.delete(CONFIG, name):
            raise invalid(f'Could not find endpoint configuration "{self.arn(CONFIG, name)}".')
        return {}

    def list_endpoint_configs(self, req: Req) -> Out:
        out = page(
            self.store.all(CONFIG),
            req,
            "EndpointConfigName",
            ("EndpointConfigName", "EndpointConfigArn", "CreationTime"),
        )
        out["EndpointConfigs"] = out.pop("items")
        return out

    def snapshot(self, config_name: str) -> dict[str, Any]:
        """The config and its models as they are now: an endpoint keeps running on these."""
        config = self.require(CONFIG, config_name)
        models = {}
        for spec in config["ProductionVariants"]:
            models[spec["ModelName"]] = self.require(MODEL, spec["ModelName"])
        return {"config": config, "models": models}
