"""boto3 against a live Nimbus server: the calls applications really make."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MiB = 1024 * 1024


@pytest.fixture
def s3(aws: Callable[..., Any], request: pytest.FixtureRequest) -> Any:
    client = aws("s3")
    bucket = request.node.name.lower().replace("_", "-")[:50].strip("-")
    client.create_bucket(Bucket=bucket)
    client.test_bucket = bucket
    return client


def test_put_get_head_delete(s3: Any) -> None:
    b = s3.test_bucket
    put = s3.put_object(
        Bucket=b,
        Key="dir/hello.txt",
        Body=b"hello",
        ContentType="text/plain",
        Metadata={"Author": "ada"},
    )
    assert put["ETag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    got = s3.get_object(Bucket=b, Key="dir/hello.txt")
    assert got["Body"].read() == b"hello"
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"author": "ada"})
    head = s3.head_object(Bucket=b, Key="dir/hello.txt", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 5 and "ChecksumCRC32" in head  # boto3 sends CRC32 by default
    part = s3.get_object(Bucket=b, Key="dir/hello.txt", Range="bytes=1-3")
    assert (part["Body"].read(), part["ContentRange"]) == (b"ell", "bytes 1-3/5")
    s3.delete_object(Bucket=b, Key="dir/hello.txt")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=b, Key="dir/hello.txt")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_not_modified_and_precondition(s3: Any) -> None:
    b = s3.test_bucket
    etag = s3.put_object(Bucket=b, Key="k", Body=b"x")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=b, Key="k", IfNoneMatch=etag)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=b, Key="k", IfMatch='"other"')
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"


def test_upload_and_download_file_multipart(s3: Any, tmp_path: Path) -> None:
    b = s3.test_bucket
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MiB + 123))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(src), b, "big.bin", Config=config)
    head = s3.head_object(Bucket=b, Key="big.bin")
    assert head["ContentLength"] == src.stat().st_size and head["ETag"].endswith('-3"')
    dst = tmp_path / "back.bin"
    s3.download_file(b, "big.bin", str(dst), Config=config)
    assert dst.read_bytes() == src.read_bytes()


def test_presigned_get_and_put_with_plain_http(s3: Any) -> None:
    b = s3.test_bucket
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "p.txt"})
    parts = urlsplit(put_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=b"presigned!")
    assert conn.getresponse().status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p.txt"})
    with urllib.request.urlopen(get_url, timeout=10) as response:
        assert response.read() == b"presigned!"


def test_list_objects_v2_paginator_with_delimiter(s3: Any) -> None:
    b = s3.test_bucket
    keys = [f"logs/2024/{i:03}.txt" for i in range(7)] + [f"img/{i}.png" for i in range(3)]
    keys += ["top.txt", "with space/x"]
    for key in keys:
        s3.put_object(Bucket=b, Key=key, Body=b"1")
    paginator = s3.get_paginator("list_objects_v2")
    found, prefixes = [], []
    for page in paginator.paginate(Bucket=b, PaginationConfig={"PageSize": 2}):
        found += [c["Key"] for c in page.get("Contents", [])]
    assert found == sorted(keys)
    for page in paginator.paginate(Bucket=b, Delimiter="/", PaginationConfig={"PageSize": 1}):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        found += [c["Key"] for c in page.get("Contents", [])]
    assert prefixes == ["img/", "logs/", "with space/"]


def test_copy_and_delete_objects(s3: Any) -> None:
    b = s3.test_bucket
    s3.put_object(Bucket=b, Key="a b+c", Body=b"data")
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "a b+c"})
    assert s3.get_object(Bucket=b, Key="copy")["Body"].read() == b"data"
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a b+c"}, {"Key": "copy"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a b+c", "copy"]
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0


def test_bucket_configs(s3: Any) -> None:
    b = s3.test_bucket
    rules = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 60}]
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=b)["CORSRules"] == rules
    s3.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "i.html"}})
    assert s3.get_bucket_website(Bucket=b)["IndexDocument"] == {"Suffix": "i.html"}
    s3.put_bucket_policy(Bucket=b, Policy='{"Version": "2012-10-17", "Statement": []}')
    assert "Statement" in s3.get_bucket_policy(Bucket=b)["Policy"]
    assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]
