"""IAM operations over the engine, plus the auth interface the wire front calls per request.

Operation methods take the botocore-shaped request dict and return the output shape; policy
documents go out URL-encoded as IAM sends them (botocore decodes them for the caller).
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import Principal, RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.iam.documents import encode_document
from nimbus.services.iam.engine import IamEngine

Req = dict[str, Any]
Out = dict[str, Any]
# Operations that act on the calling user when UserName is omitted.
SELF_OPERATIONS = frozenset(
    {"GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey"}
)


def _page(items: list[Any], req: Req, key: str) -> Out:
    """IAM's Marker/MaxItems pagination; the marker is an opaque offset."""
    try:
        start = int(req.get("Marker") or 0)
    except ValueError:
        raise AwsError("InvalidInput", "Invalid Marker.", 400) from None
    size = int(req.get("MaxItems") or 100)
    chunk = items[start : start + size]
    out: Out = {key: chunk, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + size)
    return out


def _encoded_role(role: Out) -> Out:
    return {**role, "AssumeRolePolicyDocument": encode_document(role["AssumeRolePolicyDocument"])}


class IamProvider(Provider):
    service = "iam"
    iam_prefix = "iam"
    access_denied_code = "AccessDenied"
    access_denied_status = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = IamEngine(env.data_dir, env.account_id)

    def close(self) -> None:
        self.engine.close()

    # ---- the per-request interface (wire front, STS, Lambda) ---------------------------------
    def resolve_principal(self, access_key: str) -> Principal | None:
        return self.engine.resolve_principal(access_key)

    def secret_for_access_key(self, access_key: str) -> str | None:
        return self.engine.secret_for_access_key(access_key)

    def session_token_for_access_key(self, access_key: str) -> str | None:
        return self.engine.session_token_for_access_key(access_key)

    def authorize(
        self,
        principal: Principal,
        action: str,
        resources: list[str],
        context: dict[str, Any] | None = None,
    ) -> str | None:
        return self.engine.authorize(principal, action, resources, context)

    def issue_role_credentials(
        self, role_arn: str, session_name: str, duration_seconds: int = 3600
    ) -> dict[str, Any]:
        return self.engine.issue_role_credentials(role_arn, session_name, duration_seconds)

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        """ARNs for IAM's own authorization (a user allowed iam:GetUser on themselves)."""
        for key, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            name = req.get(key)
            if name and not operation.startswith("Create"):
                return [self._entity_arn(kind, name)]
            if name:
                return [f"arn:aws:iam::{ctx.account_id}:{kind}{req.get('Path') or '/'}{name}"]
        if "PolicyArn" in req:
            return [req["PolicyArn"]]
        if operation in SELF_OPERATIONS and ctx.principal.kind == "user":
            return [ctx.principal.arn]
        return ["*"]

    def _entity_arn(self, kind: str, name: str) -> str:
        # ARNs carry the entity's path; a missing entity is named at the root path.
        table = {"user": "users", "role": "roles", "group": "groups_"}[kind]
        row = self.engine.one(f"SELECT name, path FROM {table} WHERE name = ?", name)
        path, name = (row["path"], row["name"]) if row else ("/", name)
        return self.engine.arn(kind, path, name)

    # ---- users -------------------------------------------------------------------------------
    def create_user(self, req: Req, ctx: RequestContext) -> Out:
        user = self.engine.create_user(req.get("UserName"), req.get("Path"), req.get("Tags"))
        return {"User": user}

    def get_user(self, req: Req, ctx: RequestContext) -> Out:
        name = req.get("UserName")
        if not name:
            # Without a name, GetUser describes the caller (an IAM user).
            if ctx.principal.kind != "user":
                raise AwsError(
                    "ValidationError",
                    "Must specify userName when calling with non-User credentials",
                    400,
                )
            name = ctx.principal.name
        return {"User": self.engine.get_user(name)}

    def list_users(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.list_users(req.get("PathPrefix") or "/"), req, "Users")

    def update_user(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.update_user(req["UserName"], req.get("NewUserName"), req.get("NewPath"))
        return {}

    def delete_user(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_user(req["UserName"])
        return {}

    def tag_user(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.tag_entity("user", req["UserName"], req.get("Tags"))
        return {}

    def untag_user(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.untag_entity("user", req["UserName"], req.get("TagKeys") or [])
        return {}

    def list_user_tags(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.entity_tags("user", req["UserName"]), req, "Tags")

    # ---- access keys -------------------------------------------------------------------------
    def _key_user(self, req: Req, ctx: RequestContext) -> str:
        name = req.get("UserName")
        if name:
            return name
        if ctx.principal.kind == "user":
            return ctx.principal.name
        raise AwsError(
            "ValidationError", "Must specify userName when calling with non-User credentials", 400
        )

    def create_access_key(self, req: Req, ctx: RequestContext) -> Out:
        return {"AccessKey": self.engine.create_access_key(self._key_user(req, ctx))}

    def list_access_keys(self, req: Req, ctx: RequestContext) -> Out:
        keys = self.engine.list_access_keys(self._key_user(req, ctx))
        return _page(keys, req, "AccessKeyMetadata")

    def update_access_key(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.update_access_key(self._key_user(req, ctx), req["AccessKeyId"], req["Status"])
        return {}

    def delete_access_key(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_access_key(self._key_user(req, ctx), req["AccessKeyId"])
        return {}

    def get_access_key_last_used(self, req: Req, ctx: RequestContext) -> Out:
        user = self.engine.user_of_access_key(req["AccessKeyId"])
        if user is None:
            raise AwsError("AccessDenied", "The access key does not exist in this account.", 403)
        return {"UserName": user, "AccessKeyLastUsed": {"Region": "N/A", "ServiceName": "N/A"}}

    # ---- roles -------------------------------------------------------------------------------
    def create_role(self, req: Req, ctx: RequestContext) -> Out:
        role = self.engine.create_role(
            req.get("RoleName"),
            req.get("AssumeRolePolicyDocument"),
            req.get("Path"),
            req.get("Description"),
            req.get("MaxSessionDuration"),
            req.get("Tags"),
        )
        return {"Role": _encoded_role(role)}

    def get_role(self, req: Req, ctx: RequestContext) -> Out:
        return {"Role": _encoded_role(self.engine.get_role(req["RoleName"]))}

    def list_roles(self, req: Req, ctx: RequestContext) -> Out:
        roles = [_encoded_role(r) for r in self.engine.list_roles(req.get("PathPrefix") or "/")]
        for r in roles:
            r.pop("Tags", None)  # ListRoles omits tags, as IAM does
        return _page(roles, req, "Roles")

    def update_role(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.update_role(
            req["RoleName"], req.get("Description"), req.get("MaxSessionDuration")
        )
        return {}

    def update_role_description(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.update_role(req["RoleName"], req.get("Description"), None)
        return {"Role": _encoded_role(self.engine.get_role(req["RoleName"]))}

    def update_assume_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.update_assume_role_policy(req["RoleName"], req.get("PolicyDocument"))
        return {}

    def delete_role(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_role(req["RoleName"])
        return {}

    def tag_role(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.tag_entity("role", req["RoleName"], req.get("Tags"))
        return {}

    def untag_role(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.untag_entity("role", req["RoleName"], req.get("TagKeys") or [])
        return {}

    def list_role_tags(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.entity_tags("role", req["RoleName"]), req, "Tags")

    # ---- groups ------------------------------------------------------------------------------
    def create_group(self, req: Req, ctx: RequestContext) -> Out:
        return {"Group": self.engine.create_group(req.get("GroupName"), req.get("Path"))}

    def get_group(self, req: Req, ctx: RequestContext) -> Out:
        group = self.engine.get_group(req["GroupName"])
        return {"Group": group, **_page(self.engine.group_users(req["GroupName"]), req, "Users")}

    def list_groups(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.list_groups(req.get("PathPrefix") or "/"), req, "Groups")

    def list_groups_for_user(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.groups_for_user(req["UserName"]), req, "Groups")

    def add_user_to_group(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.add_user_to_group(req["GroupName"], req["UserName"])
        return {}

    def remove_user_from_group(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.remove_user_from_group(req["GroupName"], req["UserName"])
        return {}

    def delete_group(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_group(req["GroupName"])
        return {}

    # ---- inline policies (user / role / group) -----------------------------------------------
    def _put_inline(self, kind: str, req: Req) -> Out:
        owner = req[f"{kind.capitalize()}Name"]
        self.engine.put_inline(kind, owner, req.get("PolicyName"), req.get("PolicyDocument"))
        return {}

    def _get_inline(self, kind: str, req: Req) -> Out:
        key = f"{kind.capitalize()}Name"
        owner, name, doc = self.engine.get_inline(kind, req[key], req["PolicyName"])
        return {key: owner, "PolicyName": name, "PolicyDocument": encode_document(doc)}

    def _list_inline(self, kind: str, req: Req) -> Out:
        names = self.engine.list_inline(kind, req[f"{kind.capitalize()}Name"])
        return _page(names, req, "PolicyNames")

    def _delete_inline(self, kind: str, req: Req) -> Out:
        self.engine.delete_inline(kind, req[f"{kind.capitalize()}Name"], req["PolicyName"])
        return {}

    def put_user_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._put_inline("user", req)

    def get_user_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._get_inline("user", req)

    def list_user_policies(self, req: Req, ctx: RequestContext) -> Out:
        return self._list_inline("user", req)

    def delete_user_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._delete_inline("user", req)

    def put_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._put_inline("role", req)

    def get_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._get_inline("role", req)

    def list_role_policies(self, req: Req, ctx: RequestContext) -> Out:
        return self._list_inline("role", req)

    def delete_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._delete_inline("role", req)

    def put_group_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._put_inline("group", req)

    def get_group_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._get_inline("group", req)

    def list_group_policies(self, req: Req, ctx: RequestContext) -> Out:
        return self._list_inline("group", req)

    def delete_group_policy(self, req: Req, ctx: RequestContext) -> Out:
        return self._delete_inline("group", req)

    # ---- managed policies --------------------------------------------------------------------
    def create_policy(self, req: Req, ctx: RequestContext) -> Out:
        policy = self.engine.create_policy(
            req.get("PolicyName"),
            req.get("PolicyDocument"),
            req.get("Path"),
            req.get("Description"),
            req.get("Tags"),
        )
        return {"Policy": policy}

    def get_policy(self, req: Req, ctx: RequestContext) -> Out:
        return {"Policy": self.engine.get_policy(req["PolicyArn"])}

    def list_policies(self, req: Req, ctx: RequestContext) -> Out:
        policies = self.engine.list_policies(
            req.get("Scope") or "All", bool(req.get("OnlyAttached")), req.get("PathPrefix") or "/"
        )
        return _page(policies, req, "Policies")

    def delete_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_policy(req["PolicyArn"])
        return {}

    def create_policy_version(self, req: Req, ctx: RequestContext) -> Out:
        version = self.engine.create_policy_version(
            req["PolicyArn"], req.get("PolicyDocument"), bool(req.get("SetAsDefault"))
        )
        return {"PolicyVersion": version}

    def get_policy_version(self, req: Req, ctx: RequestContext) -> Out:
        arn = req["PolicyArn"]
        version, doc, created = self.engine.policy_document(arn, req["VersionId"])
        default = self.engine.get_policy(arn)["DefaultVersionId"]
        return {
            "PolicyVersion": {
                "Document": encode_document(doc),
                "VersionId": version,
                "IsDefaultVersion": version == default,
                "CreateDate": created,
            }
        }

    def list_policy_versions(self, req: Req, ctx: RequestContext) -> Out:
        return _page(self.engine.list_policy_versions(req["PolicyArn"]), req, "Versions")

    def set_default_policy_version(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.set_default_policy_version(req["PolicyArn"], req["VersionId"])
        return {}

    def delete_policy_version(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.delete_policy_version(req["PolicyArn"], req["VersionId"])
        return {}

    def list_entities_for_policy(self, req: Req, ctx: RequestContext) -> Out:
        found = self.engine.entities_for_policy(req["PolicyArn"])
        return {
            "PolicyUsers": found["user"],
            "PolicyRoles": found["role"],
            "PolicyGroups": found["group"],
            "IsTruncated": False,
        }

    # ---- attachments -------------------------------------------------------------------------
    def attach_user_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.attach("user", req["UserName"], req["PolicyArn"])
        return {}

    def detach_user_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.detach("user", req["UserName"], req["PolicyArn"])
        return {}

    def list_attached_user_policies(self, req: Req, ctx: RequestContext) -> Out:
        found = self.engine.list_attached("user", req["UserName"], req.get("PathPrefix") or "/")
        return _page(found, req, "AttachedPolicies")

    def attach_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.attach("role", req["RoleName"], req["PolicyArn"])
        return {}

    def detach_role_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.detach("role", req["RoleName"], req["PolicyArn"])
        return {}

    def list_attached_role_policies(self, req: Req, ctx: RequestContext) -> Out:
        found = self.engine.list_attached("role", req["RoleName"], req.get("PathPrefix") or "/")
        return _page(found, req, "AttachedPolicies")

    def attach_group_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.attach("group", req["GroupName"], req["PolicyArn"])
        return {}

    def detach_group_policy(self, req: Req, ctx: RequestContext) -> Out:
        self.engine.detach("group", req["GroupName"], req["PolicyArn"])
        return {}

    def list_attached_group_policies(self, req: Req, ctx: RequestContext) -> Out:
        found = self.engine.list_attached("group", req["GroupName"], req.get("PathPrefix") or "/")
        return _page(found, req, "AttachedPolicies")
