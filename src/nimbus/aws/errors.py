"""The one exception type every layer raises for a client-visible AWS failure."""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """An AWS error: code (e.g. ``ResourceNotFoundException``), message, HTTP status.

    ``extra`` holds additional top-level error members (DynamoDB's ``CancellationReasons``,
    S3's ``Key`` or ``BucketName``); serializers add them to the error body.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.extra = extra or {}
        self.headers = headers or {}


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def not_found(code: str, message: str) -> AwsError:
    return AwsError(code, message, 404)
