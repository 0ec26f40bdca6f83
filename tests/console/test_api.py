"""The console's JSON API against a live server, with data seeded through boto3."""

from __future__ import annotations

import time

import pytest
from support import raw_request


def test_browser_root_serves_the_console_and_signed_root_still_lists_buckets(nimbus, aws, seeded):
    page = raw_request(nimbus.endpoint, "GET", "/", headers={"Accept": "text/html"})
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert b"Nimbus console" in page.body
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # boto3's ListBuckets is a signed GET / and must still reach S3.
    names = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert seeded.bucket in names
    signed = raw_request(nimbus.endpoint, "GET", "/", service="s3")
    assert signed.status == 200 and b"<ListAllMyBucketsResult" in signed.body
    presigned = raw_request(nimbus.endpoint, "GET", "/", query="X-Amz-Algorithm=AWS4-HMAC-SHA256")
    assert b"Nimbus console" not in presigned.body
    for path in ("/_nimbus/console", "/_nimbus/console/"):
        assert b"Nimbus console" in raw_request(nimbus.endpoint, "GET", path).body
    assert raw_request(nimbus.endpoint, "GET", "/_nimbus/consolex").status == 404
    assert raw_request(nimbus.endpoint, "GET", "/_nimbus/health").status == 200


def test_website_and_http_api_roots_are_not_the_console(nimbus, aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="console-site")
    s3.put_bucket_website(
        Bucket="console-site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    s3.put_object(Bucket="console-site", Key="index.html", Body=b"<p>the site</p>")
    host = f"console-site.s3-website.localhost:{nimbus.port}"
    site = raw_request(nimbus.endpoint, "GET", "/", headers={"Host": host})
    assert site.status == 200 and site.body == b"<p>the site</p>"


def test_static_assets_have_types_and_caching(nimbus):
    page = raw_request(nimbus.endpoint, "GET", "/").body.decode()
    js_path = page.split('src="', 1)[1].split('"', 1)[0]
    css_path = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    assert "?v=" in js_path and "?v=" in css_path
    path, _, query = js_path.partition("?")
    js = raw_request(nimbus.endpoint, "GET", path, query=query)
    assert js.status == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "immutable" in js.headers["cache-control"]
    again = raw_request(nimbus.endpoint, "GET", path, headers={"If-None-Match": js.headers["etag"]})
    assert again.status == 304 and again.body == b""
    path, _, query = css_path.partition("?")
    css = raw_request(nimbus.endpoint, "GET", path, query=query)
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    for bad in ("../server.py", "index.htm", "..%2F__init__.py", "static.py"):
        missing = raw_request(nimbus.endpoint, "GET", "/_nimbus/console/static/" + bad)
        assert missing.status == 404


def test_buckets_browse_upload_download(console, seeded):
    assert seeded.bucket in [b["Name"] for b in console.get("buckets")["buckets"]]
    root = console.get(f"buckets/{seeded.bucket}/objects")
    assert root["folders"] == ["docs/"]
    assert [o["key"] for o in root["objects"]] == ["top.txt"]
    docs = console.get(f"buckets/{seeded.bucket}/objects", prefix="docs/")
    assert docs["folders"] == ["docs/deep/"]
    assert [(o["key"], o["size"]) for o in docs["objects"]] == [("docs/readme.txt", 10)]

    data = bytes(range(256)) * 10
    status, body, _ = console.request(
        "PUT",
        f"buckets/{seeded.bucket}/objects",
        {"key": "up/ünïcode file.bin"},
        body=data,
        headers={"Content-Type": "application/x-test"},
    )
    assert status == 200, body
    assert body["size"] == len(data)
    status, got, headers = console.request(
        "GET", f"buckets/{seeded.bucket}/download", {"key": "up/ünïcode file.bin"}
    )
    assert status == 200 and got == data
    assert headers["content-type"] == "application/x-test"
    assert headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%C3%BCn%C3%AFcode%20file.bin" in headers["content-disposition"]


def test_upload_needs_the_console_header(console, seeded):
    status, body, _ = console.request(
        "PUT", f"buckets/{seeded.bucket}/objects", {"key": "x"}, body=b"x", csrf=False
    )
    assert status == 403 and body["code"] == "Forbidden"
    status, body, _ = console.request("GET", f"buckets/{seeded.bucket}/download", {"key": "x"})
    assert status == 404 and body["code"] == "NoSuchKey"


def test_tables_scan_with_paging_and_query(console, seeded):
    assert seeded.table in console.get("tables")["tables"]
    detail = console.get(f"tables/{seeded.table}")
    assert detail["key"] == {
        "partitionKey": "customer",
        "partitionType": "S",
        "sortKey": "seq",
        "sortType": "N",
    }
    first = console.get(f"tables/{seeded.table}/items", limit=4)
    assert len(first["items"]) == 4 and first["next"]
    seen = list(first["items"])
    token = first["next"]
    while token:
        page = console.get(f"tables/{seeded.table}/items", limit=4, start=token)
        seen += page["items"]
        token = page["next"]
    assert len(seen) == 10
    item = next(i for i in seen if i["customer"] == "ada" and i["seq"] == 3)
    assert item == {
        "customer": "ada",
        "seq": 3,
        "total": 3.5,
        "tags": ["a", "b"],
        "meta": {"gift": True},
    }

    bob = console.get(f"tables/{seeded.table}/query", pk="bob")
    assert [i["seq"] for i in bob["items"]] == [1, 2, 3, 4, 5]
    assert {i["customer"] for i in bob["items"]} == {"bob"}
    between = console.get(f"tables/{seeded.table}/query", pk="ada", op="between", sk="2", sk2="4")
    assert [i["seq"] for i in between["items"]] == [2, 3, 4]
    greater = console.get(f"tables/{seeded.table}/query", pk="ada", op=">", sk="3", order="desc")
    assert [i["seq"] for i in greater["items"]] == [5, 4]
    assert console.get(f"tables/{seeded.table}/query", pk="nobody")["items"] == []


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        ("tables/{table}/query", {}, "BadRequest"),  # no partition key value
        ("tables/{table}/query", {"pk": "ada", "op": "=", "sk": "abc"}, "BadRequest"),
        ("tables/{table}/query", {"pk": "ada", "op": "DROP", "sk": "1"}, "BadRequest"),
        ("tables/{table}/items", {"limit": "0"}, "BadRequest"),
        ("tables/{table}/items", {"limit": "many"}, "BadRequest"),
        ("tables/{table}/items", {"start": "not-a-token!"}, "BadRequest"),
        ("tables/{table}/items", {"start": "eyJhIjogMX0="}, "BadRequest"),  # {"a": 1}
        ("tables/{table}/items", {"start": "eyJhIjogeyJaIjogMX19"}, "ValidationException"),
        ("tables/no-such-table/items", {}, "ResourceNotFoundException"),
        ("buckets/no-such-bucket-zz/objects", {}, "NoSuchBucket"),
        ("buckets/{bucket}/download", {}, "BadRequest"),
        ("functions/no-such-fn", {}, "ResourceNotFoundException"),
        ("stacks/no-such-stack", {}, "ValidationError"),
        ("logs/search", {}, "BadRequest"),
        ("logs/search", {"group": "/nope/none"}, "ResourceNotFoundException"),
        (
            "logs/search",
            {"group": "{log_group}", "pattern": '{ $.x = "'},
            "InvalidParameterException",
        ),
        ("logs/search", {"group": "{log_group}", "start": "5", "end": "1"}, "BadRequest"),
        ("functions/{function}/metrics", {"minutes": "-1"}, "BadRequest"),
        ("nowhere", {}, "NotFound"),
    ],
)
def test_bad_input_is_a_4xx_json_error(console, seeded, path, query, code):
    names = {"table": seeded.table, "bucket": seeded.bucket, "function": seeded.function}
    names["log_group"] = seeded.log_group
    path = path.format(**names)
    query = {k: v.format(**names) if k == "group" else v for k, v in query.items()}
    status, body, headers = console.request("GET", path, query)
    assert 400 <= status < 500, body
    assert headers["content-type"] == "application/json"
    assert body["code"] == code, body
    assert body["message"]


