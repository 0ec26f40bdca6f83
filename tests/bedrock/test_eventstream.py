"""Event-stream framing read back by botocore's own EventStream parser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import botocore.session
import pytest
from botocore.eventstream import ChecksumMismatch, EventStream, EventStreamBuffer
from botocore.exceptions import EventStreamError
from botocore.parsers import EventStreamJSONParser

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.eventstream import EventStreamBody, encode_message

MODEL = botocore.session.get_session().get_service_model("bedrock-runtime")


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self) -> Any:
        # Split mid-message: the reader must reassemble frames across reads.
        yield from (self.data[i : i + 7] for i in range(0, len(self.data), 7))

    def close(self) -> None:
        pass


def _parse(operation: str, member: str, events: Any) -> EventStream:
    shape = MODEL.operation_model(operation).output_shape.members[member]

    async def frames() -> bytes:
        return b"".join([chunk async for chunk in EventStreamBody(shape, events)])

    return EventStream(_Raw(asyncio.run(frames())), shape, EventStreamJSONParser(), operation)


def test_converse_events_round_trip_through_botocore() -> None:
    sent = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Xin chào"}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {
            "metadata": {
                "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
                "metrics": {"latencyMs": 1},
            }
        },
    ]
    assert list(_parse("ConverseStream", "stream", sent)) == sent


def test_blob_members_travel_base64_and_come_back_as_bytes() -> None:
    sent = [{"chunk": {"bytes": b'{"type":"message_stop"}'}}]
    assert list(_parse("InvokeModelWithResponseStream", "body", sent)) == sent


def test_error_mid_stream_is_raised_by_boto3_with_its_code() -> None:
    async def events() -> AsyncIterator[dict[str, Any]]:
        yield {"messageStart": {"role": "assistant"}}
        raise AwsError("ThrottlingException", "Too many requests, slow down.", 429)

    stream = iter(_parse("ConverseStream", "stream", events()))
    assert next(stream) == {"messageStart": {"role": "assistant"}}
    with pytest.raises(EventStreamError) as info:
        next(stream)
    assert info.value.response["Error"]["Code"] == "throttlingException"
    assert "slow down" in info.value.response["Error"]["Message"]


def test_unmodelled_error_becomes_an_error_message() -> None:
    async def events() -> AsyncIterator[dict[str, Any]]:
        raise AwsError("ModelTimeoutException", "The model took too long.", 408)
        yield {}

    with pytest.raises(EventStreamError) as info:
        list(_parse("ConverseStream", "stream", events()))
    assert info.value.response["Error"]["Code"] == "ModelTimeoutException"


def test_corrupt_frame_fails_the_checksum() -> None:
    message = bytearray(encode_message({":event-type": "chunk"}, b"{}"))
    message[-5] ^= 0xFF
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(message))
    with pytest.raises(ChecksumMismatch):
        next(iter(buffer))
