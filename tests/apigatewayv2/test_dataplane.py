"""Data-plane behaviour: 404s, errors, timeouts, throttling, CORS, authorizers."""

from __future__ import annotations

import time

from nimbus.services.apigatewayv2.dataplane import DataPlane, lambda_target
from nimbus.services.apigatewayv2.jwt import SECRET_TAG, sign_hs256

from .conftest import FN_ARN, body_json, header, request, send

ISSUER = "https://issuer.example.com"


def test_not_found_shapes(plane, http_api):
    api_id = http_api("GET /a")["ApiId"]
    for path in (f"/_api/{api_id}/b", "/_api/nosuchapi1/a", f"/_api/{api_id}/"):
        reply = send(plane, request("GET", path))
        assert (reply.status, body_json(reply)) == (404, {"message": "Not Found"}), path


def test_function_error_is_500(plane, fake, http_api):
    api_id = http_api("GET /a")["ApiId"]
    fake.error = "Unhandled"
    reply = send(plane, request("GET", f"/_api/{api_id}/a"))
    assert (reply.status, body_json(reply)) == (500, {"message": "Internal Server Error"})


def test_an_event_over_the_lambda_payload_limit_is_413(plane, fake, http_api):
    from nimbus.services.lambda_.provider import SYNC_PAYLOAD_LIMIT, too_large

    def refuse(event):
        raise too_large(SYNC_PAYLOAD_LIMIT + 1, SYNC_PAYLOAD_LIMIT)

    api_id = http_api("POST /a")["ApiId"]
    fake.answer = refuse
    reply = send(plane, request("POST", f"/_api/{api_id}/a", body=b"x"))
    assert (reply.status, body_json(reply)) == (413, {"message": "Request Entity Too Large"})


def test_integration_timeout_is_503(apigw, plane, fake, http_api):
    api = http_api("GET /slow")
    apigw(
        "update_integration",
        ApiId=api["ApiId"],
        IntegrationId=api["IntegrationId"],
        TimeoutInMillis=50,
    )
    fake.delay = 2.0
    reply = send(plane, request("GET", f"/_api/{api['ApiId']}/slow"))
    assert (reply.status, body_json(reply)) == (503, {"message": "Service Unavailable"})


def test_no_lambda_service_is_500(apigw, http_api):
    api_id = http_api("GET /a")["ApiId"]
    plane = DataPlane(apigw.provider.store, "000000000000", lambda: None)
    assert send(plane, request("GET", f"/_api/{api_id}/a")).status == 500


def test_integration_uri_forms():
    fn = "arn:aws:lambda:us-east-1:000000000000:function:hello"
    assert lambda_target(fn) == (fn, None)
    wrapped = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations"
    assert lambda_target(wrapped) == (fn, None)
    assert lambda_target(fn + ":live") == (fn, "live")
    assert lambda_target("hello") == ("hello", None)


def test_config_writes_invalidate_the_cache(apigw, plane, fake, http_api):
    api = http_api("GET /a")
    assert send(plane, request("GET", f"/_api/{api['ApiId']}/a")).status == 200
    apigw("update_route", ApiId=api["ApiId"], RouteId=api["routes"]["GET /a"], RouteKey="GET /b")
    assert send(plane, request("GET", f"/_api/{api['ApiId']}/a")).status == 404
    assert send(plane, request("GET", f"/_api/{api['ApiId']}/b")).status == 200


