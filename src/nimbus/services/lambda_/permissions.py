"""The function's resource-based policy: AddPermission, RemovePermission, GetPolicy (stored)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError


def _principal(value: str) -> Any:
    if value == "*":
        return "*"
    if "." in value and not value.startswith("arn:"):
        return {"Service": value}
    if value.isdigit():
        return {"AWS": f"arn:aws:iam::{value}:root"}
    return {"AWS": value}


class PermissionsMixin:
    engine: Any

    def add_permission(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        self.engine.check_revision(rec, req.get("RevisionId"))
        sid = req["StatementId"]
        policy = rec.policy or []
        if any(s["Sid"] == sid for s in policy):
            raise AwsError(
                "ResourceConflictException",
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement.",
                409,
                extra={"Type": "User"},
            )
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": _principal(req["Principal"]),
            "Action": req["Action"],
            "Resource": self.engine.arn(rec.name),
        }
        condition: dict[str, Any] = {}
        if req.get("SourceArn"):
            condition["ArnLike"] = {"AWS:SourceArn": req["SourceArn"]}
        if req.get("SourceAccount"):
            condition["StringEquals"] = {"AWS:SourceAccount": req["SourceAccount"]}
        if req.get("PrincipalOrgID"):
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = req["PrincipalOrgID"]
        if req.get("FunctionUrlAuthType"):
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = req[
                "FunctionUrlAuthType"
            ]
        if condition:
            statement["Condition"] = condition
        rec.policy = [*policy, statement]
        rec.revision = str(uuid.uuid4())
        self.engine.save(rec)
        ctx.status = 201
        return {"Statement": json.dumps(statement)}

    def remove_permission(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        self.engine.check_revision(rec, req.get("RevisionId"))
        sid = req["StatementId"]
        policy = rec.policy or []
        if not any(s["Sid"] == sid for s in policy):
            raise AwsError(
                "ResourceNotFoundException",
                f"Statement {sid} is not found in resource policy.",
                404,
                extra={"Type": "User"},
            )
        rec.policy = [s for s in policy if s["Sid"] != sid] or None
        rec.revision = str(uuid.uuid4())
        self.engine.save(rec)
        ctx.status = 204
        return {}

    def get_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        rec = self.engine.function(req["FunctionName"], req.get("Qualifier"))
        if not rec.policy:
            raise AwsError(
                "ResourceNotFoundException",
                "The resource you requested does not exist.",
                404,
                extra={"Type": "User"},
            )
        document = {"Version": "2012-10-17", "Id": "default", "Statement": rec.policy}
        return {"Policy": json.dumps(document), "RevisionId": rec.revision}
