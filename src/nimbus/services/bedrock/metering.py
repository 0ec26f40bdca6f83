"""One invocation's clock, token counts and outcome, handed to telemetry once it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.telemetry import Invocation, Telemetry


class Meter:
    def __init__(
        self, telemetry: Telemetry, ctx: RequestContext, operation: str, model_id: str
    ) -> None:
        self.telemetry = telemetry
        self.ctx = ctx
        self.operation = operation
        self.model_id = model_id
        self.started_ns = time.perf_counter_ns()
        self.input_body: Callable[[], Any] | None = None
        self.finished = False

    def elapsed_ms(self) -> int:
        return (time.perf_counter_ns() - self.started_ns) // 1_000_000

    def _record(
        self,
        status: int,
        code: str | None,
        tokens_in: int,
        tokens_out: int,
        output_body: Callable[[], Any] | None,
    ) -> None:
        if self.finished:
            return
        self.finished = True
        self.telemetry.record(
            Invocation(
                operation=self.operation,
                model_id=self.model_id,
                request_id=self.ctx.request_id,
                identity_arn=self.ctx.principal.arn,
                region=self.ctx.region,
                account_id=self.ctx.account_id,
                latency_ms=(time.perf_counter_ns() - self.started_ns) / 1e6,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                status=status,
                error_code=code,
                input_body=self.input_body,
                output_body=output_body,
            )
        )

    def done(self, tokens_in: int, tokens_out: int, output_body: Callable[[], Any] | None) -> None:
        self._record(200, None, tokens_in, tokens_out, output_body)

    def failed(self, err: AwsError) -> None:
        self._record(err.status, err.code, 0, 0, None)
