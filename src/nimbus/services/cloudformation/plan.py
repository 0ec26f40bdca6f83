"""Old template vs new template -> what happens to each logical resource (Chalice style).

``update`` here means "may have changed": the executor resolves the new properties and skips
the resource when they equal what was applied last time (a changed parameter that this resource
does not use, for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nimbus.services.cloudformation.intrinsics import references

Action = Literal["create", "update", "replace", "delete", "noop"]


@dataclass(frozen=True)
class Step:
    logical_id: str
    action: Action
    type: str


def plan(
    old: dict[str, Any],
    new: dict[str, Any],
    changed_parameters: set[str],
    order: list[str],
    old_order: list[str],
) -> list[Step]:
    """Steps in execution order: creates/updates in ``order``, then deletes in reverse."""
    steps: list[Step] = []
    dirty: set[str] = set(changed_parameters)
    for logical_id in order:
        resource = new[logical_id]
        before = old.get(logical_id)
        if before is None:
            action: Action = "create"
        elif before["Type"] != resource["Type"]:
            action = "replace"
        elif before != resource or references(resource) & dirty:
            action = "update"
        else:
            action = "noop"
        if action != "noop":
            dirty.add(logical_id)
        steps.append(Step(logical_id, action, resource["Type"]))
    for logical_id in reversed(old_order):
        if logical_id not in new:
            steps.append(Step(logical_id, "delete", old[logical_id]["Type"]))
    return steps


def is_noop(steps: list[Step]) -> bool:
    return all(step.action == "noop" for step in steps)
