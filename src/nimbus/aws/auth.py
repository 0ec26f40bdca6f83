"""Who signed a request: SigV4 in the Authorization header or in a presigned URL's query.

Only the access key, region and service are read from the signature. The IAM service turns an
access key into a principal; any key it does not know is the account administrator, as a
developer expects from a local AWS. Secrets are never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(slots=True, frozen=True)
class Signature:
    access_key: str
    region: str
    service: str  # the signing name, e.g. "monitoring" for CloudWatch


def read_signature(request: HttpRequest) -> Signature | None:
    header = request.headers.get("authorization")
    if header:
        found = _CREDENTIAL.search(header)
        if found:
            return Signature(found.group(1), found.group(3), found.group(4))
        if header.startswith("AWS "):  # SigV2, still sent by some S3 tools
            return Signature(header[4:].split(":", 1)[0], "", "s3")
        return None
    if "X-Amz-Credential" in request.query:
        return _presigned(request)
    if "AWSAccessKeyId" in request.query:  # SigV2 query auth: boto3's default S3 presigning
        return _presigned_v2(request)
    return None


def _presigned_v2(request: HttpRequest) -> Signature:
    query = request.query
    try:
        expires = int(query["Expires"][0])
    except (KeyError, ValueError):
        raise AwsError(
            "AuthorizationQueryParametersError",
            "A presigned URL with AWSAccessKeyId needs Expires (epoch seconds).",
            400,
        ) from None
    if datetime.now(UTC).timestamp() > expires:
        raise AwsError("AccessDenied", "Request has expired", 403)
    return Signature(query["AWSAccessKeyId"][0], "", "s3")


def _presigned(request: HttpRequest) -> Signature:
    query = request.query
    parts = query["X-Amz-Credential"][0].split("/")
    if len(parts) != 5:
        raise AwsError(
            "AuthorizationQueryParametersError",
            "X-Amz-Credential must look like AKID/yyyymmdd/region/service/aws4_request.",
            400,
        )
    try:
        signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(query["X-Amz-Expires"][0])
    except (KeyError, ValueError):
        raise AwsError(
            "AuthorizationQueryParametersError",
            "A presigned URL needs X-Amz-Date (yyyyMMddTHHmmssZ) and X-Amz-Expires (seconds).",
            400,
        ) from None
    if not 1 <= expires <= 604800:
        raise AwsError(
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be between 1 and 604800 seconds.",
            400,
        )
    if datetime.now(UTC) > signed_at + timedelta(seconds=expires):
        raise AwsError("AccessDenied", "Request has expired", 403)
    return Signature(parts[0], parts[2], parts[3])
