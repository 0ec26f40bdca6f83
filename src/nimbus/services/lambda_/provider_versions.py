"""Lambda operations on versions, aliases and layers (botocore model ``lambda`` 2015-03-31)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.lambda_.code import invalid

Req = dict[str, Any]
Out = dict[str, Any]


def _page(items: list[Any], req: Req, out_key: str) -> Out:
    """Marker/MaxItems paging over a list in its final order (the marker is an offset)."""
    limit = req.get("MaxItems") or 50
    if not 1 <= limit <= 10000:
        raise invalid("MaxItems must be between 1 and 10000.")
    marker = req.get("Marker")
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except ValueError:
            raise invalid(f"Invalid marker: {marker}") from None
    out: Out = {out_key: items[start : start + limit]}
    if start + limit < len(items):
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return out


class VersionsMixin:
    engine: Any

    # -- versions -----------------------------------------------------------------------------
    def publish_version(self, req: Req, ctx: RequestContext) -> Out:
        rec = self.engine.versions.publish(req)
        ctx.status = 201
        return self.engine.configuration(rec)

    def list_versions_by_function(self, req: Req, ctx: RequestContext) -> Out:
        latest = self.engine.unqualified(req["FunctionName"])
        recs = [latest, *self.engine.versions.all(latest)]
        configs = [self.engine.configuration(r) for r in recs]
        return _page(configs, req, "Versions")

    # -- aliases ------------------------------------------------------------------------------
    def create_alias(self, req: Req, ctx: RequestContext) -> Out:
        out = self.engine.versions.create_alias(req)
        ctx.status = 201
        return out

    def get_alias(self, req: Req, ctx: RequestContext) -> Out:
        versions = self.engine.versions
        doc = versions.get_alias(req["FunctionName"], req["Name"])
        return versions.alias_shape(self.engine.unqualified(req["FunctionName"]).name, doc)

    def update_alias(self, req: Req, ctx: RequestContext) -> Out:
        return self.engine.versions.update_alias(req)

    def delete_alias(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.versions.delete_alias(req["FunctionName"], req["Name"])
        ctx.status = 204
        return {}

    def list_aliases(self, req: Req, ctx: RequestContext) -> Out:
        versions = self.engine.versions
        latest = self.engine.unqualified(req["FunctionName"])
        docs = versions.store.aliases(latest.name)
        if req.get("FunctionVersion"):
            docs = [d for d in docs if d["FunctionVersion"] == req["FunctionVersion"]]
        return _page([versions.alias_shape(latest.name, d) for d in docs], req, "Aliases")

    # -- layers -------------------------------------------------------------------------------
    def publish_layer_version(self, req: Req, ctx: RequestContext) -> Out:
        doc = self.engine.layers.publish(req)
        ctx.status = 201
        return self.engine.layers.shape(doc)

    def publish_layer_version_from_folder(self, name: str, folder: str | Path,
                                          description: str = "",
                                          compatible_runtimes: list[str] | None = None,
                                          license_info: str | None = None) -> Out:  # fmt: skip
        """For the SAM deployer: a layer version from a local ``ContentUri`` folder (copied)."""
        req = {"LayerName": name, "Description": description,
               "CompatibleRuntimes": compatible_runtimes, "LicenseInfo": license_info}  # fmt: skip
        layers = self.engine.layers
        return layers.shape(layers.publish(req, folder=Path(folder).resolve()))

    def get_layer_version(self, req: Req, ctx: RequestContext) -> Out:
        layers = self.engine.layers
        return layers.shape(layers.get(req["LayerName"], req["VersionNumber"]))

    def get_layer_version_by_arn(self, req: Req, ctx: RequestContext) -> Out:
        layers = self.engine.layers
        return layers.shape(layers.get_by_arn(req["Arn"]))

    def list_layer_versions(self, req: Req, ctx: RequestContext) -> Out:
        layers = self.engine.layers
        docs = layers.versions(
            req["LayerName"], req.get("CompatibleRuntime"), req.get("CompatibleArchitecture")
        )
        return _page([layers.list_item(d) for d in docs], req, "LayerVersions")

    def list_layers(self, req: Req, ctx: RequestContext) -> Out:
        layers = self.engine.layers
        docs = layers.versions(
            None, req.get("CompatibleRuntime"), req.get("CompatibleArchitecture")
        )
        newest: dict[str, dict[str, Any]] = {}
        for doc in docs:  # newest version first within each layer
            newest.setdefault(doc["LayerName"], doc)
        items = [
            {
                "LayerName": name,
                "LayerArn": layers.layer_arn(name),
                "LatestMatchingVersion": layers.list_item(doc),
            }
            for name, doc in sorted(newest.items())
        ]
        return _page(items, req, "Layers")

    def delete_layer_version(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.layers.delete(req["LayerName"], req["VersionNumber"])
        ctx.status = 204
        return {}
