"""The IAM engine: identities and policies (SQLite) plus the per-request auth path.

``resolve_principal`` and ``authorize`` run on every request the wire front serves, so their
results are cached in memory; every IAM write (``Store.write``) drops the caches, which keeps
them exact without tracking dependencies. Secrets are never logged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimbus.aws.context import Principal
from nimbus.aws.errors import AwsError
from nimbus.services.iam.documents import statements_of
from nimbus.services.iam.policies import (
    Decision,
    Statement,
    compile_policy,
    denial_message,
    evaluate,
)
from nimbus.services.iam.policy_store import PolicyStore
from nimbus.services.iam.store import new_id, new_secret, now, to_dt

SESSION_NAME_MAX = 64
_CACHE_MAX = 10_000


@dataclass(slots=True)
class _Compiled:
    statements: list[Statement]
    has_conditions: bool
    context: dict[str, Any]


class IamEngine(PolicyStore):
    def __init__(self, data_dir: Path, account_id: str) -> None:
        super().__init__(data_dir / "iam.db", account_id)
        # access key -> (principal or None, expiration epoch or None)
        self._principals: dict[str, tuple[Principal | None, float | None]] = {}
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def _invalidate(self) -> None:
        self._principals.clear()
        self._compiled.clear()

    # ---- temporary credentials ---------------------------------------------------------------
    def _issue(
        self, kind: str, name: str, principal_id: str, session: str, duration: int
    ) -> dict[str, Any]:
        key, secret = new_id("ASIA", 16), new_secret()
        token = "FwoGZXIvYXdzE" + new_secret(300).replace("/", "A")
        expiration = now() + duration
        with self.write() as db:
            # Housekeeping: sessions expired for a day are gone for good.
            db.execute("DELETE FROM sessions WHERE expiration < ?", (now() - 86400,))
            db.execute(
                "INSERT INTO sessions(access_key, secret, token, kind, name, principal_id, "
                "session_name, expiration, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, secret, token, kind, name, principal_id, session, expiration, now()),
            )
        return {
            "AccessKeyId": key,
            "SecretAccessKey": secret,
            "SessionToken": token,
            "Expiration": to_dt(int(expiration)),
        }

    def issue_role_credentials(
        self, role_arn: str, session_name: str, duration_seconds: int = 3600
    ) -> dict[str, Any]:
        role = self.role_by_arn(role_arn)
        if not isinstance(duration_seconds, int) or duration_seconds < 900:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value '{duration_seconds}' at 'durationSeconds' "
                "failed to satisfy constraint: Member must have value greater than or equal to 900",
                400,
            )
        if duration_seconds > role["MaxSessionDuration"]:
            raise AwsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                400,
            )
        if not session_name or len(session_name) < 2 or len(session_name) > SESSION_NAME_MAX:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed "
                "to satisfy constraint: Member must have length between 2 and 64",
                400,
            )
        creds = self._issue(
            "assumed-role", role["RoleName"], role["RoleId"], session_name, duration_seconds
        )
        return creds

    def issue_session_token(
        self, principal: Principal, duration_seconds: int = 43200
    ) -> dict[str, Any]:
        """GetSessionToken: temporary credentials that act as the caller (user or root)."""
        if principal.kind == "user":
            user = self.get_user(principal.name)
            return self._issue("user", user["UserName"], user["UserId"], "", duration_seconds)
        return self._issue("root", "", self.account_id, "", duration_seconds)

    # ---- the per-request path ----------------------------------------------------------------
    def _load_principal(self, key: str) -> tuple[Principal | None, float | None]:
        if key.startswith("AKIA"):
            row = self.one(
                "SELECT k.status, u.name, u.path FROM access_keys k JOIN users u "
                "ON u.name = k.user_name WHERE k.id = ?",
                key,
            )
            if row is None:
                return None, None
            if row["status"] != "Active":
                raise AwsError(
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                    403,
                )
            arn = self.arn("user", row["path"], row["name"])
            return Principal(arn, self.account_id, key, False, "user", row["name"]), None
        row = self.one("SELECT * FROM sessions WHERE access_key = ?", key)
        if row is None or row["kind"] == "root":
            return None, (row["expiration"] if row else None)
        if row["kind"] == "user":
            user = self.one("SELECT name, path FROM users WHERE name = ?", row["name"])
            if user is None:
                return None, row["expiration"]
            arn = self.arn("user", user["path"], user["name"])
            return Principal(arn, self.account_id, key, False, "user", user["name"]), row[
                "expiration"
            ]
        arn = f"arn:aws:sts::{self.account_id}:assumed-role/{row['name']}/{row['session_name']}"
        principal = Principal(
            arn, self.account_id, key, False, "assumed-role", row["name"], row["session_name"]
        )
        return principal, row["expiration"]

    def resolve_principal(self, access_key: str) -> Principal | None:
        cached = self._principals.get(access_key)
        if cached is None:
            cached = self._load_principal(access_key)
            if len(self._principals) >= _CACHE_MAX:
                self._principals.clear()
            self._principals[access_key] = cached
        principal, expiration = cached
        if expiration is not None and expiration < time.time():
            raise AwsError(
                "ExpiredToken", "The security token included in the request is expired", 403
            )
        return principal

    def secret_for_access_key(self, access_key: str) -> str | None:
        if access_key.startswith("AKIA"):
            row = self.one("SELECT secret FROM access_keys WHERE id = ?", access_key)
        else:
            row = self.one("SELECT secret FROM sessions WHERE access_key = ?", access_key)
        return row["secret"] if row else None

    def session_token_for_access_key(self, access_key: str) -> str | None:
        row = self.one("SELECT token FROM sessions WHERE access_key = ?", access_key)
        return row["token"] if row else None

    def principal_id(self, principal: Principal) -> str:
        """GetCallerIdentity's UserId: AIDA... for users, AROA...:session for assumed roles."""
        if principal.kind == "user":
            row = self.one("SELECT id FROM users WHERE name = ?", principal.name)
            return row["id"] if row else principal.name
        if principal.kind == "assumed-role":
            row = self.one("SELECT id FROM roles WHERE name = ?", principal.name)
            role_id = row["id"] if row else "AROA"
            return f"{role_id}:{principal.session_name}"
        return principal.account_id

    def _documents_for(self, principal: Principal) -> list[str]:
        owners: list[tuple[str, str]] = []
        if principal.kind == "user":
            owners.append(("user", principal.name))
            groups = self.all(
                "SELECT group_name FROM group_members WHERE user_name = ?", principal.name
            )
            owners += [("group", g["group_name"]) for g in groups]
        elif principal.kind == "assumed-role":
            owners.append(("role", principal.name))
        docs: list[str] = []
        for kind, owner in owners:
            rows = self.all(
                "SELECT document FROM inline_policies WHERE kind = ? AND owner = ?", kind, owner
            )
            docs += [r["document"] for r in rows]
            arns = self.all(
                "SELECT policy_arn FROM attachments WHERE kind = ? AND owner = ?", kind, owner
            )
            for a in arns:
                try:
                    docs.append(self.policy_document(a["policy_arn"])[1])
                except AwsError:
                    continue  # a policy deleted under us grants nothing
        return docs

    def _compile_for(self, principal: Principal) -> _Compiled:
        cache_key = (principal.kind, principal.name.lower(), principal.session_name)
        compiled = self._compiled.get(cache_key)
        if compiled is not None:
            return compiled
        user_id = self.principal_id(principal)
        context: dict[str, Any] = {
            "aws:userid": user_id,
            "aws:principalaccount": self.account_id,
            "aws:principalarn": principal.arn,
            "aws:principaltype": "User" if principal.kind == "user" else "AssumedRole",
            "aws:securetransport": "false",
        }
        if principal.kind == "user":
            context["aws:username"] = principal.name
        else:
            # For an assumed role, aws:PrincipalArn is the role's ARN, not the session's.
            row = self.one("SELECT path FROM roles WHERE name = ?", principal.name)
            if row is not None:
                context["aws:principalarn"] = self.arn("role", row["path"], principal.name)
        variables = {k: v for k, v in context.items() if isinstance(v, str)}
        statements: list[Statement] = []
        for text in self._documents_for(principal):
            statements += compile_policy(json.loads(text), variables)
        compiled = _Compiled(statements, any(s.condition for s in statements), context)
        self._compiled[cache_key] = compiled
        return compiled

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: dict[str, Any] | None = None,
    ) -> Decision:
        compiled = self._compile_for(principal)
        ctx: dict[str, Any] = compiled.context
        if compiled.has_conditions:
            t = datetime.now(UTC)
            ctx = {
                **ctx,
                "aws:currenttime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "aws:epochtime": str(int(t.timestamp())),
                **{k.lower(): v for k, v in (context or {}).items()},
            }
        return evaluate(compiled.statements, action, resource, ctx)

    def authorize(
        self,
        principal: Principal,
        action: str,
        resources: list[str],
        context: dict[str, Any] | None = None,
    ) -> str | None:
        if principal.admin:
            return None
        for resource in resources or ["*"]:
            decision = self.decide(principal, action, resource, context)
            if decision is not Decision.ALLOW:
                return denial_message(principal.arn, action, resource, decision)
        return None

    def trust_allows(
        self, role_arn: str, principal: Principal, context: dict[str, Any] | None = None
    ) -> bool:
        """Does the role's trust policy let this principal call sts:AssumeRole?"""
        trust = json.loads(self.role_by_arn(role_arn)["AssumeRolePolicyDocument"])
        callers = {principal.arn, self.account_id, f"arn:aws:iam::{self.account_id}:root", "*"}
        if principal.kind == "assumed-role":
            row = self.one("SELECT path FROM roles WHERE name = ?", principal.name)
            if row is not None:
                callers.add(self.arn("role", row["path"], principal.name))
        allowed = False
        for st in statements_of(trust):
            aws = (
                (st.get("Principal") or {})
                if isinstance(st.get("Principal"), dict)
                else st.get("Principal")
            )
            named = aws if isinstance(aws, str) else aws.get("AWS", [])
            named = [named] if isinstance(named, str) else named
            if not callers.intersection(named):
                continue
            statements = compile_policy({"Statement": {**_without_principal(st), "Resource": "*"}})
            decision = evaluate(
                statements,
                "sts:AssumeRole",
                "*",
                {k.lower(): v for k, v in (context or {}).items()},
            )
            if decision is Decision.EXPLICIT_DENY:
                return False
            allowed = allowed or decision is Decision.ALLOW
        return allowed

    def caller_identity(self, principal: Principal) -> dict[str, str]:
        return {
            "UserId": self.principal_id(principal),
            "Account": principal.account_id,
            "Arn": principal.arn,
        }


def _without_principal(st: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in st.items() if k not in ("Principal", "NotPrincipal")}
