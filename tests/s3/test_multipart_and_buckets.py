"""Multipart uploads, bucket rules, CORS, websites and the notification outbox."""

from __future__ import annotations

import hashlib

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.s3.provider import S3Provider

from .helpers import body_stream, call, crc32_b64, make_ctx, read_body

MiB = 1024 * 1024


@pytest.fixture
def bucket(provider: S3Provider) -> str:
    call(provider, "create_bucket", Bucket="bkt")
    return "bkt"


def upload_part(provider: S3Provider, upload_id: str, number: int, data: bytes) -> dict:
    return call(
        provider,
        "upload_part",
        Bucket="bkt",
        Key="big",
        UploadId=upload_id,
        PartNumber=number,
        Body=body_stream(data),
    )


def test_multipart_roundtrip_etag_and_composite_checksum(provider: S3Provider, bucket: str) -> None:
    upload = call(
        provider,
        "create_multipart_upload",
        Bucket=bucket,
        Key="big",
        ChecksumAlgorithm="CRC32",
        Metadata={"m": "v"},
    )
    uid = upload["UploadId"]
    chunks = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
    parts = []
    for n, data in enumerate(chunks, 1):
        out = upload_part(provider, uid, n, data)
        assert out["ChecksumCRC32"] == crc32_b64(data)
        parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    listed = call(provider, "list_parts", Bucket=bucket, Key="big", UploadId=uid)
    assert [p["Size"] for p in listed["Parts"]] == [5 * MiB, 5 * MiB, 4]
    uploads = call(provider, "list_multipart_uploads", Bucket=bucket)
    assert [u["UploadId"] for u in uploads["Uploads"]] == [uid]
    done = call(
        provider,
        "complete_multipart_upload",
        Bucket=bucket,
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": parts},
    )
    md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert done["ChecksumCRC32"].endswith("-3") and done["ChecksumType"] == "COMPOSITE"
    got = call(provider, "get_object", Bucket=bucket, Key="big", Range="bytes=5242878-5242881")
    assert read_body(got["Body"]) == b"aabb"
    assert call(provider, "head_object", Bucket=bucket, Key="big")["Metadata"] == {"m": "v"}
    assert "Uploads" not in call(provider, "list_multipart_uploads", Bucket=bucket)
    # Only the final object's blob remains on disk.
    assert len([p for p in provider.engine.blobs.blob_dir.rglob("*") if p.is_file()]) == 1


def test_multipart_errors(provider: S3Provider, bucket: str) -> None:
    uid = call(provider, "create_multipart_upload", Bucket=bucket, Key="big")["UploadId"]
    e1 = upload_part(provider, uid, 1, b"small")["ETag"]
    e2 = upload_part(provider, uid, 2, b"last")["ETag"]

    def complete(parts: list[dict]) -> AwsError:
        with pytest.raises(AwsError) as err:
            call(
                provider,
                "complete_multipart_upload",
                Bucket=bucket,
                Key="big",
                UploadId=uid,
                MultipartUpload={"Parts": parts},
            )
        return err.value

    assert complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]).code == (
        "EntityTooSmall"
    )
    assert complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]).code == (
        "InvalidPartOrder"
    )
    assert complete([{"PartNumber": 1, "ETag": '"bogus"'}]).code == "InvalidPart"
    call(provider, "abort_multipart_upload", Bucket=bucket, Key="big", UploadId=uid)
    err = complete([{"PartNumber": 1, "ETag": e1}])
    assert (err.code, err.status) == ("NoSuchUpload", 404)
    with pytest.raises(AwsError) as exc:
        upload_part(provider, uid, 3, b"x")
    assert exc.value.code == "NoSuchUpload"


def test_bucket_rules(provider: S3Provider) -> None:
    for bad in ("ab", "UPPER", "has_underscore", "192.168.1.1", "a..b", "-start", "x" * 64):
        with pytest.raises(AwsError) as err:
            call(provider, "create_bucket", Bucket=bad)
        assert err.value.code == "InvalidBucketName", bad
    call(provider, "create_bucket", Bucket="my.bucket-1")
    call(provider, "create_bucket", Bucket="my.bucket-1")  # us-east-1 legacy: 200 again
    call(provider, "put_object", Bucket="my.bucket-1", Key="k", Body=body_stream(b"x"))
    with pytest.raises(AwsError) as err:
        call(provider, "delete_bucket", Bucket="my.bucket-1")
    assert (err.value.code, err.value.status) == ("BucketNotEmpty", 409)
    call(provider, "delete_object", Bucket="my.bucket-1", Key="k")
    call(provider, "delete_bucket", Bucket="my.bucket-1")
    assert call(provider, "list_buckets")["Buckets"] == []