def test_wrong_method_and_bad_payload(console, seeded):
    status, body, _ = console.request("DELETE", f"functions/{seeded.function}/invoke")
    assert status == 405 and body["code"] == "MethodNotAllowed"
    status, body, _ = console.request(
        "POST", f"functions/{seeded.function}/invoke", body=b"{not json"
    )
    assert status == 400 and body["code"] == "BadRequest"
    status, body, _ = console.request("POST", "functions/missing-fn/invoke", body=b"{}")
    assert status == 404 and body["code"] == "ResourceNotFoundException"


def test_functions_invoke_logs_and_metrics(console, seeded):
    names = [f["FunctionName"] for f in console.get("functions")["functions"]]
    assert seeded.function in names
    config = console.get(f"functions/{seeded.function}")["configuration"]
    assert config["Handler"] == "app.handler" and config["Runtime"] == "python3.11"

    status, ok, _ = console.request(
        "POST", f"functions/{seeded.function}/invoke", body=b'{"name": "ada"}'
    )
    assert status == 200, ok
    assert ok["statusCode"] == 200 and ok["functionError"] is None
    assert ok["payload"] == {"echo": {"name": "ada"}, "ok": True}
    assert "console-test event" in ok["log"] and "REPORT RequestId" in ok["log"]

    status, failed, _ = console.request(
        "POST", f"functions/{seeded.function}/invoke", body=b'{"fail": true}'
    )
    assert status == 200
    assert failed["functionError"] == "Unhandled"
    assert failed["payload"]["errorMessage"] == "asked to fail"

    deadline = time.monotonic() + 30
    while True:
        metrics = console.get(f"functions/{seeded.function}/metrics", minutes=60)
        series = metrics["series"]
        invocations = sum(v for _, v in series["invocations"])
        if invocations >= 2 and series["errors"] and series["duration"]:
            break
        assert time.monotonic() < deadline, metrics
        time.sleep(0.2)
    assert sum(v for _, v in series["errors"]) >= 1
    wide = console.get(f"functions/{seeded.function}/metrics", minutes=1440, period=900)
    assert wide["period"] == 900 and sum(v for _, v in wide["series"]["invocations"]) >= 2
    assert all(metrics["start"] <= t <= metrics["end"] for t, _ in series["invocations"])

    logs = console.get(f"functions/{seeded.function}/logs")
    assert logs["logGroup"] == f"/aws/lambda/{seeded.function}"
    text = "\n".join(e["message"] for e in logs["events"])
    assert '"name": "ada"' in text and "asked to fail" in text


