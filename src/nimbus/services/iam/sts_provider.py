"""STS over the IAM engine: AssumeRole, GetCallerIdentity, GetSessionToken.

STS keeps no state of its own: temporary credentials live in the IAM database, so the IAM
provider resolves them on every request and they survive restarts.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.iam.provider import IamProvider

Req = dict[str, Any]
Out = dict[str, Any]


class StsProvider(Provider):
    service = "sts"
    iam_prefix = "sts"
    access_denied_code = "AccessDenied"
    access_denied_status = 403
    # AWS answers GetCallerIdentity even under an explicit Deny.
    public_operations = frozenset({"GetCallerIdentity"})

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)

    @property
    def iam(self) -> IamProvider:
        # Built lazily by the registry; IAM owns the data.
        return self.env.registry.get("iam")

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        if operation == "AssumeRole" and req.get("RoleArn"):
            return [req["RoleArn"]]
        return ["*"]

    def assume_role(self, req: Req, ctx: RequestContext) -> Out:
        engine = self.iam.engine
        role_arn, session = req.get("RoleArn") or "", req.get("RoleSessionName") or ""
        denied = AwsError(
            "AccessDenied",
            f"User: {ctx.principal.arn} is not authorized to perform: sts:AssumeRole on "
            f"resource: {role_arn}",
            403,
        )
        try:
            role = engine.role_by_arn(role_arn)
        except AwsError:
            # AWS cannot tell a caller whether a role exists; it just refuses.
            raise denied from None
        if not ctx.principal.admin:
            context = {"sts:ExternalId": req["ExternalId"]} if req.get("ExternalId") else {}
            if not engine.trust_allows(role_arn, ctx.principal, context):
                raise denied
        creds = engine.issue_role_credentials(role_arn, session, req.get("DurationSeconds") or 3600)
        arn = f"arn:aws:sts::{engine.account_id}:assumed-role/{role['RoleName']}/{session}"
        return {
            "Credentials": creds,
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role['RoleId']}:{session}",
                "Arn": arn,
            },
            "PackedPolicySize": 0,
        }

    def get_caller_identity(self, req: Req, ctx: RequestContext) -> Out:
        return self.iam.engine.caller_identity(ctx.principal)

    def get_session_token(self, req: Req, ctx: RequestContext) -> Out:
        duration = req.get("DurationSeconds") or 43200
        if not 900 <= duration <= 129600:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                "satisfy constraint: Member must have value between 900 and 129600",
                400,
            )
        if ctx.principal.kind == "assumed-role":
            raise AwsError(
                "AccessDenied", "Cannot call GetSessionToken with session credentials", 403
            )
        return {"Credentials": self.iam.engine.issue_session_token(ctx.principal, duration)}

    def get_access_key_info(self, req: Req, ctx: RequestContext) -> Out:
        return {"Account": self.env.account_id}
