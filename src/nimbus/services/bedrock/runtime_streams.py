"""The events of ConverseStream and the chunks of InvokeModelWithResponseStream.

Each is an async generator the event-stream encoder frames as it goes. With a guardrail in
``sync`` mode (Bedrock's default) the answer is held back until the guardrail has seen it;
in ``async`` mode tokens go out at once and the verdict only changes the stop reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.eventstream import event_json
from nimbus.services.bedrock import converse
from nimbus.services.bedrock.backends.base import ChatResult
from nimbus.services.bedrock.backends.router import ModelStream
from nimbus.services.bedrock.bodies.common import TextCodec, invocation_metrics
from nimbus.services.bedrock.catalog import FoundationModel
from nimbus.services.bedrock.guardrail_checks import GuardrailCheck
from nimbus.services.bedrock.metering import Meter

Event = dict[str, Any]


def _delta(text: str) -> Event:
    return {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}


async def _collect(
    stream: ModelStream | None, canned: ChatResult | None, forward: bool
) -> AsyncIterator[str | ChatResult]:
    """The backend's pieces (only yielded when ``forward``), then the final result."""
    if stream is None:
        assert canned is not None
        if forward and canned.text:
            yield canned.text
        yield canned
        return
    async for item in stream:
        if isinstance(item, ChatResult):
            yield item
            return
        if forward:
            yield item


async def converse_events(
    meter: Meter,
    stream: ModelStream | None,
    guard: GuardrailCheck | None,
    canned: ChatResult | None = None,
    buffered: bool = False,
) -> AsyncIterator[Event]:
    """ConverseStream: ``canned`` is a guardrail's answer when the input was blocked."""
    yield {"messageStart": {"role": "assistant"}}
    pieces: list[str] = []
    result: ChatResult | None = None
    try:
        async for item in _collect(stream, canned, True):
            if isinstance(item, ChatResult):
                result = item
            elif buffered:
                pieces.append(item)
            else:
                yield _delta(item)
    except AwsError as err:
        meter.failed(err)
        if err.code == "ModelTimeoutException":  # not an event ConverseStream models
            raise AwsError(
                "ModelStreamErrorException", err.message, 424, extra={"originalStatusCode": 408}
            ) from None
        raise
    assert result is not None
    if guard is not None and canned is None:
        replacement = guard.check_output(result.text)
        if replacement is not None:
            result = replace(result, text=replacement, stop_reason="guardrail_intervened")
            pieces = [replacement] if buffered else pieces
    for piece in pieces if buffered else ():
        yield _delta(piece)
    yield {"contentBlockStop": {"contentBlockIndex": 0}}
    yield {"messageStop": {"stopReason": result.stop_reason}}
    metadata: Event = {
        "usage": converse.usage(result),
        "metrics": {"latencyMs": meter.elapsed_ms()},
    }
    trace = guard.trace_dict() if guard is not None else None
    if trace:
        metadata["trace"] = trace
    yield {"metadata": metadata}
    final = result
    meter.done(final.input_tokens, final.output_tokens, lambda: converse.output(final, 0))


def _chunk(body: Event) -> Event:
    return {"chunk": {"bytes": event_json(body)}}


async def invoke_chunks(
    meter: Meter,
    codec: TextCodec,
    model: FoundationModel,
    stream: ModelStream | None,
    input_tokens: int,
    guard: GuardrailCheck | None,
    canned: ChatResult | None = None,
) -> AsyncIterator[Event]:
    """InvokeModelWithResponseStream: the model family's chunks, each as a ``chunk`` event."""
    request_id = meter.ctx.request_id
    buffered = guard is not None
    for body in codec.stream_start(model, request_id, input_tokens):
        yield _chunk(body)
    first_byte_ms: int | None = None
    count = 0
    pieces: list[str] = []
    result: ChatResult | None = None
    try:
        async for item in _collect(stream, canned, True):
            if isinstance(item, ChatResult):
                result = item
                continue
            if buffered:
                pieces.append(item)
                continue
            count += 1
            first_byte_ms = meter.elapsed_ms() if first_byte_ms is None else first_byte_ms
            yield _chunk(codec.stream_delta(item, count))
    except AwsError as err:
        meter.failed(err)
        raise
    assert result is not None
    intervened = False
    if guard is not None and canned is None:
        replacement = guard.check_output(result.text)
        if replacement is not None:
            result, pieces, intervened = replace(result, text=replacement), [replacement], True
    intervened = intervened or canned is not None
    for piece in pieces:
        count += 1
        first_byte_ms = meter.elapsed_ms() if first_byte_ms is None else first_byte_ms
        yield _chunk(codec.stream_delta(piece, count))
    metrics = invocation_metrics(result, meter.elapsed_ms(), first_byte_ms or meter.elapsed_ms())
    ending = codec.stream_end(result, metrics)
    if intervened:
        ending[-1]["amazon-bedrock-guardrailAction"] = "INTERVENED"
    for body in ending:
        yield _chunk(body)
    final = result
    meter.done(
        final.input_tokens, final.output_tokens, lambda: codec.response(final, model, request_id)
    )
