"""WebSocket APIs through boto3: what the control plane accepts, refuses and answers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

FN = "arn:aws:lambda:us-east-1:000000000000:function:nothing"


def _code(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def v2(aws: Any) -> Any:
    return aws("apigatewayv2")


@pytest.fixture
def ws_api(v2: Any) -> str:
    api = v2.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    return api["ApiId"]


def test_create_websocket_api(v2: Any, nimbus: Any) -> None:
    api = v2.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="${request.body.action}"
    )
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "${request.body.action}"
    # wss://{id}.execute-api.{region}.amazonaws.com is served locally over ws://
    host = nimbus.endpoint.split("://", 1)[1]
    assert api["ApiEndpoint"] == f"ws://{host}/_api/{api['ApiId']}"
    assert v2.get_api(ApiId=api["ApiId"])["ApiEndpoint"] == api["ApiEndpoint"]


def test_routes_integrations_stage_deployment(v2: Any, ws_api: str) -> None:
    integration = v2.create_integration(
        ApiId=ws_api, IntegrationType="AWS_PROXY", IntegrationUri=FN
    )
    assert integration["TimeoutInMillis"] == 29000
    assert integration["IntegrationMethod"] == "POST"
    target = f"integrations/{integration['IntegrationId']}"
    keys = ["$connect", "$disconnect", "$default", "sendmessage"]
    for key in keys:
        v2.create_route(ApiId=ws_api, RouteKey=key, Target=target)
    assert sorted(r["RouteKey"] for r in v2.get_routes(ApiId=ws_api)["Items"]) == sorted(keys)

    deployment = v2.create_deployment(ApiId=ws_api)
    stage = v2.create_stage(ApiId=ws_api, StageName="prod", DeploymentId=deployment["DeploymentId"])
    assert stage["DeploymentId"] == deployment["DeploymentId"]
    assert v2.get_deployments(ApiId=ws_api)["Items"][0]["DeploymentStatus"] == "DEPLOYED"


def test_route_and_integration_responses(v2: Any, ws_api: str) -> None:
    integration = v2.create_integration(
        ApiId=ws_api, IntegrationType="AWS_PROXY", IntegrationUri=FN
    )
    route = v2.create_route(
        ApiId=ws_api,
        RouteKey="ask",
        Target=f"integrations/{integration['IntegrationId']}",
        RouteResponseSelectionExpression="$default",
    )
    assert route["RouteResponseSelectionExpression"] == "$default"
    made = v2.create_route_response(
        ApiId=ws_api, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    listed = v2.get_route_responses(ApiId=ws_api, RouteId=route["RouteId"])["Items"]
    assert [r["RouteResponseId"] for r in listed] == [made["RouteResponseId"]]
    got = v2.get_route_response(
        ApiId=ws_api, RouteId=route["RouteId"], RouteResponseId=made["RouteResponseId"]
    )
    assert got["RouteResponseKey"] == "$default"
    with pytest.raises(ClientError) as info:
        v2.create_route_response(
            ApiId=ws_api, RouteId=route["RouteId"], RouteResponseKey="$default"
        )
    assert _code(info) == ("ConflictException", 409)

    ir = v2.create_integration_response(
        ApiId=ws_api,
        IntegrationId=integration["IntegrationId"],
        IntegrationResponseKey="$default",
    )
    items = v2.get_integration_responses(ApiId=ws_api, IntegrationId=integration["IntegrationId"])
    assert [i["IntegrationResponseId"] for i in items["Items"]] == [ir["IntegrationResponseId"]]

    v2.delete_route_response(
        ApiId=ws_api, RouteId=route["RouteId"], RouteResponseId=made["RouteResponseId"]
    )
    assert v2.get_route_responses(ApiId=ws_api, RouteId=route["RouteId"])["Items"] == []


def test_request_authorizer(v2: Any, ws_api: str) -> None:
    authorizer = v2.create_authorizer(
        ApiId=ws_api,
        AuthorizerType="REQUEST",
        AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations",
        IdentitySource=["route.request.querystring.token", "route.request.header.Auth"],
        Name="auth",
    )
    route = v2.create_route(
        ApiId=ws_api,
        RouteKey="$connect",
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    assert route["AuthorizationType"] == "CUSTOM"


def test_bad_requests(v2: Any, ws_api: str) -> None:
    integration = v2.create_integration(
        ApiId=ws_api, IntegrationType="AWS_PROXY", IntegrationUri=FN
    )["IntegrationId"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations"
    cases = [
        lambda: v2.create_api(Name="w", ProtocolType="WEBSOCKET"),
        lambda: v2.create_api(Name="w", ProtocolType="WEBSOCKET", RouteSelectionExpression="x"),
        lambda: v2.create_route(ApiId=ws_api, RouteKey="$bogus"),
        lambda: v2.create_route(ApiId=ws_api, RouteKey="send", AuthorizationType="AWS_IAM"),
        lambda: v2.create_integration(
            ApiId=ws_api, IntegrationType="AWS_PROXY", IntegrationUri=FN, TimeoutInMillis=30000
        ),
        lambda: v2.create_integration(
            ApiId=ws_api,
            IntegrationType="AWS_PROXY",
            IntegrationUri=FN,
            PayloadFormatVersion="2.0",
        ),
        lambda: v2.create_authorizer(
            ApiId=ws_api,
            AuthorizerType="JWT",
            IdentitySource=["route.request.header.Auth"],
            JwtConfiguration={"Issuer": "https://issuer"},
            Name="jwt",
        ),
        lambda: v2.create_authorizer(
            ApiId=ws_api,
            AuthorizerType="REQUEST",
            AuthorizerUri=uri,
            IdentitySource=["$request.header.Auth"],
            Name="http-style",
        ),
        lambda: v2.create_route_response(
            ApiId=ws_api,
            RouteId=v2.create_route(
                ApiId=ws_api, RouteKey="r", Target=f"integrations/{integration}"
            )["RouteId"],
            RouteResponseKey="",
        ),
    ]
    for call in cases:
        with pytest.raises(ClientError) as info:
            call()
        assert _code(info) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as info:
        v2.get_route_responses(ApiId=ws_api, RouteId="nope123")
    assert _code(info) == ("NotFoundException", 404)
