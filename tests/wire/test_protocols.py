"""The same operations through every protocol a service offers, as SDKs send them."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from support import raw_request

MODEL = botocore.session.get_session().get_service_model("cloudwatch")


def call(endpoint: str, protocol: str, operation: str, params: dict[str, Any]) -> tuple[int, dict]:
    """Serialize with botocore's own serializer for ``protocol``, parse with its parser."""
    op = MODEL.operation_model(operation)
    request = create_serializer(protocol).serialize_to_request(params, op)
    headers = {
        k: (v.decode() if isinstance(v, bytes) else v) for k, v in request["headers"].items()
    }
    if protocol == "query":
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    body = request["body"]
    if isinstance(body, dict):  # the query serializer hands back a form dict
        from urllib.parse import urlencode

        body = urlencode(body)
    body = body.encode() if isinstance(body, str) else body
    reply = raw_request(
        endpoint,
        request["method"],
        request["url_path"],
        service="monitoring",
        body=body,
        headers=headers,
    )
    parsed = create_parser(protocol).parse(
        {"status_code": reply.status, "headers": reply.headers, "body": reply.body},
        op.output_shape if reply.status < 300 else None,
    )
    return reply.status, parsed


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_cloudwatch_speaks_every_protocol(nimbus, protocol: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    namespace = f"Proto/{protocol}"
    data = [{"MetricName": "Hits", "Value": float(v), "Timestamp": now} for v in (1, 2, 3, 4)]
    status, _ = call(
        nimbus.endpoint, protocol, "PutMetricData", {"Namespace": namespace, "MetricData": data}
    )
    assert status == 200
    status, listed = call(nimbus.endpoint, protocol, "ListMetrics", {"Namespace": namespace})
    assert status == 200
    assert [m["MetricName"] for m in listed["Metrics"]] == ["Hits"]
    status, stats = call(
        nimbus.endpoint,
        protocol,
        "GetMetricStatistics",
        {
            "Namespace": namespace,
            "MetricName": "Hits",
            "Period": 60,
            "StartTime": now - timedelta(minutes=2),
            "EndTime": now + timedelta(minutes=2),
            "Statistics": ["Sum", "SampleCount", "Maximum"],
        },
    )
    assert status == 200
    [point] = stats["Datapoints"]
    assert (point["Sum"], point["SampleCount"], point["Maximum"]) == (10.0, 4.0, 4.0)
    assert isinstance(point["Timestamp"], datetime)


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_cloudwatch_errors_in_every_protocol(nimbus, protocol: str) -> None:
    status, parsed = call(
        nimbus.endpoint,
        protocol,
        "PutMetricData",
        {"Namespace": "AWS/Reserved", "MetricData": [{"MetricName": "x", "Value": 1.0}]},
    )
    assert status == 400
    assert parsed["Error"]["Code"] == "InvalidParameterValue"
    assert "Namespace" in parsed["Error"]["Message"]


def test_gzip_request_body_is_accepted(nimbus, aws) -> None:
    # botocore compresses PutMetricData bodies over 10 KB; send one far bigger than that.
    now = datetime.now(UTC)
    data = [{"MetricName": "Big", "Value": float(i), "Timestamp": now} for i in range(600)]
    aws("cloudwatch").put_metric_data(Namespace="Gzip", MetricData=data)
    stats = aws("cloudwatch").get_metric_statistics(
        Namespace="Gzip",
        MetricName="Big",
        Period=3600,
        Statistics=["SampleCount"],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
    )
    assert sum(p["SampleCount"] for p in stats["Datapoints"]) == 600


def test_gzip_bomb_is_refused(nimbus) -> None:
    bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}")
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Encoding": "gzip",
        "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
    }
    reply = raw_request(
        nimbus.endpoint, "POST", "/", service="monitoring", body=bomb, headers=headers
    )
    assert reply.status == 413
    assert json.loads(reply.body)["__type"].endswith("RequestEntityTooLarge")


def test_virtual_hosted_style_s3(nimbus, aws) -> None:
    aws("s3").create_bucket(Bucket="vhost-bucket")
    aws("s3").put_object(Bucket="vhost-bucket", Key="k.txt", Body=b"virtual")
    reply = raw_request(
        nimbus.endpoint,
        "GET",
        "/k.txt",
        service="s3",
        headers={"Host": f"vhost-bucket.localhost:{nimbus.port}"},
    )
    assert reply.status == 200
    assert reply.body == b"virtual"


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_expired_presigned_url_is_access_denied(nimbus, version: str) -> None:
    from botocore.config import Config

    s3 = nimbus.client("s3", config=Config(signature_version=version))
    s3.create_bucket(Bucket=f"presign-expiry-{version}")
    s3.put_object(Bucket=f"presign-expiry-{version}", Key="k", Body=b"x")
    params = {"Bucket": f"presign-expiry-{version}", "Key": "k"}
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    path, _, query = url.removeprefix(nimbus.endpoint).partition("?")
    assert raw_request(nimbus.endpoint, "GET", path, query=query).body == b"x"
    # The same URL as if it had been signed in 2001.
    parts = []
    for part in query.split("&"):
        name = part.partition("=")[0]
        if name == "X-Amz-Date":
            part = "X-Amz-Date=20010101T000000Z"
        elif name == "Expires":
            part = "Expires=978307200"
        parts.append(part)
    reply = raw_request(nimbus.endpoint, "GET", path, query="&".join(parts))
    assert reply.status == 403
    assert b"<Code>AccessDenied</Code>" in reply.body
    assert b"expired" in reply.body
