"""The HTTP API control plane through boto3 against a live server."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

FN = "arn:aws:lambda:us-east-1:000000000000:function:nothing"


@pytest.fixture
def v2(aws):
    return aws("apigatewayv2")


def _code(info: pytest.ExceptionInfo) -> tuple[str, int]:
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_api_lifecycle(v2, nimbus):
    api = v2.create_api(
        Name="shop",
        ProtocolType="HTTP",
        Description="d",
        Tags={"t": "1"},
        CorsConfiguration={"AllowOrigins": ["*"], "MaxAge": 60},
    )
    api_id = api["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert api["ApiEndpoint"] == f"{nimbus.endpoint}/_api/{api_id}"
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    assert api["CorsConfiguration"] == {"AllowOrigins": ["*"], "MaxAge": 60}
    got = v2.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"], got["Tags"]) == ("shop", "d", {"t": "1"})
    assert api_id in [a["ApiId"] for a in v2.get_apis()["Items"]]
    updated = v2.update_api(ApiId=api_id, Name="shop2")
    assert updated["Name"] == "shop2" and updated["Description"] == "d"
    v2.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in v2.get_api(ApiId=api_id)
    v2.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as info:
        v2.get_api(ApiId=api_id)
    assert _code(info) == ("NotFoundException", 404)


def test_routes_integrations_stages(v2):
    api_id = v2.create_api(Name="r", ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FN, PayloadFormatVersion="2.0"
    )
    assert integ["TimeoutInMillis"] == 30000 and integ["IntegrationMethod"] == "POST"
    route = v2.create_route(
        ApiId=api_id, RouteKey="GET /items/{id}", Target=f"integrations/{integ['IntegrationId']}"
    )
    assert route["AuthorizationType"] == "NONE"
    assert v2.get_route(ApiId=api_id, RouteId=route["RouteId"])["RouteKey"] == "GET /items/{id}"
    v2.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}")
    keys = sorted(r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"])
    assert keys == ["ANY /{proxy+}", "GET /items/{id}"]
    page = v2.get_routes(ApiId=api_id, MaxResults="1")
    assert len(page["Items"]) == 1 and page["NextToken"]
    rest = v2.get_routes(ApiId=api_id, MaxResults="1", NextToken=page["NextToken"])
    assert len(rest["Items"]) == 1 and "NextToken" not in rest
    stage = v2.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        DefaultRouteSettings={"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 2.0},
    )
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 5
    stage = v2.update_stage(
        ApiId=api_id,
        StageName="$default",
        RouteSettings={"GET /items/{id}": {"ThrottlingBurstLimit": 1}},
    )
    assert stage["RouteSettings"]["GET /items/{id}"]["ThrottlingBurstLimit"] == 1
    v2.delete_route_settings(ApiId=api_id, StageName="$default", RouteKey="GET /items/{id}")
    assert v2.get_stage(ApiId=api_id, StageName="$default")["RouteSettings"] == {}
    v2.update_integration(
        ApiId=api_id,
        IntegrationId=integ["IntegrationId"],
        PayloadFormatVersion="1.0",
        TimeoutInMillis=5000,
    )
    got = v2.get_integration(ApiId=api_id, IntegrationId=integ["IntegrationId"])
    assert (got["PayloadFormatVersion"], got["TimeoutInMillis"]) == ("1.0", 5000)
    deployment = v2.create_deployment(ApiId=api_id, StageName="$default")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert (
        v2.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
        == (deployment["DeploymentId"])
    )
    v2.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    v2.delete_stage(ApiId=api_id, StageName="$default")
    assert v2.get_stages(ApiId=api_id)["Items"] == []


def test_error_codes(v2):
    api_id = v2.create_api(Name="e", ProtocolType="HTTP")["ApiId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /a")
    v2.create_stage(ApiId=api_id, StageName="dev")
    cases = [
        (lambda: v2.create_route(ApiId=api_id, RouteKey="GET /a"), ("ConflictException", 409)),
        (lambda: v2.create_stage(ApiId=api_id, StageName="dev"), ("ConflictException", 409)),
        (lambda: v2.create_route(ApiId=api_id, RouteKey="FETCH /a"), ("BadRequestException", 400)),
        (
            lambda: v2.create_route(ApiId=api_id, RouteKey="GET /b", Target="integrations/nope"),
            ("BadRequestException", 400),
        ),
        (
            lambda: v2.create_route(ApiId=api_id, RouteKey="GET /c", AuthorizationType="JWT"),
            ("BadRequestException", 400),
        ),
        (
            lambda: v2.create_integration(
                ApiId=api_id,
                IntegrationType="AWS_PROXY",
                IntegrationUri=FN,
                PayloadFormatVersion="3.0",
            ),
            ("BadRequestException", 400),
        ),
        (
            lambda: v2.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FN, TimeoutInMillis=40000
            ),
            ("BadRequestException", 400),
        ),
        (
            lambda: v2.create_api(Name="w", ProtocolType="WEBSOCKET"),
            ("BadRequestException", 400),
        ),
        (lambda: v2.get_route(ApiId=api_id, RouteId="nope123"), ("NotFoundException", 404)),
        (lambda: v2.get_stage(ApiId=api_id, StageName="prod"), ("NotFoundException", 404)),
        (lambda: v2.get_routes(ApiId="nonexisten"), ("NotFoundException", 404)),
        (
            lambda: v2.delete_integration(ApiId=api_id, IntegrationId="x"),
            ("NotFoundException", 404),
        ),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as info:
            call()
        assert _code(info) == expected


def test_quick_create(v2):
    api = v2.create_api(Name="q", ProtocolType="HTTP", Target=FN)
    routes = v2.get_routes(ApiId=api["ApiId"])["Items"]
    assert [r["RouteKey"] for r in routes] == ["$default"]
    integ = v2.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert (integ["IntegrationUri"], integ["PayloadFormatVersion"]) == (FN, "2.0")
    assert routes[0]["Target"] == f"integrations/{integ['IntegrationId']}"
    stage = v2.get_stages(ApiId=api["ApiId"])["Items"][0]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)


def test_authorizers(v2):
    api_id = v2.create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    jwt = v2.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="j",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://i", "Audience": ["a"]},
    )
    assert jwt["JwtConfiguration"] == {"Issuer": "https://i", "Audience": ["a"]}
    route = v2.create_route(
        ApiId=api_id,
        RouteKey="GET /me",
        AuthorizationType="JWT",
        AuthorizerId=jwt["AuthorizerId"],
        AuthorizationScopes=["r"],
    )
    assert route["AuthorizerId"] == jwt["AuthorizerId"]
    lam = v2.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        Name="l",
        AuthorizerUri=FN,
        IdentitySource=["$request.header.x"],
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
    )
    assert lam["EnableSimpleResponses"] is True
    assert len(v2.get_authorizers(ApiId=api_id)["Items"]) == 2
    with pytest.raises(ClientError) as info:
        v2.create_authorizer(
            ApiId=api_id,
            AuthorizerType="REQUEST",
            Name="bad",
            AuthorizerUri=FN,
            IdentitySource=["$request.header.x"],
            AuthorizerPayloadFormatVersion="1.0",
            EnableSimpleResponses=True,
        )
    assert _code(info) == ("BadRequestException", 400)


def test_tags(v2):
    api_id = v2.create_api(Name="t", ProtocolType="HTTP")["ApiId"]
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    v2.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    v2.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}


SAM_OPENAPI = {
    "openapi": "3.0.1",
    "info": {"title": "sam-app", "version": "1.0"},
    "x-amazon-apigateway-cors": {"allowOrigins": ["*"], "allowMethods": ["GET", "POST"]},
    "paths": {
        "/predict": {
            "post": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                    f"{FN}/invocations",
                    "payloadFormatVersion": "2.0",
                },
                "security": [{"Auth": ["read"]}],
                "responses": {},
            }
        },
        "/items/{id}": {
            "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": FN,
                    "payloadFormatVersion": "1.0",
                },
                "responses": {},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "Auth": {
                "type": "oauth2",
                "x-amazon-apigateway-authorizer": {
                    "type": "jwt",
                    "identitySource": "$request.header.Authorization",
                    "jwtConfiguration": {"issuer": "https://i", "audience": ["app"]},
                },
            }
        }
    },
}


def test_import_and_reimport_openapi(v2):
    api = v2.import_api(Body=json.dumps(SAM_OPENAPI))
    api_id = api["ApiId"]
    assert api["Name"] == "sam-app"
    assert api["CorsConfiguration"] == {"AllowOrigins": ["*"], "AllowMethods": ["GET", "POST"]}
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {"POST /predict", "ANY /items/{id}"}
    assert routes["POST /predict"]["AuthorizationType"] == "JWT"
    assert routes["POST /predict"]["AuthorizationScopes"] == ["read"]
    integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api_id)["Items"]}
    predict = integrations[routes["POST /predict"]["Target"].split("/")[1]]
    assert predict["PayloadFormatVersion"] == "2.0" and "/functions/" in predict["IntegrationUri"]
    (auth,) = v2.get_authorizers(ApiId=api_id)["Items"]
    assert auth["JwtConfiguration"] == {"Issuer": "https://i", "Audience": ["app"]}
    smaller = dict(SAM_OPENAPI, paths={"/predict": SAM_OPENAPI["paths"]["/predict"]})
    v2.reimport_api(ApiId=api_id, Body=json.dumps(smaller))
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]] == ["POST /predict"]
    with pytest.raises(ClientError) as info:
        v2.import_api(Body="{not json or: [yaml")
    assert _code(info) == ("BadRequestException", 400)


def test_state_survives_restart(fresh_nimbus):
    v2 = fresh_nimbus.client("apigatewayv2")
    api_id = v2.create_api(Name="durable", ProtocolType="HTTP", Target=FN)["ApiId"]
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    v2 = fresh_nimbus.client("apigatewayv2")
    assert v2.get_api(ApiId=api_id)["Name"] == "durable"
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]] == ["$default"]
