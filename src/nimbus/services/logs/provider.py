"""CloudWatch Logs operations and the in-process API for other services (append, follow)."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar

from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.logs import emf
from nimbus.services.logs.engine import (
    DAY_MS,
    EVENT_OVERHEAD,
    LogGroup,
    LogsEngine,
    LogStream,
    now_ms,
)
from nimbus.services.logs.insights import InsightsOperations
from nimbus.services.logs.metric_filters import MetricFilterOperations, MetricFilterStore
from nimbus.services.logs.reading import (
    LogReadOperations,
    bad_token,
    group_name,
    invalid,
    limit_param,
)
from nimbus.services.logs.subscriptions import SubscriptionOperations

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576 - EVENT_OVERHEAD
MAX_BATCH_SPAN_MS = DAY_MS
TOO_NEW_MS = 2 * 3_600_000
TOO_OLD_MS = 14 * DAY_MS
RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653}  # fmt: skip
GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")


def _truncate(message: str) -> str:
    if len(message) * 4 <= MAX_EVENT_BYTES:  # cheap check: cannot exceed the limit
        return message
    return message.encode()[:MAX_EVENT_BYTES].decode(errors="ignore")


class LogsProvider(
    LogReadOperations,
    MetricFilterOperations,
    InsightsOperations,
    SubscriptionOperations,
    Provider,
):
    service: ClassVar[str] = "logs"
    iam_prefix: ClassVar[str] = "logs"
    access_denied_code: ClassVar[str] = "AccessDeniedException"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = LogsEngine(env.data_dir / "logs.db")
        self.metric_filters = MetricFilterStore(self.engine.db, self.engine.lock)
        self.init_subscriptions(self.engine.db, self.engine.lock)
        self._queries: OrderedDict[str, dict[str, Any]] = OrderedDict()  # Insights results

    def close(self) -> None:
        self.engine.close()

    # --- ARNs and identifiers ------------------------------------------------------------------

    def group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.env.region}:{self.env.account_id}:log-group:{name}"

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        name = req.get("logGroupName") or req.get("logGroupIdentifier")
        if not name:
            if req.get("resourceArn"):
                return [req["resourceArn"]]
            if operation.startswith("Describe"):
                # AWS authorizes account-wide listings against every log group.
                return [f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:*"]
            return ["*"]
        arn = f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{group_name(req)}"
        if req.get("logStreamName"):
            return [f"{arn}:log-stream:{req['logStreamName']}"]
        return [f"{arn}:*"]

    def _group_from_arn(self, arn: str) -> str:
        if ":log-group:" not in arn:
            raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.")
        return arn.partition(":log-group:")[2].removesuffix(":*")

    # --- log groups ------------------------------------------------------------------------------

    def create_log_group(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = req["logGroupName"]
        if not GROUP_NAME.fullmatch(name):
            raise invalid(
                "Log group name must match [\\.\\-_/#A-Za-z0-9]+ and be 1-512 characters."
            )
        cls = req.get("logGroupClass", "STANDARD")
        if cls not in ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY"):
            raise invalid(f"Invalid logGroupClass {cls}.")
        self.engine.create_group(
            name,
            tags=req.get("tags"),
            kms_key_id=req.get("kmsKeyId"),
            log_group_class=cls,
            deletion_protection=bool(req.get("deletionProtectionEnabled")),
        )
        return {}

    def delete_log_group(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.delete_group(req["logGroupName"])
        return {}

    def _describe_group(self, g: LogGroup) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logGroupName": g.name,
            "creationTime": g.created,
            "metricFilterCount": self.metric_filters.count(g.id),
            "arn": f"{self.group_arn(g.name)}:*",
            "logGroupArn": self.group_arn(g.name),
            "storedBytes": g.stored_bytes,
            "logGroupClass": g.log_group_class,
            "deletionProtectionEnabled": g.deletion_protection,
        }
        if g.retention_days:
            out["retentionInDays"] = g.retention_days
        if g.kms_key_id:
            out["kmsKeyId"] = g.kms_key_id
        return out

    def describe_log_groups(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        prefix, pattern = req.get("logGroupNamePrefix"), req.get("logGroupNamePattern")
        if prefix and pattern:
            raise invalid("logGroupNamePrefix and logGroupNamePattern are mutually exclusive.")
        limit = limit_param(req, "limit", 50, 50)
        wanted = None
        if req.get("logGroupIdentifiers"):
            wanted = {group_name({"logGroupName": i}) for i in req["logGroupIdentifiers"]}
        after = req.get("nextToken")
        if after is not None and not after.startswith("g/"):
            raise bad_token()
        after = after[2:] if after else None
        found: list[LogGroup] = []
        more = False
        while len(found) <= limit:
            page = self.engine.list_groups(prefix=prefix, after=after, limit=200)
            for g in page:
                if pattern and pattern.lower() not in g.name.lower():
                    continue
                if wanted is not None and g.name not in wanted:
                    continue
                if req.get("logGroupClass") and g.log_group_class != req["logGroupClass"]:
                    continue
                found.append(g)
            if len(page) < 200:
                break
            after = page[-1].name
        if len(found) > limit:
            found, more = found[:limit], True
        out: dict[str, Any] = {"logGroups": [self._describe_group(g) for g in found]}
        if more:
            out["nextToken"] = "g/" + found[-1].name
        return out

    def put_retention_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        days = req.get("retentionInDays")
        if days not in RETENTION_DAYS:
            raise invalid(
                f"Invalid retentionInDays {days}; valid values: {sorted(RETENTION_DAYS)}."
            )
        self.engine.set_retention(req["logGroupName"], days)
        return {}

    def delete_retention_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.set_retention(req["logGroupName"], None)
        return {}

    # --- tags ---------------------------------------------------------------------------------

    def _merge_tags(self, name: str, add: dict[str, str], remove: list[str]) -> None:
        tags = self.engine.get_group(name).tags
        tags.update(add)
        for key in remove:
            tags.pop(key, None)
        if len(tags) > 50:
            raise AwsError("TooManyTagsException", "A log group can have at most 50 tags.")
        self.engine.set_tags(name, tags)

    def tag_log_group(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self._merge_tags(req["logGroupName"], req.get("tags") or {}, [])
        return {}

    def untag_log_group(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self._merge_tags(req["logGroupName"], {}, req.get("tags") or [])
        return {}

    def list_tags_log_group(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"tags": self.engine.get_group(req["logGroupName"]).tags}

    def tag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self._merge_tags(self._group_from_arn(req["resourceArn"]), req.get("tags") or {}, [])
        return {}

    def untag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self._merge_tags(self._group_from_arn(req["resourceArn"]), {}, req.get("tagKeys") or [])
        return {}

    def list_tags_for_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"tags": self.engine.get_group(self._group_from_arn(req["resourceArn"])).tags}

    # --- log streams ---------------------------------------------------------------------------

    def create_log_stream(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = req["logStreamName"]
        if not 1 <= len(name) <= 512 or ":" in name or "*" in name:
            raise invalid("Log stream name must be 1-512 characters without ':' or '*'.")
        self.engine.create_stream(req["logGroupName"], name)
        return {}

    def delete_log_stream(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.delete_stream(req["logGroupName"], req["logStreamName"])
        return {}

    def _describe_stream(self, group: str, s: LogStream) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logStreamName": s.name,
            "creationTime": s.created,
            "arn": f"{self.group_arn(group)}:log-stream:{s.name}",
            "storedBytes": s.stored_bytes,
        }
        for key, value in (
            ("firstEventTimestamp", s.first_event),
            ("lastEventTimestamp", s.last_event),
            ("lastIngestionTime", s.last_ingestion),
        ):
            if value is not None:
                out[key] = value
        return out

    def describe_log_streams(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = group_name(req)
        order = req.get("orderBy", "LogStreamName")
        if order not in ("LogStreamName", "LastEventTime"):
            raise invalid(f"Invalid orderBy {order}.")
        if order == "LastEventTime" and req.get("logStreamNamePrefix"):
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        limit = limit_param(req, "limit", 50, 50)
        offset = 0
        if req.get("nextToken"):
            try:
                offset = int(req["nextToken"].removeprefix("s/"))
            except ValueError:
                raise bad_token() from None
        streams = self.engine.list_streams(
            group,
            prefix=req.get("logStreamNamePrefix"),
            order_by_last_event=order == "LastEventTime",
            descending=bool(req.get("descending")),
            offset=offset,
            limit=limit + 1,
        )
        out: dict[str, Any] = {
            "logStreams": [self._describe_stream(group, s) for s in streams[:limit]]
        }
        if len(streams) > limit:
            out["nextToken"] = f"s/{offset + limit}"
        return out

    # --- writing events ----------------------------------------------------------------------

    def put_log_events(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        events = req.get("logEvents") or []
        if not events:
            raise invalid("logEvents must contain at least one event.")
        if len(events) > MAX_BATCH_EVENTS:
            raise invalid(f"A batch can contain at most {MAX_BATCH_EVENTS} log events.")
        total = 0
        for i, event in enumerate(events):
            size = len(event["message"].encode()) + EVENT_OVERHEAD
            if size - EVENT_OVERHEAD > MAX_EVENT_BYTES:
                raise invalid(f"Log event {i} is too large (limit {MAX_EVENT_BYTES} bytes).")
            if i and event["timestamp"] < events[i - 1]["timestamp"]:
                raise invalid(
                    "Log events in a single PutLogEvents request must be in chronological order."
                )
            total += size
        if total > MAX_BATCH_BYTES:
            raise invalid(f"Upload too large: {total} bytes exceeds {MAX_BATCH_BYTES} bytes.")
        group = self.engine.get_group(req["logGroupName"])
        stream = self.engine.get_stream(group.id, req["logStreamName"])
        now = now_ms()
        rejected: dict[str, int] = {}
        expired_before = self.engine.retention_cutoff(group, now)
        accepted: list[tuple[int, str]] = []
        for i, event in enumerate(events):
            ts = event["timestamp"]
            if ts > now + TOO_NEW_MS:
                rejected.setdefault("tooNewLogEventStartIndex", i)
            elif ts < expired_before:
                rejected["expiredLogEventEndIndex"] = i
            elif ts < now - TOO_OLD_MS:
                rejected["tooOldLogEventEndIndex"] = i
            else:
                accepted.append((ts, event["message"]))
        # Only the events that would be kept must fit in 24 hours (current AWS rule).
        if accepted and accepted[-1][0] - accepted[0][0] > MAX_BATCH_SPAN_MS:
            raise invalid(
                "The valid log events in a single PutLogEvents request cannot span more"
                " than 24 hours."
            )
        ids = self.engine.insert_events(group, stream, accepted)
        self.deliver_subscriptions(group.name, group.id, stream.name, ids, accepted)
        self._publish_metrics(group.id, accepted)
        # Sequence tokens are ignored by AWS now; one is still returned for old clients.
        out: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """In-process write (Lambda function output): creates group and stream if missing.

        Events need not be sorted and have no batch limits; a message longer than AWS's
        event limit is truncated (as Lambda does with long output lines).
        """
        self.append_many([(group, stream, events)])

    def append_many(self, items: list[tuple[str, str, list[tuple[int, str]]]]) -> None:
        """``append`` for several streams at once, committed as one transaction."""
        batches = []
        for group, stream, events in items:
            g, s = self.engine.ensure_stream(group, stream)
            batch = sorted(((ts, _truncate(m)) for ts, m in events), key=lambda e: e[0])
            batches.append((g, s, batch))
        for (g, s, batch), ids in zip(batches, self.engine.insert_batches(batches), strict=True):
            self.deliver_subscriptions(g.name, g.id, s.name, ids, batch)
            self._publish_metrics(g.id, batch)

    def _publish_metrics(self, group_id: int, events: list[tuple[int, str]]) -> None:
        """Embedded Metric Format lines and metric filter matches become CloudWatch metrics."""
        produced = [m for ts, message in events for m in emf.extract_metrics(message, ts)]
        if events:
            produced += self.metric_filters.metrics_for(group_id, events)
        if not produced:
            return
        cloudwatch = self.env.registry.get("cloudwatch")
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for namespace, data in produced:
            by_namespace.setdefault(namespace, []).extend(data)
        for namespace, data in by_namespace.items():
            try:
                cloudwatch.put_metrics(namespace, data)  # one transaction per namespace
                continue
            except AwsError:
                pass
            # Something in the batch is invalid: keep what is valid, line by line.
            for ns, line_data in produced:
                if ns != namespace:
                    continue
                try:
                    cloudwatch.put_metrics(ns, line_data)
                except AwsError as exc:  # bad metric data must not fail the log write
                    log.warning("metrics for namespace %s dropped: %s", ns, exc.message)
