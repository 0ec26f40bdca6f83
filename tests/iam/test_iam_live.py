"""IAM and STS through boto3 against a live Nimbus: operations, error codes, enforcement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCT = "000000000000"
Aws = Callable[..., Any]


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: dict[str, Any]) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def error_of(fn: Callable[..., Any], **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        fn(**kwargs)
    e = err.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


def user_with_policy(aws: Aws, policy: str) -> tuple[str, dict[str, str]]:
    """A new user with one inline policy; returns (name, boto3 credential kwargs)."""
    iam = aws("iam")
    name = uid("user")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


def test_user_crud_and_error_codes(aws: Aws) -> None:
    iam = aws("iam")
    name = uid("alice")
    user = iam.create_user(UserName=name, Path="/dev/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCT}:user/dev/{name}"
    assert iam.get_user(UserName=name)["User"]["UserId"] == user["UserId"]
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/dev/")["Users"]]
    assert error_of(iam.create_user, UserName=name)[:2] == ("EntityAlreadyExists", 409)
    assert error_of(iam.get_user, UserName=uid("nobody"))[:2] == ("NoSuchEntity", 404)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA")
    assert error_of(iam.delete_user, UserName=name)[:2] == ("DeleteConflict", 409)
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    meta = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [(m["AccessKeyId"], m["Status"]) for m in meta] == [(key["AccessKeyId"], "Inactive")]
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)
    assert error_of(iam.get_user, UserName=name)[0] == "NoSuchEntity"


def test_inline_policies_round_trip_as_documents(aws: Aws) -> None:
    iam = aws("iam")
    name = uid("bob")
    iam.create_user(UserName=name)
    policy = doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy)
    got = iam.get_user_policy(UserName=name, PolicyName="read")
    assert got["PolicyDocument"] == json.loads(policy)  # URL-encoded on the wire, decoded by boto3
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["read"]
    code, status, _ = error_of(
        iam.put_user_policy, UserName=name, PolicyName="bad", PolicyDocument='{"Statement": 1}'
    )
    assert (code, status) == ("MalformedPolicyDocument", 400)
    iam.delete_user_policy(UserName=name, PolicyName="read")
    assert error_of(iam.get_user_policy, UserName=name, PolicyName="read")[0] == "NoSuchEntity"


def test_roles_managed_policies_and_versions(aws: Aws) -> None:
    iam = aws("iam")
    role_name = uid("fn-role")
    trust_doc = trust({"Service": "lambda.amazonaws.com"})
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust_doc)["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(trust_doc)
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName=role_name, PolicyArn=basic)
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": basic}]
    assert iam.get_policy(PolicyArn=basic)["Policy"]["AttachmentCount"] >= 1
    pol = iam.create_policy(PolicyName=uid("pol"), PolicyDocument=doc(allow("s3:*")))["Policy"]
    iam.create_policy_version(
        PolicyArn=pol["Arn"], PolicyDocument=doc(allow("dynamodb:*")), SetAsDefault=True
    )
    version = iam.get_policy_version(PolicyArn=pol["Arn"], VersionId="v2")["PolicyVersion"]
    assert version["Document"]["Statement"][0]["Action"] == "dynamodb:*"
    assert version["IsDefaultVersion"] is True
    iam.attach_role_policy(RoleName=role_name, PolicyArn=pol["Arn"])
    assert error_of(iam.delete_policy, PolicyArn=pol["Arn"])[:2] == ("DeleteConflict", 409)
    assert error_of(iam.delete_role, RoleName=role_name)[:2] == ("DeleteConflict", 409)
    code, status, _ = error_of(
        iam.create_role, RoleName=uid("bad"), AssumeRolePolicyDocument="{nope"
    )
    assert (code, status) == ("MalformedPolicyDocument", 400)


def test_user_allowed_only_get_user_is_denied_everything_else(aws: Aws) -> None:
    name, creds = user_with_policy(aws, doc(allow("iam:GetUser")))
    me = aws("iam", **creds)
    assert me.get_user()["User"]["UserName"] == name
    code, status, message = error_of(me.list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCT}:user/{name} is not authorized to perform: iam:ListUsers "
        "on resource: * because no identity-based policy allows the iam:ListUsers action"
    )
    caller = aws("sts", **creds).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:iam::{ACCT}:user/{name}"
    assert caller["UserId"].startswith("AIDA")


def test_explicit_deny_and_policy_changes_apply_immediately(aws: Aws) -> None:
    name, creds = user_with_policy(aws, doc(allow("iam:*")))
    me = aws("iam", **creds)
    me.list_users()
    aws("iam").put_user_policy(
        UserName=name,
        PolicyName="no-list",
        PolicyDocument=doc({"Effect": "Deny", "Action": "iam:List*", "Resource": "*"}),
    )
    _, _, message = error_of(me.list_users)
    assert message.endswith("with an explicit deny in an identity-based policy")
    me.get_user()


def test_inactive_keys_are_rejected(aws: Aws) -> None:
    name, creds = user_with_policy(aws, doc(allow("*")))
    aws("iam").update_access_key(
        UserName=name, AccessKeyId=creds["aws_access_key_id"], Status="Inactive"
    )
    code, status, _ = error_of(aws("sts", **creds).get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_assume_role_gives_credentials_that_act_as_the_role(aws: Aws) -> None:
    iam, sts = aws("iam"), aws("sts")
    role_name = uid("reader")
    role = iam.create_role(
        RoleName=role_name, AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:root"})
    )["Role"]
    iam.put_role_policy(
        RoleName=role_name, PolicyName="p", PolicyDocument=doc(allow("iam:ListRoles"))
    )
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="sess1")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    arn = f"arn:aws:sts::{ACCT}:assumed-role/{role_name}/sess1"
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:sess1", "Arn": arn}
    kwargs = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    identity = aws("sts", **kwargs).get_caller_identity()
    assert identity["Arn"] == arn
    assert identity["UserId"] == f"{role['RoleId']}:sess1"
    as_role = aws("iam", **kwargs)
    as_role.list_roles()
    code, _, message = error_of(as_role.list_users)
    assert code == "AccessDenied" and message.startswith(f"User: {arn} is not authorized")


def test_assume_role_refusals(aws: Aws) -> None:
    sts = aws("sts")
    missing = f"arn:aws:iam::{ACCT}:role/{uid('missing')}"
    assert error_of(sts.assume_role, RoleArn=missing, RoleSessionName="s1")[:2] == (
        "AccessDenied",
        403,
    )
    # An IAM user allowed sts:AssumeRole still needs the role's trust policy to name them.
    role_name = uid("locked")
    aws("iam").create_role(
        RoleName=role_name, AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"})
    )
    _, creds = user_with_policy(aws, doc(allow("sts:AssumeRole")))
    arn = f"arn:aws:iam::{ACCT}:role/{role_name}"
    code, status, _ = error_of(aws("sts", **creds).assume_role, RoleArn=arn, RoleSessionName="s1")
    assert (code, status) == ("AccessDenied", 403)


def test_s3_enforces_user_policy(aws: Aws) -> None:
    s3 = aws("s3")
    bucket = uid("iam-bucket")
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        pytest.skip(f"S3 provider not available: {e}")
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    _, creds = user_with_policy(aws, doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/k")))
    mine = aws("s3", **creds)
    assert mine.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"
    code, status, _ = error_of(mine.put_object, Bucket=bucket, Key="k", Body=b"x")
    assert (code, status) == ("AccessDenied", 403)
    assert error_of(mine.get_object, Bucket=bucket, Key="other")[0] == "AccessDenied"


def test_connection_survives_a_denied_upload(aws: Aws) -> None:
    s3 = aws("s3")
    bucket = uid("iam-drain")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    _, creds = user_with_policy(aws, doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    mine = aws("s3", **creds)
    assert error_of(mine.put_object, Bucket=bucket, Key="k", Body=b"x")[0] == "AccessDenied"
    assert mine.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"


def test_dynamodb_enforces_user_policy(aws: Aws) -> None:
    ddb = aws("dynamodb")
    table = uid("T")
    try:
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as e:
        pytest.skip(f"DynamoDB provider not available yet: {e}")
    arn = f"arn:aws:dynamodb:us-east-1:{ACCT}:table/{table}"
    _, creds = user_with_policy(aws, doc(allow("dynamodb:GetItem", arn)))
    mine = aws("dynamodb", **creds)
    mine.get_item(TableName=table, Key={"pk": {"S": "a"}})
    code, status, message = error_of(mine.put_item, TableName=table, Item={"pk": {"S": "a"}})
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"dynamodb:PutItem on resource: {arn}" in message


def test_users_keys_and_sessions_survive_a_kill(fresh_nimbus: Any) -> None:
    iam = fresh_nimbus.client("iam")
    iam.create_user(UserName="survivor")
    iam.put_user_policy(
        UserName="survivor", PolicyName="p", PolicyDocument=doc(allow("iam:GetUser"))
    )
    key = iam.create_access_key(UserName="survivor")["AccessKey"]
    role = iam.create_role(
        RoleName="r", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCT}:root"})
    )["Role"]
    creds = fresh_nimbus.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    user = fresh_nimbus.client(
        "iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    assert user.get_user()["User"]["UserName"] == "survivor"
    assert error_of(user.list_users)[0] == "AccessDenied"
    c = creds["Credentials"]
    sts = fresh_nimbus.client(
        "sts",
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )
    assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/r/s1")


def test_groups_grant_their_members_permissions(aws: Aws) -> None:
    iam = aws("iam")
    group = uid("readers")
    iam.create_group(GroupName=group)
    iam.put_group_policy(
        GroupName=group, PolicyName="p", PolicyDocument=doc(allow("iam:ListUsers"))
    )
    name, creds = user_with_policy(aws, doc(allow("iam:GetUser")))
    me = aws("iam", **creds)
    assert error_of(me.list_users)[0] == "AccessDenied"
    iam.add_user_to_group(GroupName=group, UserName=name)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [name]
    me.list_users()
    assert error_of(iam.delete_group, GroupName=group)[:2] == ("DeleteConflict", 409)


def test_get_session_token_acts_as_the_user(aws: Aws) -> None:
    name, creds = user_with_policy(aws, doc(allow("sts:GetSessionToken")))
    temp = aws("sts", **creds).get_session_token(DurationSeconds=900)["Credentials"]
    assert temp["AccessKeyId"].startswith("ASIA")
    sts = aws(
        "sts",
        aws_access_key_id=temp["AccessKeyId"],
        aws_secret_access_key=temp["SecretAccessKey"],
        aws_session_token=temp["SessionToken"],
    )
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCT}:user/{name}"


def test_region_condition_from_the_request(aws: Aws) -> None:
    # A policy that allows GetUser only in eu-west-1: the request's signing region decides.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:GetUser",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            }
        ],
    }
    name, creds = user_with_policy(aws, json.dumps(policy))
    assert aws("iam", region_name="eu-west-1", **creds).get_user(UserName=name)["User"]
    code, status, _ = error_of(aws("iam", **creds).get_user, UserName=name)
    assert (code, status) == ("AccessDenied", 403)