def test_function_logs_before_first_invoke_are_empty(console, nimbus, seeded):
    assert console.get("functions/never-invoked-fn/logs")["events"] == []


def test_log_groups_and_search(console, seeded):
    groups = [g["name"] for g in console.get("log-groups")["logGroups"]]
    assert seeded.log_group in groups
    found = console.get("logs/search", group=seeded.log_group, pattern="ERROR")
    assert [e["message"] for e in found["events"]] == ["ERROR disk full", "ERROR timed out"]
    everything = console.get("logs/search", group=seeded.log_group)
    assert len(everything["events"]) == 4
    now = int(time.time() * 1000)
    old = console.get("logs/search", group=seeded.log_group, start=0, end=now - 3_600_000)
    assert old["events"] == []


def test_stacks_list_and_detail(console, aws):
    template = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""
    cfn = aws("cloudformation")
    name = f"console-stack-{int(time.time() * 1000) % 10**8}"
    cfn.create_stack(StackName=name, TemplateBody=template)
    cfn.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    stacks = {s["StackName"]: s["StackStatus"] for s in console.get("stacks")["stacks"]}
    assert stacks[name] == "CREATE_COMPLETE"
    detail = console.get(f"stacks/{name}")
    assert detail["stack"]["StackStatus"] == "CREATE_COMPLETE"
    resources = {r["LogicalResourceId"]: r for r in detail["resources"]}
    assert set(resources) == {"Bucket", "Table"}
    assert resources["Table"]["ResourceType"] == "AWS::DynamoDB::Table"
    assert resources["Table"]["ResourceStatus"] == "CREATE_COMPLETE"
    assert resources["Bucket"]["PhysicalResourceId"]
    statuses = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in detail["events"]}
    assert (name, "CREATE_COMPLETE") in statuses and ("Table", "CREATE_IN_PROGRESS") in statuses
