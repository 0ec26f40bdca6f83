"""Live endpoints: one model host per production variant, weighted routing, blue/green swaps.

Knows nothing about HTTP or SQLite: the control plane hands it endpoint configs and models.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.sagemaker import artifacts
from nimbus.services.sagemaker.host import HostDied, LoadFailed, ModelHost
from nimbus.services.sagemaker.telemetry import Telemetry

MODEL_TIMEOUT_S = float(os.environ.get("NIMBUS_SAGEMAKER_MODEL_TIMEOUT", "60"))
DRAIN_LIMIT_S = MODEL_TIMEOUT_S + 5  # no in-flight request outlives its timeout


class DeployFailed(Exception):
    """A variant could not start; the message is the endpoint's FailureReason."""


@dataclass(slots=True)
class Variant:
    name: str
    model: str
    weight: float
    host: ModelHost
    stream: str  # the CloudWatch Logs stream: <variant>/<instance id>
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""
    restarting: asyncio.Task[None] | None = None


@dataclass(slots=True)
class LiveEndpoint:
    name: str
    config: str
    variants: dict[str, Variant] = field(default_factory=dict)

    def pick(self, target: str | None) -> Variant:
        if target is not None:
            return self.variants[target]
        variants = list(self.variants.values())
        if len(variants) == 1:
            return variants[0]
        weights = [v.weight for v in variants]
        if not any(weights):
            weights = [1.0] * len(variants)
        return random.choices(variants, weights)[0]


@dataclass(slots=True)
class InvokeResult:
    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None = None


def model_error(
    status: int,
    message: str,
    endpoint: str,
    log_arn: str,
    account: str,
    region: str,
    variant: str = "primary",
) -> AwsError:
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    text = (
        f"Received {'client' if status < 500 else 'server'} error ({status}) from {variant} "
        f'with message "{message}". See https://{region}.console.aws.amazon.com/cloudwatch/'
        f"home?region={region}#logEventViewer:group={group} in account {account} for more "
        "information."
    )
    return AwsError(
        "ModelError",
        text,
        424,
        extra={"OriginalStatusCode": status, "OriginalMessage": message, "LogStreamArn": log_arn},
    )


