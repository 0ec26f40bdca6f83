"""Object behaviour through the provider, as the wire front calls it."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.s3.provider import S3Provider

from .helpers import body_stream, call, crc32_b64, make_ctx, read_body


@pytest.fixture
def bucket(provider: S3Provider) -> str:
    call(provider, "create_bucket", Bucket="bkt")
    return "bkt"


def put(provider: S3Provider, key: str, data: bytes, **extra: object) -> dict:
    return call(provider, "put_object", Bucket="bkt", Key=key, Body=body_stream(data), **extra)


def test_put_get_roundtrip_with_metadata_and_headers(provider: S3Provider, bucket: str) -> None:
    data = b"hello world" * 1000
    out = put(
        provider,
        "dir/a.txt",
        data,
        Metadata={"Owner": "me"},
        ContentType="text/plain",
        CacheControl="max-age=60",
        ContentDisposition="inline",
    )
    assert out["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = call(provider, "get_object", Bucket=bucket, Key="dir/a.txt")
    assert read_body(got["Body"]) == data
    assert got["ContentLength"] == len(data)
    assert got["Metadata"] == {"owner": "me"}
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "inline"


def test_default_content_type_is_binary_octet_stream(provider: S3Provider, bucket: str) -> None:
    put(provider, "k", b"x")
    assert call(provider, "head_object", Bucket=bucket, Key="k")["ContentType"] == (
        "binary/octet-stream"
    )


def test_missing_key_and_bucket_errors(provider: S3Provider, bucket: str) -> None:
    with pytest.raises(AwsError) as err:
        call(provider, "get_object", Bucket=bucket, Key="nope")
    assert (err.value.code, err.value.status, err.value.extra) == (
        "NoSuchKey",
        404,
        {"Key": "nope"},
    )
    with pytest.raises(AwsError) as err:
        call(provider, "get_object", Bucket="missing", Key="k")
    assert (err.value.code, err.value.status) == ("NoSuchBucket", 404)
    assert err.value.extra == {"BucketName": "missing"}


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ],
)
def test_range_get(
    provider: S3Provider, bucket: str, header: str, expected: bytes, content_range: str
) -> None:
    put(provider, "digits", b"0123456789")
    ctx = make_ctx("GetObject")
    got = call(provider, "get_object", ctx, Bucket=bucket, Key="digits", Range=header)
    assert read_body(got["Body"]) == expected
    assert (ctx.status, got["ContentRange"], got["ContentLength"]) == (
        206,
        content_range,
        len(expected),
    )


def test_unsatisfiable_range_is_416(provider: S3Provider, bucket: str) -> None:
    put(provider, "digits", b"0123456789")
    with pytest.raises(AwsError) as err:
        call(provider, "get_object", Bucket=bucket, Key="digits", Range="bytes=10-")
    assert (err.value.code, err.value.status) == ("InvalidRange", 416)


def test_conditional_get(provider: S3Provider, bucket: str) -> None:
    etag = put(provider, "k", b"abc")["ETag"]
    ctx = make_ctx("GetObject")
    out = call(provider, "get_object", ctx, Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert ctx.status == 304 and "Body" not in out
    future = datetime.now(UTC) + timedelta(hours=1)
    ctx = make_ctx("GetObject")
    call(provider, "get_object", ctx, Bucket=bucket, Key="k", IfModifiedSince=future)
    assert ctx.status == 304
    with pytest.raises(AwsError) as err:
        call(provider, "get_object", Bucket=bucket, Key="k", IfMatch='"nope"')
    assert (err.value.code, err.value.status) == ("PreconditionFailed", 412)
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(AwsError) as err:
        call(provider, "head_object", Bucket=bucket, Key="k", IfUnmodifiedSince=past)
    assert err.value.status == 412
    ok = call(provider, "get_object", Bucket=bucket, Key="k", IfMatch=etag, IfModifiedSince=past)
    assert read_body(ok["Body"]) == b"abc"


def test_put_if_none_match_star_refuses_overwrite(provider: S3Provider, bucket: str) -> None:
    put(provider, "k", b"first", IfNoneMatch="*")
    with pytest.raises(AwsError) as err:
        put(provider, "k", b"second", IfNoneMatch="*")
    assert err.value.status == 412
    got = call(provider, "get_object", Bucket=bucket, Key="k")
    assert read_body(got["Body"]) == b"first"


def test_crc32_trailer_verified_stored_and_returned(provider: S3Provider, bucket: str) -> None:
    data = b"x" * 200_000
    ctx = make_ctx("PutObject", {"x-amz-trailer": "x-amz-checksum-crc32"})
    body = body_stream(data, trailer={"x-amz-checksum-crc32": crc32_b64(data)})
    out = call(
        provider, "put_object", ctx, Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm="CRC32"
    )
    assert out["ChecksumCRC32"] == crc32_b64(data)
    head = call(provider, "head_object", Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32_b64(data) and head["ChecksumType"] == "FULL_OBJECT"
    assert "ChecksumCRC32" not in call(provider, "head_object", Bucket=bucket, Key="c")


def test_bad_crc32_trailer_is_bad_digest_and_nothing_stored(
    provider: S3Provider, bucket: str
) -> None:
    ctx = make_ctx("PutObject", {"x-amz-trailer": "x-amz-checksum-crc32"})
    body = body_stream(b"data", trailer={"x-amz-checksum-crc32": crc32_b64(b"other")})
    with pytest.raises(AwsError) as err:
        call(provider, "put_object", ctx, Bucket=bucket, Key="c", Body=body)
    assert err.value.code == "BadDigest"
    assert err.value.message == "The CRC32 you specified did not match the calculated checksum."
    with pytest.raises(AwsError):
        call(provider, "head_object", Bucket=bucket, Key="c")
    assert not list((provider.engine.blobs.blob_dir).rglob("*.*"))


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32C", "4waSgw=="),  # crc32c("123456789") = 0xE3069283
        ("SHA256", base64.b64encode(hashlib.sha256(b"123456789").digest()).decode()),
        ("SHA1", base64.b64encode(hashlib.sha1(b"123456789").digest()).decode()),
        ("CRC64NVME", "rosUhgp5mIg="),  # crc64nvme("123456789") = 0xAE8B14860A799888
    ],
)
def test_header_checksums(provider: S3Provider, bucket: str, algorithm: str, value: str) -> None:
    out = put(provider, "k", b"123456789", **{f"Checksum{algorithm}": value})
    assert out[f"Checksum{algorithm}"] == value


def test_content_md5_mismatch_is_bad_digest(provider: S3Provider, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(AwsError) as err:
        put(provider, "k", b"data", ContentMD5=wrong)
    assert err.value.code == "BadDigest"
    with pytest.raises(AwsError) as err:
        put(provider, "k", b"data", ContentMD5="not-base64!")
    assert err.value.code == "InvalidDigest"


def test_key_too_long(provider: S3Provider, bucket: str) -> None:
    with pytest.raises(AwsError) as err:
        put(provider, "é" * 513, b"x")
    assert err.value.code == "KeyTooLongError"
    put(provider, "k" * 1024, b"x")


def test_copy_object_copy_and_replace(provider: S3Provider, bucket: str) -> None:
    put(provider, "src key", b"payload", Metadata={"a": "1"}, ContentType="text/plain")
    out = call(provider, "copy_object", Bucket=bucket, Key="dst", CopySource="bkt/src%20key")
    assert out["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    head = call(provider, "head_object", Bucket=bucket, Key="dst")
    assert (head["Metadata"], head["ContentType"]) == ({"a": "1"}, "text/plain")
    call(
        provider,
        "copy_object",
        Bucket=bucket,
        Key="dst",
        CopySource="/bkt/src%20key",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
    )
    head = call(provider, "head_object", Bucket=bucket, Key="dst")
    assert (head["Metadata"], head["ContentType"]) == ({"b": "2"}, "binary/octet-stream")
    with pytest.raises(AwsError) as err:
        call(provider, "copy_object", Bucket=bucket, Key="dst", CopySource="bkt/dst")
    assert err.value.code == "InvalidRequest"
    with pytest.raises(AwsError) as err:
        call(provider, "copy_object", Bucket=bucket, Key="x", CopySource="bkt/missing")
    assert err.value.code == "NoSuchKey"


def test_delete_objects_quiet_and_verbose(provider: S3Provider, bucket: str) -> None:
    for key in ("a", "b", "c"):
        put(provider, key, b"x")
    out = call(
        provider, "delete_objects", Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}]}
    )
    assert out["Deleted"] == [{"Key": "a"}, {"Key": "zz"}]
    out = call(
        provider, "delete_objects", Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True}
    )
    assert "Deleted" not in out
    listed = call(provider, "list_objects_v2", Bucket=bucket)
    assert [c["Key"] for c in listed["Contents"]] == ["c"]


def test_overwrite_replaces_blob_file(provider: S3Provider, bucket: str) -> None:
    put(provider, "k", b"one")
    put(provider, "k", b"two")
    blobs = [p for p in provider.engine.blobs.blob_dir.rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].read_bytes() == b"two"
