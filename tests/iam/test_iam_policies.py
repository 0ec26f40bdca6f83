"""The policy evaluator and document validation, in isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.iam.documents import parse_policy
from nimbus.services.iam.policies import Decision, compile_policy, denial_message, evaluate

TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/T"


def decide(statements: Any, action: str, resource: str = TABLE, **ctx: Any) -> Decision:
    doc = {"Version": "2012-10-17", "Statement": statements}
    parse_policy(json.dumps(doc))  # everything we evaluate must also be a valid document
    return evaluate(compile_policy(doc, {"aws:username": "alice"}), action, resource, ctx)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_explicit_deny_wins_over_allow_in_any_order() -> None:
    for stmts in ([allow("*"), deny("dynamodb:PutItem")], [deny("dynamodb:PutItem"), allow("*")]):
        assert decide(stmts, "dynamodb:PutItem") is Decision.EXPLICIT_DENY
        assert decide(stmts, "dynamodb:GetItem") is Decision.ALLOW


def test_nothing_matching_is_an_implicit_deny() -> None:
    assert decide([allow("s3:GetObject")], "dynamodb:GetItem") is Decision.IMPLICIT_DENY


def test_actions_match_case_insensitively_with_wildcards() -> None:
    assert decide([allow("DynamoDB:getitem")], "dynamodb:GetItem") is Decision.ALLOW
    assert decide([allow("dynamodb:Get*")], "dynamodb:GetItem") is Decision.ALLOW
    assert decide([allow("dynamodb:Get*")], "dynamodb:PutItem") is Decision.IMPLICIT_DENY
    assert decide([allow("dynamodb:?etItem")], "dynamodb:GetItem") is Decision.ALLOW
    assert decide([allow("dynamodb:?etItem")], "dynamodb:BatchGetItem") is Decision.IMPLICIT_DENY
    assert decide([allow(["s3:*", "dynamodb:Query"])], "dynamodb:Query") is Decision.ALLOW


def test_resources_match_case_sensitively_with_wildcards() -> None:
    assert decide([allow("*", TABLE)], "dynamodb:GetItem") is Decision.ALLOW
    assert decide([allow("*", TABLE.lower())], "dynamodb:GetItem") is Decision.IMPLICIT_DENY
    pattern = "arn:aws:dynamodb:*:*:table/T*"
    assert decide([allow("*", pattern)], "x:Y", TABLE + "able") is Decision.ALLOW
    assert decide([allow("*", pattern)], "x:Y", TABLE.replace("/T", "/U")) is Decision.IMPLICIT_DENY
    bucket = "arn:aws:s3:::bucket/key?.txt"
    assert decide([allow("s3:*", bucket)], "s3:GetObject", "arn:aws:s3:::bucket/key1.txt") is (
        Decision.ALLOW
    )
    assert decide([allow("s3:*", bucket)], "s3:GetObject", "arn:aws:s3:::bucket/key12.txt") is (
        Decision.IMPLICIT_DENY
    )


def test_not_action_allows_everything_else() -> None:
    stmt = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert decide([stmt], "dynamodb:GetItem") is Decision.ALLOW
    assert decide([stmt], "iam:CreateUser") is Decision.IMPLICIT_DENY


def test_deny_with_not_action_denies_everything_else() -> None:
    stmts = [allow("*"), {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": "*"}]
    assert decide(stmts, "s3:GetObject", "arn:aws:s3:::b/k") is Decision.ALLOW
    assert decide(stmts, "dynamodb:GetItem") is Decision.EXPLICIT_DENY


def test_not_resource_semantics() -> None:
    stmts = [allow("dynamodb:*"), {"Effect": "Deny", "Action": "*", "NotResource": TABLE}]
    assert decide(stmts, "dynamodb:GetItem") is Decision.ALLOW
    assert decide(stmts, "dynamodb:GetItem", TABLE + "2") is Decision.EXPLICIT_DENY


def test_policy_variables_substitute_into_resources() -> None:
    stmt = allow("s3:*", "arn:aws:s3:::home/${aws:username}/*")
    assert decide([stmt], "s3:GetObject", "arn:aws:s3:::home/alice/x") is Decision.ALLOW
    assert decide([stmt], "s3:GetObject", "arn:aws:s3:::home/bob/x") is Decision.IMPLICIT_DENY


def test_conditions_string_bool_numeric_and_ifexists() -> None:
    region = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert decide(
        [allow("*", Condition=region)], "x:Y", **{"aws:requestedregion": "us-east-1"}
    ) is (Decision.ALLOW)
    assert decide(
        [allow("*", Condition=region)], "x:Y", **{"aws:requestedregion": "eu-west-1"}
    ) is (Decision.IMPLICIT_DENY)
    # A key missing from the request does not satisfy a positive operator ...
    assert decide([allow("*", Condition=region)], "x:Y") is Decision.IMPLICIT_DENY
    # ... but does satisfy an ...IfExists one.
    if_exists = {"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}
    assert decide([allow("*", Condition=if_exists)], "x:Y") is Decision.ALLOW
    secure = {"Bool": {"aws:SecureTransport": "false"}}
    assert decide(
        [deny("*", Condition=secure), allow("*")], "x:Y", **{"aws:securetransport": "false"}
    ) is (Decision.EXPLICIT_DENY)
    small = {"NumericLessThan": {"s3:max-keys": "10"}}
    assert decide([allow("*", Condition=small)], "x:Y", **{"s3:max-keys": "5"}) is Decision.ALLOW
    assert decide([allow("*", Condition=small)], "x:Y", **{"s3:max-keys": "50"}) is (
        Decision.IMPLICIT_DENY
    )
    like = {"StringLike": {"aws:userid": "AIDA*"}}
    assert (
        decide([allow("*", Condition=like)], "x:Y", **{"aws:userid": "AIDAXYZ"}) is Decision.ALLOW
    )
    arn = {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket-*"}}
    assert decide(
        [allow("*", Condition=arn)], "x:Y", **{"aws:sourcearn": "arn:aws:s3:::bucket-1"}
    ) is (Decision.ALLOW)


def test_unsupported_operator_never_allows_and_still_denies() -> None:
    odd = {"BinaryEquals": {"aws:userid": "QUJD"}}
    assert decide([allow("*", Condition=odd)], "x:Y", **{"aws:userid": "ABC"}) is (
        Decision.IMPLICIT_DENY
    )
    assert decide([allow("*"), deny("*", Condition=odd)], "x:Y") is Decision.EXPLICIT_DENY


def test_denial_messages_are_in_aws_form() -> None:
    who = "arn:aws:iam::000000000000:user/alice"
    assert denial_message(who, "dynamodb:PutItem", TABLE, Decision.IMPLICIT_DENY) == (
        f"User: {who} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert denial_message(who, "dynamodb:PutItem", TABLE, Decision.EXPLICIT_DENY).endswith(
        "with an explicit deny in an identity-based policy"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "Syntax errors in policy."),
        ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
        ('{"Version": "2012-10-17", "Statement": []}', "Syntax errors in policy."),
        ('{"Version": "1999-01-01", "Statement": {}}', "Policy document must be version"),
        (
            '{"Statement": {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}}',
            "Syntax errors in policy.",
        ),
        ('{"Statement": {"Effect": "Allow", "Resource": "*"}}', "must contain actions"),
        ('{"Statement": {"Effect": "Allow", "Action": "s3:*"}}', "must contain resources"),
        ('{"Statement": {"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}', "vendor"),
        (
            '{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Foo": 1}}',
            "Syntax errors in policy.",
        ),
        (
            '{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},'
            '{"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}',
            "must be unique",
        ),
        (
            '{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",'
            '"Principal": "*"}}',
            "should not specify a principal",
        ),
    ],
)
def test_malformed_documents_are_rejected(doc: str, message: str) -> None:
    with pytest.raises(AwsError) as err:
        parse_policy(doc)
    assert err.value.code == "MalformedPolicyDocument"
    assert err.value.status == 400
    assert message in err.value.message


def test_statement_may_be_object_or_list() -> None:
    one = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    assert parse_policy(json.dumps({"Version": "2012-10-17", "Statement": one}))
    assert parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [one]}))


def test_trust_policies_need_principal_and_forbid_resource() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    }
    assert parse_policy(json.dumps(trust), trust=True)
    with pytest.raises(AwsError, match="prohibited field Resource"):
        parse_policy(
            json.dumps({**trust, "Statement": {**trust["Statement"], "Resource": "*"}}), trust=True
        )
