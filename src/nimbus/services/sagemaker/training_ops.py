"""SageMaker training-job operations; the sagemaker provider inherits them.

The provider that mixes this in owns ``self.env``; the engine is made on first use.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import validation
from nimbus.services.sagemaker.training import STATUSES, TrainingEngine

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext
    from nimbus.services.base import ServiceEnv

Req = dict[str, Any]
Out = dict[str, Any]
SUMMARY = ("TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime",
           "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus")  # fmt: skip
SORT_KEYS = {"Name": "TrainingJobName", "CreationTime": "CreationTime",
             "Status": "TrainingJobStatus"}  # fmt: skip


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _token(index: int) -> str:
    return base64.urlsafe_b64encode(f"training:{index}".encode()).decode()


def _untoken(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, index = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "training":
            return int(index)
    except ValueError:
        pass
    raise validation("The NextToken is not valid.")


class TrainingOperations:
    env: ServiceEnv
    _training: TrainingEngine | None = None

    @property
    def training(self) -> TrainingEngine:
        if self._training is None:
            env = self.env
            self._training = TrainingEngine(
                env.data_dir, env.region, env.account_id, env.registry, env.base_url
            )
        return self._training

    def start_training(self) -> None:
        """Build the engine (which fails jobs a previous server left running)."""
        assert self.training is not None

    def close_training(self) -> None:
        if self._training is not None:
            self._training.close()
            self._training = None

    def training_iam_resources(self, operation: str, req: Req) -> list[str] | None:
        """The training job's ARN for IAM, or None when ``operation`` is not a training one."""
        if "TrainingJob" not in operation:
            return None
        name = req.get("TrainingJobName")
        if not name:
            return ["*"]
        env = self.env
        return [f"arn:aws:sagemaker:{env.region}:{env.account_id}:training-job/{name.lower()}"]

    def create_training_job(self, req: Req, ctx: RequestContext) -> Out:
        return {"TrainingJobArn": self.training.create(req)}

    def describe_training_job(self, req: Req, ctx: RequestContext) -> Out:
        return self.training.describe(req.get("TrainingJobName") or "")

    def stop_training_job(self, req: Req, ctx: RequestContext) -> Out:
        self.training.stop(req.get("TrainingJobName") or "")
        return {}

    def list_training_jobs(self, req: Req, ctx: RequestContext) -> Out:
        status = req.get("StatusEquals")
        if status is not None and status not in STATUSES:
            raise validation(
                f"1 validation error detected: Value '{status}' at 'statusEquals' failed to "
                f"satisfy constraint: Member must satisfy enum value set: {list(STATUSES)}"
            )
        sort_by = req.get("SortBy") or "CreationTime"
        if sort_by not in SORT_KEYS:
            raise validation(f"SortBy must be one of {sorted(SORT_KEYS)}.")
        limits = [
            ("CreationTime", req.get("CreationTimeAfter"), 1),
            ("CreationTime", req.get("CreationTimeBefore"), -1),
            ("LastModifiedTime", req.get("LastModifiedTimeAfter"), 1),
            ("LastModifiedTime", req.get("LastModifiedTimeBefore"), -1),
        ]
        contains = (req.get("NameContains") or "").lower()
        jobs = []
        for doc in self.training.summaries():
            if status and doc["TrainingJobStatus"] != status:
                continue
            if contains and contains not in doc["TrainingJobName"].lower():
                continue
            if any(v is not None and (doc[k] - _epoch(v)) * sign <= 0 for k, v, sign in limits):
                continue
            jobs.append({k: doc[k] for k in SUMMARY if k in doc})
        key = SORT_KEYS[sort_by]
        jobs.sort(key=lambda j: (j[key], j["TrainingJobName"]))
        if (req.get("SortOrder") or "Ascending") == "Descending":
            jobs.reverse()
        start = _untoken(req.get("NextToken"))
        size = req.get("MaxResults") or 10
        if not 1 <= size <= 100:
            raise validation("MaxResults must be between 1 and 100.")
        out: Out = {"TrainingJobSummaries": jobs[start : start + size]}
        if start + size < len(jobs):
            out["NextToken"] = _token(start + size)
        return out
