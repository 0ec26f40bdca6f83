"""Differential test: the same users, policies and boto3 calls on moto and on Nimbus must give
the same allow/deny outcomes and error codes.

moto enforces IAM when a test runs under ``set_initial_no_auth_action_count(0)``. Its evaluator
is simpler than AWS's in known ways, so the table only holds cases where moto follows AWS:
moto matches actions case-sensitively, has no ``?`` wildcard, ignores NotResource, and
authorizes most non-S3 calls against resource ``*`` (so resource-scoped cases use S3, where
moto builds real ARNs). Nimbus follows AWS in those cases; ``test_iam_policies.py`` covers them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

BUCKET = "diff-bucket"
Outcome = str  # "ok" or "<code> <status>"
Call = tuple[str, str, dict[str, Any]]  # (service, method, kwargs)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


OBJ = f"arn:aws:s3:::{BUCKET}"
GET_USER: Call = ("iam", "get_user", {"UserName": "{user}"})
LIST_USERS: Call = ("iam", "list_users", {})
LIST_ROLES: Call = ("iam", "list_roles", {})
GET_K: Call = ("s3", "get_object", {"Bucket": BUCKET, "Key": "k"})
GET_SECRET: Call = ("s3", "get_object", {"Bucket": BUCKET, "Key": "secret1"})
PUT_K: Call = ("s3", "put_object", {"Bucket": BUCKET, "Key": "k", "Body": b"new"})
LIST_OBJECTS: Call = ("s3", "list_objects_v2", {"Bucket": BUCKET})
WHOAMI: Call = ("sts", "get_caller_identity", {})

CASES: list[tuple[str, str, list[Call]]] = [
    ("get-user-only", doc(allow("iam:GetUser")), [GET_USER, LIST_USERS]),
    ("prefix-wildcard", doc(allow("iam:Get*")), [GET_USER, LIST_USERS, LIST_ROLES]),
    ("deny-wins", doc(allow("iam:*"), deny("iam:ListUsers")), [GET_USER, LIST_USERS, LIST_ROLES]),
    ("deny-first", doc(deny("iam:List*"), allow("*")), [GET_USER, LIST_USERS, LIST_ROLES]),
    (
        "not-action",
        doc({"Effect": "Allow", "NotAction": "iam:ListUsers", "Resource": "*"}),
        [GET_USER, LIST_USERS, LIST_ROLES],
    ),
    ("admin", doc(allow("*")), [GET_USER, LIST_USERS, GET_K, PUT_K]),
    ("nothing", doc(allow("dynamodb:GetItem")), [GET_USER, GET_K, PUT_K]),
    ("s3-one-object", doc(allow("s3:GetObject", f"{OBJ}/k")), [GET_K, GET_SECRET, PUT_K]),
    ("s3-objects", doc(allow("s3:*", f"{OBJ}/*")), [GET_K, PUT_K, LIST_OBJECTS]),
    ("s3-bucket", doc(allow("s3:ListBucket", OBJ)), [LIST_OBJECTS, GET_K]),
    (
        "s3-deny-prefix",
        doc(allow("s3:*", "*"), deny("s3:GetObject", f"{OBJ}/secret*")),
        [GET_K, GET_SECRET, PUT_K],
    ),
    ("whoami-under-deny", doc(deny("*")), [WHOAMI]),
]

BAD_DOCUMENTS = [
    "not json",
    '{"Version": "2012-10-17"}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "nope", '
    '"Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "a:b:c", '
    '"Resource": "*"}}',
    '{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", '
    '"Resource": "*"}, {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
]


def outcome(fn: Callable[[], Any]) -> Outcome:
    try:
        fn()
    except ClientError as e:
        return f"{e.response['Error']['Code']} {e.response['ResponseMetadata']['HTTPStatusCode']}"
    return "ok"


def run_scenario(make: Callable[..., Any], user: str, policy: str, calls: list[Call]) -> list[str]:
    """Set up as the admin, then make every call as the user; enforcement must be on by then."""
    admin_iam, admin_s3 = make("iam"), make("s3")
    with contextlib.suppress(ClientError):  # exists from an earlier case
        admin_s3.create_bucket(Bucket=BUCKET)
    admin_s3.put_object(Bucket=BUCKET, Key="k", Body=b"k")
    admin_s3.put_object(Bucket=BUCKET, Key="secret1", Body=b"s")
    admin_iam.create_user(UserName=user)
    admin_iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
    key = admin_iam.create_access_key(UserName=user)["AccessKey"]
    creds = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }

    def as_user() -> list[str]:
        results = []
        for service, method, kwargs in calls:
            args = {
                k: (v.format(user=user) if isinstance(v, str) else v) for k, v in kwargs.items()
            }
            call = getattr(make(service, **creds), method)
            results.append(f"{method}: {outcome(lambda c=call, a=args: c(**a))}")
        return results

    return as_user()


def moto_outcomes(user: str, policy: str, calls: list[Call]) -> list[str]:
    def make(service: str, **creds: Any) -> Any:
        creds.setdefault("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE")
        creds.setdefault("aws_secret_access_key", "admin")
        return boto3.client(service, region_name="us-east-1", **creds)

    with mock_aws():
        # Setup runs unauthenticated; the decorated part (the user's calls) is enforced.
        admin_iam, admin_s3 = make("iam"), make("s3")
        admin_s3.create_bucket(Bucket=BUCKET)
        admin_s3.put_object(Bucket=BUCKET, Key="k", Body=b"k")
        admin_s3.put_object(Bucket=BUCKET, Key="secret1", Body=b"s")
        admin_iam.create_user(UserName=user)
        admin_iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
        key = admin_iam.create_access_key(UserName=user)["AccessKey"]
        creds = {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

        @set_initial_no_auth_action_count(0)
        def as_user() -> list[str]:
            results = []
            for service, method, kwargs in calls:
                args = {
                    k: (v.format(user=user) if isinstance(v, str) else v) for k, v in kwargs.items()
                }
                client = make(service, **creds)
                call = getattr(client, method)
                results.append(f"{method}: {outcome(lambda c=call, a=args: c(**a))}")
            return results

        return as_user()


@pytest.mark.parametrize(("name", "policy", "calls"), CASES, ids=[c[0] for c in CASES])
def test_same_decisions_as_moto(aws: Any, name: str, policy: str, calls: list[Call]) -> None:
    user = f"diff-{name}"
    expected = moto_outcomes(user, policy, calls)
    if name == "nothing":  # guard: the oracle really enforces
        assert all(e.endswith("AccessDenied 403") for e in expected)
    got = run_scenario(aws, user, policy, calls)
    assert got == expected


@pytest.mark.parametrize("bad", BAD_DOCUMENTS)
def test_same_validation_errors_as_moto(aws: Any, bad: str) -> None:
    def attempt(iam: Any, user: str) -> str:
        return outcome(
            lambda: iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=bad)
        )

    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="v")
        expected = attempt(iam, "v")
    iam = aws("iam")
    user = f"valid-{abs(hash(bad)) % 10**8}"
    iam.create_user(UserName=user)
    assert attempt(iam, user) == expected == "MalformedPolicyDocument 400"
