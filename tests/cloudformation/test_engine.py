"""Template parsing, intrinsics, dependency order and plans, without a server."""

from __future__ import annotations

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.cloudformation.graph import creation_order, dependencies
from nimbus.services.cloudformation.intrinsics import NO_VALUE, Scope, references, resolve
from nimbus.services.cloudformation.plan import is_noop, plan
from nimbus.services.cloudformation.prepare import parameter_values
from nimbus.services.cloudformation.template import parse_template

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::StackName": "s"}


def test_short_tags_become_long_form() -> None:
    t = parse_template(
        "AWSTemplateFormatVersion: 2010-09-09\nResources:\n  B:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      A: !Ref X\n      B: !GetAtt T.Arn\n      C: !Sub '${T}-x'\n"
        "      D: !Join [',', [a, !Select [0, !Split ['-', 'p-q']]]]\n      E: !GetAZs ''\n"
        "      F: !If [C1, !Base64 hi, !ImportValue other]\n"
    )
    assert t["AWSTemplateFormatVersion"] == "2010-09-09"  # not a date
    props = t["Resources"]["B"]["Properties"]
    assert props["A"] == {"Ref": "X"}
    assert props["B"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert props["C"] == {"Fn::Sub": "${T}-x"}
    assert props["D"]["Fn::Join"][1][1] == {"Fn::Select": [0, {"Fn::Split": ["-", "p-q"]}]}
    assert props["F"]["Fn::If"][1] == {"Fn::Base64": "hi"}


def test_json_templates_and_bad_templates() -> None:
    assert parse_template('{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}')["Resources"]
    with pytest.raises(AwsError, match="At least one Resources member"):
        parse_template("Resources: {}")
    with pytest.raises(AwsError, match="Template format error"):
        parse_template("Resources: [a")


def test_intrinsics_resolve() -> None:
    scope = Scope(
        pseudo=PSEUDO,
        parameters={"Env": "prod", "Zones": ["a", "b"]},
        mappings={"M": {"prod": {"Size": 3}}},
        condition_defs={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        ref=lambda name: f"phys-{name}",
        get_att=lambda name, attr: f"{name}.{attr}",
    )
    value = {
        "a": {"Fn::Sub": "${AWS::StackName}-${Env}-${T}-${T.Arn}-${!Lit}"},
        "b": {"Fn::If": ["IsProd", {"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}, 1]},
        "c": {"Fn::Select": [1, {"Ref": "Zones"}]},
        "d": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "x"]},
        "e": {"Fn::Sub": ["${x}!", {"x": {"Fn::Join": ["+", ["1", "2"]]}}]},
        "f": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}]},
    }
    out = resolve(value, scope)
    assert out == {"a": "s-prod-phys-T-T.Arn-${Lit}", "b": 3, "c": "b", "e": "1+2!", "f": True}
    assert resolve({"Ref": "AWS::NoValue"}, scope) is NO_VALUE


def test_references_and_order() -> None:
    template = parse_template(
        "Resources:\n"
        "  Fn: {Type: T, Properties: {Role: !GetAtt Role.Arn, Env: !Sub '${Table}'}}\n"
        "  Role: {Type: T}\n"
        "  Table: {Type: T, DependsOn: Role}\n"
    )
    assert references(template["Resources"]["Fn"]) == {"Role", "Table"}
    order = creation_order(dependencies(template))
    assert order.index("Role") < order.index("Table") < order.index("Fn")


def test_cycles_and_unknown_references_name_the_resource() -> None:
    cyclic = parse_template(
        "Resources:\n  A: {Type: T, Properties: {X: !Ref B}}\n  B: {Type: T, DependsOn: A}\n"
    )
    with pytest.raises(AwsError, match=r"Circular dependency between resources: \[A, B\]"):
        creation_order(dependencies(cyclic))
    bad = parse_template("Resources:\n  A: {Type: T, Properties: {X: !Ref Nope}}\n")
    with pytest.raises(AwsError, match=r"\[Nope\].*referenced by A"):
        dependencies(bad)


def test_parameters() -> None:
    declared = {"Env": {"Default": "dev", "AllowedValues": ["dev", "prod"]}, "Key": {}}
    assert parameter_values(declared, {"Key": "k"}, {}) == {"Env": "dev", "Key": "k"}
    with pytest.raises(AwsError, match="must be one of AllowedValues"):
        parameter_values(declared, {"Key": "k", "Env": "qa"}, {})
    with pytest.raises(AwsError, match=r"Parameters: \[Key\] must have values"):
        parameter_values(declared, {}, {})
    with pytest.raises(AwsError, match="do not exist in the template"):
        parameter_values(declared, {"Key": "k", "Other": "x"}, {})


def test_plan_actions() -> None:
    old = {"A": {"Type": "T", "Properties": {"x": 1}}, "B": {"Type": "T"}, "C": {"Type": "T"}}
    new = {
        "A": {"Type": "T", "Properties": {"x": 2}},
        "B": {"Type": "T", "Properties": {"y": {"Ref": "A"}}},
        "D": {"Type": "T"},
    }
    steps = plan(old, new, set(), ["A", "B", "D"], ["A", "B", "C"])
    assert [(s.logical_id, s.action) for s in steps] == [
        ("A", "update"), ("B", "update"), ("D", "create"), ("C", "delete"),
    ]  # fmt: skip
    assert is_noop(plan(old, old, set(), ["A", "B", "C"], ["A", "B", "C"]))
    param_steps = plan(new, new, {"P"}, ["A", "B", "D"], ["A", "B", "D"])
    assert is_noop(param_steps)  # nothing references P
