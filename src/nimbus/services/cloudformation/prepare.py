"""Template body + parameter values -> the resources a deployment acts on, in order."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nimbus.services.cloudformation import sam
from nimbus.services.cloudformation.graph import check_outputs, creation_order, dependencies
from nimbus.services.cloudformation.intrinsics import Scope
from nimbus.services.cloudformation.template import (
    SAM_TRANSFORM,
    parse_template,
    transforms,
    validation_error,
)


@dataclass
class Prepared:
    processed: dict[str, Any]  # after transforms
    parameters: dict[str, str]  # the values as given (what DescribeStacks shows)
    scope: Scope  # parameters resolved, mappings and conditions; resources bound later
    resources: dict[str, Any]  # resources whose Condition holds
    order: list[str]


def pseudo_parameters(region: str, account: str, name: str, stack_id: str) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": name,
        "AWS::StackId": stack_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


def parameter_values(
    declared: dict[str, Any], given: dict[str, str], previous: dict[str, str]
) -> dict[str, str]:
    """Given values, else previous ones (UsePreviousValue), else defaults; checked."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, str] = {}
    missing = []
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            value = given[name]
        elif name in previous:
            value = previous[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            missing.append(name)
            continue
        value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        allowed = spec.get("AllowedValues")
        if allowed and value not in [str(a) for a in allowed]:
            raise validation_error(
                f"Parameter '{name}' must be one of AllowedValues: {', '.join(map(str, allowed))}"
            )
        values[name] = value
    if missing:
        raise validation_error(f"Parameters: [{', '.join(missing)}] must have values")
    return values


def _typed(declared: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = str((declared.get(name) or {}).get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        out[name] = [v.strip() for v in value.split(",")] if is_list else value
    return out


def prepare(
    body: str,
    given: dict[str, str],
    previous: dict[str, str],
    base_dir: Path,
    pseudo: dict[str, Any],
) -> Prepared:
    template = parse_template(body)
    declared = template.get("Parameters") or {}
    values = parameter_values(declared, given, previous)
    for name in transforms(template):
        if name != SAM_TRANSFORM:
            raise validation_error(f"Transform {name} is not supported by Nimbus.")
        template = sam.expand(template, {**values, **pseudo}, base_dir, pseudo["AWS::Region"])
    template = copy.deepcopy(template)
    check_outputs(template)
    scope = Scope(
        pseudo=pseudo,
        parameters=_typed(declared, values),
        mappings=template.get("Mappings") or {},
        condition_defs=template.get("Conditions") or {},
    )
    resources = {}
    for logical_id, resource in template["Resources"].items():
        condition = resource.get("Condition")
        if condition is None or scope.condition(condition):
            resources[logical_id] = resource
    active = {**template, "Resources": resources}
    order = creation_order(dependencies(active))
    return Prepared(template, values, scope, resources, order)
