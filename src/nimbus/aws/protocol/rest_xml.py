"""The ``rest-xml`` protocol (S3): REST routing, header/URI members and XML payloads."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import rest, xml
from nimbus.aws.protocol.validate import validate

# Root element names AWS uses for S3 outputs whose model does not name them.
_ROOTS = {
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "ListPartsOutput": "ListPartsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetObjectTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetObjectAclOutput": "AccessControlPolicy",
    "NotificationConfiguration": "NotificationConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketEncryptionOutput": "ServerSideEncryptionConfiguration",
}
_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


class RestXmlProtocol(rest.RestRouting):
    name = "rest-xml"

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        params = rest.bind_request(op, request, found)
        shape = op.input_shape
        if shape is None:
            return params
        if request.body.decoded_length is not None and "ContentLength" in shape.members:
            params["ContentLength"] = request.body.decoded_length
        encoding = params.get("ContentEncoding")
        if isinstance(encoding, str) and "aws-chunked" in encoding:
            rest_encodings = [e for e in encoding.split(",") if e.strip() != "aws-chunked"]
            if rest_encodings:
                params["ContentEncoding"] = ",".join(e.strip() for e in rest_encodings)
            else:
                del params["ContentEncoding"]
        payload = rest.payload_member(shape)
        if payload is not None:
            member = shape.members[payload]
            if (member.type_name == "blob" and member.serialization.get("streaming")) or (
                member.metadata.get("streaming")
            ):
                params[payload] = request.body
            elif member.type_name == "structure":
                body = await request.read()
                if body.strip():
                    root = xml.parse_document(body)
                    params[payload] = xml.decode_members(member, root)
            else:
                body = await request.read()
                if body:
                    params[payload] = body if member.type_name == "blob" else _text(body)
        else:
            members = rest.body_members(shape)
            if members:
                body = await request.read()
                if body.strip():
                    params.update(xml.decode_members(shape, xml.parse_document(body)))
        validate(shape, params, "InvalidArgument")
        return params

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        status, headers = rest.bind_response(op, output)
        headers.append(("x-amz-request-id", ctx.request_id))
        headers.extend(ctx.response_headers.items())
        shape = op.output_shape
        body: Any = b""
        if shape is not None:
            payload = rest.payload_member(shape)
            if payload is not None:
                member = shape.members[payload]
                value = output.get(payload)
                if value is None:
                    body = b""
                elif member.type_name == "structure":
                    name = member.serialization.get("name") or _ROOTS.get(member.name, payload)
                    out = [_DECL]
                    xml.encode(member, value, name, out)
                    out[1] = out[1].replace(f"<{name}>", f'<{name} xmlns="{_XMLNS}">', 1)
                    body = "".join(out).encode()
                    headers.append(("content-type", "application/xml"))
                elif isinstance(value, str):
                    body = value.encode()
                else:
                    body = value
            elif shape.name == "GetBucketLocationOutput":
                location = output.get("LocationConstraint") or ""
                root = f'<LocationConstraint xmlns="{_XMLNS}">{location}</LocationConstraint>'
                body = (_DECL + root).encode()
                headers.append(("content-type", "application/xml"))
            elif any(output.get(n) is not None for n in rest.body_members(shape)):
                root = _ROOTS.get(shape.name) or shape.name.removesuffix("Output") + "Result"
                out = [_DECL, f'<{root} xmlns="{_XMLNS}">']
                xml.encode_members(shape, output, out, "iso8601")
                out.append(f"</{root}>")
                body = "".join(out).encode()
                headers.append(("content-type", "application/xml"))
        return HttpResponse(ctx.status or status or 200, headers, body)

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        out = [_DECL, f"<Error><Code>{xml._escape(err.code)}</Code>"]
        out.append(f"<Message>{xml._escape(err.message)}</Message>")
        for key, value in err.extra.items():
            out.append(f"<{key}>{xml._escape(str(value))}</{key}>")
        out.append(f"<RequestId>{request_id}</RequestId></Error>")
        headers = [("content-type", "application/xml"), ("x-amz-request-id", request_id)]
        headers.extend(err.headers.items())
        return HttpResponse(err.status, headers, "".join(out).encode())


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise AwsError("InvalidArgument", "The request body is not valid UTF-8.", 400) from None
