"""Static website hosting: configuration rules and answering website-endpoint requests."""

from __future__ import annotations

import html
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.s3.core import EngineCore, ObjectRecord
from nimbus.services.s3.store import iter_file

WebsiteResponse = tuple[int, dict[str, str], Iterable[bytes] | bytes]


def validate_website(config: dict[str, Any]) -> dict[str, Any]:
    redirect = config.get("RedirectAllRequestsTo")
    if redirect:
        if not redirect.get("HostName"):
            raise AwsError("InvalidArgument", "RedirectAllRequestsTo needs a HostName.", 400)
        if len(config) > 1:
            raise AwsError(
                "InvalidArgument",
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                400,
            )
        return {"RedirectAllRequestsTo": redirect}
    suffix = (config.get("IndexDocument") or {}).get("Suffix", "")
    if not suffix or "/" in suffix:
        raise AwsError(
            "InvalidArgument",
            "The IndexDocument Suffix is not well formed",
            400,
            extra={"ArgumentName": "IndexDocument", "ArgumentValue": suffix},
        )
    clean: dict[str, Any] = {"IndexDocument": {"Suffix": suffix}}
    if (config.get("ErrorDocument") or {}).get("Key"):
        clean["ErrorDocument"] = {"Key": config["ErrorDocument"]["Key"]}
    if config.get("RoutingRules"):
        clean["RoutingRules"] = config["RoutingRules"]
    return clean


def _error_page(status: int, code: str, message: str, extra: str = "") -> WebsiteResponse:
    body = (
        f"<html>\n<head><title>{status} {html.escape(code)}</title></head>\n<body>\n"
        f"<h1>{status} {html.escape(code)}</h1>\n<ul>\n<li>Code: {html.escape(code)}</li>\n"
        f"<li>Message: {html.escape(message)}</li>\n{extra}</ul>\n</body>\n</html>\n"
    ).encode()
    return status, {"Content-Type": "text/html; charset=utf-8"}, body


def _object_response(engine: EngineCore, record: ObjectRecord, status: int) -> WebsiteResponse:
    headers = {
        "Content-Type": record.content_type,
        "Content-Length": str(record.size),
        "ETag": record.etag,
        "Last-Modified": formatdate(record.last_modified, usegmt=True),
    }
    for member, header in (
        ("CacheControl", "Cache-Control"),
        ("ContentEncoding", "Content-Encoding"),
        ("ContentDisposition", "Content-Disposition"),
        ("ContentLanguage", "Content-Language"),
    ):
        if record.headers.get(member):
            headers[header] = record.headers[member]
    return status, headers, iter_file(engine.blobs.open(record.blob), 0, record.size)


def website_response(engine: EngineCore, bucket: str, path: str) -> WebsiteResponse:
    """Serve ``path`` (URL path, already percent-decoded) from ``bucket``'s website."""
    try:
        config = engine.get_config(bucket, "website")
    except AwsError:
        return _error_page(
            404, "NoSuchBucket", "The specified bucket does not exist",
            f"<li>BucketName: {html.escape(bucket)}</li>\n",
        )  # fmt: skip
    if not config:
        return _error_page(
            404, "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
            f"<li>BucketName: {html.escape(bucket)}</li>\n",
        )  # fmt: skip
    redirect = config.get("RedirectAllRequestsTo")
    if redirect:
        location = f"{redirect.get('Protocol') or 'http'}://{redirect['HostName']}{path or '/'}"
        return 301, {"Location": location}, b""
    key = path.lstrip("/")
    suffix = config["IndexDocument"]["Suffix"]
    if key == "" or key.endswith("/"):
        key += suffix
    record = engine.find_object(bucket, key)
    if record is not None:
        return _object_response(engine, record, 200)
    if not key.endswith("/" + suffix) and engine.find_object(bucket, f"{key}/{suffix}"):
        # A "directory" asked for without its slash: S3 redirects to the slashed form.
        return 302, {"Location": f"/{key}/"}, b""
    error_key = (config.get("ErrorDocument") or {}).get("Key")
    error_doc = engine.find_object(bucket, error_key) if error_key else None
    if error_doc is not None:
        return _object_response(engine, error_doc, 404)
    return _error_page(
        404, "NoSuchKey", "The specified key does not exist.",
        f"<li>Key: {html.escape(key)}</li>\n",
    )  # fmt: skip
