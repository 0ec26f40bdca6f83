"""Inline policies, customer managed policies with versions, and attachments.

``kind`` is ``user``, ``role`` or ``group``; the owner must exist. AWS managed policies
(``arn:aws:iam::aws:policy/...``) are read-only data from ``managed/`` and are never stored.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.iam.documents import (
    INLINE_GROUP_LIMIT,
    INLINE_ROLE_LIMIT,
    INLINE_USER_LIMIT,
    MANAGED_LIMIT,
    parse_policy,
)
from nimbus.services.iam.entities import Entities
from nimbus.services.iam.managed import aws_managed_policies
from nimbus.services.iam.store import (
    already_exists,
    delete_conflict,
    new_id,
    no_such_entity,
    now,
    to_dt,
    validate_name,
    validate_path,
    validate_tags,
)

INLINE_LIMITS = {"user": INLINE_USER_LIMIT, "role": INLINE_ROLE_LIMIT, "group": INLINE_GROUP_LIMIT}
MAX_VERSIONS = 5
MAX_ATTACHED = 10


class PolicyStore(Entities):
    def _owner(self, kind: str, name: str) -> str:
        """The owner's stored (canonical-case) name; NoSuchEntity if it is missing."""
        row = {"user": self._user_row, "role": self._role_row, "group": self._group_row}[kind](name)
        return row["name"]

    # ---- inline ------------------------------------------------------------------------------
    def put_inline(self, kind: str, owner: str, name: str, document: str) -> None:
        owner = self._owner(kind, owner)
        validate_name(name, "policyName", 128)
        parse_policy(document, limit=INLINE_LIMITS[kind])
        with self.write() as db:
            db.execute(
                "INSERT INTO inline_policies(kind, owner, name, document) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(kind, owner, name) DO UPDATE SET document = excluded.document",
                (kind, owner, name, document),
            )

    def _inline_row(self, kind: str, owner: str, name: str) -> sqlite3.Row:
        self._owner(kind, owner)
        row = self.one(
            "SELECT * FROM inline_policies WHERE kind = ? AND owner = ? AND name = ?",
            kind,
            owner,
            name,
        )
        if row is None:
            raise no_such_entity(f"The {kind} policy with name {name} cannot be found.")
        return row

    def get_inline(self, kind: str, owner: str, name: str) -> tuple[str, str, str]:
        """(owner, policy name, document) with stored spelling."""
        row = self._inline_row(kind, owner, name)
        return row["owner"], row["name"], row["document"]

    def list_inline(self, kind: str, owner: str) -> list[str]:
        owner = self._owner(kind, owner)
        rows = self.all(
            "SELECT name FROM inline_policies WHERE kind = ? AND owner = ? ORDER BY name",
            kind,
            owner,
        )
        return [r["name"] for r in rows]

    def delete_inline(self, kind: str, owner: str, name: str) -> None:
        self._inline_row(kind, owner, name)
        with self.write() as db:
            db.execute(
                "DELETE FROM inline_policies WHERE kind = ? AND owner = ? AND name = ?",
                (kind, owner, name),
            )

    # ---- managed -----------------------------------------------------------------------------
    def _attachment_count(self, arn: str) -> int:
        return self.one("SELECT COUNT(*) FROM attachments WHERE policy_arn = ?", arn)[0]

    def _policy(self, row: sqlite3.Row) -> dict[str, Any]:
        out: dict[str, Any] = {
            "PolicyName": row["name"],
            "PolicyId": row["id"],
            "Arn": row["arn"],
            "Path": row["path"],
            "DefaultVersionId": row["default_version"],
            "AttachmentCount": self._attachment_count(row["arn"]),
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": to_dt(row["created"]),
            "UpdateDate": to_dt(row["updated"]),
        }
        if row["description"]:
            out["Description"] = row["description"]
        if json.loads(row["tags"]):
            out["Tags"] = json.loads(row["tags"])
        return out

    def _aws_policy(self, arn: str) -> dict[str, Any]:
        p = aws_managed_policies()[arn]
        out = {
            "PolicyName": p.name,
            "PolicyId": p.policy_id,
            "Arn": p.arn,
            "Path": p.path,
            "DefaultVersionId": p.default_version,
            "AttachmentCount": self._attachment_count(arn),
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": p.created,
            "UpdateDate": p.updated,
        }
        if p.description:
            out["Description"] = p.description
        return out

    def _policy_row(self, arn: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM managed_policies WHERE arn = ?", arn)
        if row is None:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return row

    def create_policy(
        self, name: str, document: str, path: str | None, description: str | None, tags: Any
    ) -> dict[str, Any]:
        validate_name(name, "policyName", 128)
        path = validate_path(path)
        parse_policy(document, limit=MANAGED_LIMIT)
        tag_list = validate_tags(tags)
        arn = self.arn("policy", path, name)
        ts = now()
        with self.write() as db:
            if self.one("SELECT 1 FROM managed_policies WHERE name = ?", name):
                raise already_exists(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            db.execute(
                "INSERT INTO managed_policies(arn, name, id, path, description, default_version, "
                "next_version, created, updated, tags) VALUES (?, ?, ?, ?, ?, 'v1', 2, ?, ?, ?)",
                (arn, name, new_id("ANPA"), path, description, ts, ts, json.dumps(tag_list)),
            )
            db.execute(
                "INSERT INTO policy_versions(arn, version, document, created) "
                "VALUES (?, 'v1', ?, ?)",
                (arn, document, ts),
            )
        return self.get_policy(arn)

    def get_policy(self, arn: str) -> dict[str, Any]:
        if arn in aws_managed_policies():
            return self._aws_policy(arn)
        return self._policy(self._policy_row(arn))

    def list_policies(
        self, scope: str = "All", only_attached: bool = False, path_prefix: str = "/"
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if scope in ("All", "AWS"):
            out += [self._aws_policy(arn) for arn in aws_managed_policies()]
        if scope in ("All", "Local"):
            out += [
                self._policy(r) for r in self.all("SELECT * FROM managed_policies ORDER BY name")
            ]
        out = [p for p in out if p["Path"].startswith(path_prefix)]
        if only_attached:
            out = [p for p in out if p["AttachmentCount"] > 0]
        return out

    def delete_policy(self, arn: str) -> None:
        if arn in aws_managed_policies():
            raise AwsError("AccessDenied", "AWS managed policies cannot be deleted.", 403)
        self._policy_row(arn)
        if self._attachment_count(arn):
            raise delete_conflict("Cannot delete a policy attached to entities.")
        versions = self.one("SELECT COUNT(*) FROM policy_versions WHERE arn = ?", arn)[0]
        if versions > 1:
            raise delete_conflict("Cannot delete a policy with non-default versions.")
        with self.write() as db:
            db.execute("DELETE FROM policy_versions WHERE arn = ?", (arn,))
            db.execute("DELETE FROM managed_policies WHERE arn = ?", (arn,))

    def policy_document(self, arn: str, version: str | None = None) -> tuple[str, str, Any]:
        """(version id, document text, created) — the default version unless one is named."""
        aws = aws_managed_policies().get(arn)
        if aws is not None:
            if version not in (None, aws.default_version):
                raise no_such_entity(f"Policy {arn} version {version} does not exist.")
            return aws.default_version, aws.document, aws.updated
        row = self._policy_row(arn)
        version = version or row["default_version"]
        v = self.one("SELECT * FROM policy_versions WHERE arn = ? AND version = ?", arn, version)
        if v is None:
            raise no_such_entity(
                f"Policy {arn} version {version} does not exist or is not attachable."
            )
        return v["version"], v["document"], to_dt(v["created"])

    def create_policy_version(self, arn: str, document: str, set_default: bool) -> dict[str, Any]:
        if arn in aws_managed_policies():
            raise AwsError("AccessDenied", "AWS managed policies cannot be changed.", 403)
        row = self._policy_row(arn)
        parse_policy(document, limit=MANAGED_LIMIT)
        count = self.one("SELECT COUNT(*) FROM policy_versions WHERE arn = ?", arn)[0]
        if count >= MAX_VERSIONS:
            raise AwsError(
                "LimitExceeded",
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a "
                "new version, you must delete an existing version.",
                409,
            )
        version, ts = f"v{row['next_version']}", now()
        with self.write() as db:
            db.execute(
                "INSERT INTO policy_versions(arn, version, document, created) VALUES (?, ?, ?, ?)",
                (arn, version, document, ts),
            )
            db.execute(
                "UPDATE managed_policies SET next_version = next_version + 1, updated = ? "
                "WHERE arn = ?",
                (ts, arn),
            )
            if set_default:
                db.execute(
                    "UPDATE managed_policies SET default_version = ? WHERE arn = ?", (version, arn)
                )
        return {
            "VersionId": version,
            "IsDefaultVersion": bool(set_default),
            "CreateDate": to_dt(ts),
        }

    def list_policy_versions(self, arn: str) -> list[dict[str, Any]]:
        if arn in aws_managed_policies():
            p = aws_managed_policies()[arn]
            return [
                {"VersionId": p.default_version, "IsDefaultVersion": True, "CreateDate": p.updated}
            ]
        default = self._policy_row(arn)["default_version"]
        rows = self.all("SELECT * FROM policy_versions WHERE arn = ? ORDER BY created DESC", arn)
        return [
            {
                "VersionId": r["version"],
                "IsDefaultVersion": r["version"] == default,
                "CreateDate": to_dt(r["created"]),
            }
            for r in rows
        ]

    def set_default_policy_version(self, arn: str, version: str) -> None:
        self._policy_row(arn)
        self.policy_document(arn, version)
        with self.write() as db:
            db.execute(
                "UPDATE managed_policies SET default_version = ?, updated = ? WHERE arn = ?",
                (version, now(), arn),
            )

    def delete_policy_version(self, arn: str, version: str) -> None:
        row = self._policy_row(arn)
        self.policy_document(arn, version)
        if row["default_version"] == version:
            raise delete_conflict("Cannot delete the default version of a policy.")
        with self.write() as db:
            db.execute("DELETE FROM policy_versions WHERE arn = ? AND version = ?", (arn, version))

    # ---- attachments -------------------------------------------------------------------------
    def attach(self, kind: str, owner: str, arn: str) -> None:
        owner = self._owner(kind, owner)
        if arn not in aws_managed_policies():
            self._policy_row(arn)
        count = self.one(
            "SELECT COUNT(*) FROM attachments WHERE kind = ? AND owner = ?", kind, owner
        )[0]
        if count >= MAX_ATTACHED:
            raise AwsError(
                "LimitExceeded",
                f"Cannot exceed quota for PoliciesPerUser: {MAX_ATTACHED}"
                if kind == "user"
                else f"Cannot exceed quota for PoliciesPer{kind.capitalize()}: {MAX_ATTACHED}",
                409,
            )
        with self.write() as db:
            db.execute("INSERT OR IGNORE INTO attachments VALUES (?, ?, ?)", (kind, owner, arn))

    def detach(self, kind: str, owner: str, arn: str) -> None:
        owner = self._owner(kind, owner)
        if not self.one(
            "SELECT 1 FROM attachments WHERE kind = ? AND owner = ? AND policy_arn = ?",
            kind,
            owner,
            arn,
        ):
            raise no_such_entity(f"Policy {arn} was not found.")
        with self.write() as db:
            db.execute(
                "DELETE FROM attachments WHERE kind = ? AND owner = ? AND policy_arn = ?",
                (kind, owner, arn),
            )

    def list_attached(self, kind: str, owner: str, path_prefix: str = "/") -> list[dict[str, str]]:
        owner = self._owner(kind, owner)
        rows = self.all(
            "SELECT policy_arn FROM attachments WHERE kind = ? AND owner = ? ORDER BY policy_arn",
            kind,
            owner,
        )
        out = []
        for r in rows:
            arn = r["policy_arn"]
            name = arn.rsplit("/", 1)[-1]
            path = arn.split(":policy", 1)[1][: -len(name)]
            if path.startswith(path_prefix):
                out.append({"PolicyName": name, "PolicyArn": arn})
        return out

    def entities_for_policy(self, arn: str) -> dict[str, list[dict[str, str]]]:
        self.get_policy(arn)
        out: dict[str, list[dict[str, str]]] = {"user": [], "role": [], "group": []}
        for r in self.all("SELECT kind, owner FROM attachments WHERE policy_arn = ?", arn):
            row = {"user": self._user_row, "role": self._role_row, "group": self._group_row}[
                r["kind"]
            ](r["owner"])
            prefix = {"user": "User", "role": "Role", "group": "Group"}[r["kind"]]
            out[r["kind"]].append({f"{prefix}Name": row["name"], f"{prefix}Id": row["id"]})
        return out
