"""Bucket event notifications, recorded in a durable outbox for the Lambda/SQS/SNS side.

Matching events are inserted in the same SQLite transaction that changes the object, so an
acknowledged write always has its event and a rolled-back one never does. Consumers poll
:meth:`NotificationsMixin.pending_notifications` and acknowledge with ``mark_delivered``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from nimbus.aws.errors import AwsError
from nimbus.services.s3.core import Actor, EngineCore, canonical_user_id

# (configuration list member, ARN member, target type)
TARGETS = (
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"),
    ("QueueConfigurations", "QueueArn", "queue"),
    ("TopicConfigurations", "TopicArn", "topic"),
)
_EVENT = re.compile(
    r"^s3:(ObjectCreated|ObjectRemoved|ObjectRestore|ObjectTagging|ObjectAcl|Replication|"
    r"LifecycleExpiration|LifecycleTransition|IntelligentTiering|ReducedRedundancyLostObject)"
    r"(:[A-Za-z*]+)?$"
)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidArgument", message, 400)


def validate_configuration(config: dict[str, Any]) -> dict[str, Any]:
    """Check events and filter rules; give every configuration an Id as S3 does."""
    clean: dict[str, Any] = {}
    for member, arn_member, _ in TARGETS:
        items = []
        for item in config.get(member) or []:
            if not item.get(arn_member):
                raise _invalid(f"{member} entries need {arn_member}.")
            events = item.get("Events") or []
            if not events:
                raise _invalid("At least one event must be specified.")
            for event in events:
                if not _EVENT.match(event):
                    raise _invalid(f"The event is not supported for notifications: {event}")
            for rule in (item.get("Filter") or {}).get("Key", {}).get("FilterRules", []):
                if str(rule.get("Name", "")).lower() not in ("prefix", "suffix"):
                    raise _invalid("filter rule name must be either prefix or suffix")
            items.append({**item, "Id": item.get("Id") or str(uuid.uuid4())})
        if items:
            clean[member] = items
    if "EventBridgeConfiguration" in config:
        clean["EventBridgeConfiguration"] = config["EventBridgeConfiguration"]
    return clean


def _matches(item: dict[str, Any], event_name: str, key: str) -> bool:
    full = f"s3:{event_name}"
    category = full.rsplit(":", 1)[0]
    if not any(e == full or e == f"{category}:*" for e in item.get("Events", [])):
        return False
    for rule in (item.get("Filter") or {}).get("Key", {}).get("FilterRules", []):
        name, value = str(rule.get("Name", "")).lower(), str(rule.get("Value", ""))
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


def emit_event(
    engine: EngineCore,
    bucket_info: dict[str, Any],
    event_name: str,
    key: str,
    size: int | None,
    etag: str | None,
    actor: Actor,
) -> None:
    """Record one outbox row per matching configuration. Call inside the write transaction."""
    config = bucket_info["config"].get("notification") or {}
    if not config:
        return
    bucket = bucket_info["name"]
    sequencer = engine.next_sequencer()
    for member, arn_member, target_type in TARGETS:
        for item in config.get(member, []):
            if not _matches(item, event_name, key):
                continue
            obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
            if size is not None:
                obj["size"] = size
            if etag is not None:
                obj["eTag"] = etag.strip('"')
            obj["sequencer"] = sequencer
            record = {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": bucket_info["location"] or "us-east-1",
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": event_name,
                "userIdentity": {"principalId": actor.principal_id},
                "requestParameters": {"sourceIPAddress": actor.source_ip},
                "responseElements": {
                    "x-amz-request-id": actor.request_id or uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": item["Id"],
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": canonical_user_id(bucket_info["owner"])},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
            engine.db.execute(
                "INSERT INTO outbox (bucket, target_arn, target_type, event, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (bucket, item[arn_member], target_type, json.dumps({"Records": [record]}),
                 time.time()),
            )  # fmt: skip


class NotificationsMixin(EngineCore):
    def put_notification_configuration(self, bucket: str, config: dict[str, Any]) -> None:
        self.require_bucket(bucket)
        self.set_config(bucket, "notification", validate_configuration(config) or None)

    def get_notification_configuration(self, bucket: str) -> dict[str, Any]:
        return self.require_bucket(bucket)["config"].get("notification") or {}

    def pending_notifications(
        self, limit: int = 100, target_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Undelivered events, oldest first: ``{id, bucket, target_arn, target_type, event}``.

        A consumer asks for its own ``target_type`` so that events nobody delivers (queue and
        topic targets) cannot fill its batch and starve it.
        """
        if target_type is None:
            rows = self.db.execute(
                "SELECT id, bucket, target_arn, target_type, event FROM outbox "
                "WHERE delivered IS NULL ORDER BY id LIMIT ?",
                (limit,),
            )
        else:
            rows = self.db.execute(
                "SELECT id, bucket, target_arn, target_type, event FROM outbox "
                "WHERE delivered IS NULL AND target_type = ? ORDER BY id LIMIT ?",
                (target_type, limit),
            )
        return [
            {"id": i, "bucket": b, "target_arn": arn, "target_type": t, "event": json.loads(e)}
            for i, b, arn, t, e in rows
        ]

    def mark_delivered(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.tx() as db:
            db.executemany(
                "UPDATE outbox SET delivered = ? WHERE id = ?", [(time.time(), i) for i in ids]
            )
