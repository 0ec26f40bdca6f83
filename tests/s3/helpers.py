"""Calling the S3 provider directly, the way the wire front does, without HTTP."""

from __future__ import annotations

import asyncio
import base64
import inspect
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from nimbus.aws.context import Principal, RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.streams import BodyStream
from nimbus.services.base import ServiceEnv
from nimbus.services.s3.provider import S3Provider

ACCOUNT = "000000000000"


def make_provider(data_dir: Path) -> S3Provider:
    env = ServiceEnv(data_dir, "us-east-1", ACCOUNT, "http://127.0.0.1:1", registry=None)  # type: ignore[arg-type]
    data_dir.mkdir(parents=True, exist_ok=True)
    return S3Provider(env)


def make_ctx(operation: str = "", headers: dict[str, str] | None = None) -> RequestContext:
    return RequestContext(
        service="s3",
        operation=operation,
        region="us-east-1",
        account_id=ACCOUNT,
        request_id="REQ1",
        principal=Principal(
            arn=f"arn:aws:iam::{ACCOUNT}:root", account_id=ACCOUNT, access_key="test"
        ),
        base_url="http://127.0.0.1:1",
        headers=headers or {},
    )


def body_stream(
    data: bytes, chunk: int = 65536, trailer: dict[str, str] | None = None
) -> BodyStream:
    """A BodyStream fed like ASGI would; with ``trailer`` it is aws-chunked encoded."""
    if trailer is None:
        raw = data
    else:
        framed = b""
        for i in range(0, len(data), chunk):
            piece = data[i : i + chunk]
            framed += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        framed += b"0\r\n" + b"".join(f"{k}:{v}\r\n".encode() for k, v in trailer.items()) + b"\r\n"
        raw = framed
    messages = [raw[i : i + chunk] for i in range(0, len(raw), chunk)] or [b""]

    async def receive() -> dict[str, Any]:
        piece = messages.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(messages)}

    return BodyStream(
        receive, content_length=len(raw), aws_chunked=trailer is not None, decoded_length=len(data)
    )


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def read_body(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    assert isinstance(body, Iterable)
    return b"".join(body)


def call(
    provider: S3Provider, operation: str, ctx: RequestContext | None = None, **req: Any
) -> Any:
    """Invoke ``provider.<operation>`` (sync or async) and return its output dict."""
    method = getattr(provider, operation)
    ctx = ctx or make_ctx(operation)
    result = method(req, ctx)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


class ProviderClient:
    """Quacks like a boto3 S3 client for differential tests: calls the provider directly."""

    def __init__(self, provider: S3Provider) -> None:
        self.provider = provider

    def __getattr__(self, name: str) -> Any:
        def operation(**kwargs: Any) -> Any:
            if isinstance(kwargs.get("Body"), bytes):
                kwargs["Body"] = body_stream(kwargs["Body"])
            try:
                out = call(self.provider, name, **kwargs)
            except AwsError as err:
                error = {"Code": err.code, "Message": err.message, **err.extra}
                meta = {"HTTPStatusCode": err.status}
                raise ClientError({"Error": error, "ResponseMetadata": meta}, name) from None
            if "Body" in out:
                out["Body"] = read_body(out["Body"])
            return out

        return operation