# -- throttling -------------------------------------------------------------------------------
def test_route_throttling_token_bucket(apigw, plane, http_api):
    api = http_api("GET /limited", "GET /free")
    api_id = api["ApiId"]
    # Rate 0.001/s: the bucket does not refill within the test, however slow the machine.
    apigw(
        "update_stage",
        ApiId=api_id,
        StageName="$default",
        RouteSettings={"GET /limited": {"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 0.001}},
    )
    statuses = [send(plane, request("GET", f"/_api/{api_id}/limited")).status for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    reply = send(plane, request("GET", f"/_api/{api_id}/limited"))
    assert body_json(reply) == {"message": "Too Many Requests"}
    assert all(send(plane, request("GET", f"/_api/{api_id}/free")).status == 200 for _ in range(5))


def test_default_route_settings_throttle_every_route(apigw, plane, http_api):
    api_id = http_api("GET /x")["ApiId"]
    apigw(
        "update_stage",
        ApiId=api_id,
        StageName="$default",
        DefaultRouteSettings={"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.001},
    )
    assert send(plane, request("GET", f"/_api/{api_id}/x")).status == 200
    assert send(plane, request("GET", f"/_api/{api_id}/x")).status == 429


def test_token_bucket_refills():
    from nimbus.services.apigatewayv2.throttle import TokenBucket

    bucket = TokenBucket(burst=2, rate=10, tokens=2, stamp=100.0)
    assert bucket.take(100.0) and bucket.take(100.0) and not bucket.take(100.0)
    assert bucket.take(100.15)  # 0.15 s * 10/s = one and a half tokens
    assert not bucket.take(100.15)


# -- CORS -------------------------------------------------------------------------------------
CORS = {
    "AllowOrigins": ["https://app.example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["content-type", "authorization"],
    "ExposeHeaders": ["x-total"],
    "MaxAge": 300,
    "AllowCredentials": True,
}


def test_cors_preflight_answered_from_configuration(plane, fake, http_api):
    api_id = http_api("POST /items", CorsConfiguration=CORS)["ApiId"]
    headers = {
        "origin": "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "Content-Type",
    }
    reply = send(plane, request("OPTIONS", f"/_api/{api_id}/items", headers=headers))
    assert reply.status == 204
    assert header(reply, "access-control-allow-origin") == "https://app.example.com"
    assert header(reply, "access-control-allow-methods") == "GET,POST"
    assert header(reply, "access-control-allow-headers") == "content-type,authorization"
    assert header(reply, "access-control-max-age") == "300"
    assert header(reply, "access-control-allow-credentials") == "true"
    assert not fake.calls  # no function runs for a preflight
    bad = dict(headers, origin="https://evil.example.com")
    reply = send(plane, request("OPTIONS", f"/_api/{api_id}/items", headers=bad))
    assert reply.status == 204 and header(reply, "access-control-allow-origin") is None


def test_cors_headers_on_responses(plane, fake, http_api):
    api_id = http_api("GET /items", CorsConfiguration=CORS)["ApiId"]
    fake.answer = lambda e: {"statusCode": 200, "headers": {"access-control-allow-origin": "x"}}
    headers = {"origin": "https://app.example.com"}
    reply = send(plane, request("GET", f"/_api/{api_id}/items", headers=headers))
    assert [v for k, v in reply.headers if k == "access-control-allow-origin"] == [
        "https://app.example.com"
    ]
    assert header(reply, "access-control-expose-headers") == "x-total"


# -- JWT --------------------------------------------------------------------------------------
def _jwt_api(apigw, http_api, scopes=None, secret=None):
    tags = {SECRET_TAG: secret} if secret else {}
    api = http_api("GET /me", Tags=tags)
    auth = apigw(
        "create_authorizer",
        ApiId=api["ApiId"],
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": ISSUER, "Audience": ["my-app"]},
    )
    extra = {"AuthorizationScopes": scopes} if scopes else {}
    apigw(
        "update_route",
        ApiId=api["ApiId"],
        RouteId=api["routes"]["GET /me"],
        AuthorizationType="JWT",
        AuthorizerId=auth["AuthorizerId"],
        **extra,
    )
    return api["ApiId"]


def _claims(**over):
    return {"iss": ISSUER, "aud": "my-app", "sub": "u1", "exp": int(time.time()) + 600, **over}


def test_jwt_authorizer(apigw, plane, fake, http_api):
    api_id = _jwt_api(apigw, http_api)
    path = f"/_api/{api_id}/me"
    assert send(plane, request("GET", path)).status == 401
    good = sign_hs256(_claims(), "any")  # signature not verified without the secret tag
    reply = send(plane, request("GET", path, headers={"authorization": f"Bearer {good}"}))
    assert reply.status == 200
    claims = fake.event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "u1" and claims["iss"] == ISSUER
    for bad in (_claims(iss="https://other"), _claims(aud="x"), _claims(exp=int(time.time()) - 5)):
        token = sign_hs256(bad, "any")
        reply = send(plane, request("GET", path, headers={"authorization": f"Bearer {token}"}))
        assert (reply.status, body_json(reply)) == (401, {"message": "Unauthorized"})
    reply = send(plane, request("GET", path, headers={"authorization": "Bearer not-a-jwt"}))
    assert reply.status == 401


def test_jwt_scopes(apigw, plane, http_api):
    api_id = _jwt_api(apigw, http_api, scopes=["read:me"])
    path = f"/_api/{api_id}/me"
    token = sign_hs256(_claims(scope="openid read:me"), "s")
    assert send(plane, request("GET", path, headers={"authorization": token})).status == 200
    token = sign_hs256(_claims(scope="openid"), "s")
    assert send(plane, request("GET", path, headers={"authorization": token})).status == 403


def test_jwt_hs256_secret_extension(apigw, plane, http_api):
    api_id = _jwt_api(apigw, http_api, secret="s3cret")
    path = f"/_api/{api_id}/me"
    good = sign_hs256(_claims(), "s3cret")
    forged = sign_hs256(_claims(), "guess")
    assert send(plane, request("GET", path, headers={"authorization": good})).status == 200
    assert send(plane, request("GET", path, headers={"authorization": forged})).status == 401


# -- Lambda authorizer ------------------------------------------------------------------------
def _lambda_auth_api(apigw, http_api, **authorizer):
    api = http_api("GET /secret")
    uri = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
    )
    auth = apigw(
        "create_authorizer",
        ApiId=api["ApiId"],
        AuthorizerType="REQUEST",
        Name="a",
        AuthorizerUri=uri,
        IdentitySource=["$request.header.x-key"],
        AuthorizerPayloadFormatVersion="2.0",
        **authorizer,
    )
    apigw(
        "update_route",
        ApiId=api["ApiId"],
        RouteId=api["routes"]["GET /secret"],
        AuthorizationType="CUSTOM",
        AuthorizerId=auth["AuthorizerId"],
    )
    return api["ApiId"]


def test_lambda_authorizer_simple_responses(apigw, plane, fake, http_api):
    api_id = _lambda_auth_api(apigw, http_api, EnableSimpleResponses=True)
    fake.answers["auth"] = lambda e: {
        "isAuthorized": e["headers"].get("x-key") == "open",
        "context": {"user": "ann", "n": 1},
    }
    path = f"/_api/{api_id}/secret"
    assert send(plane, request("GET", path)).status == 401  # identity source missing
    reply = send(plane, request("GET", path, headers={"x-key": "wrong"}))
    assert (reply.status, body_json(reply)) == (403, {"message": "Forbidden"})
    auth_event = fake.calls[-1][2]
    assert auth_event["type"] == "REQUEST" and auth_event["identitySource"] == ["wrong"]
    assert auth_event["routeArn"].endswith(f"{api_id}/$default/GET/secret")
    assert send(plane, request("GET", path, headers={"x-key": "open"})).status == 200
    assert fake.calls[-1][0] == FN_ARN
    authorizer = fake.event["requestContext"]["authorizer"]
    assert authorizer == {"lambda": {"user": "ann", "n": 1}}


def test_lambda_authorizer_iam_policy_responses(apigw, plane, fake, http_api):
    api_id = _lambda_auth_api(apigw, http_api)

    def policy(event):
        effect = "Allow" if event["headers"].get("x-key") == "open" else "Deny"
        statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": "*"}
        return {
            "principalId": "p1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"k": "v"},
        }

    fake.answers["auth"] = policy
    path = f"/_api/{api_id}/secret"
    assert send(plane, request("GET", path, headers={"x-key": "no"})).status == 403
    assert send(plane, request("GET", path, headers={"x-key": "open"})).status == 200
    assert fake.event["requestContext"]["authorizer"]["lambda"] == {"k": "v"}
