"""ListObjectsV2 and common errors: Nimbus's provider must answer like moto's mock_aws."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from nimbus.services.s3.provider import S3Provider

from .helpers import ProviderClient

KEYS = [
    "a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "b/c/4.txt", "b/d/5.txt", "c/", "c/x",
    "d e/f+g.txt", "é/ü.txt", "zz",
]  # fmt: skip
CASES: list[dict[str, Any]] = [
    {},
    {"Delimiter": "/"},
    {"Prefix": "b/"},
    {"Prefix": "b/", "Delimiter": "/"},
    {"Prefix": "b/c", "Delimiter": "/"},
    {"MaxKeys": 2},
    {"MaxKeys": 2, "Delimiter": "/"},
    {"StartAfter": "b/2.txt"},
    {"StartAfter": "b/", "Delimiter": "/"},
    {"Prefix": "nothing"},
    {"MaxKeys": 0},
    {"Delimiter": "."},
]


@pytest.fixture
def oracle() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def fill(client: Any) -> None:
    client.create_bucket(Bucket="diff")
    for key in KEYS:
        client.put_object(Bucket="diff", Key=key, Body=key.encode())


def pages(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page until exhausted, reduced to what a caller relies on."""
    out = []
    token = None
    for _ in range(50):
        args = {"Bucket": "diff", **kwargs}
        if token:
            args["ContinuationToken"] = token
        page = client.list_objects_v2(**args)
        out.append(
            {
                "Keys": [(c["Key"], c["Size"], c["ETag"]) for c in page.get("Contents", [])],
                "CommonPrefixes": [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                "KeyCount": page["KeyCount"],
                "IsTruncated": page["IsTruncated"],
                "MaxKeys": page["MaxKeys"],
                "Prefix": page.get("Prefix", ""),
                "Delimiter": page.get("Delimiter"),
                "StartAfter": page.get("StartAfter"),
            }
        )
        token = page.get("NextContinuationToken")
        if not page["IsTruncated"] or not token:
            break
    return out


@pytest.mark.parametrize("case", CASES, ids=[str(c) or "plain" for c in CASES])
def test_list_objects_v2_matches_moto(provider: S3Provider, oracle: Any, case: dict) -> None:
    ours = ProviderClient(provider)
    fill(ours)
    fill(oracle)
    assert pages(ours, **case) == pages(oracle, **case)


def error_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"][
        "HTTPStatusCode"
    ]


def test_common_errors_match_moto(provider: S3Provider, oracle: Any) -> None:
    ours = ProviderClient(provider)
    for client in (ours, oracle):
        client.create_bucket(Bucket="diff")
        client.put_object(Bucket="diff", Key="k", Body=b"0123456789")

    calls = [
        lambda c: c.get_object(Bucket="diff", Key="missing"),
        lambda c: c.get_object(Bucket="missing-bucket", Key="k"),
        lambda c: c.list_objects_v2(Bucket="missing-bucket"),
        lambda c: c.delete_bucket(Bucket="diff"),
        lambda c: c.get_object(Bucket="diff", Key="k", Range="bytes=20-30"),
        lambda c: c.get_object(Bucket="diff", Key="k", IfMatch='"nope"'),
        lambda c: c.get_bucket_cors(Bucket="diff"),
        lambda c: c.get_bucket_website(Bucket="diff"),
        lambda c: c.get_bucket_policy(Bucket="diff"),
        lambda c: c.abort_multipart_upload(Bucket="diff", Key="k", UploadId="nope"),
        lambda c: c.copy_object(Bucket="diff", Key="x", CopySource="diff/missing"),
    ]
    for client in (ours, oracle):
        client.create_bucket(Bucket="diff")  # us-east-1 legacy: re-creating your own is a 200
    for index, op in enumerate(calls):
        assert error_of(lambda op=op: op(ours)) == error_of(lambda op=op: op(oracle)), index