def test_location_constraint_recorded(provider: S3Provider) -> None:
    ctx = make_ctx("CreateBucket")
    ctx.region = "eu-west-1"
    call(
        provider,
        "create_bucket",
        ctx,
        Bucket="eu-bucket",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    assert call(provider, "get_bucket_location", Bucket="eu-bucket") == {
        "LocationConstraint": "eu-west-1"
    }
    assert call(provider, "head_bucket", Bucket="eu-bucket")["BucketRegion"] == "eu-west-1"
    with pytest.raises(AwsError) as err:
        call(
            provider,
            "create_bucket",
            ctx,
            Bucket="eu-bucket",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
    assert (err.value.code, err.value.status) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(AwsError) as err:
        call(provider, "create_bucket", ctx, Bucket="no-constraint")
    assert err.value.code == "IllegalLocationConstraintException"


def test_cors_config_and_matching(provider: S3Provider, bucket: str) -> None:
    with pytest.raises(AwsError) as err:
        call(provider, "get_bucket_cors", Bucket=bucket)
    assert (err.value.code, err.value.status) == ("NoSuchCORSConfiguration", 404)
    rules = [
        {
            "AllowedOrigins": ["http://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["content-*"],
            "MaxAgeSeconds": 300,
            "ExposeHeaders": ["ETag"],
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]
    call(provider, "put_bucket_cors", Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert call(provider, "get_bucket_cors", Bucket=bucket)["CORSRules"] == rules
    headers = provider.cors_headers(bucket, "http://app.example.com", "PUT", ["Content-Type"])
    assert headers is not None
    assert headers["Access-Control-Allow-Origin"] == "http://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert headers["Access-Control-Max-Age"] == "300"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    anywhere = provider.cors_headers(bucket, "http://other.org", "GET", [])
    assert anywhere is not None and anywhere["Access-Control-Allow-Origin"] == "*"
    assert provider.cors_headers(bucket, "http://other.org", "PUT", []) is None
    assert provider.cors_headers(bucket, "http://app.example.com", "PUT", ["x-custom"]) is None
    assert provider.cors_headers("missing", "http://other.org", "GET", []) is None
    with pytest.raises(AwsError) as err:
        call(
            provider,
            "put_bucket_cors",
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
            },
        )
    assert err.value.code == "InvalidRequest"


def test_website_serving(provider: S3Provider, bucket: str) -> None:
    status, _, body = provider.website_response(bucket, "/")
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    call(
        provider,
        "put_bucket_website",
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "404.html"},
        },
    )
    for key, data in (("index.html", b"home"), ("docs/index.html", b"docs"), ("404.html", b"gone")):
        call(
            provider,
            "put_object",
            Bucket=bucket,
            Key=key,
            Body=body_stream(data),
            ContentType="text/html",
        )
    status, headers, body = provider.website_response(bucket, "/")
    assert (status, read_body(body), headers["Content-Type"]) == (200, b"home", "text/html")
    assert read_body(provider.website_response(bucket, "/docs/")[2]) == b"docs"
    assert provider.website_response(bucket, "/docs")[:2] == (302, {"Location": "/docs/"})
    status, _, body = provider.website_response(bucket, "/nope.png")
    assert (status, read_body(body)) == (404, b"gone")
    assert call(provider, "get_bucket_website", Bucket=bucket)["IndexDocument"] == {
        "Suffix": "index.html"
    }
    call(provider, "delete_bucket_website", Bucket=bucket)
    with pytest.raises(AwsError) as err:
        call(provider, "get_bucket_website", Bucket=bucket)
    assert err.value.code == "NoSuchWebsiteConfiguration"


def test_notification_outbox(provider: S3Provider, bucket: str) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:on-upload"
    config = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "uploads",
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "in/"},
                            {"Name": "suffix", "Value": ".csv"},
                        ]
                    }
                },
            }
        ]
    }
    call(
        provider,
        "put_bucket_notification_configuration",
        Bucket=bucket,
        NotificationConfiguration=config,
    )
    assert call(provider, "get_bucket_notification_configuration", Bucket=bucket) == config
    call(provider, "put_object", Bucket=bucket, Key="in/a b.csv", Body=body_stream(b"1,2"))
    call(provider, "put_object", Bucket=bucket, Key="in/skip.txt", Body=body_stream(b"x"))
    call(provider, "put_object", Bucket=bucket, Key="out/x.csv", Body=body_stream(b"x"))
    call(provider, "delete_object", Bucket=bucket, Key="in/a b.csv")  # not subscribed
    pending = provider.engine.pending_notifications(10)
    assert len(pending) == 1 and pending[0]["target_arn"] == arn
    record = pending[0]["event"]["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["s3"]["configurationId"] == "uploads"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::bkt"
    assert record["s3"]["object"]["key"] == "in/a+b.csv"
    assert record["s3"]["object"]["size"] == 3
    assert record["s3"]["object"]["eTag"] == hashlib.md5(b"1,2").hexdigest()
    provider.engine.mark_delivered([pending[0]["id"]])
    assert provider.engine.pending_notifications(10) == []
    with pytest.raises(AwsError) as err:
        call(
            provider,
            "put_bucket_notification_configuration",
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": "arn:aws:sqs:us-east-1:0:q", "Events": ["s3:Bogus"]}
                ]
            },
        )
    assert err.value.code == "InvalidArgument"
