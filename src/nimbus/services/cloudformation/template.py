"""Template text -> dict: JSON or YAML with CloudFormation's short tags (``!Ref``, ``!GetAtt``)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from nimbus.aws.errors import AwsError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_SHORT_TAGS = [
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Length",
    "ToJsonString",
]


def validation_error(message: str) -> AwsError:
    """CloudFormation (query protocol) answers every client mistake as ``ValidationError``."""
    return AwsError("ValidationError", message, 400)


class _Loader(yaml.SafeLoader):
    """SafeLoader plus the short tags; dates stay strings (``2010-09-09`` is a version)."""


# Why: YAML 1.1 turns an unquoted 2010-09-09 into a date, which is not what a template means.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _short_tag(name: str) -> Any:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value = _node_value(loader, node)
        if name == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)  # !GetAtt Res.Attr == [Res, Attr]
        return {key: value}

    return construct


for _tag in [*_SHORT_TAGS, "Ref", "Condition"]:
    _Loader.add_constructor(f"!{_tag}", _short_tag(_tag))


def parse_template(body: str) -> dict[str, Any]:
    """Parse a template body; refuse what CloudFormation refuses with its own wording."""
    if not body or not body.strip():
        raise validation_error("Template body is empty.")
    try:
        template = json.loads(body) if body.lstrip().startswith("{") else _load_yaml(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise validation_error(f"Template format error: {_first_line(exc)}") from None
    if not isinstance(template, dict):
        raise validation_error("Template format error: the template must be a JSON or YAML map.")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise validation_error(
            "Template format error: At least one Resources member must be defined."
        )
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise validation_error(
                f"Template format error: [/Resources/{logical_id}] Every Resources object "
                "must contain a Type member."
            )
    return template


def _load_yaml(body: str) -> Any:
    return yaml.load(body, Loader=_Loader)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def transforms(template: dict[str, Any]) -> list[str]:
    value = template.get("Transform") or []
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)]