class Hosting:
    def __init__(self, registry: Any, data_dir: Path, region: str, account_id: str) -> None:
        self.registry = registry
        self.data_dir = data_dir
        self.region = region
        self.account_id = account_id
        self.telemetry = Telemetry(registry)
        self.live: dict[str, LiveEndpoint] = {}
        self.loading: dict[str, asyncio.Future[None]] = {}  # endpoints coming back after restart
        self._stopping: set[asyncio.Task[None]] = set()

    def log_group(self, endpoint: str) -> str:
        return f"/aws/sagemaker/Endpoints/{endpoint}"

    # -- deploying ----------------------------------------------------------------------------
    async def deploy(
        self, endpoint: str, config: dict[str, Any], models: dict[str, dict[str, Any]]
    ) -> LiveEndpoint:
        """Start every variant of ``config`` and wait until all have loaded their model."""
        live = LiveEndpoint(endpoint, config["EndpointConfigName"])
        specs = config["ProductionVariants"]
        started = await asyncio.gather(
            *(self._start_variant(endpoint, spec, models[spec["ModelName"]]) for spec in specs),
            return_exceptions=True,
        )
        failure = next((r for r in started if isinstance(r, BaseException)), None)
        if failure is not None:
            for variant in started:
                if isinstance(variant, Variant):
                    await variant.host.stop()
            if isinstance(failure, DeployFailed | LoadFailed | artifacts.ArtifactError):
                raise DeployFailed(str(failure))
            raise failure
        for variant in started:
            assert isinstance(variant, Variant)
            live.variants[variant.name] = variant
        return live

    async def _start_variant(
        self, endpoint: str, spec: dict[str, Any], model: dict[str, Any]
    ) -> Variant:
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        url, data = artifacts.fetch(self.registry, container)
        model_dir, deps = await asyncio.to_thread(
            artifacts.prepare, self.data_dir, url, data, model["ModelName"]
        )
        stream = f"{spec['VariantName']}/i-{uuid.uuid4().hex[:17]}"
        group = self.log_group(endpoint)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "MALLOC_ARENA_MAX": "2",
            "OMP_NUM_THREADS": "1",
            **{str(k): str(v) for k, v in (container.get("Environment") or {}).items()},
            "SM_MODEL_DIR": model_dir,
            "NIMBUS_SM_DEPS": deps,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "SAGEMAKER_REGION": self.region,
        }
        cwd = str(Path(model_dir) / "code") if (Path(model_dir) / "code").is_dir() else model_dir
        telemetry = self.telemetry

        def on_log(line: str) -> None:
            telemetry.log_line(group, stream, line)

        host = await ModelHost.start(env, cwd, on_log)
        return Variant(
            spec["VariantName"],
            spec["ModelName"],
            float(spec.get("InitialVariantWeight", 1.0)),
            host,
            stream,
            env,
            cwd,
        )

    def _replace_host(self, endpoint: str, variant: Variant) -> None:
        """A crashed host is replaced in the background, as SageMaker replaces an instance."""
        if variant.restarting is not None and not variant.restarting.done():
            return
        group = self.log_group(endpoint)
        telemetry = self.telemetry

        async def restart() -> None:
            try:
                variant.host = await ModelHost.start(
                    variant.env,
                    variant.cwd,
                    lambda line: telemetry.log_line(group, variant.stream, line),
                )
            except LoadFailed as exc:
                telemetry.log_line(group, variant.stream, f"Restarting the model failed: {exc}")

        variant.restarting = asyncio.ensure_future(restart())

    def activate(self, live: LiveEndpoint) -> None:
        """Move traffic to ``live`` at once; the old variants finish what they hold, then stop."""
        old = self.live.get(live.name)
        self.live[live.name] = live
        if old is not None:
            self._retire(old)

    def undeploy(self, endpoint: str) -> None:
        old = self.live.pop(endpoint, None)
        if old is not None:
            self._retire(old)

    def _retire(self, old: LiveEndpoint) -> None:
        async def retire() -> None:
            for variant in old.variants.values():
                await variant.host.drain(DRAIN_LIMIT_S)
                await variant.host.stop()

        task = asyncio.ensure_future(retire())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def set_weights(self, endpoint: str, weights: dict[str, float]) -> None:
        live = self.live.get(endpoint)
        for name, weight in weights.items():
            if live is not None and name in live.variants:
                live.variants[name].weight = weight

    def close(self) -> None:
        for live in self.live.values():
            for variant in live.variants.values():
                variant.host.stop_now()
        self.live.clear()

    # -- invoking -----------------------------------------------------------------------------
    async def invoke(
        self,
        endpoint: str,
        body: bytes,
        content_type: str,
        accept: str,
        target_variant: str | None = None,
        custom_attributes: str | None = None,
    ) -> InvokeResult:
        began = time.perf_counter()
        live = self.live.get(endpoint)
        if live is None and endpoint in self.loading:
            await asyncio.shield(self.loading[endpoint])
            live = self.live.get(endpoint)
        if live is None:
            raise AwsError(
                "ValidationError",
                f"Endpoint {endpoint} of account {self.account_id} not found.",
                400,
            )
        if target_variant is not None and target_variant not in live.variants:
            raise AwsError(
                "ValidationError",
                f"Target variant {target_variant} not found for endpoint {endpoint}.",
                400,
            )
        variant = live.pick(target_variant)
        log_arn = (
            f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{self.log_group(endpoint)}"
        )
        try:
            head, out = await variant.host.invoke(
                content_type, accept, body, MODEL_TIMEOUT_S, custom_attributes
            )
        except TimeoutError:
            self._sample(endpoint, variant, began, int(MODEL_TIMEOUT_S * 1e6), 500)
            raise AwsError(
                "ModelError",
                "Your invocation timed out while waiting for a response "
                "from container primary. Review the latency metrics for each "
                "container in Amazon CloudWatch, resolve the issue, and try again.",
                424,
                extra={
                    "OriginalStatusCode": 500,
                    "OriginalMessage": "timed out",
                    "LogStreamArn": log_arn,
                },
            ) from None
        except HostDied:
            self._sample(endpoint, variant, began, 0, 500)
            if self.live.get(endpoint) is live:
                self._replace_host(endpoint, variant)
            self.telemetry.log_line(
                self.log_group(endpoint), variant.stream, "The model server exited unexpectedly."
            )
            raise model_error(
                500,
                "The model server exited unexpectedly.",
                endpoint,
                log_arn,
                self.account_id,
                self.region,
            ) from None
        status = head.get("status", 200)
        self._sample(endpoint, variant, began, head.get("model_us", 0), status)
        if status >= 300:
            raise model_error(
                status, head.get("error") or "", endpoint, log_arn, self.account_id, self.region
            )
        return InvokeResult(out, head.get("ct") or "application/json", variant.name, head.get("ca"))

    def _sample(
        self, endpoint: str, variant: Variant, began: float, model_us: int, status: int
    ) -> None:
        total_us = int((time.perf_counter() - began) * 1e6)
        overhead = max(total_us - model_us, 0)
        self.telemetry.invocation(endpoint, variant.name, model_us, overhead, status)
