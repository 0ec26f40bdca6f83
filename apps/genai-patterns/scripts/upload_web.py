"""Upload web/ to the website bucket with content types, plus ``config.json`` with the endpoints.

CloudFormation makes the bucket but does not upload files; run this after each deploy:

    python scripts/upload_web.py --stack genai-patterns        # reads the stack's outputs
    python scripts/upload_web.py --bucket B --api-url URL --websocket-url wss://...

boto3 only; AWS_ENDPOINT_URL (when set) points it at Nimbus.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
from pathlib import Path

import boto3

WEB = Path(__file__).resolve().parents[1] / "web"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def client(name: str):
    return boto3.client(name, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def stack_outputs(stack: str) -> dict[str, str]:
    described = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}


def content_type(path: Path) -> str:
    return (
        TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def upload(bucket: str, api_url: str, websocket_url: str, s3=None) -> list[str]:
    """Upload every file of web/ and config.json; returns the keys written."""
    s3 = s3 or client("s3")
    keys = []
    for path in sorted(WEB.rglob("*")):
        if not path.is_file() or path.name == "config.json":
            continue
        key = path.relative_to(WEB).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(),
                      ContentType=content_type(path), CacheControl="no-cache")  # fmt: skip
        keys.append(key)
    config = {"apiUrl": api_url.rstrip("/"), "webSocketUrl": websocket_url.rstrip("/")}
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode(),
                  ContentType="application/json", CacheControl="no-store")  # fmt: skip
    keys.append("config.json")
    return keys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stack", default="genai-patterns", help="stack to read outputs from")
    p.add_argument("--bucket", help="website bucket (default: the stack's WebsiteBucketName)")
    p.add_argument("--api-url", help="HTTP API URL (default: the stack's ApiUrl)")
    p.add_argument("--websocket-url", help="WebSocket URL (default: the stack's WebSocketUrl)")
    args = p.parse_args(argv)
    bucket, api_url, ws_url = args.bucket, args.api_url, args.websocket_url
    if not (bucket and api_url and ws_url):
        outputs = stack_outputs(args.stack)
        bucket = bucket or outputs["WebsiteBucketName"]
        api_url = api_url or outputs["ApiUrl"]
        ws_url = ws_url or outputs["WebSocketUrl"]
    keys = upload(bucket, api_url, ws_url)
    print(f"uploaded {len(keys)} files to s3://{bucket}/ (apiUrl {api_url}, webSocketUrl {ws_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
