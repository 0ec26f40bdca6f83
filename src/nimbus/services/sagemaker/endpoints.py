"""Endpoint lifecycle: Creating -> InService | Failed, blue/green Updating, restart recovery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from nimbus.services.sagemaker.control import Control, Out, Req, invalid, page, public
from nimbus.services.sagemaker.hosting import DeployFailed, Hosting
from nimbus.services.sagemaker.store import ENDPOINT

log = logging.getLogger("nimbus.sagemaker")


def summaries(snapshot: dict[str, Any], weights: dict[str, float] | None = None) -> list[Out]:
    """ProductionVariantSummary for each variant of a deployed config."""
    out = []
    now = time.time()
    for spec in snapshot["config"]["ProductionVariants"]:
        model = snapshot["models"][spec["ModelName"]]
        containers = (
            [model["PrimaryContainer"]]
            if model.get("PrimaryContainer")
            else (model.get("Containers") or [])
        )
        weight = (weights or {}).get(spec["VariantName"], spec["InitialVariantWeight"])
        summary: Out = {
            "VariantName": spec["VariantName"],
            "DeployedImages": [
                {
                    "SpecifiedImage": c.get("Image", ""),
                    "ResolvedImage": c.get("Image", ""),
                    "ResolutionTime": now,
                }
                for c in containers
            ],
            "CurrentWeight": weight,
            "DesiredWeight": weight,
        }
        if spec.get("ServerlessConfig"):
            summary["CurrentServerlessConfig"] = spec["ServerlessConfig"]
            summary["DesiredServerlessConfig"] = spec["ServerlessConfig"]
        else:
            summary["CurrentInstanceCount"] = spec["InitialInstanceCount"]
            summary["DesiredInstanceCount"] = spec["InitialInstanceCount"]
        out.append(summary)
    return out


class Endpoints:
    def __init__(self, control: Control, hosting: Hosting) -> None:
        self.control = control
        self.store = control.store
        self.hosting = hosting
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def _save(self, doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
        doc.update(changes, LastModifiedTime=time.time())
        self.store.put(ENDPOINT, doc["EndpointName"], doc)
        return doc

    def _spawn(self, name: str, work: Any) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self.tasks[name.lower()] = task
        task.add_done_callback(
            lambda t: (
                self.tasks.pop(name.lower(), None) if self.tasks.get(name.lower()) is t else None
            )
        )
        return task

    # -- operations ---------------------------------------------------------------------------
    def create_endpoint(self, req: Req) -> Out:
        name = req["EndpointName"]
        snapshot = self.control.snapshot(req["EndpointConfigName"])
        now = time.time()
        doc = {
            "EndpointName": name,
            "EndpointArn": self.control.arn(ENDPOINT, name),
            "EndpointConfigName": snapshot["config"]["EndpointConfigName"],
            "EndpointStatus": "Creating",
            "CreationTime": now,
            "LastModifiedTime": now,
            "_Target": snapshot,
            "_Tags": req.get("Tags") or [],
        }
        self.control.insert(ENDPOINT, name, doc)
        self._spawn(name, self._deploy(name, snapshot))
        return {"EndpointArn": doc["EndpointArn"]}

    def describe_endpoint(self, req: Req) -> Out:
        return public(self.control.require(ENDPOINT, req["EndpointName"]))

    def list_endpoints(self, req: Req) -> Out:
        summary = (
            "EndpointName",
            "EndpointArn",
            "CreationTime",
            "LastModifiedTime",
            "EndpointStatus",
        )
        out = page(self.store.all(ENDPOINT), req, "EndpointName", summary)
        out["Endpoints"] = out.pop("items")
        return out

    def delete_endpoint(self, req: Req) -> Out:
        doc = self.control.require(ENDPOINT, req["EndpointName"])
        name = doc["EndpointName"]
        task = self.tasks.pop(name.lower(), None)
        if task is not None:
            task.cancel()
        self.store.delete(ENDPOINT, name)
        self.hosting.undeploy(name)
        return {}

    def update_endpoint(self, req: Req) -> Out:
        doc = self.control.require(ENDPOINT, req["EndpointName"])
        if doc["EndpointStatus"] != "InService":
            raise invalid(f'Cannot update in-progress endpoint "{doc["EndpointArn"]}".')
        snapshot = self.control.snapshot(req["EndpointConfigName"])
        if req.get("RetainAllVariantProperties"):
            weights = {v["VariantName"]: v["CurrentWeight"] for v in doc["ProductionVariants"]}
            for spec in snapshot["config"]["ProductionVariants"]:
                if spec["VariantName"] in weights:
                    spec["InitialVariantWeight"] = weights[spec["VariantName"]]
        doc.pop("FailureReason", None)
        self._save(doc, EndpointStatus="Updating", _Target=snapshot)
        self._spawn(doc["EndpointName"], self._deploy(doc["EndpointName"], snapshot))
        return {"EndpointArn": doc["EndpointArn"]}

    def update_endpoint_weights_and_capacities(self, req: Req) -> Out:
        doc = self.control.require(ENDPOINT, req["EndpointName"])
        if doc["EndpointStatus"] != "InService":
            raise invalid(f'Cannot update in-progress endpoint "{doc["EndpointArn"]}".')
        known = {v["VariantName"]: v for v in doc["ProductionVariants"]}
        weights: dict[str, float] = {}
        for desired in req["DesiredWeightsAndCapacities"]:
            variant = known.get(desired["VariantName"])
            if variant is None:
                raise invalid(
                    f"The variant name(s) [{desired['VariantName']}] is/are not "
                    f"present in endpoint {doc['EndpointName']}."
                )
            if desired.get("DesiredWeight") is not None:
                weights[desired["VariantName"]] = float(desired["DesiredWeight"])
            if desired.get("DesiredInstanceCount") is not None:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = int(
                    desired["DesiredInstanceCount"]
                )
        for name, weight in weights.items():
            known[name]["CurrentWeight"] = known[name]["DesiredWeight"] = weight
        for spec in doc["_Deployed"]["config"]["ProductionVariants"]:
            spec["InitialVariantWeight"] = weights.get(
                spec["VariantName"], spec["InitialVariantWeight"]
            )
        self._save(doc)
        self.hosting.set_weights(doc["EndpointName"], weights)
        return {"EndpointArn": doc["EndpointArn"]}

    # -- the work behind the statuses ---------------------------------------------------------
    async def _deploy(self, name: str, snapshot: dict[str, Any]) -> None:
        """Start the new variants; only when all are ready does traffic move to them."""
        reason = None
        try:
            live = await self.hosting.deploy(name, snapshot["config"], snapshot["models"])
        except DeployFailed as exc:
            reason = str(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must still end the transition
            log.exception("deploying endpoint %s failed", name)
            reason = f"Nimbus could not start the endpoint: {exc}"
        doc = self.store.get(ENDPOINT, name)
        if doc is None:  # deleted while it was starting
            if reason is None:
                for variant in live.variants.values():
                    await variant.host.stop()
            return
        updating = doc["EndpointStatus"] == "Updating"
        doc.pop("_Target", None)
        if reason is not None:
            if updating:  # AWS rolls back: the old variants keep serving
                self._save(doc, EndpointStatus="InService", FailureReason=reason)
            else:
                self._save(doc, EndpointStatus="Failed", FailureReason=reason)
            return
        self.hosting.activate(live)
        self._save(
            doc,
            EndpointStatus="InService",
            EndpointConfigName=live.config,
            ProductionVariants=summaries(snapshot),
            _Deployed=snapshot,
        )

    def resume(self) -> None:
        """After a restart: bring InService endpoints back and finish interrupted transitions."""
        for doc in self.store.all(ENDPOINT):
            name = doc["EndpointName"]
            if doc.get("_Deployed") and doc["EndpointStatus"] in ("InService", "Updating"):
                self.hosting.loading[name] = self._spawn(name, self._reload(doc))
            elif doc["EndpointStatus"] == "Creating" and doc.get("_Target"):
                self._spawn(name, self._deploy(name, doc["_Target"]))

    async def _reload(self, doc: dict[str, Any]) -> None:
        name = doc["EndpointName"]
        snapshot = doc["_Deployed"]
        weights = {v["VariantName"]: v["CurrentWeight"] for v in doc["ProductionVariants"]}
        try:
            live = await self.hosting.deploy(name, snapshot["config"], snapshot["models"])
            self.hosting.activate(live)
            self.hosting.set_weights(name, weights)
        except Exception as exc:
            log.warning("endpoint %s did not come back: %s", name, exc)
            fresh = self.store.get(ENDPOINT, name)
            if fresh is not None:
                self._save(fresh, EndpointStatus="Failed", FailureReason=str(exc))
            return
        finally:
            self.hosting.loading.pop(name, None)
        if doc["EndpointStatus"] == "Updating" and doc.get("_Target"):
            await self._deploy(name, doc["_Target"])

    def close(self) -> None:
        for task in list(self.tasks.values()):
            with contextlib.suppress(Exception):
                task.cancel()
