"""The IAM engine against a real SQLite file: entities, error codes, credentials, caching."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimbus.aws.context import Principal
from nimbus.aws.errors import AwsError
from nimbus.services.iam.engine import IamEngine

ACCT = "000000000000"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCT}:table/T"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_GET = doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[IamEngine]:
    e = IamEngine(tmp_path, ACCT)
    yield e
    e.close()


def code_of(fn: Any, *args: Any) -> tuple[str, int]:
    with pytest.raises(AwsError) as err:
        fn(*args)
    return err.value.code, err.value.status


def test_user_lifecycle_and_error_codes(engine: IamEngine) -> None:
    user = engine.create_user("alice", "/team/")
    assert user["Arn"] == f"arn:aws:iam::{ACCT}:user/team/alice"
    assert user["UserId"].startswith("AIDA")
    # Names are unique regardless of case, as in IAM.
    assert code_of(engine.create_user, "ALICE") == ("EntityAlreadyExists", 409)
    assert code_of(engine.get_user, "bob") == ("NoSuchEntity", 404)
    assert code_of(engine.create_user, "bad name!") == ("ValidationError", 400)
    assert code_of(engine.create_user, "x", "no-slash") == ("ValidationError", 400)
    engine.create_access_key("alice")
    assert code_of(engine.delete_user, "alice") == ("DeleteConflict", 409)
    engine.update_user("alice", "alicia", None)
    assert [k["UserName"] for k in engine.list_access_keys("alicia")] == ["alicia"]
    for key in engine.list_access_keys("alicia"):
        engine.delete_access_key("alicia", key["AccessKeyId"])
    engine.delete_user("alicia")
    assert engine.list_users() == []


def test_access_keys_limit_status_and_principal(engine: IamEngine) -> None:
    engine.create_user("alice")
    key = engine.create_access_key("alice")
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    engine.create_access_key("alice")
    assert code_of(engine.create_access_key, "alice") == ("LimitExceeded", 409)
    principal = engine.resolve_principal(key["AccessKeyId"])
    assert principal is not None and not principal.admin
    assert (principal.kind, principal.name) == ("user", "alice")
    assert principal.arn == f"arn:aws:iam::{ACCT}:user/alice"
    assert engine.secret_for_access_key(key["AccessKeyId"]) == key["SecretAccessKey"]
    assert engine.resolve_principal("test") is None
    assert engine.resolve_principal("AKIAUNKNOWN000000000") is None
    engine.update_access_key("alice", key["AccessKeyId"], "Inactive")
    assert code_of(engine.resolve_principal, key["AccessKeyId"]) == ("InvalidClientTokenId", 403)
    assert code_of(engine.update_access_key, "alice", "AKIANOPE", "Active") == ("NoSuchEntity", 404)


def test_authorize_user_inline_and_cache_invalidation(engine: IamEngine) -> None:
    engine.create_user("alice")
    key = engine.create_access_key("alice")["AccessKeyId"]
    p = engine.resolve_principal(key)
    assert p is not None
    engine.put_inline("user", "alice", "get", ALLOW_GET)
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    msg = engine.authorize(p, "dynamodb:PutItem", [TABLE])
    assert msg == (
        f"User: arn:aws:iam::{ACCT}:user/alice is not authorized to perform: dynamodb:PutItem "
        f"on resource: {TABLE} because no identity-based policy allows the dynamodb:PutItem action"
    )
    # A write takes effect on the very next request (the cache is dropped).
    engine.put_inline(
        "user", "alice", "deny", doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    )
    assert "explicit deny" in (engine.authorize(p, "dynamodb:GetItem", [TABLE]) or "")
    engine.delete_inline("user", "alice", "deny")
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    # Every resource must be allowed.
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE, TABLE + "2"]) is not None


def test_admin_principals_skip_evaluation(engine: IamEngine) -> None:
    root = Principal(f"arn:aws:iam::{ACCT}:root", ACCT)
    assert engine.authorize(root, "iam:DeleteUser", ["*"]) is None


def test_groups_contribute_policies(engine: IamEngine) -> None:
    engine.create_user("alice")
    engine.create_group("readers")
    engine.put_inline("group", "readers", "get", ALLOW_GET)
    p = engine.resolve_principal(engine.create_access_key("alice")["AccessKeyId"])
    assert p is not None
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is not None
    engine.add_user_to_group("readers", "alice")
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    assert code_of(engine.delete_group, "readers") == ("DeleteConflict", 409)


def test_managed_policies_versions_and_attachments(engine: IamEngine) -> None:
    engine.create_user("alice")
    p = engine.resolve_principal(engine.create_access_key("alice")["AccessKeyId"])
    assert p is not None
    pol = engine.create_policy("get", ALLOW_GET, None, "desc", None)
    arn = pol["Arn"]
    assert arn == f"arn:aws:iam::{ACCT}:policy/get" and pol["DefaultVersionId"] == "v1"
    assert code_of(engine.create_policy, "get", ALLOW_GET, None, None, None)[0] == (
        "EntityAlreadyExists"
    )
    engine.attach("user", "alice", arn)
    assert engine.get_policy(arn)["AttachmentCount"] == 1
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    put = doc({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE})
    assert engine.create_policy_version(arn, put, True)["VersionId"] == "v2"
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is not None
    assert engine.authorize(p, "dynamodb:PutItem", [TABLE]) is None
    engine.set_default_policy_version(arn, "v1")
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    assert code_of(engine.delete_policy_version, arn, "v1") == ("DeleteConflict", 409)
    for _ in range(3):
        engine.create_policy_version(arn, put, False)
    assert code_of(engine.create_policy_version, arn, put, False) == ("LimitExceeded", 409)
    assert code_of(engine.delete_policy, arn) == ("DeleteConflict", 409)
    engine.detach("user", "alice", arn)
    assert code_of(engine.detach, "user", "alice", arn) == ("NoSuchEntity", 404)
    assert code_of(engine.attach, "user", "alice", f"arn:aws:iam::{ACCT}:policy/nope")[0] == (
        "NoSuchEntity"
    )


def test_aws_managed_policies_are_built_in_and_attachable(engine: IamEngine) -> None:
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert engine.get_policy(basic)["PolicyName"] == "AWSLambdaBasicExecutionRole"
    _, text, _ = engine.policy_document(basic)
    assert "logs:PutLogEvents" in text
    names = {p["PolicyName"] for p in engine.list_policies("AWS")}
    assert {"AdministratorAccess", "AmazonS3ReadOnlyAccess", "AmazonBedrockFullAccess"} <= names
    engine.create_role("fn", TRUST)
    engine.attach("role", "fn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    creds = engine.issue_role_credentials(f"arn:aws:iam::{ACCT}:role/fn", "s1")
    p = engine.resolve_principal(creds["AccessKeyId"])
    assert p is not None
    assert engine.authorize(p, "s3:GetObject", ["arn:aws:s3:::b/k"]) is None
    assert engine.authorize(p, "s3:PutObject", ["arn:aws:s3:::b/k"]) is not None
    assert code_of(engine.delete_policy, basic)[0] == "AccessDenied"


def test_roles_and_temporary_credentials(engine: IamEngine) -> None:
    role = engine.create_role("fn", TRUST, description="d")
    assert role["RoleId"].startswith("AROA")
    assert code_of(engine.create_role, "FN", TRUST) == ("EntityAlreadyExists", 409)
    assert code_of(engine.create_role, "r2", ALLOW_GET) == ("MalformedPolicyDocument", 400)
    engine.put_inline("role", "fn", "get", ALLOW_GET)
    assert code_of(engine.delete_role, "fn") == ("DeleteConflict", 409)
    creds = engine.issue_role_credentials(role["Arn"], "sess", 900)
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    p = engine.resolve_principal(creds["AccessKeyId"])
    assert p is not None
    assert p.arn == f"arn:aws:sts::{ACCT}:assumed-role/fn/sess"
    assert (p.kind, p.name, p.session_name, p.admin) == ("assumed-role", "fn", "sess", False)
    assert engine.authorize(p, "dynamodb:GetItem", [TABLE]) is None
    assert engine.authorize(p, "dynamodb:PutItem", [TABLE]) is not None
    assert engine.principal_id(p) == f"{role['RoleId']}:sess"
    assert code_of(engine.issue_role_credentials, role["Arn"], "sess", 7200) == (
        "ValidationError",
        400,
    )
    assert code_of(engine.issue_role_credentials, role["Arn"] + "x", "sess")[0] == "NoSuchEntity"


def test_expired_temporary_credentials_are_refused(engine: IamEngine) -> None:
    role = engine.create_role("fn", TRUST)
    creds = engine.issue_role_credentials(role["Arn"], "sess", 900)
    engine.db.execute(
        "UPDATE sessions SET expiration = ? WHERE access_key = ?",
        (time.time() - 1, creds["AccessKeyId"]),
    )
    engine._invalidate()
    assert code_of(engine.resolve_principal, creds["AccessKeyId"]) == ("ExpiredToken", 403)


def test_credentials_survive_reopening_the_database(tmp_path: Path) -> None:
    first = IamEngine(tmp_path, ACCT)
    first.create_user("alice")
    key = first.create_access_key("alice")
    role = first.create_role("fn", TRUST)
    creds = first.issue_role_credentials(role["Arn"], "s1")
    first.close()
    again = IamEngine(tmp_path, ACCT)
    assert again.secret_for_access_key(key["AccessKeyId"]) == key["SecretAccessKey"]
    assert again.secret_for_access_key(creds["AccessKeyId"]) == creds["SecretAccessKey"]
    p = again.resolve_principal(creds["AccessKeyId"])
    assert p is not None and p.kind == "assumed-role"
    again.close()


def test_trust_policy_decides_who_may_assume(engine: IamEngine) -> None:
    engine.create_user("alice")
    engine.create_user("bob")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/alice"},
                "Action": "sts:AssumeRole",
            },
        }
    )
    role = engine.create_role("r", trust)
    alice = Principal(
        f"arn:aws:iam::{ACCT}:user/alice", ACCT, admin=False, kind="user", name="alice"
    )
    bob = Principal(f"arn:aws:iam::{ACCT}:user/bob", ACCT, admin=False, kind="user", name="bob")
    assert engine.trust_allows(role["Arn"], alice)
    assert not engine.trust_allows(role["Arn"], bob)
    engine.update_assume_role_policy("r", trust.replace("user/alice", "root"))
    assert engine.trust_allows(role["Arn"], bob)


def test_policy_size_quota(engine: IamEngine) -> None:
    engine.create_user("alice")
    big = doc(*[{"Effect": "Allow", "Action": f"s3:Get{i}", "Resource": "*"} for i in range(80)])
    assert code_of(engine.put_inline, "user", "alice", "big", big) == ("LimitExceeded", 409)
