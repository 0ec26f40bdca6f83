"""CloudWatch dashboards: stored JSON bodies (PutDashboard, GetDashboard, ListDashboards,
DeleteDashboards), so templates with ``AWS::CloudWatch::Dashboard`` deploy."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboards (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    modified REAL NOT NULL
);
"""
NAME = re.compile(r"[A-Za-z0-9_\-]{1,255}")
MAX_BODY = 1_048_576  # bytes; AWS's limit for a dashboard body


def _invalid_body(message: str) -> AwsError:
    return AwsError(
        "InvalidParameterInput",
        "The dashboard body is invalid, there are 1 validation errors.",
        extra={"dashboardValidationMessages": [{"DataPath": "/", "Message": message}]},
    )


def _not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFound", f"Dashboard {name} does not exist", 404)


class DashboardOperations:
    """Mixed into CloudWatchProvider; needs ``self.dashboards_db``/``dashboards_lock``."""

    env: Any
    dashboards_db: sqlite3.Connection
    dashboards_lock: threading.RLock

    def init_dashboards(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.dashboards_db, self.dashboards_lock = db, lock
        with lock:
            db.executescript(SCHEMA)

    def dashboard_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch::{self.env.account_id}:dashboard/{name}"

    def put_dashboard(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name, body = req.get("DashboardName") or "", req.get("DashboardBody") or ""
        if not NAME.fullmatch(name):
            raise AwsError(
                "InvalidParameterValue",
                "DashboardName must be 1-255 characters of A-Z, a-z, 0-9, - and _.",
            )
        if len(body.encode()) > MAX_BODY:
            raise _invalid_body("The dashboard body is larger than 1 MB.")
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise _invalid_body(f"The dashboard body is not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("widgets", []), list):
            raise _invalid_body("The dashboard body must be an object with a widgets array.")
        with self.dashboards_lock:
            self.dashboards_db.execute(
                "INSERT INTO dashboards (name, body, modified) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET body = excluded.body,"
                " modified = excluded.modified",
                (name, body, time.time()),
            )
        return {"DashboardValidationMessages": []}

    def get_dashboard(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = req.get("DashboardName") or ""
        with self.dashboards_lock:
            row = self.dashboards_db.execute(
                "SELECT body FROM dashboards WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise _not_found(name)
        return {
            "DashboardArn": self.dashboard_arn(name),
            "DashboardBody": row[0],
            "DashboardName": name,
        }

    def list_dashboards(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        prefix = req.get("DashboardNamePrefix") or ""
        after = req.get("NextToken") or ""
        with self.dashboards_lock:
            rows = self.dashboards_db.execute(
                "SELECT name, modified, LENGTH(CAST(body AS BLOB)) FROM dashboards"
                " WHERE name >= ? AND name < ? AND name > ? ORDER BY name LIMIT 1001",
                (prefix, prefix + "\U0010ffff", after),
            ).fetchall()
        out: dict[str, Any] = {
            "DashboardEntries": [
                {
                    "DashboardName": name,
                    "DashboardArn": self.dashboard_arn(name),
                    "LastModified": datetime.fromtimestamp(modified, UTC),
                    "Size": size,
                }
                for name, modified, size in rows[:1000]
            ]
        }
        if len(rows) > 1000:
            out["NextToken"] = rows[999][0]
        return out

    def delete_dashboards(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        names = req.get("DashboardNames") or []
        with self.dashboards_lock:
            for name in names:
                exists = self.dashboards_db.execute(
                    "SELECT 1 FROM dashboards WHERE name = ?", (name,)
                ).fetchone()
                if exists is None:
                    raise _not_found(name)
            self.dashboards_db.executemany(
                "DELETE FROM dashboards WHERE name = ?", [(n,) for n in names]
            )
        return {}
