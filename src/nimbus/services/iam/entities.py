"""Users, access keys, roles and groups: the IAM identities, stored in SQLite."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.iam.documents import TRUST_LIMIT, parse_policy
from nimbus.services.iam.store import (
    Store,
    already_exists,
    delete_conflict,
    merge_tags,
    new_id,
    new_secret,
    no_such_entity,
    now,
    to_dt,
    validate_name,
    validate_path,
    validate_tags,
)

MAX_KEYS_PER_USER = 2


class Entities(Store):
    # ---- users -------------------------------------------------------------------------------
    def _user_row(self, name: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM users WHERE name = ?", name)
        if row is None:
            raise no_such_entity(f"The user with name {name} cannot be found.")
        return row

    def _user(self, row: sqlite3.Row, *, tags: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Path": row["path"],
            "UserName": row["name"],
            "UserId": row["id"],
            "Arn": self.arn("user", row["path"], row["name"]),
            "CreateDate": to_dt(row["created"]),
        }
        if tags and json.loads(row["tags"]):
            out["Tags"] = json.loads(row["tags"])
        return out

    def create_user(self, name: str, path: str | None = None, tags: Any = None) -> dict[str, Any]:
        validate_name(name, "userName")
        path = validate_path(path)
        tag_list = validate_tags(tags)
        with self.write() as db:
            if self.one("SELECT 1 FROM users WHERE name = ?", name):
                raise already_exists(f"User with name {name} already exists.")
            db.execute(
                "INSERT INTO users(name, id, path, created, tags) VALUES (?, ?, ?, ?, ?)",
                (name, new_id("AIDA"), path, now(), json.dumps(tag_list)),
            )
        return self.get_user(name)

    def get_user(self, name: str) -> dict[str, Any]:
        return self._user(self._user_row(name), tags=True)

    def list_users(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        rows = self.all("SELECT * FROM users ORDER BY name")
        return [self._user(r) for r in rows if r["path"].startswith(path_prefix)]

    def update_user(self, name: str, new_name: str | None, new_path: str | None) -> None:
        self._user_row(name)
        with self.write() as db:
            if new_path is not None:
                db.execute(
                    "UPDATE users SET path = ? WHERE name = ?", (validate_path(new_path), name)
                )
            if new_name is not None and new_name != name:
                validate_name(new_name, "newUserName")
                if self.one("SELECT 1 FROM users WHERE name = ?", new_name):
                    raise already_exists(f"User with name {new_name} already exists.")
                # Renaming keeps keys, group memberships and policies with the user.
                db.execute("UPDATE users SET name = ? WHERE name = ?", (new_name, name))
                db.execute(
                    "UPDATE access_keys SET user_name = ? WHERE user_name = ?", (new_name, name)
                )
                db.execute(
                    "UPDATE group_members SET user_name = ? WHERE user_name = ?", (new_name, name)
                )
                for table in ("inline_policies", "attachments"):
                    db.execute(
                        f"UPDATE {table} SET owner = ? WHERE kind = 'user' AND owner = ?",
                        (new_name, name),
                    )

    def delete_user(self, name: str) -> None:
        self._user_row(name)
        checks = [
            ("SELECT 1 FROM access_keys WHERE user_name = ?", "access keys"),
            ("SELECT 1 FROM inline_policies WHERE kind = 'user' AND owner = ?", "policies"),
            ("SELECT 1 FROM attachments WHERE kind = 'user' AND owner = ?", "attached policies"),
            ("SELECT 1 FROM group_members WHERE user_name = ?", "group memberships"),
        ]
        for sql, what in checks:
            if self.one(sql, name):
                raise delete_conflict(f"Cannot delete entity, must remove {what} first.")
        with self.write() as db:
            db.execute("DELETE FROM users WHERE name = ?", (name,))

    def tag_entity(self, kind: str, name: str, tags: Any) -> None:
        table = "users" if kind == "user" else "roles"
        row = self._user_row(name) if kind == "user" else self._role_row(name)
        with self.write() as db:
            merged = merge_tags(row["tags"], validate_tags(tags))
            db.execute(f"UPDATE {table} SET tags = ? WHERE name = ?", (merged, name))

    def untag_entity(self, kind: str, name: str, keys: list[str]) -> None:
        table = "users" if kind == "user" else "roles"
        row = self._user_row(name) if kind == "user" else self._role_row(name)
        kept = [t for t in json.loads(row["tags"]) if t["Key"] not in set(keys or [])]
        with self.write() as db:
            db.execute(f"UPDATE {table} SET tags = ? WHERE name = ?", (json.dumps(kept), name))

    def entity_tags(self, kind: str, name: str) -> list[dict[str, str]]:
        row = self._user_row(name) if kind == "user" else self._role_row(name)
        return json.loads(row["tags"])

    # ---- access keys -------------------------------------------------------------------------
    def create_access_key(self, user_name: str) -> dict[str, Any]:
        self._user_row(user_name)
        count = self.one("SELECT COUNT(*) FROM access_keys WHERE user_name = ?", user_name)[0]
        if count >= MAX_KEYS_PER_USER:
            raise AwsError(
                "LimitExceeded",
                f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}",
                409,
            )
        key_id, secret, created = new_id("AKIA", 16), new_secret(), now()
        with self.write() as db:
            db.execute(
                "INSERT INTO access_keys(id, secret, user_name, status, created) "
                "VALUES (?, ?, ?, 'Active', ?)",
                (key_id, secret, self._user_row(user_name)["name"], created),
            )
        return {
            "UserName": self._user_row(user_name)["name"],
            "AccessKeyId": key_id,
            "Status": "Active",
            "SecretAccessKey": secret,
            "CreateDate": to_dt(created),
        }

    def list_access_keys(self, user_name: str) -> list[dict[str, Any]]:
        name = self._user_row(user_name)["name"]
        rows = self.all("SELECT * FROM access_keys WHERE user_name = ? ORDER BY created", name)
        return [
            {
                "UserName": name,
                "AccessKeyId": r["id"],
                "Status": r["status"],
                "CreateDate": to_dt(r["created"]),
            }
            for r in rows
        ]

    def _key_row(self, user_name: str, key_id: str) -> sqlite3.Row:
        self._user_row(user_name)
        row = self.one(
            "SELECT * FROM access_keys WHERE id = ? AND user_name = ?", key_id, user_name
        )
        if row is None:
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return row

    def update_access_key(self, user_name: str, key_id: str, status: str) -> None:
        if status not in ("Active", "Inactive"):
            raise AwsError(
                "ValidationError",
                f"Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Active, Inactive]",
                400,
            )
        self._key_row(user_name, key_id)
        with self.write() as db:
            db.execute("UPDATE access_keys SET status = ? WHERE id = ?", (status, key_id))

    def delete_access_key(self, user_name: str, key_id: str) -> None:
        self._key_row(user_name, key_id)
        with self.write() as db:
            db.execute("DELETE FROM access_keys WHERE id = ?", (key_id,))

    def user_of_access_key(self, key_id: str) -> str | None:
        row = self.one("SELECT user_name FROM access_keys WHERE id = ?", key_id)
        return row["user_name"] if row else None

    # ---- roles -------------------------------------------------------------------------------
    def _role_row(self, name: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM roles WHERE name = ?", name)
        if row is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return row

    def _role(self, row: sqlite3.Row) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Path": row["path"],
            "RoleName": row["name"],
            "RoleId": row["id"],
            "Arn": self.arn("role", row["path"], row["name"]),
            "CreateDate": to_dt(row["created"]),
            "AssumeRolePolicyDocument": row["trust"],
            "MaxSessionDuration": row["max_session"],
            "RoleLastUsed": {},
        }
        if row["description"]:
            out["Description"] = row["description"]
        if json.loads(row["tags"]):
            out["Tags"] = json.loads(row["tags"])
        return out

    def create_role(
        self,
        name: str,
        trust: str,
        path: str | None = None,
        description: str | None = None,
        max_session: int | None = None,
        tags: Any = None,
    ) -> dict[str, Any]:
        validate_name(name, "roleName")
        path = validate_path(path)
        parse_policy(trust, trust=True, limit=TRUST_LIMIT)
        max_session = _check_max_session(max_session)
        tag_list = validate_tags(tags)
        with self.write() as db:
            if self.one("SELECT 1 FROM roles WHERE name = ?", name):
                raise already_exists(f"Role with name {name} already exists.")
            db.execute(
                "INSERT INTO roles(name, id, path, created, trust, description, max_session, tags) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    new_id("AROA"),
                    path,
                    now(),
                    trust,
                    description,
                    max_session,
                    json.dumps(tag_list),
                ),
            )
        return self.get_role(name)

    def get_role(self, name: str) -> dict[str, Any]:
        return self._role(self._role_row(name))

    def role_by_arn(self, arn: str) -> dict[str, Any]:
        name = arn.rsplit("/", 1)[-1]
        row = self.one("SELECT * FROM roles WHERE name = ?", name) if ":role/" in arn else None
        if row is None or self.arn("role", row["path"], row["name"]) != arn:
            raise no_such_entity(f"The role with ARN {arn} cannot be found.")
        return self._role(row)

    def list_roles(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        rows = self.all("SELECT * FROM roles ORDER BY name")
        return [self._role(r) for r in rows if r["path"].startswith(path_prefix)]

    def update_role(self, name: str, description: str | None, max_session: int | None) -> None:
        self._role_row(name)
        with self.write() as db:
            if description is not None:
                db.execute("UPDATE roles SET description = ? WHERE name = ?", (description, name))
            if max_session is not None:
                db.execute(
                    "UPDATE roles SET max_session = ? WHERE name = ?",
                    (_check_max_session(max_session), name),
                )

    def update_assume_role_policy(self, name: str, trust: str) -> None:
        self._role_row(name)
        parse_policy(trust, trust=True, limit=TRUST_LIMIT)
        with self.write() as db:
            db.execute("UPDATE roles SET trust = ? WHERE name = ?", (trust, name))

    def delete_role(self, name: str) -> None:
        self._role_row(name)
        if self.one("SELECT 1 FROM inline_policies WHERE kind = 'role' AND owner = ?", name):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if self.one("SELECT 1 FROM attachments WHERE kind = 'role' AND owner = ?", name):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        with self.write() as db:
            db.execute("DELETE FROM roles WHERE name = ?", (name,))

    # ---- groups ------------------------------------------------------------------------------
    def _group_row(self, name: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM groups_ WHERE name = ?", name)
        if row is None:
            raise no_such_entity(f"The group with name {name} cannot be found.")
        return row

    def _group(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "Path": row["path"],
            "GroupName": row["name"],
            "GroupId": row["id"],
            "Arn": self.arn("group", row["path"], row["name"]),
            "CreateDate": to_dt(row["created"]),
        }

    def create_group(self, name: str, path: str | None = None) -> dict[str, Any]:
        validate_name(name, "groupName", 128)
        path = validate_path(path)
        with self.write() as db:
            if self.one("SELECT 1 FROM groups_ WHERE name = ?", name):
                raise already_exists(f"Group with name {name} already exists.")
            db.execute(
                "INSERT INTO groups_(name, id, path, created) VALUES (?, ?, ?, ?)",
                (name, new_id("AGPA"), path, now()),
            )
        return self.get_group(name)

    def get_group(self, name: str) -> dict[str, Any]:
        return self._group(self._group_row(name))

    def group_users(self, name: str) -> list[dict[str, Any]]:
        self._group_row(name)
        rows = self.all(
            "SELECT u.* FROM users u JOIN group_members m ON m.user_name = u.name "
            "WHERE m.group_name = ? ORDER BY u.name",
            name,
        )
        return [self._user(r) for r in rows]

    def list_groups(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        rows = self.all("SELECT * FROM groups_ ORDER BY name")
        return [self._group(r) for r in rows if r["path"].startswith(path_prefix)]

    def groups_for_user(self, user_name: str) -> list[dict[str, Any]]:
        self._user_row(user_name)
        rows = self.all(
            "SELECT g.* FROM groups_ g JOIN group_members m ON m.group_name = g.name "
            "WHERE m.user_name = ? ORDER BY g.name",
            user_name,
        )
        return [self._group(r) for r in rows]

    def add_user_to_group(self, group: str, user: str) -> None:
        g, u = self._group_row(group)["name"], self._user_row(user)["name"]
        with self.write() as db:
            db.execute("INSERT OR IGNORE INTO group_members VALUES (?, ?)", (g, u))

    def remove_user_from_group(self, group: str, user: str) -> None:
        self._group_row(group)
        self._user_row(user)
        with self.write() as db:
            db.execute(
                "DELETE FROM group_members WHERE group_name = ? AND user_name = ?", (group, user)
            )

    def delete_group(self, name: str) -> None:
        self._group_row(name)
        for sql, what in [
            ("SELECT 1 FROM group_members WHERE group_name = ?", "users"),
            ("SELECT 1 FROM inline_policies WHERE kind = 'group' AND owner = ?", "policies"),
            ("SELECT 1 FROM attachments WHERE kind = 'group' AND owner = ?", "attached policies"),
        ]:
            if self.one(sql, name):
                raise delete_conflict(f"Cannot delete entity, must remove {what} first.")
        with self.write() as db:
            db.execute("DELETE FROM groups_ WHERE name = ?", (name,))


def _check_max_session(value: int | None) -> int:
    if value is None:
        return 3600
    if not isinstance(value, int) or not 3600 <= value <= 43200:
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to "
            "satisfy constraint: Member must have value between 3600 and 43200",
            400,
        )
    return value
