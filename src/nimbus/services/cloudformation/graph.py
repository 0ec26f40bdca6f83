"""Which resources depend on which, and an order that creates dependencies first."""

from __future__ import annotations

from typing import Any

from nimbus.services.cloudformation.intrinsics import references
from nimbus.services.cloudformation.template import validation_error

PSEUDO = frozenset(
    [
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    ]
)


def dependencies(template: dict[str, Any], check: bool = True) -> dict[str, set[str]]:
    """logical id -> the resources it needs first (Ref/GetAtt/Sub references and DependsOn).

    A reference to a name that is neither a resource, a parameter nor a pseudo parameter is
    refused here, before anything is created, with the resource that makes it.
    """
    resources: dict[str, Any] = template["Resources"]
    parameters = set(template.get("Parameters") or {})
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        names = references(resource.get("Properties") or {})
        names |= references(resource.get("Metadata") or {}) & set(resources)
        depends_on = resource.get("DependsOn") or []
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        for name in depends_on:
            if name not in resources and check:
                raise validation_error(
                    f"Template format error: Unresolved resource dependencies [{name}] in the "
                    f"Resources block of the template (DependsOn of {logical_id})"
                )
        unknown = sorted(n for n in names if n not in resources and n not in parameters)
        unknown = [n for n in unknown if n not in PSEUDO]
        if unknown and check:
            raise validation_error(
                f"Template format error: Unresolved resource dependencies [{', '.join(unknown)}] "
                f"in the Resources block of the template (referenced by {logical_id})"
            )
        deps[logical_id] = {n for n in names if n in resources} | {
            n for n in depends_on if n in resources
        }
    return deps


def check_outputs(template: dict[str, Any]) -> None:
    """Outputs may only reference resources, parameters and pseudo parameters."""
    known = set(template["Resources"]) | set(template.get("Parameters") or {}) | PSEUDO
    for name, output in (template.get("Outputs") or {}).items():
        unknown = sorted(n for n in references(output) if n not in known)
        if unknown:
            raise validation_error(
                f"Template format error: Unresolved resource dependencies [{', '.join(unknown)}] "
                f"in the Outputs block of the template (output {name})"
            )


def creation_order(deps: dict[str, set[str]]) -> list[str]:
    """Dependencies first; ties keep template order. A cycle is refused, naming its members."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :]
            raise validation_error(
                f"Circular dependency between resources: [{', '.join(sorted(set(cycle)))}]"
            )
        state[node] = 1
        for dep in sorted(deps[node], key=list(deps).index):
            visit(dep, [*path, dep])
        state[node] = 2
        order.append(node)

    for node in deps:
        visit(node, [node])
    return order
