"""Console API for DynamoDB tables (scan, query) and S3 buckets (browse, upload, download)."""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from boto3.dynamodb.types import Binary, TypeDeserializer

from nimbus.aws.http import MAX_BODY, HttpRequest, HttpResponse

from .api import Params, bad_request, decode_token, encode_token

if TYPE_CHECKING:
    from .api import ConsoleApi

_deserializer = TypeDeserializer()
_SORT_OPS = {"=", "<", "<=", ">", ">=", "begins_with", "between"}


def plain(value: Any) -> Any:
    """A deserialized DynamoDB value as JSON: numbers as numbers, sets as lists, binary base64."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        items = [plain(v) for v in value]
        if isinstance(value, set | frozenset):
            items.sort(key=str)
        return items
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode()
    return value


def unmarshall(item: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


async def list_tables(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    names: list[str] = []
    start = None
    for _ in range(20):
        out = await api.call("dynamodb", "ListTables", Limit=100, ExclusiveStartTableName=start)
        names += out.get("TableNames", [])
        start = out.get("LastEvaluatedTableName")
        if not start:
            break
    return {"tables": names}


def _key_schema(table: dict[str, Any]) -> dict[str, Any]:
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    out = {"partitionKey": keys["HASH"], "partitionType": types[keys["HASH"]]}
    if "RANGE" in keys:
        out |= {"sortKey": keys["RANGE"], "sortType": types[keys["RANGE"]]}
    return out


async def table_detail(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    table = (await api.call("dynamodb", "DescribeTable", TableName=name))["Table"]
    return {
        "name": table["TableName"],
        "status": table.get("TableStatus"),
        "itemCount": table.get("ItemCount"),
        "key": _key_schema(table),
    }


def _page(out: dict[str, Any]) -> dict[str, Any]:
    last = out.get("LastEvaluatedKey")
    if last:  # binary key values travel as base64 inside the JSON token
        last = {k: {"B64": base64.b64encode(v["B"]).decode()} if "B" in v else v
                for k, v in last.items()}  # fmt: skip
    return {
        "items": [unmarshall(i) for i in out.get("Items", [])],
        "count": out.get("Count", 0),
        "scannedCount": out.get("ScannedCount", 0),
        "next": encode_token(last) if last else None,
    }


def _start_key(params: Params) -> Any:
    token = params.text("start")
    if not token:
        return None
    key = decode_token(token)
    if not isinstance(key, dict) or not all(isinstance(v, dict) for v in key.values()):
        raise bad_request("The paging token is not valid.")
    try:
        return {k: {"B": base64.b64decode(v["B64"])} if "B64" in v else v
                for k, v in key.items()}  # fmt: skip
    except (ValueError, TypeError):
        raise bad_request("The paging token is not valid.") from None


async def scan(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    out = await api.call(
        "dynamodb", "Scan", TableName=name, Limit=params.number("limit", 25, 1, 1000),
        ExclusiveStartKey=_start_key(params),
    )  # fmt: skip
    return _page(out)


def _typed(value: str, kind: str, what: str) -> dict[str, str]:
    """A key value typed in the browser as the table's attribute type (S, N or B)."""
    if kind == "N":
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise bad_request(f"The {what} value must be a number.") from None
        if not number.is_finite():
            raise bad_request(f"The {what} value must be a finite number.")
        return {"N": value.strip()}
    if kind == "B":
        try:
            return {"B": base64.b64decode(value, validate=True)}  # type: ignore[dict-item]
        except ValueError:
            raise bad_request(f"The {what} value must be base64 for a binary key.") from None
    return {"S": value}


async def query(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    table = (await api.call("dynamodb", "DescribeTable", TableName=name))["Table"]
    key = _key_schema(table)
    pk_value = params.text("pk", required=True)
    assert pk_value is not None
    names = {"#pk": key["partitionKey"]}
    values = {":pk": _typed(pk_value, key["partitionType"], "partition key")}
    condition = "#pk = :pk"
    op = params.text("op")
    if op:
        if op not in _SORT_OPS:
            raise bad_request(f"The sort key condition must be one of {sorted(_SORT_OPS)}.")
        if "sortKey" not in key:
            raise bad_request(f"The table {name} has no sort key.")
        names["#sk"] = key["sortKey"]
        values[":sk"] = _typed(params.text("sk", required=True) or "", key["sortType"], "sort key")
        if op == "begins_with":
            condition += " AND begins_with(#sk, :sk)"
        elif op == "between":
            high = params.text("sk2", required=True) or ""
            values[":sk2"] = _typed(high, key["sortType"], "sort key")
            condition += " AND #sk BETWEEN :sk AND :sk2"
        else:
            condition += f" AND #sk {op} :sk"
    out = await api.call(
        "dynamodb", "Query", TableName=name, KeyConditionExpression=condition,
        ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        Limit=params.number("limit", 25, 1, 1000), ExclusiveStartKey=_start_key(params),
        ScanIndexForward=params.text("order", "asc") != "desc",
    )  # fmt: skip
    return _page(out)


async def list_buckets(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    out = await api.call("s3", "ListBuckets")
    return {"buckets": out.get("Buckets", [])}


async def list_objects(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    out = await api.call(
        "s3", "ListObjectsV2", Bucket=name, Prefix=params.text("prefix", ""), Delimiter="/",
        MaxKeys=params.number("limit", 200, 1, 1000), ContinuationToken=params.text("token"),
    )  # fmt: skip
    objects = [
        {
            "key": o["Key"],
            "size": o.get("Size"),
            "lastModified": o.get("LastModified"),
            "etag": o.get("ETag"),
        }
        for o in out.get("Contents", [])
    ]
    return {
        "bucket": name,
        "prefix": params.text("prefix", ""),
        "folders": [p["Prefix"] for p in out.get("CommonPrefixes", [])],
        "objects": objects,
        "next": out.get("NextContinuationToken"),
    }


async def upload(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    key = params.text("key", required=True)
    body = await request.read(MAX_BODY)
    content_type = request.headers.get("content-type") or "application/octet-stream"
    out = await api.call("s3", "PutObject", Bucket=name, Key=key, Body=body,
                         ContentType=content_type)  # fmt: skip
    return {"bucket": name, "key": key, "size": len(body), "etag": out.get("ETag")}


async def download(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    key = params.text("key", required=True)
    assert key is not None
    out = await api.call("s3", "GetObject", Bucket=name, Key=key)
    filename = key.rsplit("/", 1)[-1] or "download"
    # RFC 6266: an ASCII fallback plus the exact UTF-8 name.
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)  # fmt: skip
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    headers = [
        ("content-type", out.get("ContentType") or "application/octet-stream"),
        ("content-disposition", disposition),
        ("content-length", str(out.get("ContentLength", 0))),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ]
    return HttpResponse(200, headers, out.get("Body") or b"")


def register(api: ConsoleApi) -> None:
    api.add("GET", "tables", list_tables)
    api.add("GET", "tables/{name}", table_detail)
    api.add("GET", "tables/{name}/items", scan)
    api.add("GET", "tables/{name}/query", query)
    api.add("GET", "buckets", list_buckets)
    api.add("GET", "buckets/{name}/objects", list_objects)
    api.add("PUT", "buckets/{name}/objects", upload)
    api.add("GET", "buckets/{name}/download", download)
