"""The provider convention shared by every service package.

A provider is a class whose public methods are named after AWS operations in snake_case
(``put_item``, ``list_objects_v2``). Each receives the request parsed from the wire as a dict
shaped like botocore's input shape, plus the :class:`RequestContext`, and returns a dict shaped
like the output shape. Methods may be ``async`` (S3 streams bodies). Failures raise
:class:`nimbus.aws.errors.AwsError`.

Value types follow botocore: structure/map -> dict, list -> list, string -> str,
integer/long -> int, float/double -> float, boolean -> bool, timestamp -> aware ``datetime``
(outputs may also give epoch seconds), blob -> ``bytes``. A streaming blob input
(S3 PutObject/UploadPart ``Body``) is a :class:`nimbus.aws.streams.BodyStream`; a streaming blob
output may be ``bytes`` or any (async) iterable of ``bytes`` chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext
    from nimbus.services.registry import ServiceRegistry


@dataclass(slots=True)
class ServiceEnv:
    """What a provider is built from. ``data_dir`` is this service's own folder."""

    data_dir: Path
    region: str
    account_id: str
    base_url: str
    registry: ServiceRegistry


class Provider:
    #: botocore service name (``s3``, ``dynamodb``, ``iam``, ``sts``, ``logs``, ``cloudwatch``)
    service: ClassVar[str]
    #: IAM action prefix (``s3``, ``dynamodb``, ``logs``, ``cloudwatch``)
    iam_prefix: ClassVar[str]
    #: Error code this service answers when IAM denies a request.
    access_denied_code: ClassVar[str] = "AccessDeniedException"
    access_denied_status: ClassVar[int] = 400
    #: Operations AWS answers without any IAM permission (sts:GetCallerIdentity).
    public_operations: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, env: ServiceEnv) -> None:
        self.env = env

    def iam_action(self, operation: str, req: dict[str, Any]) -> str:
        """The IAM action a request needs (``dynamodb:PutItem``); services override exceptions."""
        return f"{self.iam_prefix}:{operation}"

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        """ARNs the request acts on, for IAM evaluation."""
        return ["*"]

    def iam_checks(
        self, operation: str, req: dict[str, Any], ctx: RequestContext
    ) -> list[tuple[str, list[str]]]:
        """Every (action, resources) pair the request needs; copies need more than one."""
        return [(self.iam_action(operation, req), self.iam_resources(operation, req, ctx))]

    def close(self) -> None:
        """Release databases and files on shutdown."""
